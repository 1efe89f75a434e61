function New-AksHciCluster {
    <#
    .SYNOPSIS
    Plans a workload cluster (-WhatIf); creating clusters is not available yet in this version.

    .DESCRIPTION
    In this version New-AksHciCluster supports -WhatIf only: it validates every parameter (both
    documented parameter sets: -nodePoolName/-nodeCount/-nodeVmSize/-osType, or the deprecated
    -linuxNodeCount/-windowsNodeCount/...), checks the cluster against its network and returns the
    plan: node pools, CIDRs, the addresses it needs and the free addresses. Without -WhatIf it
    writes a terminating error (category NotImplemented): cluster creation is not available yet in
    this version.

    .PARAMETER name
    The cluster name: lowercase letters and digits, no hyphens.

    .PARAMETER kubernetesVersion
    The Kubernetes version, for example v1.29.4 (aksnet's default).

    .PARAMETER controlPlaneNodeCount
    Control plane nodes: 1, 3 or 5. Default 1.

    .PARAMETER controlPlaneVmSize
    The control plane VM size. Default Standard_A4_v2.

    .PARAMETER loadBalancerVmSize
    The HAProxy load balancer VM size. Default Standard_A4_v2.

    .PARAMETER loadBalancerSettings
    The object New-AksHciLoadBalancerSetting returns.

    .PARAMETER nodePoolName
    Node-pool parameter set: the name of the first node pool.

    .PARAMETER nodeCount
    Node-pool parameter set: nodes in the first pool. Default 1.

    .PARAMETER nodeVmSize
    Node-pool parameter set: the node VM size. Default Standard_K8S3_v1.

    .PARAMETER osType
    Node-pool parameter set: Linux or Windows. Default Linux.

    .PARAMETER linuxNodeCount
    Deprecated (use -nodeCount): Linux worker nodes. Default 1.

    .PARAMETER windowsNodeCount
    Deprecated (use -nodeCount): Windows worker nodes. Default 0.

    .PARAMETER linuxNodeVmSize
    Deprecated (use -nodeVmSize): Linux node VM size.

    .PARAMETER windowsNodeVmSize
    Deprecated (use -nodeVmSize): Windows node VM size.

    .PARAMETER taints
    Node taints, for example sku=gpu:NoSchedule; cannot change after creation.

    .PARAMETER nodeMaxPodCount
    Maximum pods per node: greater than 50. Default 110.

    .PARAMETER vnet
    The cluster network: its name or the object New-AksHciClusterNetwork returns. Tab completes stored names.

    .PARAMETER primaryNetworkPlugin
    calico or flannel. Default calico. Cannot change after deployment.

    .PARAMETER enableAdAuth
    Accepted for compatibility; aksnet 0.1 warns and ignores it.

    .PARAMETER enableMonitoring
    Accepted for compatibility; aksnet 0.1 warns and ignores it.

    .PARAMETER enableAutoScaler
    Accepted for compatibility; aksnet 0.1 warns and ignores it.

    .PARAMETER autoScalerProfileName
    Accepted for compatibility; aksnet 0.1 warns and ignores it.

    .EXAMPLE
    New-AksHciCluster -name mycluster -vnet vnet1 -primaryNetworkPlugin flannel -WhatIf

    .EXAMPLE
    $lb = New-AksHciLoadBalancerSetting -name lb -loadBalancerSku HAProxy -loadBalancerCount 2
    New-AksHciCluster -name mycluster -vnet (Get-AksHciClusterNetwork -name vnet1) -nodePoolName pool1 -nodeCount 3 -osType Windows -loadBalancerSettings $lb -WhatIf

    .OUTPUTS
    AksNet.ClusterPlan
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.ClusterPlan')]
    param(
        [Parameter(Mandatory)]
        [string] $name,

        [string] $kubernetesVersion,

        [ValidateSet(1, 3, 5)]
        [int] $controlPlaneNodeCount = 1,

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $controlPlaneVmSize = 'Standard_A4_v2',

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $loadBalancerVmSize = 'Standard_A4_v2',

        [object] $loadBalancerSettings,

        [string] $nodePoolName,

        [ValidateRange(0, 250)]
        [int] $nodeCount = 1,

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $nodeVmSize = 'Standard_K8S3_v1',

        [ValidateSet('Linux', 'Windows')]
        [string] $osType = 'Linux',

        [ValidateRange(0, 250)]
        [int] $linuxNodeCount = 1,

        [ValidateRange(0, 250)]
        [int] $windowsNodeCount = 0,

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $linuxNodeVmSize = 'Standard_K8S3_v1',

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $windowsNodeVmSize = 'Standard_K8S3_v1',

        [string[]] $taints,

        [ValidateRange(51, 254)]
        [int] $nodeMaxPodCount = 110,

        [object] $vnet,

        [ValidateSet('calico', 'flannel')]
        [string] $primaryNetworkPlugin = 'calico',

        [switch] $enableAdAuth,

        [switch] $enableMonitoring,

        [bool] $enableAutoScaler,

        [string] $autoScalerProfileName
    )
    process {
        if ($WhatIfPreference) {
            [void]$PSCmdlet.ShouldProcess($name, 'Create cluster')
            Invoke-AksNetBridge -Command 'New-AksHciCluster' -Parameters $PSBoundParameters -WhatIfOnly -Cmdlet $PSCmdlet
        }
        elseif ($PSCmdlet.ShouldProcess($name, 'Create cluster')) {
            Invoke-AksNetBridge -Command 'New-AksHciCluster' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
        }
    }
}
