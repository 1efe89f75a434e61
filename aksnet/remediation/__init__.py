"""Remediation: Test- and Repair-AksHciClusterNetwork and the scheduled runs of Repair.

Design (one code path): the checks are create's own facts. Test runs create's phases as a dry
run against the real hosts (aksnet.remediation.converge: each action create would take is a
drift row; its observed value is only "differs (create's fact)", since an action carries the
desired state, not what was read), plus a phase of the checks create does not make
(aksnet.remediation.checks: VM adapters' switch and VLAN on running VMs, VMs and HNS networks
aksnet did not create, orphan addresses, VIPs served on the load-balancer VMs), also through the
runner's gate. Repair applies that phase and then runs create itself, which converges; so a
second Test right after a Repair is clean. Objects not recorded in the store are reported as
`foreign` and never touched. aksnet.remediation.run has the entry points, .timer the systemd
units and .task the Windows scheduled task of a scheduled Repair.

Known limits (hooks create would need; aksnet.cluster is not this package's):
- create's checks need every host: one unreachable host makes them an error row per cluster
  (this package's own checks still run on the other hosts, and other clusters are unaffected);
- a VM create must first start defers create's node checks of that phase for all its nodes
  (AfterVmsExist): those are `not-checked` rows until the Repair started the VM;
- create configures only the API server's frontend on the load balancer, the load-balancer
  sync (Sync-AksHciLoadBalancer) the Services' too: for a cluster with Service VIPs the load
  balancer is checked by the sync's what-if, and Repair runs create only when its what-if finds
  more than the load balancer to do, then the sync (aksnet.remediation.services). When create
  does run there, the Services' frontends are not served between create's reload and the
  sync's (seconds); create taking the Services' frontends from the sync would close that gap.
"""

from aksnet.remediation.report import Report, Row, format_report
from aksnet.remediation.run import repair_cluster_network, test_cluster_network

__all__ = ["Report", "Row", "format_report", "repair_cluster_network", "test_cluster_network"]
