function Repair-AksHciClusterNetwork {
    <#
    .SYNOPSIS
    Repairs the network drift of one workload cluster, or of every cluster, on the objects
    aksnet created.

    .DESCRIPTION
    Finds what Test-AksHciClusterNetwork finds and repairs it with the same actions
    New-AksHciCluster uses (it runs create again, which converges): a VM started, an adapter
    connected to its switch or given its VLAN, an HNS network, firewall table, sysctl file or
    haproxy.cfg restored, an orphan address returned to its pool. Objects aksnet did not create
    (not recorded in its store) are reported and left alone. A second run right after finds
    nothing to do. Two repairs of one cluster never act at once: the second is refused (the
    report lists the cluster under Refused, ExitCode 2). With -WhatIf it lists the repairs and
    changes nothing.

    .PARAMETER name
    The cluster name; every cluster when omitted. Accepts pipeline input by property name.

    .PARAMETER deadline
    Seconds the checks may take (default 600); a cluster not checked by then is an error row.

    .EXAMPLE
    Repair-AksHciClusterNetwork -name mycluster -WhatIf

    .EXAMPLE
    Get-AksHciCluster | Repair-AksHciClusterNetwork -Confirm:$false

    .OUTPUTS
    AksNet.ClusterNetworkReport
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.ClusterNetworkReport')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $name,

        [ValidateRange(1, 86400)]
        [int] $deadline = 600
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        $target = if ($name) { $name } else { 'every cluster' }
        if ($PSCmdlet.ShouldProcess($target, 'Repair the cluster network') -or $whatIf) {
            Invoke-AksNetBridge -Command 'Repair-AksHciClusterNetwork' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
