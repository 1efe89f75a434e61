function New-AksHciLoadBalancerSetting {
    <#
    .SYNOPSIS
    Creates a load balancer settings object for New-AksHciCluster -loadBalancerSettings.

    .DESCRIPTION
    Returns a validated load balancer settings object; it stores nothing. With -loadBalancerSku
    none no HAProxy VM is deployed (kube-vip serves the API server address).

    .PARAMETER name
    The name of the settings object.

    .PARAMETER loadBalancerSku
    HAProxy or none.

    .PARAMETER vmSize
    The size of each HAProxy VM (Get-AksHciVmSize). Default Standard_A4_v2.

    .PARAMETER loadBalancerCount
    How many HAProxy VMs (1-8). Default 1.

    .EXAMPLE
    $lb = New-AksHciLoadBalancerSetting -name haProxyLB -loadBalancerSku HAProxy -vmSize Standard_K8S3_v1 -loadBalancerCount 3
    New-AksHciCluster -name mycluster -vnet vnet1 -loadBalancerSettings $lb -WhatIf

    .OUTPUTS
    AksNet.LoadBalancerSetting
    #>
    [CmdletBinding()]
    [OutputType('AksNet.LoadBalancerSetting')]
    param(
        [Parameter(Mandatory)]
        [string] $name,

        [Parameter(Mandatory)]
        [ValidateSet('HAProxy', 'none')]
        [string] $loadBalancerSku,

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $vmSize = 'Standard_A4_v2',

        [ValidateRange(1, 8)]
        [int] $loadBalancerCount = 1
    )
    process {
        Invoke-AksNetBridge -Command 'New-AksHciLoadBalancerSetting' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
