function Register-AksHciRemediationTask {
    <#
    .SYNOPSIS
    Registers a Windows scheduled task that runs Repair-AksHciClusterNetwork every -interval.

    .DESCRIPTION
    The task (\AksNet\, "AksNet remediation <name>") runs powershell.exe with an encoded script
    that imports AksNet, runs Repair-AksHciClusterNetwork, appends one line per run to -logPath
    and writes an event to the Application log (source AksNet, id 7000 + the exit code:
    Information when clean, Warning when drift was repaired, Error when a check failed), then
    exits with the report's ExitCode. It runs as the account of -credential: its password is
    given to Register-ScheduledTask only, never written into the task's command line nor sent
    to Python. A new run does not start while one runs, and a crashed run's lease expires.
    Registering the event source needs an elevated session the first time.

    .PARAMETER name
    The cluster name; every cluster when omitted. Accepts pipeline input by property name.

    .PARAMETER interval
    How often the task runs, a time span such as 00:15:00 (at least one minute).

    .PARAMETER deadline
    Seconds each run's checks may take (default 600), shorter than the interval.

    .PARAMETER logPath
    The log file (default C:\ProgramData\AksNet\remediation.log).

    .PARAMETER credential
    The account the task runs as.

    .EXAMPLE
    Register-AksHciRemediationTask -name mycluster -interval 00:15:00 -credential (Get-Credential)

    .OUTPUTS
    AksNet.RemediationTask
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.RemediationTask')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $name,

        [ValidatePattern('^(\d+\.)?\d{1,2}:\d{2}:\d{2}$')]
        [string] $interval = '00:15:00',

        [ValidateRange(1, 86400)]
        [int] $deadline = 600,

        [ValidateNotNullOrEmpty()]
        [string] $logPath,

        [Parameter(Mandatory)]
        [System.Management.Automation.PSCredential] $credential
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        $target = if ($name) { $name } else { 'every cluster' }
        if (-not ($PSCmdlet.ShouldProcess($target, "Register a remediation task every $interval") -or $whatIf)) { return }
        $task = Invoke-AksNetBridge -Command 'Register-AksHciRemediationTask' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        if ($whatIf -or -not $task) { return $task }
        $folder = Split-Path -Parent $task.LogPath
        if ($folder -and -not (Test-Path -LiteralPath $folder)) { New-Item -ItemType Directory -Path $folder | Out-Null }
        if (-not [System.Diagnostics.EventLog]::SourceExists($task.EventSource)) {
            New-EventLog -LogName Application -Source $task.EventSource
        }
        $action = New-ScheduledTaskAction -Execute $task.Execute -Argument $task.Argument
        $every = [timespan]::FromSeconds($task.IntervalSeconds)
        $trigger = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval $every
        $settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -ExecutionTimeLimit $every
        $registration = @{
            TaskName = $task.TaskName
            TaskPath = $task.TaskPath
            Action   = $action
            Trigger  = $trigger
            Settings = $settings
            User     = $credential.UserName
            Password = $credential.GetNetworkCredential().Password
            RunLevel = 'Highest'
            Force    = $true
        }
        Register-ScheduledTask @registration | Out-Null
        $task
    }
}
