"""The lab's Linux "VMs": network namespaces on a lab bridge, each running a real OpenSSH sshd.

A node is not a virtual machine: it shares the machine's kernel and its /usr, and gets private
/etc, /var, /opt, /root and /home as overlays. Every node says so in /etc/aksnet-lab-node.
"""

from aksnet.lab.linux.network import LabNetwork
from aksnet.lab.linux.node import LinuxVm, LinuxVmRuntime, LinuxVmSpec
from aksnet.lab.linux.sweep import sweep

__all__ = ["LabNetwork", "LinuxVm", "LinuxVmRuntime", "LinuxVmSpec", "sweep"]
