function Get-AksHciCluster {
    <#
    .SYNOPSIS
    Gets a workload cluster by name, or all of them.

    .DESCRIPTION
    Returns what the aksnet store records about the cluster: ProvisioningState, Kubernetes
    version, network plugin, control-plane count, the node pools and their counts, the API server
    VIP and every node with its address and MAC. A name that does not exist writes a
    non-terminating ObjectNotFound error.

    .PARAMETER name
    The cluster name. Accepts pipeline input by property name. Tab completes stored names.

    .EXAMPLE
    Get-AksHciCluster

    .EXAMPLE
    Get-AksHciCluster -name mycluster | Remove-AksHciCluster -WhatIf

    .OUTPUTS
    AksNet.Cluster
    #>
    [CmdletBinding()]
    [OutputType('AksNet.Cluster')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $name
    )
    process {
        Invoke-AksNetBridge -Command 'Get-AksHciCluster' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
