"""The EMULATED control plane a lab node runs after `kubeadm init` or a control-plane join.

Real kubeadm writes the cluster PKI into /etc/kubernetes/pki, an admin kubeconfig with a client
certificate, and starts kube-apiserver as a static pod on the node's address:6443. The lab does
the same with its small API server (aksnet.lab.k8sapi), started in the background inside the
node (its network namespace is the node's, so it listens on the node's address; the lab kills it
with the node's other processes when the VM stops).

Certificates travel between control-plane nodes the way `kubeadm init --upload-certs` makes them
travel: the cluster CA is kept beside the cluster's registry document (owner-only), standing in
for the kubeadm-certs Secret, and a control-plane join takes it from there.
Lab only: product code never imports this module.
"""

from __future__ import annotations

import os
from pathlib import Path

from aksnet.lab import k8sregistry
from aksnet.lab.k8sapi import pki, process

PKI_DIR = Path("/etc/kubernetes/pki")
ADMIN_CONF = Path("/etc/kubernetes/admin.conf")
PID_FILE = Path("/var/lib/aksnet-lab/apiserver.pid")


def shared_pki_dir(lab_dir: Path, endpoint: str) -> Path:
    """Where the cluster CA waits for control-plane joins (the kubeadm-certs stand-in)."""
    return k8sregistry.document_path(lab_dir, endpoint).with_suffix(".pki")


def start_after_init(lab_dir: Path, address: str, endpoint: str, service_subnet: str) -> None:
    """A new cluster CA, shared for later control-plane joins, and this node's API server."""
    ca = pki.make_ca()
    shared = shared_pki_dir(lab_dir, endpoint)
    shared.mkdir(mode=0o700, parents=True, exist_ok=True)
    pki.write_pair(ca, shared, "ca")
    _serve(ca, lab_dir, address, endpoint, service_subnet)


def start_after_join(lab_dir: Path, address: str, endpoint: str, service_subnet: str) -> None:
    """This control-plane node's API server, with the CA `kubeadm init` shared."""
    ca = pki.read_pair(shared_pki_dir(lab_dir, endpoint), "ca")
    _serve(ca, lab_dir, address, endpoint, service_subnet)


def _serve(
    ca: pki.CertPair, lab_dir: Path, address: str, endpoint: str, service_subnet: str
) -> None:
    pki.write_pair(ca, PKI_DIR, "ca")
    vip = endpoint.rsplit(":", 1)[0]
    process.write_server_pki(PKI_DIR, ca, [address, vip])
    admin = pki.kubeconfig(f"https://{endpoint}", ca, pki.make_client_cert(ca))
    pki.write_private(ADMIN_CONF, ("# EMULATED by the aksnet lab\n" + admin).encode())
    if _running():
        return
    pid = process.start_background(
        address=address,
        lab_dir=lab_dir,
        endpoint=endpoint,
        service_subnet=service_subnet,
        pki_dir=PKI_DIR,
    )
    PID_FILE.parent.mkdir(parents=True, exist_ok=True)
    PID_FILE.write_text(f"{pid}\n")


def _running() -> bool:
    try:
        pid = int(PID_FILE.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    return True
