"""The lab's emulated kubeadm, kubectl and modprobe check their input, record it, say EMULATED."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aksnet.infra.manifests import render_cni_text
from aksnet.lab.linux import k8sstub
from aksnet.model.cluster import cluster_spec
from tests.nodesetup.conftest import Cluster, Node

CALLS = "/var/lib/aksnet-lab/k8s-calls.jsonl"
INIT_CONFIG = """\
apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
bootstrapTokens: [{token: abcdef.0123456789abcdef}]
nodeRegistration: {name: n1}
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.29.4
controlPlaneEndpoint: 198.19.1.200:6443
networking: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12}
"""


def attempt(node: Node, command: str) -> tuple[int, str]:
    """(exit status, stdout and stderr) of command on the node."""
    if node.client is None:
        node.sh("true")
    assert node.client is not None
    _, stdout, stderr = node.client.exec_command(command, timeout=20)
    out = stdout.read().decode() + stderr.read().decode()
    return stdout.channel.recv_exit_status(), out


def write(node: Node, path: str, text: str) -> None:
    node.session.put(text.encode(), path)


def last_call(node: Node) -> dict[str, Any]:
    line: str = node.sh(f"sudo -n tail -n 1 {CALLS}")
    call: dict[str, Any] = json.loads(line)
    return call


@pytest.fixture
def node(cluster_of: Any) -> Node:
    cluster: Cluster = cluster_of("flannel", ("init",))
    return cluster.nodes[0]


def test_kubeadm_accepts_a_valid_init_and_leaves_what_kubeadm_leaves(node: Node) -> None:
    write(node, "init.yaml", INIT_CONFIG)
    status, out = attempt(node, "sudo -n kubeadm init --config init.yaml")
    assert (status, out.startswith("EMULATED kubeadm init")) == (0, True)
    assert node.sh("sudo -n stat -c '%a' /etc/kubernetes/admin.conf") == "600\n"
    assert "BEGIN CERTIFICATE" in node.sh("cat /etc/kubernetes/pki/ca.crt")
    call = last_call(node)
    assert call["outcome"] == "accepted"
    assert call["config"][0]["bootstrapTokens"] == [{"token": "<23 characters>"}]


def test_init_starts_the_emulated_api_server_that_admin_conf_reaches(node: Node) -> None:
    """kubeadm init leaves an API server on the node's address:6443 (as kube-apiserver's static
    pod would), with a certificate for the node and the VIP, and an admin.conf that reaches it."""
    import kubernetes
    import yaml

    from aksnet.loadbalancer.sync import api_client_for

    write(node, "init.yaml", INIT_CONFIG)
    assert attempt(node, "sudo -n kubeadm init --config init.yaml")[0] == 0
    admin = yaml.safe_load(node.sh("sudo -n cat /etc/kubernetes/admin.conf"))
    assert admin["clusters"][0]["cluster"]["server"] == "https://198.19.1.200:6443"
    # No load balancer holds the VIP here: reach the node itself, which the certificate names.
    admin["clusters"][0]["cluster"]["server"] = f"https://{node.vm.address}:6443"
    client = api_client_for(yaml.safe_dump(admin))
    try:
        nodes = kubernetes.client.CoreV1Api(client).list_node().items
        names = [n.metadata.name for n in nodes if n.metadata is not None]
        version = kubernetes.client.VersionApi(client).get_code()
    finally:
        client.close()  # type: ignore[no-untyped-call]
    assert names == ["n1"]
    assert "EMULATED" in version.git_version


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("podSubnet: 10.244.0.0/16, ", ""), "networking.podSubnet"),
        (("controlPlaneEndpoint: 198.19.1.200:6443", "controlPlaneEndpoint: x"), "Endpoint"),
        (("kubeadm.k8s.io/v1beta3\nkind: Cluster", "kubeadm.k8s.io/v1beta2\nkind: Cluster"), "v1"),
        (("abcdef.0123456789abcdef", "short.token"), "bootstrapTokens"),
        (("kind: ClusterConfiguration", "kind: JoinConfiguration"), "not allowed"),
    ],
)
def test_kubeadm_refuses_an_invalid_configuration(
    node: Node, change: tuple[str, str], reason: str
) -> None:
    write(node, "bad.yaml", INIT_CONFIG.replace(*change))
    status, out = attempt(node, "sudo -n kubeadm init --config bad.yaml")
    assert status == 1 and "EMULATED kubeadm (aksnet lab) refused" in out
    assert reason in out
    assert (last_call(node)["outcome"], node.sh("sudo -n ls /etc/kubernetes 2>&1; true")) == (
        "refused",
        "ls: cannot access '/etc/kubernetes': No such file or directory\n",
    )


@pytest.mark.parametrize(
    "args", ["init", "init --config init.yaml --token abcdef.0123456789abcdef", "reset"]
)
def test_kubeadm_refuses_other_commands_and_flags(node: Node, args: str) -> None:
    write(node, "init.yaml", INIT_CONFIG)
    status, out = attempt(node, f"sudo -n kubeadm {args}")
    assert status == 1 and "usage: kubeadm init|join --config FILE" in out


def test_kubectl_applies_parsed_cni_manifests(node: Node) -> None:
    spec = cluster_spec(name="c1", vnet="labnet", primary_network_plugin="calico")
    write(node, "cni.yaml", render_cni_text(spec))
    status, out = attempt(node, "sudo -n kubectl apply -f cni.yaml")
    assert status == 0 and out.startswith("EMULATED kubectl apply")
    assert "Installation/default" in last_call(node)["objects"]
    write(node, "broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")
    status, out = attempt(node, "sudo -n kubectl apply -f broken.yaml")
    assert status == 1 and "missing or invalid metadata.name of a ConfigMap" in out
    status, out = attempt(node, "bash -lc 'command -v kubectl'")  # login shells find it too
    assert (status, out) == (0, "/opt/aksnet-lab/bin/kubectl\n")


def test_modprobe_never_loads_a_module_into_the_shared_kernel(node: Node) -> None:
    modules = Path("/proc/modules")
    before = modules.read_text() if modules.exists() else None
    status, out = attempt(node, "sudo -n modprobe aksnet_no_such_module")
    assert status == 0 and out.startswith("EMULATED modprobe (aksnet lab): aksnet_no_such_module")
    assert ("not loading" in out) if before is not None else ("no loadable module" in out)
    assert last_call(node)["module"] == "aksnet_no_such_module"
    assert (modules.read_text() if modules.exists() else None) == before


def test_the_emulation_refuses_to_run_outside_a_lab_node() -> None:
    if k8sstub.NODE_MARKER.exists():
        pytest.skip("this machine has a lab node marker")
    with pytest.raises(SystemExit, match="not a lab node"):
        k8sstub.main(["kubeadm", "init", "--config", "/nonexistent"])


# The emulated control plane (aksnet.lab.k8sregistry) behind kubeadm and kubectl

ADMIN = "--kubeconfig /etc/kubernetes/admin.conf"
ENDPOINT = "198.19.1.200:6443"
INIT_TOKEN = "abcdef.0123456789abcdef"


def streams(node: Node, command: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of command on the node."""
    if node.client is None:
        node.sh("true")
    assert node.client is not None
    _, stdout, stderr = node.client.exec_command(command, timeout=20)
    out, err = stdout.read().decode(), stderr.read().decode()
    return stdout.channel.recv_exit_status(), out, err


def init_cluster(node: Node) -> None:
    write(node, "init.yaml", INIT_CONFIG)
    assert attempt(node, "sudo -n kubeadm init --config init.yaml")[0] == 0


def join_config(name: str, token: str = INIT_TOKEN, key: str | None = None) -> str:
    config: dict[str, Any] = {
        "apiVersion": "kubeadm.k8s.io/v1beta3",
        "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {"apiServerEndpoint": ENDPOINT, "token": token,
                                         "caCertHashes": ["sha256:" + "a" * 64]}},
        "nodeRegistration": {"name": name},
    }  # fmt: skip
    if key is not None:
        config["controlPlane"] = {"certificateKey": key}
    return json.dumps(config)


def listed_tokens(node: Node) -> list[dict[str, Any]]:
    status, out, _ = streams(node, "sudo -n kubeadm token list -o json")
    assert status == 0
    decoder, at, found = json.JSONDecoder(), 0, []
    while at < len(out.rstrip()):
        item, at = decoder.raw_decode(out, at)
        found.append(item)
        while at < len(out) and out[at].isspace():
            at += 1
    return found


def test_kubectl_answers_for_registered_nodes_from_the_registry(node: Node, lab: Any) -> None:
    from aksnet.lab import k8sregistry

    init_cluster(node)
    status, out, err = streams(node, f"sudo -n kubectl {ADMIN} get node n1 -o "
                                     "jsonpath={.spec.podCIDR}")  # fmt: skip
    assert (status, out, err) == (0, "10.244.0.0/24", "")
    status, out, err = streams(node, f"sudo -n kubectl {ADMIN} get node ghost -o "
                                     "jsonpath={.spec.podCIDR}")  # fmt: skip
    assert (status, out, err) == (1, "", 'Error from server (NotFound): nodes "ghost" not found\n')
    k8sregistry.register_node(
        lab.lab_dir, ENDPOINT, "win1", os_name="windows", address="198.19.1.51", role="worker"
    )
    status, out, _ = streams(node, f"sudo -n kubectl {ADMIN} get nodes -o json")
    listing = json.loads(out)
    assert (status, listing["apiVersion"], listing["kind"]) == (0, "v1", "List")
    by_name = {n["metadata"]["name"]: n for n in listing["items"]}
    assert by_name["win1"]["metadata"]["labels"]["kubernetes.io/os"] == "windows"
    assert by_name["win1"]["spec"]["podCIDR"] == "10.244.1.0/24"
    assert "node-role.kubernetes.io/control-plane" in by_name["n1"]["metadata"]["labels"]

    drain = f"sudo -n kubectl {ADMIN} drain win1 --ignore-daemonsets --delete-emptydir-data"
    assert attempt(node, drain)[0] == 0
    assert last_call(node)["verb"] == "drain"
    status, out, _ = streams(node, f"sudo -n kubectl {ADMIN} get node win1 -o json")
    assert json.loads(out)["spec"]["unschedulable"] is True
    assert attempt(node, f"sudo -n kubectl {ADMIN} drain win1 --grace-period=0")[0] == 1
    assert attempt(node, f"sudo -n kubectl {ADMIN} delete node win1") == (
        0,
        'node "win1" deleted\n',
    )
    assert streams(node, f"sudo -n kubectl {ADMIN} delete node win1")[0] == 1
    assert "win1" not in k8sregistry.read_cluster(lab.lab_dir, ENDPOINT)["nodes"]  # type: ignore[index]


def test_kubectl_without_a_kubeconfig_cannot_reach_a_server(node: Node) -> None:
    status, out, err = streams(node, "kubectl get nodes -o json")
    assert (status, out) == (1, "")
    assert "The connection to the server localhost:8080 was refused" in err


def test_joins_are_checked_against_tokens_and_registered_with_their_role(
    node: Node, lab: Any
) -> None:
    from aksnet.lab import k8sregistry

    init_cluster(node)
    write(node, "join.yaml", join_config("w1"))
    assert attempt(node, "sudo -n kubeadm join --config join.yaml")[0] == 0
    write(node, "join.yaml", join_config("w2", token="zzzzzz.0123456789abcdef"))
    status, out = attempt(node, "sudo -n kubeadm join --config join.yaml")
    assert status == 1 and 'for token ID "zzzzzz"' in out
    write(node, "join.yaml", join_config("cp2", key="c" * 64))  # no certificates uploaded yet
    status, out = attempt(node, "sudo -n kubeadm join --config join.yaml")
    assert status == 1 and 'Secret "kubeadm-certs" was not found' in out
    nodes = k8sregistry.read_cluster(lab.lab_dir, ENDPOINT)["nodes"]  # type: ignore[index]
    assert {n: r["role"] for n, r in nodes.items()} == {"n1": "control-plane", "w1": "worker"}


def test_tokens_expire_and_can_be_created_again(node: Node, lab: Any) -> None:
    from aksnet.lab import k8sregistry

    init_cluster(node)
    assert [t["token"] for t in listed_tokens(node)] == [INIT_TOKEN]
    assert listed_tokens(node)[0]["kind"] == "BootstrapToken"
    # The token expires (as if hours passed): it leaves the listing and joins fail.
    path = k8sregistry.document_path(lab.lab_dir, ENDPOINT)
    document = json.loads(path.read_text())
    document["tokens"]["abcdef"]["expires"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(document))
    assert listed_tokens(node) == []
    write(node, "join.yaml", join_config("w1"))
    assert attempt(node, "sudo -n kubeadm join --config join.yaml")[0] == 1

    status, out, _ = streams(node, f"sudo -n kubeadm token create {INIT_TOKEN} --ttl 24h")
    assert (status, out) == (0, INIT_TOKEN + "\n")
    assert INIT_TOKEN not in node.sh(f"sudo -n cat {CALLS}")  # recorded masked
    assert attempt(node, f"sudo -n kubeadm token create {INIT_TOKEN} --ttl 24h")[0] == 1
    assert attempt(node, "sudo -n kubeadm join --config join.yaml")[0] == 0
    assert attempt(node, "sudo -n kubeadm token delete abcdef")[0] == 0
    assert listed_tokens(node) == []
    assert attempt(node, "sudo -n kubeadm token create bad --ttl 24h")[0] == 1


def test_upload_certs_is_listed_with_its_two_hour_expiry_and_opens_control_plane_joins(
    node: Node,
) -> None:
    from datetime import UTC, datetime, timedelta

    init_cluster(node)
    key = "d" * 64
    status, _ = attempt(node, f"sudo -n kubeadm init phase upload-certs --upload-certs "
                              f"--certificate-key {key}")  # fmt: skip
    assert status == 0 and key not in node.sh(f"sudo -n cat {CALLS}")
    proxies = [t for t in listed_tokens(node) if t["description"].startswith("Proxy for")]
    assert len(proxies) == 1
    expires = datetime.fromisoformat(proxies[0]["expires"].replace("Z", "+00:00"))
    assert timedelta(hours=1, minutes=55) < expires - datetime.now(UTC) <= timedelta(hours=2)
    write(node, "join.yaml", join_config("cp2", key="e" * 64))
    status, out = attempt(node, "sudo -n kubeadm join --config join.yaml")
    assert status == 1 and "does not decrypt" in out
    write(node, "join.yaml", join_config("cp2", key=key))
    assert attempt(node, "sudo -n kubeadm join --config join.yaml")[0] == 0
    status, _ = attempt(node, "sudo -n kubeadm init phase upload-certs --certificate-key " + key)
    assert status == 1


def test_kubectl_finds_the_nodes_cluster_when_its_kubeconfig_names_another_address(
    node: Node,
) -> None:
    init_cluster(node)
    # An admin.conf that names the node's own address (not the controlPlaneEndpoint).
    node.sh(f"sudo -n sed -i 's#https://{ENDPOINT}#https://{node.vm.address}:6443#' "
            "/etc/kubernetes/admin.conf")  # fmt: skip
    assert node.vm.address in node.sh("sudo -n cat /etc/kubernetes/admin.conf")
    status, out, _ = streams(node, f"sudo -n kubectl {ADMIN} get node n1 -o "
                                   "jsonpath={.spec.podCIDR}")  # fmt: skip
    assert (status, out) == (0, "10.244.0.0/24")


ETCDCTL = (
    "-- etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt "
    "--cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key"
)


def etcd_members(node: Node) -> dict[str, int]:
    command = f"sudo -n kubectl {ADMIN} -n kube-system exec etcd-n1 {ETCDCTL} member list -w json"
    status, out, err = streams(node, command)
    assert status == 0, err
    return {m["name"]: m["ID"] for m in json.loads(out)["members"]}


def test_etcd_members_leave_by_etcdctl_or_kubeadm_reset_but_never_the_last(
    node: Node, lab: Any
) -> None:
    from aksnet.lab import k8sregistry

    init_cluster(node)
    for name, address in (("etcd-b", "198.19.1.61"), ("etcd-c", "198.19.1.62")):
        k8sregistry.register_node(
            lab.lab_dir, ENDPOINT, name, os_name="linux", address=address, role="control-plane"
        )
    members = etcd_members(node)
    assert {"n1", "etcd-b", "etcd-c"} <= set(members)
    no_certs = f"sudo -n kubectl {ADMIN} -n kube-system exec etcd-n1 -- etcdctl member list -w json"
    assert streams(node, no_certs)[0] == 1  # etcd serves TLS clients only
    remove = f"sudo -n kubectl {ADMIN} -n kube-system exec etcd-n1 {ETCDCTL} member remove"
    status, out, _ = streams(node, f"{remove} {members['etcd-c']:x}")
    assert (status, out.startswith(f"Member {members['etcd-c']:x} removed")) == (0, True)
    assert "etcd-c" not in etcd_members(node)
    assert streams(node, f"{remove} {members['etcd-c']:x}")[0] == 1  # not a member any more

    assert attempt(node, "sudo -n kubeadm reset")[0] == 1  # it would wait for its prompt
    status, out = attempt(node, "sudo -n kubeadm reset --force")
    assert (status, "n1: removed from the etcd cluster" in out) == (0, True)
    assert "n1" not in k8sregistry.etcd_members(lab.lab_dir, ENDPOINT)
    assert [r for r in k8sregistry.etcd_removals(lab.lab_dir, ENDPOINT)][-2:] == [
        {"name": "etcd-c", "how": "member remove", "membersLeft": len(members) - 1},
        {"name": "n1", "how": "reset", "membersLeft": len(members) - 2},
    ]
    assert node.sh("sudo -n ls /etc/kubernetes") == ""  # cleanup-node: kubeconfigs, PKI gone
    assert "n1" in k8sregistry.read_cluster(lab.lab_dir, ENDPOINT)["nodes"]  # type: ignore[index]
    for name in set(k8sregistry.etcd_members(lab.lab_dir, ENDPOINT)) - {"etcd-b"}:
        member_id = k8sregistry.etcd_members(lab.lab_dir, ENDPOINT)[name]["id"]
        k8sregistry.remove_etcd_member(lab.lab_dir, ENDPOINT, member_id, how="test")
    last = k8sregistry.etcd_members(lab.lab_dir, ENDPOINT)["etcd-b"]["id"]
    with pytest.raises(k8sregistry.RegistryError, match="last member"):
        k8sregistry.remove_etcd_member(lab.lab_dir, ENDPOINT, last, how="test")


def test_init_on_a_new_node_forgets_an_earlier_cluster_at_the_same_endpoint(
    node: Node, lab: Any
) -> None:
    """A cluster removed and created again gets the same API VIP: its first `kubeadm init` is a
    new control plane, so the earlier cluster's nodes and tokens are not carried over."""
    from aksnet.lab import k8sregistry

    k8sregistry.init_cluster(lab.lab_dir, ENDPOINT, "10.244.0.0/16", "10.96.0.0/12")
    k8sregistry.register_node(
        lab.lab_dir, ENDPOINT, "gone-w-0", os_name="linux", address="198.19.1.9", role="worker"
    )
    init_cluster(node)
    nodes = k8sregistry.read_cluster(lab.lab_dir, ENDPOINT)["nodes"]  # type: ignore[index]
    assert sorted(nodes) == ["n1"]
    assert nodes["n1"]["podCIDR"] == "10.244.0.0/24"
    assert attempt(node, "sudo -n kubeadm init --config init.yaml")[0] == 0  # a re-run here
    again = k8sregistry.read_cluster(lab.lab_dir, ENDPOINT)["nodes"]  # type: ignore[index]
    assert again == nodes
