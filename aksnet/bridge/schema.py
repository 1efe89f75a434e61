"""The bridge's request schema: per command, its parameters, their JSON types, which are required.

This is the ONE place that says what each PowerShell cmdlet may pass to Python; the request parser
and the contract tests (which compare it with the cmdlets' param blocks) both read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PROTOCOL_VERSION = 1


JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


@dataclass(frozen=True)
class Param:
    """One request parameter: the JSON types it may have (items: element type of an array)."""

    types: tuple[str, ...]
    required: bool = False
    items: str | None = None


@dataclass(frozen=True)
class CommandSchema:
    parameters: Mapping[str, Param]
    what_if: bool = False  # the cmdlet supports -WhatIf (SupportsShouldProcess)
    credential: bool = False  # the request may carry a credential


def _p(*types: str, required: bool = False, items: str | None = None) -> Param:
    return Param(tuple(types), required, items)


STR, INT, BOOL = _p("string"), _p("integer"), _p("boolean")
REQ_STR = _p("string", required=True)
STR_LIST = _p("array", "string", items="string")

_NETWORK_PARAMETERS: dict[str, Param] = {
    "name": REQ_STR,
    "vswitchName": REQ_STR,
    "vipPoolStart": REQ_STR,
    "vipPoolEnd": REQ_STR,
    "gateway": STR,
    "dnsServers": STR_LIST,
    "ipAddressPrefix": STR,
    "k8sNodeIpPoolStart": STR,
    "k8sNodeIpPoolEnd": STR,
    "vlanID": INT,
}

_CLUSTER_PARAMETERS: dict[str, Param] = {
    "name": REQ_STR,
    "nodePoolName": STR,
    "kubernetesVersion": STR,
    "controlPlaneNodeCount": INT,
    "linuxNodeCount": INT,
    "windowsNodeCount": INT,
    "controlPlaneVmSize": STR,
    "loadBalancerVmSize": STR,
    "loadBalancerSettings": _p("object", "string"),  # a string is refused by name
    "linuxNodeVmSize": STR,
    "windowsNodeVmSize": STR,
    "taints": STR_LIST,
    "nodeMaxPodCount": INT,
    "nodeCount": INT,
    "nodeVmSize": STR,
    "osType": STR,
    "vnet": _p("string", "object"),
    "primaryNetworkPlugin": STR,
    "enableAdAuth": BOOL,
    "enableMonitoring": BOOL,
    "enableAutoScaler": BOOL,
    "autoScalerProfileName": STR,
}

_CONFIG_STRINGS = [
    "imageDir",
    "workingDir",
    "cloudConfigLocation",
    "createAutoConfigContainers",
    "stagingShare",
    "nodeConfigLocation",
    "controlPlaneVmSize",
    "sshPublicKey",
    "macPoolStart",
    "macPoolEnd",
    "cloudServiceCidr",
    "version",
    "clusterRoleName",
    "cloudLocation",
]
_CONFIG_INTS = [
    "nodeAgentPort",
    "nodeAgentAuthorizerPort",
    "cloudAgentPort",
    "cloudAgentAuthorizerPort",
    "concurrentDownloads",
]
_CONFIG_SWITCHES = [
    "offlineDownload",
    "offsiteTransferCompleted",
    "skipHostLimitChecks",
    "skipRemotingChecks",
    "skipValidationChecks",
    "insecure",
    "skipUpdates",
    "forceDnsReplication",
    "labMode",
]
_CONFIG_PARAMETERS: dict[str, Param] = {
    **{n: STR for n in _CONFIG_STRINGS},
    **{n: INT for n in _CONFIG_INTS},
    **{n: BOOL for n in _CONFIG_SWITCHES},
    "vnet": _p("object", "string"),  # [object] in PowerShell: strings are refused by name
    "proxySettings": _p("object", "string"),
}

REQUEST_SCHEMA: dict[str, CommandSchema] = {
    "New-AksHciNetworkSetting": CommandSchema(_NETWORK_PARAMETERS),
    "New-AksHciClusterNetwork": CommandSchema(_NETWORK_PARAMETERS, what_if=True),
    "Get-AksHciClusterNetwork": CommandSchema({"name": STR, "clusterName": STR}),
    "Remove-AksHciClusterNetwork": CommandSchema({"name": REQ_STR}, what_if=True),
    "New-AksHciLoadBalancerSetting": CommandSchema(
        {"name": REQ_STR, "loadBalancerSku": REQ_STR, "vmSize": STR, "loadBalancerCount": INT}
    ),
    "Get-AksHciVmSize": CommandSchema({}),
    "Set-AksHciConfig": CommandSchema(_CONFIG_PARAMETERS, what_if=True),
    "Get-AksHciConfig": CommandSchema({}),
    "New-AksHciCluster": CommandSchema(_CLUSTER_PARAMETERS, what_if=True),
    "Get-AksNetPlugin": CommandSchema({"name": STR}),
    "Get-AksHciCluster": CommandSchema({"name": STR}),
    "Remove-AksHciCluster": CommandSchema({"name": REQ_STR, "force": BOOL}, what_if=True),
    "Set-AksHciCluster": CommandSchema(
        {
            "name": REQ_STR,
            "controlPlaneNodeCount": INT,
            "controlPlaneVmSize": STR,
            "enableAutoScaler": BOOL,
            "autoScalerProfileName": STR,
        },
        what_if=True,
    ),
    "New-AksHciNodePool": CommandSchema(
        {
            "clusterName": REQ_STR,
            "name": REQ_STR,
            "count": INT,
            "osType": STR,
            "vmSize": STR,
            "taints": STR_LIST,
            "maxPodCount": INT,
            "disableAutoScaler": BOOL,
        },
        what_if=True,
    ),
    "Get-AksHciNodePool": CommandSchema({"clusterName": REQ_STR, "name": STR}),
    "Set-AksHciNodePool": CommandSchema(
        {"clusterName": REQ_STR, "name": REQ_STR, "count": INT, "vmSize": STR, "autoScaler": BOOL},
        what_if=True,
    ),
    "Remove-AksHciNodePool": CommandSchema({"clusterName": REQ_STR, "name": REQ_STR}, what_if=True),
    "Get-AksHciCredential": CommandSchema(
        {"name": REQ_STR, "configPath": STR, "adAuth": BOOL}, what_if=True
    ),
    "Sync-AksHciLoadBalancer": CommandSchema({"name": REQ_STR, "watch": BOOL}, what_if=True),
    # aksnet.bridge.remediation (issue 7)
    "Test-AksHciClusterNetwork": CommandSchema({"name": STR, "deadline": INT}),
    "Repair-AksHciClusterNetwork": CommandSchema({"name": STR, "deadline": INT}, what_if=True),
    "Register-AksHciRemediationTask": CommandSchema(
        {"name": STR, "interval": STR, "deadline": INT, "logPath": STR}, what_if=True
    ),
    "Unregister-AksHciRemediationTask": CommandSchema({"name": STR}, what_if=True),
}
