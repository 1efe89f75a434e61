function Get-AksNetPlugin {
    <#
    .SYNOPSIS
    Shows the primary network plugins (calico, flannel) and their capability table.

    .DESCRIPTION
    aksnet-specific (no AksHci equivalent): the documented capabilities of each
    -primaryNetworkPlugin value, with VXLAN settings; the Details property holds all data,
    including what each plugin needs on Linux and Windows nodes.

    .PARAMETER name
    One plugin: calico or flannel. Without it, all plugins.

    .EXAMPLE
    Get-AksNetPlugin

    .EXAMPLE
    (Get-AksNetPlugin -name flannel).Details.linux.firewall_ports

    .OUTPUTS
    AksNet.Plugin
    #>
    [CmdletBinding()]
    [OutputType('AksNet.Plugin')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [ValidateSet('calico', 'flannel')]
        [string] $name
    )
    process {
        Invoke-AksNetBridge -Command 'Get-AksNetPlugin' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
