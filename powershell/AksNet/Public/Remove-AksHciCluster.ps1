function Remove-AksHciCluster {
    <#
    .SYNOPSIS
    Removes a workload cluster: its VMs, disks and seed ISOs, addresses, MACs and keys.

    .DESCRIPTION
    Turns off and removes every VM of the cluster on the Hyper-V hosts (only VMs whose MAC is the
    one aksnet allocated: a VM of the same name that is not the cluster's is refused), deletes
    their folders, then releases the cluster's addresses and MACs and forgets it. A failed
    removal can be run again. With -WhatIf it lists every action and changes nothing. Asks for
    confirmation (ConfirmImpact High) unless -Confirm:$false is given.

    .PARAMETER name
    The cluster name. Accepts pipeline input by property name. Tab completes stored names.

    .PARAMETER force
    Accepted for AksHci compatibility; aksnet removes the same way with or without it.

    .EXAMPLE
    Remove-AksHciCluster -name mycluster -Confirm:$false

    .EXAMPLE
    Get-AksHciCluster -name mycluster | Remove-AksHciCluster -WhatIf

    .OUTPUTS
    AksNet.RunResult
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('AksNet.RunResult')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [string] $name,

        [switch] $force
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        if ($PSCmdlet.ShouldProcess($name, 'Remove cluster') -or $whatIf) {
            Invoke-AksNetBridge -Command 'Remove-AksHciCluster' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
