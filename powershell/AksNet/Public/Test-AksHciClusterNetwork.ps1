function Test-AksHciClusterNetwork {
    <#
    .SYNOPSIS
    Checks the network of one workload cluster, or of every cluster, against what aksnet decided,
    and changes nothing.

    .DESCRIPTION
    Per cluster and node: each VM exists and runs on one host; each VM network adapter is
    connected to the network setting's switch with its VLAN and MAC; the Windows nodes' HNS
    networks; the Linux nodes' kernel modules, sysctls, firewall table and CNI configuration; the
    load balancer's haproxy.cfg and HAProxy running; every VIP and node address in the store owned
    by a live object. Create's own checks are reused (its phases as a what-if against the hosts).
    VMs and HNS networks aksnet did not create are reported as foreign and never touched.
    Each row is ok, drift (observed and desired), error (the check could not be made, and why),
    foreign or not-checked. ExitCode: 0 clean, 1 drift, 2 error; a scheduled script can
    `exit $report.ExitCode`. Hosts that do not answer within -deadline are reported, not waited on.

    .PARAMETER name
    The cluster name; every cluster when omitted. Accepts pipeline input by property name.

    .PARAMETER deadline
    Seconds the checks may take (default 600); a cluster not checked by then is an error row.

    .EXAMPLE
    Test-AksHciClusterNetwork -name mycluster

    .EXAMPLE
    $report = Test-AksHciClusterNetwork; $report.Rows | Where-Object Status -ne 'ok'; exit $report.ExitCode

    .OUTPUTS
    AksNet.ClusterNetworkReport
    #>
    [CmdletBinding()]
    [OutputType('AksNet.ClusterNetworkReport')]
    param(
        [Parameter(ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $name,

        [ValidateRange(1, 86400)]
        [int] $deadline = 600
    )
    process {
        Invoke-AksNetBridge -Command 'Test-AksHciClusterNetwork' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
