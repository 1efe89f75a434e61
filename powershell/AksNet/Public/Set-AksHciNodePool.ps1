function Set-AksHciNodePool {
    <#
    .SYNOPSIS
    Scales a node pool, or sets the VM size of its new nodes.

    .DESCRIPTION
    With -count, scales the pool. Scaling up allocates addresses and creates and joins the new
    VMs. Scaling down drains (kubectl drain --ignore-daemonsets --delete-emptydir-data) and
    deletes the highest-numbered nodes through the first control plane, removes their VMs,
    disks and seed ISOs, and releases their addresses and MACs. With -vmSize, the pool's VMs of
    another size are replaced one at a time (drained, deleted, created again with the new size
    and the same address and MAC, joined again). Refused before
    anything changes when a value is not allowed or the node IP pool lacks free addresses. A
    second run changes nothing. With -WhatIf it lists every action and changes nothing.

    .PARAMETER clusterName
    The cluster. Accepts pipeline input by property name. Tab completes stored cluster names.

    .PARAMETER name
    The node pool. Accepts pipeline input by property name (NodePoolName of Get-AksHciNodePool).

    .PARAMETER count
    The number of nodes to scale to (0 to 200).

    .PARAMETER vmSize
    The pool's VM size (see Get-AksHciVmSize); running VMs of another size are replaced.

    .PARAMETER autoScaler
    Accepted for AksHci compatibility; aksnet has no autoscaler yet (a warning says so).

    .EXAMPLE
    Set-AksHciNodePool -clusterName mycluster -name linuxpool -count 3

    .EXAMPLE
    Get-AksHciNodePool -clusterName mycluster -name linuxpool | Set-AksHciNodePool -count 1 -WhatIf

    .OUTPUTS
    AksNet.RunResult
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.RunResult')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [string] $clusterName,

        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [Alias('NodePoolName')]
        [string] $name,

        [ValidateRange(0, 200)]
        [int] $count,

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $vmSize,

        [bool] $autoScaler
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        if ($PSBoundParameters.ContainsKey('count')) { $action = "Scale node pool to $count node(s)" }
        else { $action = "Set the VM size of node pool to $vmSize" }
        if ($PSCmdlet.ShouldProcess("$clusterName/$name", $action) -or $whatIf) {
            Invoke-AksNetBridge -Command 'Set-AksHciNodePool' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
