function Unregister-AksHciRemediationTask {
    <#
    .SYNOPSIS
    Removes the scheduled task Register-AksHciRemediationTask registered.

    .DESCRIPTION
    Unregisters \AksNet\"AksNet remediation <name>" (or the task for every cluster). The log file
    and the event source stay. With -WhatIf it names the task and changes nothing.

    .PARAMETER name
    The cluster name; the task for every cluster when omitted.

    .EXAMPLE
    Unregister-AksHciRemediationTask -name mycluster

    .OUTPUTS
    AksNet.RemediationTask
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.RemediationTask')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $name
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        $task = Invoke-AksNetBridge -Command 'Unregister-AksHciRemediationTask' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        if (-not $task) { return }
        if ($PSCmdlet.ShouldProcess("$($task.TaskPath)$($task.TaskName)", 'Unregister the scheduled task')) {
            Unregister-ScheduledTask -TaskName $task.TaskName -TaskPath $task.TaskPath -Confirm:$false
        }
        $task
    }
}
