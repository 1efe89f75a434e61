"""A lab Linux node: real sshd with the seed's identity, private /etc, reachable on the bridge."""

from __future__ import annotations

import dataclasses
import socket
import uuid
from pathlib import Path

import paramiko
import pytest

from aksnet.errors import InvalidInput
from aksnet.lab.linux import LinuxVmRuntime, LinuxVmSpec, state
from aksnet.lab.linux.dhcp import EmulatedDhcp
from aksnet.lab.linux.node import NodeStartFailed
from tests.linuxlab.conftest import Lab, footprint, leftovers, new_keypair, run, ssh


def test_node_has_the_seed_identity_and_passwordless_sudo(lab: Lab) -> None:
    vm = lab.vm(1)
    lab.runtime.start(vm.spec)
    with ssh(vm) as client:
        assert run(client, "hostname") == (0, f"{vm.hostname}\n")
        status, out = run(client, "ip -4 -o address show dev eth0")
        assert status == 0 and f"inet {vm.address}/24 " in out
        status, out = run(client, "ip -o link show dev eth0")
        assert vm.spec.mac in out
        assert run(client, "sudo -n id -u") == (0, "0\n")
        assert run(client, "cat /etc/aksnet-test.txt") == (0, "seeded\n")
        assert run(client, "stat -c %U /etc/aksnet-test.txt") == (0, "clouduser\n")
        assert run(client, "stat -c %a /root") == (0, "700\n")
        status, marker = run(client, "cat /etc/aksnet-lab-node")
        assert "emulated VM" in marker and "runcmd" in marker


def test_node_refuses_a_client_that_pins_another_host_key(lab: Lab) -> None:
    vm = lab.vm(2)
    lab.runtime.start(vm.spec)
    with pytest.raises(paramiko.BadHostKeyException):
        ssh(vm, host_key=new_keypair())


def test_writes_inside_the_node_stay_in_the_node(lab: Lab) -> None:
    vm = lab.vm(3)
    lab.runtime.start(vm.spec)
    name = f"/etc/aksnet-foo-{uuid.uuid4().hex}"
    with ssh(vm) as client:
        assert run(client, f"sudo -n touch {name} /opt/{Path(name).name}")[0] == 0
        assert run(client, f"test -e {name}")[0] == 0
    assert not Path(name).exists()
    assert not Path("/opt", Path(name).name).exists()
    assert "clouduser:" not in Path("/etc/passwd").read_text()


def test_two_nodes_reach_each_other_and_the_machine_reaches_them(lab: Lab) -> None:
    first, second = lab.vm(4), lab.vm(5)
    lab.runtime.start(first.spec)
    lab.runtime.start(second.spec)
    with ssh(first) as client:
        probe = f"exec 3<>/dev/tcp/{second.address}/22 && head -c 7 <&3"
        assert run(client, f"bash -c '{probe}'") == (0, "SSH-2.0")
    with socket.create_connection((first.address, 22), timeout=5) as conn:
        assert conn.recv(7) == b"SSH-2.0"
    assert lab.runtime.running() == ["vm4", "vm5"]
    for name in ("vm4", "vm5"):
        # No node holds a namespace file of another node (that would keep it alive after stop).
        pid = state.read(lab.lab_dir)["nodes"][name]["pid"]
        assert " nsfs " not in Path(f"/proc/{pid}/mountinfo").read_text()


def test_start_and_stop_are_idempotent_and_stop_leaves_nothing(lab: Lab) -> None:
    vm = lab.vm(6)
    lab.runtime.start(vm.spec)
    lab.runtime.start(vm.spec)
    record = state.read(lab.lab_dir)["nodes"]["vm6"]
    names = [record["netns"], record["veth"]]
    before = footprint(lab.lab_dir, names)
    # The check sees the node: namespace, veth, sshd (and maybe a child for the probe).
    assert {item.split()[0] for item in before} == {"netns", "link", "process"}
    lab.runtime.stop("vm6")
    lab.runtime.stop("vm6")
    assert leftovers(lab.lab_dir, names, before) == []
    assert lab.runtime.running() == []
    assert not Path(record["node_dir"]).exists()
    lab.runtime.start(vm.spec)  # a stopped node starts again
    with ssh(vm) as client:
        assert run(client, "hostname") == (0, f"{vm.hostname}\n")


def test_dhcp_without_the_labs_dhcp_is_refused_before_anything_is_created(lab: Lab) -> None:
    vm = lab.vm(7, network_config={"version": 2, "ethernets": {"eth0": {"dhcp4": True}}})
    with pytest.raises(InvalidInput, match="needs the lab's DHCP"):
        lab.runtime.start(vm.spec)
    assert leftovers(lab.lab_dir, [f"akt{lab.network.slot}-vm7"]) == []


def test_an_address_outside_the_lab_subnet_is_refused(lab: Lab) -> None:
    outside = {
        "version": 2,
        "ethernets": {"eth0": {"addresses": ["198.18.255.10/24"]}},
    }
    vm = lab.vm(8, network_config=outside)
    with pytest.raises(InvalidInput, match="lab subnet"):
        lab.runtime.start(vm.spec)
    assert lab.runtime.running() == []


def test_user_data_writing_outside_the_node_is_refused_before_anything_is_created(
    lab: Lab,
) -> None:
    vm = lab.vm(9, write_files=[{"path": "/usr/local/bin/aksnet-evil", "content": "x"}])
    with pytest.raises(InvalidInput, match="write_files path"):
        lab.runtime.start(vm.spec)
    assert state.read(lab.lab_dir)["nodes"] == {}
    assert leftovers(lab.lab_dir, [f"akt{lab.network.slot}-vm9"]) == []


def test_a_node_that_fails_while_starting_reports_why_and_leaves_nothing(lab: Lab) -> None:
    files = [{"path": "/etc/aksnet-owned", "content": "x", "owner": "nosuchuser"}]
    vm = lab.vm(10, write_files=files)
    with pytest.raises(NodeStartFailed, match="chown"):
        lab.runtime.start(vm.spec)
    assert state.read(lab.lab_dir)["nodes"] == {}
    assert leftovers(lab.lab_dir, [f"akt{lab.network.slot}-vm10"]) == []


def test_a_hyper_v_style_mac_address_is_accepted(lab: Lab) -> None:
    vm = lab.vm(11)
    hyperv_mac = vm.spec.mac.replace(":", "").upper()  # as Get-VMNetworkAdapter shows it
    lab.runtime.start(dataclasses.replace(vm.spec, mac=hyperv_mac))
    with ssh(vm) as client:
        status, out = run(client, "cat /sys/class/net/eth0/address")
    assert (status, out) == (0, f"{vm.spec.mac}\n")


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Bad_Name"), ("mac", "02:00:00:00:00"), ("seed_iso", "/nonexistent.iso")],
)
def test_bad_vm_fields_are_refused_naming_the_parameter(lab: Lab, field: str, value: str) -> None:
    good = lab.vm(12).spec
    fields = {"name": good.name, "mac": good.mac, "seed_iso": str(good.seed_iso), field: value}
    spec = LinuxVmSpec(fields["name"], fields["mac"], Path(fields["seed_iso"]))
    with pytest.raises(InvalidInput) as error:
        lab.runtime.start(spec)
    assert error.value.parameter == field
    assert repr(value) in str(error.value)


def test_a_dhcp_node_gets_a_lease_of_the_labs_range_and_keeps_it_across_a_restart(
    lab: Lab,
) -> None:
    dhcp = EmulatedDhcp(lab.lab_dir, lab.network.subnet, lab.network.gateway)
    runtime = LinuxVmRuntime(lab.lab_dir, lab.network, dhcp)
    try:
        vm = lab.vm(9, network_config={"version": 2, "ethernets": {"eth0": {"dhcp4": True}}})
        first = str(lab.network.subnet.network_address + 100)
        vm = dataclasses.replace(vm, address=first)
        runtime.start(vm.spec)
        assert str(runtime.address_of("vm9")) == first
        with ssh(vm) as client:
            status, out = run(client, "ip -4 -o address show dev eth0")
            assert status == 0 and f"inet {first}/24 " in out
            assert f"default via {lab.network.gateway}" in run(client, "ip route")[1]
        runtime.stop("vm9")
        runtime.start(vm.spec)
        assert str(runtime.address_of("vm9")) == first
    finally:
        runtime.stop_all()
