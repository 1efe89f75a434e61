"""Where the lab's WSMan server may listen: 127.0.0.0/8, or a lab address inside a namespace."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aksnet.errors import InvalidInput
from aksnet.lab.fabric import STATUS_FILE, Lab
from aksnet.lab.hyperv import WindowsNode
from aksnet.lab.linux import nssocket
from aksnet.lab.wsman import WSManServer
from aksnet.remote.psrp import PSRPSession
from tests.linuxlab.conftest import leftovers
from tests.windowslab import winvm


def test_lab_addresses_need_a_namespace_and_namespaces_need_lab_addresses(tmp_path: Path) -> None:
    node = WindowsNode("w", tmp_path / "w")
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8 only"):
        WSManServer(node, users={"u": "p"}, host="198.18.0.10")
    for outside in ("192.0.2.10", "127.0.0.1", "localhost"):
        with pytest.raises(ValueError, match=r"only addresses of 198\.18\.0\.0/15"):
            WSManServer(node, users={"u": "p"}, host=outside, netns="akw300-w")
    with pytest.raises(InvalidInput, match="lab range"):
        nssocket.listening_socket("akw300-w", "192.0.2.10", 5986)
    with pytest.raises(InvalidInput, match="netns_name"):
        nssocket.listening_socket("../etc", "198.19.0.10", 5986)


def test_a_namespace_that_does_not_exist_is_a_clear_error() -> None:
    if os.geteuid() != 0:
        pytest.skip("entering a network namespace needs root")
    with pytest.raises(nssocket.NamespaceSocketFailed, match="akw-none"):
        nssocket.listening_socket("akw-none", "198.19.0.10", 5986)


def test_lab_stop_takes_down_a_running_windows_vm_entirely(
    lab: Lab, host: PSRPSession, tmp_path: Path
) -> None:
    address = str(lab.network.subnet.network_address + 61)
    vm = winvm.new_vm("c1win9", 9, address, tmp_path)
    net = winvm.network(lab.network.subnet, str(lab.network.gateway), dhcp=False)
    winvm.create_on_host(host, vm, winvm.build_seed(tmp_path, vm, net))
    names = [lab.network.bridge, f"akw{lab.network.slot}-c1win9"]
    assert leftovers(lab.lab_dir, names) != []  # the namespace and the bridge are there
    host.close()
    lab.stop()
    # No probe of the address now: without the lab bridge it would route out of the machine.
    assert leftovers(lab.lab_dir, names) == []
    assert json.loads((lab.lab_dir / STATUS_FILE).read_text())["windows_vms"] == {}
