"""The "Apply the CNI" phase: the plugin's manifests applied through the first control plane.

The manifest (rendered from templates/ by aksnet.infra.manifests) is written to the node as
root, then applied with the node's admin kubeconfig:
`kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f /etc/kubernetes/aksnet/cni.yaml`.
kubectl apply is idempotent, but a second run must perform zero actions, so the node keeps the
sha256 of the manifest it last applied (cni.applied) and the phase applies only when it differs.
Both facts are read in one round trip, the apply and its record are one command.
"""

from __future__ import annotations

import hashlib
import logging

from aksnet.infra.linuxfacts import FileState, TextFile, sudo
from aksnet.infra.linuxnode import LinuxNode, NodeSetup
from aksnet.plan.facts import Forecast
from aksnet.plan.runner import RunContext

log = logging.getLogger(__name__)

ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
CNI_FILE = "/etc/kubernetes/aksnet/cni.yaml"
APPLIED_FILE = "/etc/kubernetes/aksnet/cni.applied"
# kubeconfig manifest digest record: apply, then record what was applied (renamed into place).
_APPLY_AND_RECORD = (
    'kubectl --kubeconfig "$1" apply -f "$2" && printf "%s\\n" "$3" > "$4.new" '
    '&& mv -f -- "$4.new" "$4"'
)


class ApplyCni:
    """Write the CNI manifest to the first control-plane node and kubectl apply it there."""

    title = "Apply the CNI"

    def __init__(self, node: LinuxNode, plugin: str, manifest: str) -> None:
        self.node, self.plugin, self.manifest = node, plugin, manifest.encode()

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> None:
        host, shell = self.node.name, self.node.shell
        setup = NodeSetup(ctx, self.node)
        applied = TextFile(shell, APPLIED_FILE)
        # Writing the manifest does not change the record of what was applied: one read.
        known = setup.read([FileState(shell, CNI_FILE), applied])
        setup.ensure_file(CNI_FILE, self.manifest, 0o644, known=known)
        digest = hashlib.sha256(self.manifest).hexdigest()
        if (known[applied] or "").strip() == digest:
            return

        def apply_and_record() -> None:
            argv = (ADMIN_KUBECONFIG, CNI_FILE, digest, APPLIED_FILE)
            sudo(shell, "sh", "-c", _APPLY_AND_RECORD, "sh", *argv)

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
