function New-AksHciClusterNetwork {
    <#
    .SYNOPSIS
    Creates and stores a virtual network for workload clusters.

    .DESCRIPTION
    Stores a virtual network for workload clusters and returns it; pass it (or its name) to
    New-AksHciCluster -vnet. With -WhatIf the values are validated and nothing is stored.
    Two address models: DHCP (-name, -vswitchName, -vipPoolStart, -vipPoolEnd, optional -vlanID)
    and static IP (add -gateway, -dnsServers, -ipAddressPrefix, -k8sNodeIpPoolStart and
    -k8sNodeIpPoolEnd). Every value is validated before anything is stored.

    .PARAMETER name
    The network name: all lowercase letters and numbers.

    .PARAMETER vswitchName
    The external virtual switch the VMs connect to (Get-VMSwitch lists them).

    .PARAMETER gateway
    Static IP only: the default gateway of the subnet, inside -ipAddressPrefix.

    .PARAMETER dnsServers
    Static IP only: one to three DNS server addresses.

    .PARAMETER ipAddressPrefix
    Static IP only: the subnet in CIDR form, for example 172.16.0.0/16.

    .PARAMETER vipPoolStart
    First address of the VIP pool (API servers and Kubernetes LoadBalancer services).

    .PARAMETER vipPoolEnd
    Last address of the VIP pool.

    .PARAMETER k8sNodeIpPoolStart
    Static IP only: first address of the Kubernetes node VM pool, inside the subnet.

    .PARAMETER k8sNodeIpPoolEnd
    Static IP only: last address of the Kubernetes node VM pool.

    .PARAMETER vlanID
    The VLAN ID (1-4094); when omitted the network is not tagged.

    .EXAMPLE
    $vnet = New-AksHciClusterNetwork -name vnet1 -vswitchName External -vipPoolStart 172.16.255.0 -vipPoolEnd 172.16.255.254
    New-AksHciCluster -name mycluster -vnet $vnet -WhatIf

    .OUTPUTS
    AksNet.Network
    #>
    [CmdletBinding(SupportsShouldProcess, DefaultParameterSetName = 'DHCP')]
    [OutputType('AksNet.Network')]
    param(
        [Parameter(Mandatory)]
        [string] $name,

        [Parameter(Mandatory)]
        [string] $vswitchName,

        [Parameter(Mandatory, ParameterSetName = 'StaticIP')]
        [string] $gateway,

        [Parameter(Mandatory, ParameterSetName = 'StaticIP')]
        [ValidateCount(1, 3)]
        [string[]] $dnsServers,

        [Parameter(Mandatory, ParameterSetName = 'StaticIP')]
        [string] $ipAddressPrefix,

        [Parameter(Mandatory)]
        [string] $vipPoolStart,

        [Parameter(Mandatory)]
        [string] $vipPoolEnd,

        [Parameter(Mandatory, ParameterSetName = 'StaticIP')]
        [string] $k8sNodeIpPoolStart,

        [Parameter(Mandatory, ParameterSetName = 'StaticIP')]
        [string] $k8sNodeIpPoolEnd,

        [ValidateRange(0, 4094)]
        [int] $vlanID
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        if ($PSCmdlet.ShouldProcess($name, 'Create cluster network') -or $whatIf) {
            Invoke-AksNetBridge -Command 'New-AksHciClusterNetwork' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
