"""Run the EMULATED API server as a background process, in a lab node or on the machine.

start_background() spawns `python -m aksnet.lab.k8sapi serve ...` in its own session (inside the
network namespace `netns` when given; the emulated `kubeadm init`, already inside its node,
passes none), waits for the child to report that it listens, and returns its pid; the child then
outlives its caller, as a static-pod kube-apiserver outlives kubeadm. stop_background() ends it.
The PKI directory holds ca.crt, apiserver.crt and apiserver.key (see write_server_pki).
Lab only: product code never imports this module.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aksnet.lab import k8sregistry
from aksnet.lab.k8sapi import pki
from aksnet.lab.k8sapi.server import API_PORT

READY_LINE = b"EMULATED kube-apiserver ready\n"


def state_file(lab_dir: Path | str, endpoint: str) -> Path:
    """The cluster's API objects, shared by the API servers of all its control-plane nodes."""
    return k8sregistry.document_path(lab_dir, endpoint).with_suffix(".api.json")


def write_server_pki(
    pki_dir: Path, ca: pki.CertPair, addresses: Sequence[str], dns_names: Sequence[str] = ()
) -> None:
    """ca.crt, apiserver.crt and apiserver.key for a server answering on `addresses`."""
    pki_dir.mkdir(parents=True, exist_ok=True)
    (pki_dir / "ca.crt").write_bytes(ca.cert_pem)
    pki.write_pair(pki.make_server_cert(ca, addresses, dns_names), pki_dir, "apiserver")


def serve_argv(
    *,
    address: str,
    lab_dir: Path | str,
    endpoint: str,
    service_subnet: str,
    pki_dir: Path,
    port: int = API_PORT,
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "aksnet.lab.k8sapi",
        "serve",
        f"--address={address}",
        f"--port={port}",
        f"--lab-dir={lab_dir}",
        f"--endpoint={endpoint}",
        f"--service-subnet={service_subnet}",
        f"--pki-dir={pki_dir}",
        f"--state-file={state_file(lab_dir, endpoint)}",
    ]


def start_background(
    *,
    address: str,
    lab_dir: Path | str,
    endpoint: str,
    service_subnet: str,
    pki_dir: Path,
    port: int = API_PORT,
    netns: str | None = None,
    log_file: Path | None = None,
    timeout: float = 30.0,
) -> int:
    """Start the server on (address, port) and return its pid once it listens."""
    argv = serve_argv(
        address=address,
        lab_dir=lab_dir,
        endpoint=endpoint,
        service_subnet=service_subnet,
        pki_dir=pki_dir,
        port=port,
    )
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, *argv]
    package_root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ, PYTHONPATH=package_root)
    log_path = log_file or Path(lab_dir) / "k8s" / f"apiserver-{address}-{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            start_new_session=True,
        )
    assert child.stdout is not None
    try:
        _wait_ready(child, timeout, log_path)
    except BaseException:
        stop_background(child.pid)
        raise
    finally:
        child.stdout.close()
    return child.pid


def stop_background(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the server and wait for it to end (SIGKILL after timeout)."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: probe it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_ready(child: subprocess.Popen[bytes], timeout: float, log_path: Path) -> None:
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    line = child.stdout.readline() if ready else b""
    if line != READY_LINE:
        raise RuntimeError(
            f"the EMULATED kube-apiserver did not start within {timeout} s "
            f"(exit status {child.poll()}); see {log_path}"
        )
