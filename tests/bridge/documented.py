"""The documented AksHci parameters of each covered cmdlet (akshci-module.md §1), as test data.

Get-AksNetPlugin and Sync-AksHciLoadBalancer are aksnet's own (no AksHci equivalent);
Get-AksHciVmSize and Get-AksHciConfig take no parameters. Set-AksHciConfig's list is §1.11's
syntax block.
"""

from __future__ import annotations

_NETWORK = (
    "name vswitchName gateway dnsServers ipAddressPrefix vipPoolStart vipPoolEnd "
    "k8sNodeIpPoolStart k8sNodeIpPoolEnd vlanID"
)

_DOCUMENTED = {
    # §1.1, both parameter sets
    "New-AksHciCluster": (
        "name nodePoolName kubernetesVersion controlPlaneNodeCount linuxNodeCount "
        "windowsNodeCount controlPlaneVmSize loadBalancerVmSize loadBalancerSettings "
        "linuxNodeVmSize windowsNodeVmSize taints nodeMaxPodCount vnet primaryNetworkPlugin "
        "enableAdAuth enableMonitoring enableAutoScaler autoScalerProfileName nodeCount "
        "nodeVmSize osType"
    ),
    "New-AksHciNetworkSetting": _NETWORK,  # §1.6
    "New-AksHciClusterNetwork": _NETWORK,  # §1.7
    "Get-AksHciClusterNetwork": "name clusterName",  # §1.8
    "Remove-AksHciClusterNetwork": "name",  # §1.9
    # §1.10: the reference page, plus -vmSize and -loadBalancerCount from the how-to
    "New-AksHciLoadBalancerSetting": "name loadBalancerSku vmSize loadBalancerCount",
    "Set-AksHciConfig": (  # §1.11
        "imageDir workingDir cloudConfigLocation vnet createAutoConfigContainers "
        "offlineDownload offsiteTransferCompleted stagingShare nodeConfigLocation "
        "controlPlaneVmSize sshPublicKey macPoolStart macPoolEnd proxySettings cloudServiceCidr "
        "version nodeAgentPort nodeAgentAuthorizerPort cloudAgentPort cloudAgentAuthorizerPort "
        "clusterRoleName cloudLocation concurrentDownloads skipHostLimitChecks "
        "skipRemotingChecks skipValidationChecks insecure skipUpdates forceDnsReplication"
    ),
    "Get-AksHciVmSize": "",
    "Get-AksHciConfig": "",
    "Get-AksNetPlugin": "",
    "Get-AksHciCluster": "name",  # §1.2
    "Remove-AksHciCluster": "name force",  # §1.4
    "Set-AksHciCluster": (  # §1.3
        "name controlPlaneNodeCount enableAutoScaler autoScalerProfileName controlPlaneVmSize"
    ),
    # §1.5
    "New-AksHciNodePool": (
        "clusterName name count osType vmSize taints maxPodCount disableAutoScaler"
    ),
    "Get-AksHciNodePool": "clusterName name",
    "Set-AksHciNodePool": "clusterName name count autoScaler vmSize",  # -vmSize: vertical scaling
    "Remove-AksHciNodePool": "clusterName name",
    "Get-AksHciCredential": "name configPath adAuth",  # §1.13
    # aksnet's own (issue 5): the cloud-provider sync of LoadBalancer Services, no AksHci page
    "Sync-AksHciLoadBalancer": "name watch",
    # aksnet's own (issue 7): the network drift check and repair and their scheduled task
    # (AksHci has Test-UpdateAksHci and Repair-AksHciClusterCerts, §1.15, not these)
    "Test-AksHciClusterNetwork": "name deadline",
    "Repair-AksHciClusterNetwork": "name deadline",
    "Register-AksHciRemediationTask": "name interval deadline logPath credential",
    "Unregister-AksHciRemediationTask": "name",
}

DOCUMENTED_PARAMETERS: dict[str, tuple[str, ...]] = {
    cmdlet: tuple(names.split()) for cmdlet, names in _DOCUMENTED.items()
}
