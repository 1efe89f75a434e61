"""A join hours after init (a resumed create): the emulated control plane has dropped the expired
join token and the certificate upload, and setup renews both before the joins (root, lab)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aksnet.infra.linuxconf import KUBEADM_FILE
from aksnet.infra.linuxnode import LinuxNodeSetup
from aksnet.lab import k8sregistry
from aksnet.network.plugins import get_plugin
from aksnet.plan import apply, dry_run
from tests.linuxlab.conftest import Lab
from tests.nodesetup.conftest import Cluster

LONG_AGO = (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def init_only(cluster: Cluster) -> LinuxNodeSetup:
    """The run that was killed right after kubeadm init: the same phase over the first node."""
    full = cluster.phase()
    return LinuxNodeSetup(
        [cluster.nodes[0].linux_node()],
        get_plugin(cluster.spec.primary_network_plugin),
        full.configs,
        secrets=[cluster.token, cluster.certificate_key],
    )


def three_hours_pass(lab: Lab, cluster: Cluster) -> None:
    """What the control plane looks like 3 hours later: the init token (2h TTL) and the
    certificate upload expired (rewritten in the emulated registry's document)."""
    path = k8sregistry.document_path(lab.lab_dir, f"{cluster.api_vip}:6443")
    document: dict[str, Any] = json.loads(path.read_text())
    for token in document.get("tokens", {}).values():
        token["expires"] = LONG_AGO
    if "certificates" in document:
        document["certificates"]["expires"] = LONG_AGO
    path.write_text(json.dumps(document))


def test_a_late_join_renews_the_token_and_the_certificate_upload(cluster_of: Any, lab: Lab) -> None:
    cluster: Cluster = cluster_of("flannel", ("init", "control-plane", "worker"))
    apply([init_only(cluster)])
    three_hours_pass(lab, cluster)
    init = cluster.nodes[0].name
    token_id = cluster.token.token_id

    planned = [r.title for r in dry_run([cluster.phase()]).changes]
    renewals = [
        f"create bootstrap token {token_id} on {init} (kubeadm token create, ttl 24h): "
        "it does not exist",
        f"upload the control-plane certificates on {init} (kubeadm init phase upload-certs): "
        "no upload is there (none yet, or kubeadm deleted it 2 hours after upload)",
    ]
    assert [t for t in planned if t in renewals] == renewals

    result = apply([cluster.phase()])
    titles = [r.title for r in result.changes]
    assert [t for t in titles if t in renewals] == renewals
    for node in cluster.nodes[1:]:  # the emulated control plane checked and accepted both
        assert f"kubeadm join --config {KUBEADM_FILE} on {node.name}" in titles
    for secret in (cluster.token.reveal(), cluster.certificate_key.reveal()):
        for node in cluster.nodes:
            assert not [a for a in node.session.sent if any(secret in part for part in a)]
    assert apply([cluster.phase()]).changes == []  # converged: nothing to renew again
