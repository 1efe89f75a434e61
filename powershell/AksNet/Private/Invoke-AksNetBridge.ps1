function Invoke-AksNetBridge {
    <#
    .SYNOPSIS
    Runs one command of the aksnet Python side and maps its JSON lines onto PowerShell streams.

    .DESCRIPTION
    The one helper every AksNet cmdlet uses. It writes one request (bridge protocol 1, see
    aksnet/bridge_protocol.md) to the standard input of `python -m aksnet.bridge` and maps each
    line the bridge writes: progress -> Write-Progress, verbose/warning/information -> their
    streams, result -> an output object with the type name the format views use, error -> an
    ErrorRecord with the category, error id and target object the bridge chose, terminating or
    not as the bridge says. A credential travels inside the request on standard input, never on
    the command line.

    Python is found in this order: $env:AKSNET_PYTHON; the virtual environment
    scripts/install-module.ps1 creates (%LOCALAPPDATA%\AksNet\venv on Windows,
    ~/.local/share/aksnet/venv elsewhere); python3, then python, on PATH.

    .PARAMETER Command
    The bridge command: the name of the public cmdlet.

    .PARAMETER Parameters
    The calling cmdlet's $PSBoundParameters. Common parameters are left out; switches become
    booleans.

    .PARAMETER WhatIfOnly
    Ask the bridge to validate and plan only (the caller's -WhatIf).

    .PARAMETER Credential
    A credential for the Python side; sent on standard input only.

    .PARAMETER Cmdlet
    The calling cmdlet's $PSCmdlet, so errors and streams are those of the public cmdlet.

    .EXAMPLE
    Invoke-AksNetBridge -Command 'Get-AksHciVmSize' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)]
        [string] $Command,

        [System.Collections.IDictionary] $Parameters = @{},

        [switch] $WhatIfOnly,

        [System.Management.Automation.PSCredential] $Credential,

        [System.Management.Automation.PSCmdlet] $Cmdlet
    )
    if (-not $Cmdlet) { $Cmdlet = $PSCmdlet }
    $request = [ordered]@{
        protocol   = 1
        command    = $Command
        parameters = ConvertTo-AksNetRequestParameter -Parameters $Parameters
        whatIf     = [bool]$WhatIfOnly
    }
    if ($Credential) {
        $request['credential'] = @{
            username = $Credential.UserName
            password = $Credential.GetNetworkCredential().Password
        }
    }
    $json = ConvertTo-Json -InputObject $request -Depth 10 -Compress
    $process = Start-AksNetBridgeProcess
    try {
        $bytes = [System.Text.UTF8Encoding]::new($false).GetBytes($json)
        $process.StandardInput.BaseStream.Write($bytes, 0, $bytes.Length)
        $process.StandardInput.Close()
        $stderr = $process.StandardError.ReadToEndAsync()
        $sawError = $false
        while ($null -ne ($line = $process.StandardOutput.ReadLine())) {
            if (-not $line.Trim()) { continue }
            # Results are this function's output, streamed as they arrive.
            Write-AksNetBridgeLine -Line $line -Cmdlet $Cmdlet -SawError ([ref]$sawError)
        }
        $process.WaitForExit()
        if ($process.ExitCode -ne 0 -and -not $sawError) {
            $message = "The aksnet bridge exited with code $($process.ExitCode): $($stderr.Result)"
            $record = [System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new($message), 'AksNetBridgeFailed',
                [System.Management.Automation.ErrorCategory]::NotSpecified, $Command)
            $Cmdlet.ThrowTerminatingError($record)
        }
    }
    finally {
        if (-not $process.HasExited) { $process.Kill() }
        $process.Dispose()
    }
}

# The steps of Invoke-AksNetBridge, kept apart so each fits on a screen. Not exported.

function ConvertTo-AksNetRequestParameter {
    param([System.Collections.IDictionary] $Parameters)
    # Both are HashSets: @() makes arrays that + can join.
    $common = @([System.Management.Automation.PSCmdlet]::CommonParameters) +
        @([System.Management.Automation.PSCmdlet]::OptionalCommonParameters)
    $converted = [ordered]@{}
    foreach ($key in $Parameters.Keys) {
        if ($common -contains $key -or $key -eq 'Credential') { continue }
        $value = $Parameters[$key]
        if ($value -is [System.Management.Automation.SwitchParameter]) { $value = $value.IsPresent }
        $converted[$key] = $value
    }
    $converted
}

function Find-AksNetPython {
    if ($env:AKSNET_PYTHON) { return $env:AKSNET_PYTHON }
    $onWindows = [System.Environment]::OSVersion.Platform -eq 'Win32NT'
    $venvPython = if ($onWindows) {
        Join-Path $env:LOCALAPPDATA 'AksNet\venv\Scripts\python.exe'
    }
    else {
        Join-Path $HOME '.local/share/aksnet/venv/bin/python'
    }
    if (Test-Path -LiteralPath $venvPython) { return $venvPython }
    foreach ($name in 'python3', 'python') {
        $found = Get-Command -Name $name -CommandType Application -ErrorAction SilentlyContinue
        if ($found) { return @($found)[0].Source }
    }
    throw 'No Python for aksnet: run scripts/install-module.ps1 or set $env:AKSNET_PYTHON.'
}

function Start-AksNetBridgeProcess {
    $startInfo = [System.Diagnostics.ProcessStartInfo]::new()
    $startInfo.FileName = Find-AksNetPython
    $startInfo.Arguments = '-m aksnet.bridge'
    $startInfo.UseShellExecute = $false
    $startInfo.CreateNoWindow = $true
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.StandardOutputEncoding = [System.Text.UTF8Encoding]::new($false)
    $startInfo.EnvironmentVariables['PYTHONIOENCODING'] = 'utf-8'
    [System.Diagnostics.Process]::Start($startInfo)
}

function Write-AksNetBridgeLine {
    # Maps one JSON line: a result is written to the output, every other kind to the calling
    # cmdlet's streams (so its -Verbose, -ErrorAction and preferences apply).
    param([string] $Line, [System.Management.Automation.PSCmdlet] $Cmdlet, [ref] $SawError)
    $message = ConvertFrom-Json -InputObject $Line
    switch ($message.type) {
        'progress' {
            $record = [System.Management.Automation.ProgressRecord]::new(1, $message.activity, $message.status)
            $record.PercentComplete = $message.percentComplete
            if ($message.completed) {
                $record.RecordType = [System.Management.Automation.ProgressRecordType]::Completed
            }
            $Cmdlet.WriteProgress($record)
        }
        'verbose' { $Cmdlet.WriteVerbose($message.message) }
        'warning' { $Cmdlet.WriteWarning($message.message) }
        'information' { $Cmdlet.WriteInformation($message.message, [string[]]@('AksNet')) }
        'result' {
            $object = $message.object
            $object.PSObject.TypeNames.Insert(0, $message.typeName)
            $object
        }
        'error' {
            $category = [System.Management.Automation.ErrorCategory]::NotSpecified
            if ([System.Enum]::GetNames($category.GetType()) -contains $message.category) {
                $category = [System.Management.Automation.ErrorCategory]$message.category
            }
            $SawError.Value = $true
            $record = [System.Management.Automation.ErrorRecord]::new(
                [System.Exception]::new($message.message), $message.errorId, $category,
                $message.targetObject)
            if ($message.terminating) { $Cmdlet.ThrowTerminatingError($record) }
            $Cmdlet.WriteError($record)
        }
        default { $Cmdlet.WriteDebug("aksnet bridge: unknown line type '$($message.type)'") }
    }
}
