"""The package's lab (prefix "akb") and a fresh store per test, from tests.labcluster, for
clusters created with their load balancer: the lab's emulated systemctl runs the machine's real
HAProxy and keepalived on a load-balancer VM, and kubeadm init starts the lab's small API server.
"""

from __future__ import annotations

from tests.labcluster import fabric_fixture, lab_fixture

lab = lab_fixture("akb")
fabric = fabric_fixture()
