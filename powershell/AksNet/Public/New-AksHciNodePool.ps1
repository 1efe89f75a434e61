function New-AksHciNodePool {
    <#
    .SYNOPSIS
    Creates a node pool in a workload cluster.

    .DESCRIPTION
    Records the node pool, then creates its VMs (addresses and MACs from aksnet's pools, seed
    ISOs, differencing disks) on the Hyper-V hosts and joins them to the cluster. Refused before
    anything changes when a value is not allowed, the name is taken by a pool with other
    settings, or the network's node IP pool lacks free addresses. Running it again with the same
    settings finishes a run that stopped halfway and otherwise changes nothing. With -WhatIf it
    lists every action and changes nothing.

    .PARAMETER clusterName
    The cluster the pool belongs to. Accepts pipeline input by property name (ClusterName of
    Get-AksHciNodePool). Tab completes stored cluster names.

    .PARAMETER name
    The node pool name: lowercase letters, digits and hyphens; it must differ from the cluster's
    other pools.

    .PARAMETER count
    The number of nodes (default 1).

    .PARAMETER osType
    Linux (default) or Windows.

    .PARAMETER vmSize
    The VM size of the pool's nodes (see Get-AksHciVmSize). Default Standard_K8S3_v1.

    .PARAMETER taints
    Taints of the pool's nodes, as key=value:Effect. Immutable after creation.

    .PARAMETER maxPodCount
    The maximum number of pods per node: more than 50 (default 110).

    .PARAMETER disableAutoScaler
    Accepted for AksHci compatibility; aksnet has no autoscaler yet.

    .EXAMPLE
    New-AksHciNodePool -clusterName mycluster -name linuxpool -count 2

    .EXAMPLE
    New-AksHciNodePool -clusterName mycluster -name winpool -osType Windows -count 1 -WhatIf

    .OUTPUTS
    AksNet.RunResult
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.RunResult')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [string] $clusterName,

        [Parameter(Mandatory)]
        [string] $name,

        [ValidateRange(0, 200)]
        [int] $count = 1,

        [ValidateSet('Linux', 'Windows')]
        [string] $osType = 'Linux',

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $vmSize = 'Standard_K8S3_v1',

        [string[]] $taints,

        [ValidateRange(51, 254)]
        [int] $maxPodCount = 110,

        [switch] $disableAutoScaler
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        if ($PSCmdlet.ShouldProcess("$clusterName/$name", "Create node pool ($count x $osType $vmSize)") -or $whatIf) {
            Invoke-AksNetBridge -Command 'New-AksHciNodePool' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
