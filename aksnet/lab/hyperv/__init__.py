"""The lab's emulated Hyper-V hosts and Windows nodes.

HyperVMachine(host) and WindowsNode implement aksnet.lab.backend.EmulatedMachine: they bind each
call against the real cmdlet contracts (aksnet/data/cmdlet_contracts.json) and answer with the real
PowerShell error texts. Every object they return carries ``Lab = True``.
"""

from aksnet.lab.hyperv.host import FailoverCluster, HyperVHost, VMEvent
from aksnet.lab.hyperv.machine import HyperVMachine
from aksnet.lab.hyperv.windows_node import WindowsNode

__all__ = ["FailoverCluster", "HyperVHost", "HyperVMachine", "VMEvent", "WindowsNode"]
