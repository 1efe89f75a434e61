"""The lab's Linux "VMs": network namespaces on a lab bridge, each running a real OpenSSH sshd.

A node is not a virtual machine: it shares the machine's kernel and its /usr, and gets private
/etc, /var, /opt, /root and /home as overlays. Every node says so in /etc/aksnet-lab-node.

The names below are imported on first use: the emulated tools (k8sstub, kubectlstub, svcstub)
and the node's launcher are modules of this package, each run as a new interpreter per call, and
need none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aksnet.lab.linux.network import LabNetwork
    from aksnet.lab.linux.node import LinuxVm, LinuxVmRuntime, LinuxVmSpec
    from aksnet.lab.linux.teardown import sweep

__all__ = ["LabNetwork", "LinuxVm", "LinuxVmRuntime", "LinuxVmSpec", "sweep"]

_HOMES = {
    "LabNetwork": "aksnet.lab.linux.network",
    "LinuxVm": "aksnet.lab.linux.node",
    "LinuxVmRuntime": "aksnet.lab.linux.node",
    "LinuxVmSpec": "aksnet.lab.linux.node",
    # (in teardown, not in a submodule named sweep: importing that would set this package's
    # `sweep` to the module, shadowing the function)
    "sweep": "aksnet.lab.linux.teardown",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
