function Set-AksHciCluster {
    <#
    .SYNOPSIS
    Scales the control plane of a workload cluster.

    .DESCRIPTION
    Changes the number of control-plane nodes to 1, 3 or 5. Scaling up creates the new
    control-plane VMs and joins them; scaling down drains and deletes the highest-numbered
    control-plane nodes through the first one, removes their VMs and releases their addresses.
    Worker nodes are scaled with Set-AksHciNodePool. The change is refused before anything
    changes when the count is not allowed or the network's node IP pool lacks free addresses.
    With -WhatIf it lists every action and changes nothing. A second run changes nothing.

    .PARAMETER name
    The cluster name. Accepts pipeline input by property name. Tab completes stored names.

    .PARAMETER controlPlaneNodeCount
    The number of control-plane nodes: 1, 3 or 5 (etcd needs an odd number of members).

    .PARAMETER controlPlaneVmSize
    Not available yet in aksnet (the control-plane VMs keep their size); giving it is an error.

    .PARAMETER enableAutoScaler
    Accepted for AksHci compatibility; aksnet does not act on it yet (a warning says so).

    .PARAMETER autoScalerProfileName
    Accepted for AksHci compatibility; aksnet does not act on it yet (a warning says so).

    .EXAMPLE
    Set-AksHciCluster -name mycluster -controlPlaneNodeCount 3

    .EXAMPLE
    Set-AksHciCluster -name mycluster -controlPlaneNodeCount 1 -WhatIf

    .OUTPUTS
    AksNet.RunResult
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.RunResult')]
    param(
        [Parameter(Mandatory, ValueFromPipelineByPropertyName)]
        [string] $name,

        [ValidateSet(1, 3, 5)]
        [int] $controlPlaneNodeCount,

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $controlPlaneVmSize,

        [bool] $enableAutoScaler,

        [string] $autoScalerProfileName
    )
    process {
        $whatIf = [bool]$WhatIfPreference
        $action = "Scale the control plane to $controlPlaneNodeCount node(s)"
        if ($PSCmdlet.ShouldProcess($name, $action) -or $whatIf) {
            Invoke-AksNetBridge -Command 'Set-AksHciCluster' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
