"""The EMULATED C:\\k\\kubeadm.exe of the lab's Windows node image: `join --config FILE` only.

It checks the JoinConfiguration with the same checks as the lab's Linux kubeadm
(aksnet.lab.linux.k8sstub) and its token against the emulated control plane's tokens, refuses a
control-plane join (Windows nodes are workers), registers the node in the lab's emulated control
plane (aksnet.lab.k8sregistry, os "windows"; a node that joins again keeps its record), writes
C:\\k\\kubelet.conf and says on its standard output that it is EMULATED. A refusal exits 1 with the
reason on standard error. Nothing is started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aksnet.lab import k8sregistry
from aksnet.lab.hyperv.cmdlets_process import ProgramRun
from aksnet.lab.hyperv.filesystem import PathOutsideRoot
from aksnet.lab.linux import k8sstub

if TYPE_CHECKING:
    from aksnet.lab.hyperv.windows_node import WindowsNode

PATH = "C:\\k\\kubeadm.exe"
KUBELET_CONF = "C:\\k\\kubelet.conf"


def kubeadm_exe(node: WindowsNode, args: list[str]) -> ProgramRun:
    """Run `kubeadm.exe ARGS` on the node; every call is kept in node.kubeadm_calls."""
    try:
        details = _join(node, args)
    except k8sstub.Refused as refused:
        node.kubeadm_calls.append({"args": args, "outcome": "refused", "reason": str(refused)})
        return ProgramRun(1, "", f"EMULATED kubeadm.exe (aksnet lab) refused: {refused}\r\n")
    node.kubeadm_calls.append({"args": args, "outcome": "accepted", **details})
    return ProgramRun(
        0,
        f"EMULATED kubeadm.exe join (aksnet lab): node {details['node']} registered with "
        f"{details['endpoint']}, podCIDR {details['podCIDR']}; nothing was started\r\n",
    )


def _join(node: WindowsNode, args: list[str]) -> dict[str, Any]:
    verb, path = k8sstub.kubeadm_args(args)
    if verb != "join":
        raise k8sstub.Refused(f"kubeadm {verb} on a Windows node: Windows nodes only join")
    try:
        real = node.fs.real(path)
    except PathOutsideRoot as error:
        raise k8sstub.Refused(f"cannot read {path}: {error}") from None
    documents = k8sstub.load_yaml(str(real))
    join = k8sstub.kubeadm_kinds(documents, "join")["JoinConfiguration"]
    k8sstub.check_join(join)
    if "controlPlane" in join:
        raise k8sstub.Refused("controlPlane: a Windows node cannot join as a control-plane node")
    if node.lab_dir is None:
        raise k8sstub.Refused("this emulated node belongs to no lab control plane")
    endpoint = str(join["discovery"]["bootstrapToken"]["apiServerEndpoint"])
    name = str(join["nodeRegistration"]["name"])
    token = str(join["discovery"]["bootstrapToken"]["token"])
    try:
        k8sregistry.check_join_secrets(node.lab_dir, endpoint, token, None)
        record = k8sregistry.register_node(
            node.lab_dir, endpoint, name, os_name="windows", address=node.ip_address, role="worker"
        )
    except k8sregistry.RegistryError as error:
        raise k8sstub.Refused(str(error)) from None
    k8sstub.write_kubeconfig(node.fs.real(KUBELET_CONF), "system:node", f"https://{endpoint}")
    return {
        "node": name,
        "endpoint": endpoint,
        "podCIDR": record["podCIDR"],
        "config_path": path,
        "config": [k8sstub.masked(d) for d in documents],
    }
