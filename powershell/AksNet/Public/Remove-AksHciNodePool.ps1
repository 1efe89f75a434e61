function Remove-AksHciNodePool {
    <#
    .SYNOPSIS
    Removes a node pool from a workload cluster.

    .DESCRIPTION
    Drains and deletes each of the pool's nodes through the first control plane, removes their
    VMs, disks and seed ISOs, releases their addresses and MACs, then forgets the pool. The last
    node pool of a cluster is not removed (remove the cluster instead). With -WhatIf it lists
    every action and changes nothing. Asks for confirmation (ConfirmImpact High) unless
    -Confirm:$false is given.

    .PARAMETER clusterName
    The cluster. Accepts pipeline input by property name. Tab completes stored cluster names.

    .PARAMETER name
    The node pool. Accepts pipeline input by property name (NodePoolName of Get-AksHciNodePool).

    .EXAMPLE
    Remove-AksHciNodePool -clusterName mycluster -name linuxpool -Confirm:$false

    .EXAMPLE
    Get-AksHciNodePool -clusterName mycluster -name linuxpool | Remove-AksHciNodePool -WhatIf

    .OUTPUTS
    AksNet.RunResult
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('AksNet.RunResult')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [string] $clusterName,

        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [Alias('NodePoolName')]
        [string] $name
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        if ($PSCmdlet.ShouldProcess("$clusterName/$name", 'Remove node pool') -or $whatIf) {
            Invoke-AksNetBridge -Command 'Remove-AksHciNodePool' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
