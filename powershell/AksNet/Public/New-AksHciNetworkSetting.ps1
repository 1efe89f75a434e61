function New-AksHciNetworkSetting {
    <#
    .SYNOPSIS
    Creates a virtual network object for the AKS host (Set-AksHciConfig -vnet).

    .DESCRIPTION
    Returns a validated VirtualNetwork object for the AKS host / management cluster; it stores
    nothing. Pass it to Set-AksHciConfig -vnet.
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
    $vnet = New-AksHciNetworkSetting -name mgmtvnet -vswitchName External -vipPoolStart 172.16.255.0 -vipPoolEnd 172.16.255.254 -ipAddressPrefix 172.16.0.0/16 -gateway 172.16.0.1 -dnsServers 172.16.0.1 -k8sNodeIpPoolStart 172.16.10.1 -k8sNodeIpPoolEnd 172.16.10.255
    Set-AksHciConfig -workingDir C:\AksHci -vnet $vnet

    .OUTPUTS
    AksNet.Network
    #>
    [CmdletBinding(DefaultParameterSetName = 'DHCP')]
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
        Invoke-AksNetBridge -Command 'New-AksHciNetworkSetting' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
