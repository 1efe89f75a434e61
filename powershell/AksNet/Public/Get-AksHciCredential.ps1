function Get-AksHciCredential {
    <#
    .SYNOPSIS
    Writes the admin kubeconfig of a workload cluster to <configPath>\config.

    .DESCRIPTION
    Fetches /etc/kubernetes/admin.conf from the cluster's first control-plane node over SSH
    (with the cluster's admin key and the node's pinned host key) and writes it, readable by the
    owner only, to <configPath>\config (default ~\.kube\config, where kubectl looks). The file is
    replaced atomically, as AksHci does; use -Confirm to be asked first, or -WhatIf to see which
    file would be written. The kubeconfig's content never appears in output or logs.

    .PARAMETER name
    The cluster name. Accepts pipeline input by property name. Tab completes stored names.

    .PARAMETER configPath
    The folder of the kubeconfig file (default ~\.kube).

    .PARAMETER adAuth
    Not available yet in aksnet (no AD single sign-on kubeconfig); giving it is an error.

    .EXAMPLE
    Get-AksHciCredential -name mycluster

    .EXAMPLE
    Get-AksHciCredential -name mycluster -configPath C:\kube\mycluster -Confirm

    .OUTPUTS
    AksNet.Credential
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.Credential')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [string] $name,

        [string] $configPath,

        [switch] $adAuth
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        $folder = if ($configPath) { $configPath } else { Join-Path $HOME '.kube' }
        $target = Join-Path $folder 'config'
        if ($PSCmdlet.ShouldProcess($target, "Write the admin kubeconfig of cluster '$name'") -or $whatIf) {
            Invoke-AksNetBridge -Command 'Get-AksHciCredential' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
