<#
.SYNOPSIS
    The HNS helper module aksnet ships to Windows nodes (C:\ProgramData\AksNet\hns.psm1).

.DESCRIPTION
    The inbox HostNetworkingService module can list and remove HNS networks but cannot create
    them. This module adds New-HnsNetwork with the parameters of microsoft/SDN
    Kubernetes/windows/hns.psm1 (HNS v1 JSON API): it builds the v1 network document and POSTs it
    to /networks through HNSCall in vmcompute.dll, as Invoke-HnsRequest there does.
    aksnet passes -JsonString when a subnet needs a VSID policy (VNI 4096, VSID 9999).
#>

Add-Type -TypeDefinition @"
using System;
using System.Runtime.InteropServices;

namespace AksNet
{
    public static class Hns
    {
        [DllImport("vmcompute.dll")]
        public static extern void HNSCall(
            [MarshalAs(UnmanagedType.LPWStr)] string method,
            [MarshalAs(UnmanagedType.LPWStr)] string path,
            [MarshalAs(UnmanagedType.LPWStr)] string request,
            [MarshalAs(UnmanagedType.LPWStr)] out string response);
    }
}
"@

function Invoke-HnsRequest
{
    # One HNS v1 call; throws the service's error text, returns its Output object.
    param(
        [ValidateSet("GET", "POST", "DELETE")]
        [parameter(Mandatory = $true)] [string] $Method,
        [parameter(Mandatory = $true)] [string] $Path,
        [parameter(Mandatory = $false)] [string] $Data = ""
    )
    $response = ""
    [AksNet.Hns]::HNSCall($Method, $Path, $Data, [ref] $response)
    $result = $response | ConvertFrom-Json
    if (-not $result.Success)
    {
        throw "HNS $Method $Path failed: $($result.Error)"
    }
    return $result.Output
}

function New-HnsNetwork
{
    # Create an HNS network from -JsonString, or from -Type/-Name/-AddressPrefix/-Gateway.
    param(
        [parameter(Mandatory = $false, Position = 0)] [string] $JsonString,
        [ValidateSet("ICS", "Internal", "Transparent", "NAT", "Overlay", "L2Bridge", "L2Tunnel", "Layered", "Private")]
        [parameter(Mandatory = $false, Position = 0)] [string] $Type,
        [parameter(Mandatory = $false)] [string] $Name,
        [parameter(Mandatory = $false)] [string] $AddressPrefix,
        [parameter(Mandatory = $false)] [string] $Gateway,
        [parameter(Mandatory = $false)] [string] $DNSServer,
        [parameter(Mandatory = $false)] [string] $AdapterName
    )
    if ($JsonString)
    {
        return Invoke-HnsRequest -Method POST -Path "/networks" -Data $JsonString
    }
    $network = @{ Type = $Type; Name = $Name }
    # As in hns.psm1: a subnet is attached only when both its prefix and gateway are known.
    if ($AddressPrefix -and $Gateway)
    {
        $network.Subnets = @(@{ AddressPrefix = $AddressPrefix; GatewayAddress = $Gateway })
    }
    if ($DNSServer)
    {
        $network.DNSServerList = $DNSServer
    }
    if ($AdapterName)
    {
        $network.NetworkAdapterName = $AdapterName
    }
    $body = ConvertTo-Json $network -Depth 10
    return Invoke-HnsRequest -Method POST -Path "/networks" -Data $body
}

Export-ModuleMember -Function New-HnsNetwork
