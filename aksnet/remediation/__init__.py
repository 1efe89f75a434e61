"""Remediation: Test- and Repair-AksHciClusterNetwork and the scheduled runs of Repair.

Design (one code path): the checks are create's own facts. Test runs create's phases as a dry
run against the real hosts (aksnet.remediation.converge: each action create would take is a
drift row), plus a phase of the checks create does not make (aksnet.remediation.checks: VM
adapters' switch and VLAN on running VMs, foreign VMs and HNS networks, orphan addresses), also
through the runner's gate. Repair applies that phase and then runs create itself, which
converges; so a second Test right after a Repair is clean. Foreign objects (not recorded in the
store) are reported and never touched. aksnet.remediation.run has the entry points,
aksnet.remediation.timer the systemd units of a scheduled run.
"""

from aksnet.remediation.report import Report, Row, format_report
from aksnet.remediation.run import repair_cluster_network, test_cluster_network

__all__ = ["Report", "Row", "format_report", "repair_cluster_network", "test_cluster_network"]
