"""A Linux cluster (1 control plane + 2 workers over two lab hosts) created, re-applied, planned
and removed end to end, for flannel and for Calico (needs root).

What is real: PSRP to the hosts, the VMs' sshd and their pinned host keys, the addresses on the
nodes. What is emulated: Hyper-V (the lab) and kubeadm/kubectl (they check and record their
input, create nothing).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import yaml

from aksnet import api
from aksnet.cluster.cni import CNI_FILE
from aksnet.cluster.create import CreateOptions
from aksnet.cluster.keys import ClusterKeys
from aksnet.infra.linuxconf import KUBEADM_FILE
from aksnet.model.cluster import ClusterSpec
from aksnet.remote.base import Cmdlet
from aksnet.remote.known_hosts import KnownHosts
from aksnet.state.macs import macs_of
from tests.labcluster import Fabric, k8s_calls

OPTIONS = CreateOptions(ssh_timeout=60.0)


def linux_spec(fabric: Fabric, name: str, plugin: str) -> ClusterSpec:
    return api.new_cluster_spec(
        name=name,
        vnet=fabric.store.list_networks()[0].name,
        primary_network_plugin=plugin,
        node_pool_name="linux",
        node_count=2,
    )


def store_snapshot(fabric: Fabric) -> tuple[Any, ...]:
    store = fabric.store
    return (store.list_clusters(), store.allocations(), macs_of(store))


@pytest.mark.parametrize("plugin", ["flannel", "calico"])
def test_a_linux_cluster_end_to_end(
    fabric: Fabric, plugin: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name = f"c{plugin}"
    spec = linux_spec(fabric, name, plugin)
    nodes = [f"{name}-cp-0", f"{name}-linux-0", f"{name}-linux-1"]
    vms = sorted([*nodes, f"{name}-lb-0"])  # the HAProxy load-balancer VM comes with them

    # What-if on nothing: every action listed, nothing changed anywhere.
    before = store_snapshot(fabric)
    plan = api.new_cluster(fabric.store, spec, fabric.hosts, what_if=True, options=OPTIONS)
    titles = [r.title for r in plan.run.changes]
    assert sorted(t.split()[1] for t in titles if t.startswith("New-VM")) == vms
    assert sum(t.startswith("Copy seed ISO") for t in titles) == 4
    for vm in nodes:
        assert f"Set up Linux nodes on {vm} (once its VM runs)" in titles
    assert f"Configure the load balancer on {name}-lb-0 (once its VM runs)" in titles
    assert f"Apply the CNI on {vms[0]} (once its VM runs)" in titles
    assert store_snapshot(fabric) == before
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
    assert not ClusterKeys.beside(fabric.store.path, name).folder.exists()

    created = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert not created.run.resumed
    token, certificate_key = ClusterKeys.beside(fabric.store.path, name).join_secrets()
    for secret in (token.reveal(), certificate_key.reveal()):
        assert secret not in caplog.text and secret not in json.dumps(created.to_dict())
    assert any("kubeadm init" in r.title for r in created.run.changes)  # it was there to leak
    assert "reading fact" in caplog.text  # and DEBUG logging was captured
    on_hosts = fabric.vms_on_hosts()
    assert sorted(on_hosts["hci1"] + on_hosts["hci2"]) == vms
    assert on_hosts["hci1"] and on_hosts["hci2"]  # spread over both hosts

    view = api.get_cluster(fabric.store, name).to_dict()
    assert view["ProvisioningState"] == "Provisioned"
    assert view["PrimaryNetworkPlugin"] == plugin
    assert (view["ControlPlaneNodeCount"], view["LinuxNodeCount"]) == (1, 2)
    assert view["ApiServerVip"] == created.api_vip
    addresses = {n["Name"]: n["Address"] for n in view["Nodes"]}
    assert sorted(addresses) == vms
    roles = {n["Name"]: n["Role"] for n in view["Nodes"]}
    _check_nodes(fabric, name, addresses, roles, created.api_vip, plugin, spec)

    again = api.new_cluster(fabric.store, spec, fabric.hosts, options=OPTIONS)
    assert again.run.changes == [] and again.run.records == []
    replan = api.new_cluster(fabric.store, spec, fabric.hosts, what_if=True, options=OPTIONS)
    assert replan.run.changes == []

    removed = api.remove_cluster(fabric.store, name, fabric.hosts)
    held = sorted([*addresses.values(), created.api_vip])
    assert sorted(removed.released_addresses) == held
    macs = sorted(n["Mac"] for n in view["Nodes"])
    assert sorted(removed.released_macs) == macs
    assert fabric.store.allocations() == [] and macs_of(fabric.store) == []
    assert fabric.store.list_clusters() == []
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
    assert not ClusterKeys.beside(fabric.store.path, name).folder.exists()
    sessions = fabric.hosts.open()
    try:
        for session in sessions.values():
            for vm in vms:
                folder = rf"C:\ClusterStorage\Volume1\aksnet\{vm}"
                assert session.invoke(Cmdlet.of("Test-Path", LiteralPath=folder)) == [False]
    finally:
        for session in sessions.values():
            session.close()


def _check_nodes(
    fabric: Fabric,
    name: str,
    addresses: dict[str, str],
    roles: dict[str, str],
    vip: str,
    plugin: str,
    spec: ClusterSpec,
) -> None:
    keys = ClusterKeys.beside(fabric.store.path, name)
    for vm, address in addresses.items():
        known = KnownHosts(fabric.tmp / f"known_{vm}")
        known.pin(address, 22, keys.host_key(vm).public_line)  # the key aksnet generated
        with fabric.ssh(name, address, known) as ssh:
            assert ssh.run(["hostname"]).text.strip() == vm
            assert f"inet {address}/" in ssh.run(["ip", "-4", "-o", "addr", "show"]).text
            if roles[vm] == "loadbalancer":  # not a Kubernetes node: HAProxy for the API VIP
                assert f"bind {vip}:6443" in ssh.run(["cat", "/etc/haproxy/haproxy.cfg"]).text
                continue
            calls = k8s_calls(ssh)
            verb = "init" if vm.endswith("-cp-0") else "join"
            # Join-secret checks also run `kubeadm token list` on the first control plane.
            kubeadm = [c for c in calls if c["tool"] == "kubeadm" and c["args"][0] == verb]
            assert [c["args"] for c in kubeadm] == [[verb, "--config", KUBEADM_FILE]]
            assert kubeadm[0]["outcome"] == "accepted"
            kubectl = [c for c in calls if c["tool"] == "kubectl"]
            if verb == "join":
                assert kubectl == []
                continue
            init = {d["kind"]: d for d in kubeadm[0]["config"]}["ClusterConfiguration"]
            assert init["controlPlaneEndpoint"] == f"{vip}:6443"
            (apply,) = kubectl
            assert apply["outcome"] == "accepted"
            assert apply["args"] == [
                "--kubeconfig",
                "/etc/kubernetes/admin.conf",
                "apply",
                "-f",
                CNI_FILE,
            ]
            manifest = list(yaml.safe_load_all(ssh.run(["cat", CNI_FILE]).text))
            _check_manifest(manifest, plugin, spec)


def _check_manifest(manifest: list[dict[str, Any]], plugin: str, spec: ClusterSpec) -> None:
    if plugin == "flannel":
        (config,) = [d for d in manifest if d["kind"] == "ConfigMap"]
        net_conf = json.loads(config["data"]["net-conf.json"])
        assert net_conf["Network"] == spec.pod_cidr
        assert net_conf["Backend"] == {"Type": "vxlan", "VNI": 4096, "Port": 4789}
    else:
        (installation,) = [d for d in manifest if d["kind"] == "Installation"]
        (pool,) = installation["spec"]["calicoNetwork"]["ipPools"]
        assert pool["cidr"] == spec.pod_cidr and pool["natOutgoing"] == "Enabled"
