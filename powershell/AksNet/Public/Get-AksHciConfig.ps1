function Get-AksHciConfig {
    <#
    .SYNOPSIS
    Shows the AksNet configuration that Set-AksHciConfig saved.

    .DESCRIPTION
    Returns the saved configuration (no secrets are ever stored) and the store file it selects:
    workingDir is the aksnet home unless $env:AKSNET_HOME is set.

    .EXAMPLE
    Get-AksHciConfig | Format-List

    .OUTPUTS
    AksNet.Config
    #>
    [CmdletBinding()]
    [OutputType('AksNet.Config')]
    param()
    process {
        Invoke-AksNetBridge -Command 'Get-AksHciConfig' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
