function Get-AksHciClusterNetwork {
    <#
    .SYNOPSIS
    Gets cluster networks by name, by the cluster that uses them, or all of them.

    .DESCRIPTION
    Returns the stored workload-cluster networks. Unlike the AksHci cmdlet, each object also
    shows the free addresses per pool, the clusters that use the network and the current
    allocations. A name that does not exist writes a non-terminating ObjectNotFound error.

    .PARAMETER name
    The network name. Accepts pipeline input by property name. Tab completes stored names.

    .PARAMETER clusterName
    Only the network that this cluster uses.

    .EXAMPLE
    Get-AksHciClusterNetwork

    .EXAMPLE
    Get-AksHciClusterNetwork -name vnet1 | Remove-AksHciClusterNetwork -WhatIf

    .OUTPUTS
    AksNet.Network
    #>
    [CmdletBinding()]
    [OutputType('AksNet.Network')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $name,

        [string] $clusterName
    )
    process {
        Invoke-AksNetBridge -Command 'Get-AksHciClusterNetwork' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
