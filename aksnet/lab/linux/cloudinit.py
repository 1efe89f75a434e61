"""The lab's minimal cloud-init: reads a NoCloud seed and applies the parts the lab supports.

Pure parsing (hostname, network-config v2 by MAC) runs in the lab process; apply_user_data()
runs inside the node's private mount namespace, where /etc, /var, /opt, /root and /home are
overlays, so users, keys and files land in the node only. Supported user-data: users (name,
ssh_authorized_keys, sudo, shell, groups, gecos), ssh_keys (host keys), write_files (path,
content, encoding, permissions, owner, append). Other keys are listed as not applied in the
marker file /etc/aksnet-lab-node.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import os
import pwd
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aksnet.errors import InvalidInput
from aksnet.lab.linux.netns import run as run_command

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeedDocuments:
    """The three documents of a NoCloud seed, parsed."""

    meta_data: dict[str, Any]
    user_data: dict[str, Any]
    network_config: dict[str, Any]


def load_seed(iso_path: Path) -> SeedDocuments:
    """Read and parse a NoCloud seed ISO."""
    from aksnet.infra.seediso import read_seed_iso

    seed = read_seed_iso(iso_path)
    return SeedDocuments(
        load_document(seed.meta_data, "meta-data"),
        load_document(seed.user_data, "user-data"),
        load_document(seed.network_config, "network-config"),
    )


PRIVATE_DIRS = ("/etc", "/var", "/opt", "/root", "/home")
MARKER = "/etc/aksnet-lab-node"
HOST_KEY_TYPES = ("rsa", "ecdsa", "ed25519")
SUDOERS_FILE = "/etc/sudoers.d/90-aksnet-lab-users"
APPLIED_KEYS = frozenset(
    {
        "users",
        "ssh_keys",
        "write_files",
        "hostname",
        "fqdn",
        "preserve_hostname",
        "manage_etc_hosts",
        "ssh_pwauth",
        "disable_root",
    }
)
_USER_KEYS = frozenset(
    {"name", "ssh_authorized_keys", "sudo", "shell", "groups", "gecos", "lock_passwd"}
)
_FILE_KEYS = frozenset({"path", "content", "encoding", "permissions", "owner", "append"})
_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def load_document(value: Any, what: str) -> dict[str, Any]:
    """A seed document (YAML text, bytes, or an already parsed mapping) as a dict."""
    if value is None:
        return {}
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        value = yaml.safe_load(value) if value.strip() else {}
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(what, type(value).__name__, "must be a YAML mapping")
    return value


def hostname_of(meta_data: dict[str, Any], user_data: dict[str, Any]) -> str:
    """meta-data local-hostname, else user-data hostname, else instance-id."""
    for value in (
        meta_data.get("local-hostname"),
        user_data.get("hostname"),
        meta_data.get("instance-id"),
    ):
        if value:
            name = str(value).split(".")[0]
            if not _HOSTNAME.match(name):
                raise InvalidInput("local-hostname", value, "is not a valid host name")
            return name
    raise InvalidInput("meta-data", meta_data, "has no local-hostname or instance-id")


@dataclass(frozen=True)
class NodeAddress:
    """The node's eth0 settings from network-config v2."""

    interface: ipaddress.IPv4Interface
    gateway: ipaddress.IPv4Address | None
    nameservers: tuple[str, ...] = ()


def address_for(
    network_config: dict[str, Any],
    mac: str,
    dhcp: Callable[[str], NodeAddress] | None = None,
) -> NodeAddress:
    """The IPv4 settings of the ethernet that matches mac (network-config v2): its static
    address, or with dhcp4 the lease dhcp(mac) gives (the lab's EMULATED DHCP)."""
    if not network_config:
        raise InvalidInput("network-config", None, "is missing: the lab needs an address")
    config = network_config.get("network", network_config)
    if config.get("version") != 2:
        raise InvalidInput("network-config version", config.get("version"), "must be 2")
    ethernets = config.get("ethernets") or {}
    entry = _match_ethernet(ethernets, mac)
    if entry.get("dhcp6"):
        raise InvalidInput("network-config dhcp6", True, "is not supported in the lab (IPv4 only)")
    if entry.get("dhcp4"):
        if dhcp is None:
            raise InvalidInput(
                "network-config dhcp4", True, "needs the lab's DHCP, which this runtime lacks"
            )
        return dhcp(mac)
    addresses = [a for a in entry.get("addresses") or [] if ":" not in str(a)]
    if len(addresses) != 1:
        raise InvalidInput("network-config addresses", addresses, "must hold one IPv4 address")
    try:
        interface = ipaddress.IPv4Interface(str(addresses[0]))
    except ValueError as error:
        raise InvalidInput("network-config addresses", addresses[0], str(error)) from None
    dns = tuple(str(a) for a in (entry.get("nameservers") or {}).get("addresses") or [])
    return NodeAddress(interface, _gateway_of(entry), dns)


def _match_ethernet(ethernets: dict[str, Any], mac: str) -> dict[str, Any]:
    wanted = mac.lower()
    for entry in ethernets.values():
        found = str((entry.get("match") or {}).get("macaddress", "")).lower()
        if found == wanted:
            return dict(entry)
    if "eth0" in ethernets and not ethernets["eth0"].get("match"):
        return dict(ethernets["eth0"])
    raise InvalidInput(
        "network-config ethernets", list(ethernets), f"has no entry that matches MAC address {mac}"
    )


def _gateway_of(entry: dict[str, Any]) -> ipaddress.IPv4Address | None:
    if entry.get("gateway4"):
        return ipaddress.IPv4Address(str(entry["gateway4"]))
    for route in entry.get("routes") or []:
        if str(route.get("to")) in ("default", "0.0.0.0/0"):
            return ipaddress.IPv4Address(str(route["via"]))
    return None


def check_user_data(user_data: dict[str, Any]) -> None:
    """Refuse user-data the lab cannot apply faithfully, before anything is created."""
    for key in user_data.get("ssh_keys") or {}:
        kind, _, part = str(key).rpartition("_")
        if kind not in HOST_KEY_TYPES or part not in ("private", "public"):
            raise InvalidInput(
                "ssh_keys",
                key,
                f"is not supported: use <type>_private and "
                f"<type>_public with type in {HOST_KEY_TYPES}",
            )
    for user in user_data.get("users") or []:
        if user != "default":
            _check_user(user)
    for item in user_data.get("write_files") or []:
        _check_file(item)


def _check_user(user: Any) -> None:
    if not isinstance(user, dict):
        raise InvalidInput("users", type(user).__name__, "entries must be mappings or 'default'")
    unknown = set(user) - _USER_KEYS
    if unknown:
        raise InvalidInput(
            "users", sorted(unknown), f"not supported in the lab: {sorted(_USER_KEYS)}"
        )
    if not _NAME.match(str(user.get("name", ""))):
        raise InvalidInput("users name", user.get("name"), "must be a Linux user name")


def _check_file(item: Any) -> None:
    if not isinstance(item, dict):
        raise InvalidInput("write_files", type(item).__name__, "entries must be mappings")
    unknown = set(item) - _FILE_KEYS
    if unknown:
        raise InvalidInput(
            "write_files", sorted(unknown), f"not supported in the lab: {sorted(_FILE_KEYS)}"
        )
    _check_private_path(os.path.normpath(str(item.get("path", ""))))
    if str(item.get("encoding", "text")) not in ("text", "text/plain", "b64", "base64"):
        raise InvalidInput("write_files encoding", item["encoding"], "must be text, b64 or base64")
    permissions = str(item.get("permissions", "0644"))
    if not re.fullmatch(r"0?[0-7]{3,4}", permissions):
        raise InvalidInput("write_files permissions", permissions, "must be octal like '0644'")


def _check_private_path(path: str) -> None:
    if not any(Path(path).is_relative_to(d) and path != d for d in PRIVATE_DIRS):
        raise InvalidInput(
            "write_files path",
            path,
            f"must be inside the node's private directories {PRIVATE_DIRS}",
        )


def apply_user_data(user_data: dict[str, Any], hostname: str) -> list[str]:
    """Apply user-data inside the node; return the top-level keys that were not applied."""
    check_user_data(user_data)
    _write_hostname(hostname)
    _install_host_keys(user_data.get("ssh_keys") or {})
    for user in user_data.get("users") or []:
        if user != "default":  # the lab has no distribution default user
            _add_user(user)
    for item in user_data.get("write_files") or []:
        _write_file(item)
    skipped = sorted(set(user_data) - APPLIED_KEYS)
    _write_marker(skipped)
    return skipped


def _write_hostname(hostname: str) -> None:
    Path("/etc/hostname").write_text(hostname + "\n")
    with open("/etc/hosts", "a") as hosts:
        hosts.write(f"127.0.1.1 {hostname}\n")


def _install_host_keys(ssh_keys: dict[str, Any]) -> None:
    for old in Path("/etc/ssh").glob("ssh_host_*"):
        old.unlink()  # the machine's own host keys are not the node's
    for kind in HOST_KEY_TYPES:
        private = ssh_keys.get(f"{kind}_private")
        if not private:
            continue
        path = Path(f"/etc/ssh/ssh_host_{kind}_key")
        _write_secret(path, str(private))
        public = ssh_keys.get(f"{kind}_public")
        if public:
            Path(f"{path}.pub").write_text(str(public).strip() + "\n")
    if not any(Path("/etc/ssh").glob("ssh_host_*_key")):
        key = "/etc/ssh/ssh_host_ed25519_key"
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text.strip() + "\n")


def _add_user(user: dict[str, Any]) -> None:
    name = str(user["name"])
    groups = user.get("groups") or []
    groups = [g.strip() for g in groups.split(",")] if isinstance(groups, str) else groups
    for group in groups:
        if not _exists("group", group):
            _run(["groupadd", group])
    if not _exists("passwd", name):
        own_group = ["--gid", name] if _exists("group", name) else ["--user-group"]
        shell = str(user.get("shell", "/bin/bash"))
        argv = ["useradd", "--create-home", *own_group, "--shell", shell]
        argv += ["--groups", ",".join(groups)] if groups else []
        argv += ["--comment", str(user["gecos"])] if user.get("gecos") else []
        _run([*argv, name])
    _run(["usermod", "-p", "*", name])  # no password, but not locked: sshd allows key logins
    _authorize(name, user.get("ssh_authorized_keys") or [])
    _grant_sudo(name, user.get("sudo"))


def _exists(database: str, name: str) -> bool:
    """Whether getent finds name in the node's passwd or group database."""
    return subprocess.run(["getent", database, name], capture_output=True).returncode == 0


def _authorize(name: str, keys: list[str]) -> None:
    account = pwd.getpwnam(name)
    ssh_dir = Path(account.pw_dir) / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    authorized = ssh_dir / "authorized_keys"
    authorized.write_text("".join(str(k).strip() + "\n" for k in keys))
    authorized.chmod(0o600)
    for path in (ssh_dir, authorized):
        os.chown(path, account.pw_uid, account.pw_gid)


def _grant_sudo(name: str, sudo: Any) -> None:
    if not sudo:
        return
    rules = [sudo] if isinstance(sudo, str) else list(sudo)
    with open(SUDOERS_FILE, "a") as sudoers:
        sudoers.writelines(f"{name} {rule}\n" for rule in rules)
    os.chmod(SUDOERS_FILE, 0o440)


def _write_file(item: dict[str, Any]) -> None:
    path = Path(os.path.normpath(str(item["path"])))
    # A symbolic link (e.g. in /etc/alternatives) must not lead the write out of the node.
    _check_private_path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    content = item.get("content", "")
    data = _decode(content, str(item.get("encoding", "text")))
    with open(path, "ab" if item.get("append") else "wb") as handle:
        handle.write(data)
    path.chmod(int(str(item.get("permissions", "0644")), 8))
    if item.get("owner"):
        _run(["chown", str(item["owner"]), str(path)])


def _decode(content: Any, encoding: str) -> bytes:
    if isinstance(content, bytes):
        return content
    if encoding in ("b64", "base64"):
        return base64.b64decode(str(content))
    if encoding in ("text", "text/plain"):
        return str(content).encode("utf-8")
    raise InvalidInput("write_files encoding", encoding, "must be text, b64 or base64")


def _write_marker(skipped: list[str]) -> None:
    lines = [
        "This is an emulated VM of the aksnet lab: a network namespace on the lab machine,",
        "sharing its kernel and /usr; /etc, /var, /opt, /root and /home are private overlays.",
        f"user-data keys not applied: {', '.join(skipped) or 'none'}",
    ]
    Path(MARKER).write_text("\n".join(lines) + "\n")


def _run(argv: list[str]) -> None:
    run_command(argv)
