function Remove-AksHciClusterNetwork {
    <#
    .SYNOPSIS
    Removes a cluster network.

    .DESCRIPTION
    Removes a stored workload-cluster network and its address allocations. It fails while a
    cluster uses the network: remove those clusters first. With -WhatIf it checks that the
    network exists and is unused, and changes nothing. Asks for confirmation (ConfirmImpact High)
    unless -Confirm:$false is given.

    .PARAMETER name
    The network name. Accepts pipeline input by property name, so the output of
    Get-AksHciClusterNetwork pipes into this cmdlet. Tab completes stored names.

    .EXAMPLE
    Remove-AksHciClusterNetwork -name vnet1 -Confirm:$false

    .EXAMPLE
    Get-AksHciClusterNetwork | Remove-AksHciClusterNetwork -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [string] $name
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        if ($PSCmdlet.ShouldProcess($name, 'Remove cluster network') -or $whatIf) {
            Invoke-AksNetBridge -Command 'Remove-AksHciClusterNetwork' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
