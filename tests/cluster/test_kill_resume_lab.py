"""kill -9 of `aksnet cluster new` at several points, then a resume that converges; two runs of one
cluster never overlap (root).

The child is the real CLI on the same lab and store. The parent watches the store's journal and
sends SIGKILL at one point: right after the first New-VM, during Linux node setup, during the
CNI apply, or just before the cluster is recorded provisioned (the parent holds the store's write
lock from the moment the CNI action is journaled done, so the child cannot record anything more
before it dies). The killed run leaves its lease behind; the in-process resume on this machine
takes it over at once (its holder process is gone) and converges: every VM exists once, no disk
or ISO is left on a host that no VM of the cluster uses, the store holds exactly the cluster's
addresses and MACs, each node was initialised or joined exactly once (the emulated kubeadm's
call log), and the cluster is Provisioned. A second `cluster new` started while the first acts
exits 4 with the lease message; a lease whose holder runs on another machine blocks a resume
until it expires, and that late resume (3 hours on, in the emulated control plane) creates the
expired join token again before the joins.

The hosts' folders are listed through the lab's backing directory of each emulated host (the
lab emulates no Get-ChildItem); each listed file is then checked over PSRP with Test-Path.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import AbstractContextManager

import pytest

from aksnet import api
from aksnet.cluster.cni import APPLIED_FILE
from aksnet.cluster.create import CreateOptions, CreateResult
from aksnet.cluster.keys import ClusterKeys
from aksnet.errors import StateConflict
from aksnet.infra.provision import DEFAULT_ROOT
from aksnet.lab import k8sregistry
from aksnet.lab.hyperv.filesystem import WindowsFileSystem
from aksnet.remote.base import Cmdlet
from aksnet.remote.known_hosts import KnownHosts
from aksnet.state.lease import Leases
from aksnet.state.macs import macs_of
from tests.clichild import ChildRun, cli_child, journal_has
from tests.labcluster import Fabric, k8s_calls

NAME = "ckilled"
SPEC_FLAGS = ["--name", NAME, "--primary-network-plugin", "flannel", "--node-pool-name", "linux"]
VMS = sorted([f"{NAME}-cp-0", f"{NAME}-linux-0", f"{NAME}-linux-1", f"{NAME}-lb-0"])
HOSTS = ("hci1", "hci2")

# Kill points: the journal row that must exist before SIGKILL is sent.
POINTS = {
    "provisioning": "action LIKE 'New-VM %' AND status = 'done'",
    "node-setup": "action LIKE 'write the cluster nodes into /etc/hosts%'",
    "cni": "action LIKE 'kubectl apply -f %' AND status = 'started'",
    "before-provisioned": "action LIKE 'kubectl apply -f %' AND status = 'started'",
}


# Not parametrized (one more lab run): killed right after kubeadm init, before any join.
AFTER_INIT = "action LIKE 'kubeadm init %' AND status = 'done'"


def cluster_state(conn: sqlite3.Connection) -> str:
    (state,) = conn.execute("SELECT state FROM clusters WHERE name = ?", (NAME,)).fetchone()
    return str(state)


def cli_new(fabric: Fabric, name: str) -> AbstractContextManager[ChildRun]:
    args = ["cluster", "new", "--vnet", "provnet", *SPEC_FLAGS, "--node-count", "2"]
    return cli_child(fabric, args, name)


def kill_at(fabric: Fabric, point: str) -> int:
    """Run the CLI, SIGKILL it at `point`; returns the killed child's pid."""
    store_path = fabric.store.path
    with cli_new(fabric, point) as child:
        condition = POINTS.get(point, AFTER_INIT)
        child.wait_for(lambda: journal_has(store_path, condition), point)
        if point != "before-provisioned":
            child.kill()
            return child.pid
        conn = sqlite3.connect(store_path, timeout=60, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the child can record nothing more
            child.wait_for(lambda: cni_applied(fabric), "the CNI on the node")
            state = cluster_state(conn)
            child.kill()
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        assert state == "creating", "the child recorded the cluster before the kill"
        return child.pid


def cni_applied(fabric: Fabric) -> bool:
    """Whether the first control plane recorded the CNI manifest as applied (the action's end)."""
    (address,) = [str(a.address) for a in fabric.store.allocations() if a.owner == VMS[0]]
    known = KnownHosts(fabric.tmp / "known_cni")
    known.pin(address, 22, ClusterKeys.beside(fabric.store.path, NAME).host_key(VMS[0]).public_line)
    with fabric.ssh(NAME, address, known) as ssh:
        return ssh.run(["sudo", "-n", "test", "-s", APPLIED_FILE], check=False).exit_status == 0


def resume(fabric: Fabric) -> CreateResult:
    spec = api.new_cluster_spec(
        name=NAME, vnet="provnet", primary_network_plugin="flannel",
        node_pool_name="linux", node_count=2,
    )  # fmt: skip
    return api.new_cluster(fabric.store, spec, fabric.hosts, options=CreateOptions())


def host_files(fabric: Fabric) -> dict[str, list[str]]:
    """Windows paths of every file under aksnet's root folder on each emulated host."""
    found: dict[str, list[str]] = {}
    for host in HOSTS:
        fs = WindowsFileSystem(fabric.lab.lab_dir / "hosts" / host)
        root = fs.real(DEFAULT_ROOT)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        found[host] = [fs.windows(p) for p in files]
    return found


def assert_no_orphans(fabric: Fabric, on_hosts: dict[str, list[str]]) -> None:
    """Each file under the root belongs to a VM on that host, and each VM has its disk and ISO."""
    sessions = fabric.hosts.open()
    try:
        for host, files in host_files(fabric).items():
            folders = {rf"{DEFAULT_ROOT}\{vm}".lower() for vm in on_hosts[host]}
            strays = [f for f in files if f.rsplit("\\", 1)[0].lower() not in folders]
            assert strays == [], f"orphaned files on {host}: {strays}"
            wanted = [
                rf"{DEFAULT_ROOT}\{vm}\{n}"
                for vm in on_hosts[host]
                for n in (f"{vm}.vhdx", "seed.iso")
            ]
            assert sorted(f.lower() for f in files) == sorted(w.lower() for w in wanted)
            for path in wanted:  # and the host itself agrees, over PSRP
                assert sessions[host].invoke(Cmdlet.of("Test-Path", LiteralPath=path)) == [True]
    finally:
        for session in sessions.values():
            session.close()


def assert_converged(fabric: Fabric, result: CreateResult) -> None:
    on_hosts = fabric.vms_on_hosts()
    assert sorted(on_hosts["hci1"] + on_hosts["hci2"]) == VMS  # each VM once
    assert_no_orphans(fabric, on_hosts)
    view = api.get_cluster(fabric.store, NAME).to_dict()
    assert view["ProvisioningState"] == "Provisioned"
    allocations = fabric.store.allocations()
    owners = sorted(a.owner for a in allocations)
    assert owners == sorted([NAME, *VMS])  # the API VIP and one address per VM, nothing else
    assert sorted(m.owner for m in macs_of(fabric.store)) == VMS
    assert {n["Address"] for n in view["Nodes"]} == {
        str(a.address) for a in allocations if a.owner in VMS
    }
    keys = ClusterKeys.beside(fabric.store.path, NAME)
    for node in (n for n in view["Nodes"] if n["Role"] != "loadbalancer"):
        known = KnownHosts(fabric.tmp / f"known_{node['Name']}")
        known.pin(node["Address"], 22, keys.host_key(node["Name"]).public_line)
        with fabric.ssh(NAME, node["Address"], known) as ssh:
            calls = [c for c in k8s_calls(ssh) if c["tool"] == "kubeadm"]
        verbs = [(c["args"][0], c["outcome"]) for c in calls if c["args"][0] in ("init", "join")]
        verb = "init" if node["Name"].endswith("-cp-0") else "join"
        assert verbs == [(verb, "accepted")], node["Name"]
    assert lease_holder(fabric) is None  # the resume gave its lease back


def lease_holder(fabric: Fabric) -> int | None:
    record = Leases(fabric.store).get(NAME)
    return None if record is None else record.holder.pid


@pytest.mark.parametrize("point", list(POINTS))
def test_a_create_killed_at_each_point_resumes_and_converges(fabric: Fabric, point: str) -> None:
    killed = kill_at(fabric, point)
    assert api.get_cluster(fabric.store, NAME).provisioning_state == "Creating"
    assert lease_holder(fabric) == killed  # left behind by the kill

    result = resume(fabric)  # the dead holder's lease is taken over at once
    assert result.run.resumed
    new_vms = [r.title.split()[1] for r in result.run.changes if r.title.startswith("New-VM")]
    if point != "provisioning":
        assert new_vms == []
    else:
        assert len(new_vms) == len(set(new_vms)) < len(VMS)  # only those not created before
    assert_converged(fabric, result)
    assert resume(fabric).run.changes == []  # and a further apply has nothing to do

    api.remove_cluster(fabric.store, NAME, fabric.hosts)
    assert fabric.vms_on_hosts() == {"hci1": [], "hci2": []}
    assert host_files(fabric) == {"hci1": [], "hci2": []}
    assert fabric.store.allocations() == [] and macs_of(fabric.store) == []


def test_a_second_run_of_the_same_cluster_is_refused_while_the_first_acts(fabric: Fabric) -> None:
    with cli_new(fabric, "first") as first:
        first.wait_for(lambda: lease_holder(fabric) == first.pid, "the first's lease")
        with cli_new(fabric, "second") as second:
            assert second.process.wait(timeout=120) == 4
        text = second.err.read_text()
        assert f"'{NAME}' is being changed by another aksnet run: process {first.pid}" in text
        assert "Nothing was changed" in text and "until " in text
        assert first.process.wait(timeout=300) == 0, first.err.read_text()
    ops = sqlite3.connect(fabric.store.path).execute("SELECT kind, status FROM operations")
    assert ops.fetchall() == [("create", "succeeded")]  # the refused run opened nothing
    assert_converged(fabric, resume(fabric))
    api.remove_cluster(fabric.store, NAME, fabric.hosts)


def three_hours_pass(fabric: Fabric) -> None:
    """The emulated control plane 3 hours on: the init token (2h TTL) has expired."""
    (vip,) = [str(a.address) for a in fabric.store.allocations() if a.owner == NAME]
    path = k8sregistry.document_path(fabric.lab.lab_dir, f"{vip}:6443")
    document = json.loads(path.read_text())
    for token in document["tokens"].values():
        token["expires"] = "2000-01-01T00:00:00Z"
    path.write_text(json.dumps(document))


def test_a_late_resume_waits_out_a_foreign_lease_and_renews_the_join_token(
    fabric: Fabric,
) -> None:
    """A holder on another machine may still be alive: its lease is honoured until it expires.
    The resume then comes after the join token expired: it is created again before the joins."""
    kill_at(fabric, "after-init")
    three_hours_pass(fabric)
    expiry = time.time() + 3
    with fabric.store.transaction() as tx:
        tx.execute(
            "UPDATE leases SET host = 'other-machine', expires_at = ? WHERE target = ?",
            (expiry, NAME),
        )
    with pytest.raises(StateConflict, match="host 'other-machine'"):
        resume(fabric)
    assert api.get_cluster(fabric.store, NAME).provisioning_state == "Creating"
    while time.time() <= expiry:  # wait out the expiry (polling the clock, not a fixed sleep)
        time.sleep(0.1)
    result = resume(fabric)
    renewed = [r.title for r in result.run.changes if r.title.startswith("create bootstrap token")]
    assert len(renewed) == 1 and renewed[0].endswith("it does not exist")
    assert_converged(fabric, result)
    api.remove_cluster(fabric.store, NAME, fabric.hosts)
