function Sync-AksHciLoadBalancer {
    <#
    .SYNOPSIS
    Gives the LoadBalancer Services of a workload cluster their VIPs and serves them on the
    cluster's HAProxy load balancer.

    .DESCRIPTION
    Reads the cluster's Services through its API (the admin kubeconfig is read over SSH and kept
    in memory; no file is written) and gives every LoadBalancer Service a VIP from the cluster
    network's VIP pool: spec.loadBalancerIP when it is in the pool and free, else the next free
    one; Services with the same aksnet.io/vip-sharing-key annotation share a VIP when their
    ports differ. The VIP is written to the Service's status.loadBalancer.ingress, as a cloud
    provider does; a refused request or an exhausted pool is an Event on the Service and a
    warning here. VIPs of deleted Services return to the pool. Then the load-balancer VMs get
    one HAProxy frontend per VIP and port, to the nodes' NodePorts, checked with haproxy -c on
    the VM and applied with a reload that keeps established connections.
    A second run changes nothing. With -WhatIf it lists every action and changes nothing.
    With loadBalancerSku none the cluster has no load balancer: the Services are reported and
    get no address (configure a custom load balancer for them).
    With -Watch it syncs again after every change of a Service, writing one object per run,
    until Ctrl+C.

    .PARAMETER name
    The cluster name. Accepts pipeline input by property name. Tab completes stored names.

    .PARAMETER watch
    Keep syncing after every change of a Service (and every minute, for node changes) until
    Ctrl+C stops the pipeline.

    .EXAMPLE
    Sync-AksHciLoadBalancer -name mycluster

    .EXAMPLE
    Sync-AksHciLoadBalancer -name mycluster -WhatIf

    .EXAMPLE
    Get-AksHciCluster -name mycluster | Sync-AksHciLoadBalancer -Watch

    .OUTPUTS
    AksNet.LoadBalancerSync
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.LoadBalancerSync')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [ValidateNotNullOrEmpty()]
        [string] $name,

        [switch] $watch
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        $action = if ($watch) { 'Sync the load balancer after every Service change' } else { 'Sync the load balancer with the Services' }
        if ($PSCmdlet.ShouldProcess($name, $action) -or $whatIf) {
            Invoke-AksNetBridge -Command 'Sync-AksHciLoadBalancer' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
