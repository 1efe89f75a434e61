"""The "Apply the CNI" phase: the plugin's manifests applied through the first control plane.

The manifest (rendered from templates/ by aksnet.infra.manifests) is written to the node as
root, then applied with the node's admin kubeconfig:
`kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f /etc/kubernetes/aksnet/cni.yaml`.
kubectl apply is idempotent, but a second run must perform zero actions, so the node keeps the
sha256 of the manifest it last applied (cni.applied) and the phase applies only when it differs.
"""

from __future__ import annotations

import hashlib
import logging

from aksnet.infra.linuxfacts import TextFile, install_file, sudo
from aksnet.infra.linuxnode import LinuxNode, NodeSetup
from aksnet.plan.facts import Forecast
from aksnet.plan.runner import RunContext

log = logging.getLogger(__name__)

ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
CNI_FILE = "/etc/kubernetes/aksnet/cni.yaml"
APPLIED_FILE = "/etc/kubernetes/aksnet/cni.applied"


class ApplyCni:
    """Write the CNI manifest to the first control-plane node and kubectl apply it there."""

    title = "Apply the CNI"

    def __init__(self, node: LinuxNode, plugin: str, manifest: str) -> None:
        self.node, self.plugin, self.manifest = node, plugin, manifest.encode()

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> None:
        host, shell = self.node.name, self.node.shell
        NodeSetup(ctx, self.node).ensure_file(CNI_FILE, self.manifest, 0o644)
        digest = hashlib.sha256(self.manifest).hexdigest()
        applied = TextFile(shell, APPLIED_FILE)
        if (ctx.fact(host, applied) or "").strip() == digest:
            return

        def apply_and_record() -> None:
            sudo(shell, "kubectl", "--kubeconfig", ADMIN_KUBECONFIG, "apply", "-f", CNI_FILE)
            install_file(shell, f"{digest}\n".encode(), APPLIED_FILE, 0o644)

        def predict(forecast: Forecast) -> None:
            forecast.set(host, applied, f"{digest}\n")

        log.debug("applying the %s manifest through %s", self.plugin, host)
        ctx.wet(
            host,
            f"kubectl apply -f {CNI_FILE} ({self.plugin}) through {host}",
            apply_and_record,
            predict,
            kind="run",
        )
