"""The first process of a lab node, run as `ip netns exec <ns> unshare --mount --uts ... python -m
aksnet.lab.linux.launch <node_dir>`: it prepares the node's private file system and host name,
applies the seed's user-data, installs the lab's emulated tools when the lab asks for them, and
then becomes the node's sshd (exec), which anchors the node. The exec waits for the spec's
reachable_at (a time.monotonic() instant): a booting guest does not answer before its boot ends.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aksnet.lab.linux import cloudinit

SSHD = "/usr/sbin/sshd"
SPEC_FILE = "launch.json"
# sshd writes its pid file once its listening sockets are bound (OpenSSH's sshd.c): the lab
# takes the file as the sign that the node answers.
PID_FILE = "sshd.pid"


def main(node_dir: Path) -> None:
    spec: dict[str, Any] = json.loads((node_dir / SPEC_FILE).read_text())
    _release_other_namespaces()
    _mount_private_dirs(node_dir)
    _mount(["-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run"])
    Path("/run/sshd").mkdir(mode=0o755)
    socket.sethostname(spec["hostname"])
    seed = cloudinit.load_seed(Path(spec["seed"]))
    skipped = cloudinit.apply_user_data(seed.user_data, spec["hostname"])
    print(f"aksnet lab node {spec['hostname']}: user-data keys not applied: {skipped}", flush=True)
    if spec.get("lab_tools"):
        _install_lab_tools(spec["lab_tools"], spec["address"])
    config = node_dir / "sshd_config"
    config.write_text(sshd_config(spec["address"], node_dir / PID_FILE))
    _wait_until(spec.get("reachable_at"))
    os.execv(SSHD, [SSHD, "-D", "-e", "-f", str(config)])


def _install_lab_tools(lab_dir: str, address: str) -> None:
    """The emulated kubeadm/kubectl/modprobe and systemctl, written here in the node's own mount
    namespace (what k8sstub.install and svcstub.install do from outside, without two more
    interpreters entering the node)."""
    from aksnet.lab.linux import k8sstub, svcstub

    k8sstub.install_here(lab_dir, address)
    svcstub.install_here()


def _wait_until(instant: float | None) -> None:
    """Sleep until the time.monotonic() instant (the end of the emulated boot), if it is ahead."""
    if instant is None:
        return
    ahead = float(instant) - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)


def _release_other_namespaces() -> None:
    # The copied mount table holds every other node's /run/netns bind mount; detaching it
    # here keeps this node from holding the other nodes' network namespaces alive. A lazy
    # unmount detaches the whole subtree; /run/netns can be stacked when labs race to create it.
    for _ in range(8):
        if "/run/netns" not in _mount_points():
            return
        subprocess.run(["umount", "--lazy", "/run/netns"], check=False)
    raise RuntimeError("/run/netns is still mounted in the node after 8 lazy unmounts")


def _mount_points() -> list[str]:
    # (os.path.ismount misses /run/netns: a bind mount within the same file system.)
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]


def _mount_private_dirs(node_dir: Path) -> None:
    for lower in cloudinit.PRIVATE_DIRS:
        name = lower.strip("/")
        upper, work = node_dir / "upper" / name, node_dir / "work" / name
        upper.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        # The merged directory takes the upper's mode and owner: keep those of the machine's.
        original = os.stat(lower)
        os.chmod(upper, original.st_mode & 0o7777)
        os.chown(upper, original.st_uid, original.st_gid)
        options = f"lowerdir={lower},upperdir={upper},workdir={work}"
        _mount(["-t", "overlay", "-o", options, "overlay", lower])


def sshd_config(address: str, pid_file: Path) -> str:
    keys = sorted(str(p) for p in Path("/etc/ssh").glob("ssh_host_*_key"))
    lines = [
        "# aksnet lab node: generated, public key authentication only",
        f"ListenAddress {address}",
        "Port 22",
        *(f"HostKey {key}" for key in keys),
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PermitRootLogin no",
        "AuthorizedKeysFile .ssh/authorized_keys",
        f"PidFile {pid_file}",
        "Subsystem sftp /usr/lib/openssh/sftp-server",
    ]
    return "\n".join(lines) + "\n"


def _mount(argv: list[str]) -> None:
    subprocess.run(["mount", *argv], check=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
