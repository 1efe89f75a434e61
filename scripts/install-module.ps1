<#
.SYNOPSIS
Installs the AksNet PowerShell module and the aksnet Python side it runs.

.DESCRIPTION
1. Creates a Python virtual environment (default: %LOCALAPPDATA%\AksNet\venv on Windows,
   ~/.local/share/aksnet/venv elsewhere - the place the module looks first after
   $env:AKSNET_PYTHON) and installs aksnet into it with pip.
2. Copies powershell/AksNet into a folder of PSModulePath (your user's modules folder, or the
   machine's with -Scope AllUsers), as AksNet\<version>, so `Import-Module AksNet` finds it.
3. Imports the module and runs Get-AksHciVmSize once to prove both halves talk.

Offline hosts (no access to a package index):
  On a connected machine with the same Python version and OS, build a wheelhouse:
      python -m pip wheel <path of the aksnet checkout> --wheel-dir .\wheelhouse
  Copy .\wheelhouse and this checkout to the host, then run:
      .\scripts\install-module.ps1 -Wheelhouse D:\wheelhouse
  pip then installs with --no-index --find-links D:\wheelhouse and never contacts an index.

.PARAMETER Python
The Python 3.11 (or later) that creates the virtual environment. Default: py -3 on Windows when
the launcher exists, else python3, else python.

.PARAMETER VenvPath
Where the virtual environment goes. When it is not the default, the script sets AKSNET_PYTHON
for your user (Windows) or prints the line to add to your profile.

.PARAMETER Source
What pip installs: the aksnet checkout (default: the folder above this script) or a wheel.

.PARAMETER Wheelhouse
Offline install: a folder of wheels for aksnet and its dependencies (pip --no-index).

.PARAMETER Scope
CurrentUser (default) or AllUsers (needs an elevated session).

.EXAMPLE
.\scripts\install-module.ps1

.EXAMPLE
.\scripts\install-module.ps1 -Wheelhouse D:\wheelhouse -Scope AllUsers
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $Python,
    [string] $VenvPath,
    [string] $Source = (Split-Path -Parent $PSScriptRoot),
    [string] $Wheelhouse,
    [ValidateSet('CurrentUser', 'AllUsers')]
    [string] $Scope = 'CurrentUser'
)

$ErrorActionPreference = 'Stop'
$onWindows = [System.Environment]::OSVersion.Platform -eq 'Win32NT'
$defaultVenv = if ($onWindows) {
    Join-Path $env:LOCALAPPDATA 'AksNet\venv'
}
else {
    Join-Path $HOME '.local/share/aksnet/venv'
}
if (-not $VenvPath) { $VenvPath = $defaultVenv }

function Get-BasePython {
    if ($Python) { return @($Python) }
    if ($onWindows -and (Get-Command py -ErrorAction SilentlyContinue)) { return @('py', '-3') }
    foreach ($name in 'python3', 'python') {
        if (Get-Command $name -CommandType Application -ErrorAction SilentlyContinue) { return @($name) }
    }
    throw 'No Python found: install Python 3.11 or pass -Python.'
}

function Get-ModuleRoot {
    $documents = [System.Environment]::GetFolderPath('MyDocuments')
    $desktop = $PSVersionTable.PSEdition -ne 'Core'
    if ($Scope -eq 'AllUsers') {
        if ($onWindows -and $desktop) { return Join-Path $env:ProgramFiles 'WindowsPowerShell\Modules' }
        if ($onWindows) { return Join-Path $env:ProgramFiles 'PowerShell\Modules' }
        return '/usr/local/share/powershell/Modules'
    }
    if ($onWindows -and $desktop) { return Join-Path $documents 'WindowsPowerShell\Modules' }
    if ($onWindows) { return Join-Path $documents 'PowerShell\Modules' }
    Join-Path $HOME '.local/share/powershell/Modules'
}

# 1. The Python side.
$venvPython = if ($onWindows) { Join-Path $VenvPath 'Scripts\python.exe' } else { Join-Path $VenvPath 'bin/python' }
if ($PSCmdlet.ShouldProcess($VenvPath, 'Create the Python virtual environment and install aksnet')) {
    $base = Get-BasePython
    $baseArguments = @($base | Select-Object -Skip 1) + @('-m', 'venv', $VenvPath)
    & $base[0] @baseArguments
    if ($LASTEXITCODE -ne 0) { throw "Creating the virtual environment failed ($LASTEXITCODE)." }
    $pipArguments = @('-m', 'pip', 'install', '--upgrade')
    if ($Wheelhouse) { $pipArguments += @('--no-index', '--find-links', $Wheelhouse) }
    & $venvPython @pipArguments $Source
    if ($LASTEXITCODE -ne 0) { throw "pip install of $Source failed ($LASTEXITCODE)." }
}
if ($VenvPath -ne $defaultVenv) {
    if ($onWindows -and $PSCmdlet.ShouldProcess('AKSNET_PYTHON (user)', "Set to $venvPython")) {
        [System.Environment]::SetEnvironmentVariable('AKSNET_PYTHON', $venvPython, 'User')
    }
    $env:AKSNET_PYTHON = $venvPython
    Write-Host "Add to your profile: `$env:AKSNET_PYTHON = '$venvPython'"
}

# 2. The module, on PSModulePath.
$manifest = Import-PowerShellDataFile (Join-Path $Source 'powershell\AksNet\AksNet.psd1')
$target = Join-Path (Get-ModuleRoot) (Join-Path 'AksNet' $manifest.ModuleVersion)
if ($PSCmdlet.ShouldProcess($target, 'Copy the AksNet module')) {
    New-Item -ItemType Directory -Path $target -Force | Out-Null
    Copy-Item -Path (Join-Path $Source 'powershell\AksNet\*') -Destination $target -Recurse -Force
}

# 3. Both halves talk.
if (-not $WhatIfPreference) {
    Import-Module AksNet -RequiredVersion $manifest.ModuleVersion -Force
    $size = Get-AksHciVmSize | Select-Object -First 1
    Write-Host "AksNet $($manifest.ModuleVersion) installed in $target; Python side answers ($($size.VmSize))."
}
