function Get-AksHciNodePool {
    <#
    .SYNOPSIS
    Gets the node pools of a workload cluster, or one of them.

    .DESCRIPTION
    Returns each pool's ClusterName, NodePoolName, Version, OsType, NodeCount, VmSize and Phase
    (Deployed, Scaling, Creating or Deleting), and its nodes with their addresses and MACs, as
    the aksnet store records them. An unknown cluster or pool writes a non-terminating
    ObjectNotFound error.

    .PARAMETER clusterName
    The cluster. Accepts pipeline input by property name (Name of Get-AksHciCluster is not
    taken: pipe ClusterName objects, or give it). Tab completes stored cluster names.

    .PARAMETER name
    Only this node pool. Accepts pipeline input by property name (NodePoolName).

    .EXAMPLE
    Get-AksHciNodePool -clusterName mycluster

    .EXAMPLE
    Get-AksHciNodePool -clusterName mycluster -name linuxpool | Select-Object -ExpandProperty Nodes

    .OUTPUTS
    AksNet.NodePool
    #>
    [CmdletBinding()]
    [OutputType('AksNet.NodePool')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [string] $clusterName,

        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('NodePoolName')]
        [string] $name
    )
    process {
        Invoke-AksNetBridge -Command 'Get-AksHciNodePool' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
