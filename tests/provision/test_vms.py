"""The VM fact's parsing and the create step's statements, without a host."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from aksnet.errors import ProtocolError
from aksnet.infra.vms import (
    LINUX_SECURE_BOOT_TEMPLATE,
    NewVmFiles,
    VmFacts,
    VmSpec,
    configure_statements,
    create_statements,
    parse_new_vm_files,
    parse_vm_facts,
    stage_seed_iso,
)
from aksnet.remote.base import Cmdlet, PSValue, Statement

SPEC = VmSpec(
    name="c1-cp-0",
    cpu=4,
    memory_bytes=8 * 1024**3,
    mac=0x02A54B000001,
    vlan_id=7,
    switch_name="LabSwitch",
    folder=r"C:\ClusterStorage\Volume1\aksnet\c1-cp-0",
    parent_disk=r"C:\ClusterStorage\Volume1\Images\aksnet-linux.vhdx",
)


def names(statements: Sequence[Statement]) -> list[str]:
    return [s.name for s in statements if isinstance(s, Cmdlet)]


def test_an_absent_vm_reads_as_none_with_its_files() -> None:
    facts = parse_vm_facts("c1-cp-0", [True, {"Hash": "AB", "Path": "x"}])
    assert facts.vm is None and facts.disk_exists and facts.iso_sha256 == "AB"
    assert not facts.cluster_role


def test_numeric_enums_from_a_real_host_are_named() -> None:
    output: list[Any] = [
        False,
        {"Name": "c1-cp-0", "State": 3, "Generation": 2, "MemoryStartup": 1, "ProcessorCount": 2},
        {"MacAddress": "02A54B000001", "SwitchName": "s", "IPAddresses": ["198.19.0.10"]},
        {"OperationMode": 1, "AccessVlanId": 7},
        {"DvdMediaType": 1, "Path": SPEC.iso_path},
        {"SecureBootTemplate": LINUX_SECURE_BOOT_TEMPLATE},
        {"GroupType": "VirtualMachine", "Name": "c1-cp-0"},
    ]
    vm = parse_vm_facts("c1-cp-0", output).vm
    assert vm is not None and vm.state == "Off" and vm.vlan_id == 7
    assert vm.mac == SPEC.mac and vm.dvd_paths == (SPEC.iso_path,)
    assert vm.ip_addresses == ("198.19.0.10",)
    assert parse_vm_facts("c1-cp-0", output).cluster_role


def test_an_unset_dynamic_mac_and_untagged_port_read_as_none() -> None:
    output: list[Any] = [
        False,
        {"Name": "n", "State": "Off", "Generation": 2, "MemoryStartup": 1, "ProcessorCount": 1},
        {"MacAddress": "000000000000", "SwitchName": "s"},
        {"OperationMode": "Untagged", "AccessVlanId": 0},
    ]
    vm = parse_vm_facts("n", output).vm
    assert vm is not None and vm.mac is None and vm.vlan_id is None


def test_the_create_step_is_one_pipeline_that_stops_at_the_first_error() -> None:
    statements = create_statements(SPEC, staged=True, make_disk=True, cluster_role=False)
    assert names(statements) == [
        "Move-Item", "New-VHD", "New-VM", "Set-VMProcessor", "Set-VMNetworkAdapter",
        "Set-VMNetworkAdapterVlan", "Add-VMDvdDrive", "Set-VMFirmware", "Start-VM",
    ]  # fmt: skip
    assert all(isinstance(s, Cmdlet) and s.get("ErrorAction") == "Stop" for s in statements)
    new_vm = statements[2]
    assert isinstance(new_vm, Cmdlet) and new_vm.get("Generation") == 2
    assert new_vm.get("VHDPath") == SPEC.vhd_path
    mac = statements[4]
    assert isinstance(mac, Cmdlet) and mac.get("StaticMacAddress") == "02A54B000001"


def test_no_vlan_no_staging_and_the_cluster_role_only_with_delegation() -> None:
    untagged = VmSpec(**{**SPEC.__dict__, "vlan_id": None})
    statements = create_statements(untagged, staged=False, make_disk=False, cluster_role=True)
    assert "Set-VMNetworkAdapterVlan" not in names(statements)
    assert names(statements)[0] == "New-VM"
    assert names(statements)[-1] == "Add-ClusterVirtualMachineRole"


def test_configuring_an_existing_vm_sets_only_what_differs() -> None:
    output: list[Any] = [
        True,
        {"Name": "c1-cp-0", "State": "Off", "Generation": 2, "MemoryStartup": SPEC.memory_bytes,
         "ProcessorCount": 1},
        {"MacAddress": "000000000000", "SwitchName": "s"},
        {"OperationMode": "Untagged", "AccessVlanId": 0},
    ]  # fmt: skip
    vm = parse_vm_facts("c1-cp-0", output).vm
    assert names(configure_statements(SPEC, vm)) == [
        "Set-VMProcessor", "Set-VMNetworkAdapter", "Set-VMNetworkAdapterVlan", "Add-VMDvdDrive",
        "Set-VMFirmware", "Start-VM",
    ]  # fmt: skip


class _LyingHost:
    host = "hci9"

    def __init__(self) -> None:
        self.calls: list[tuple[Statement, ...]] = []

    def invoke(self, *statements: Statement, input: Sequence[PSValue] = ()) -> list[PSValue]:
        self.calls.append(statements)
        return [{"Hash": "00" * 32, "Path": "x"}]

    def close(self) -> None:
        pass


def test_staging_is_one_round_trip_and_a_wrong_checksum_fails() -> None:
    host = _LyingHost()
    with pytest.raises(ProtocolError, match="checksum mismatch"):
        stage_seed_iso(host, SPEC, b"x" * 600_000)
    (call,) = host.calls
    assert names(call) == ["New-Item", "Set-Content", "Add-Content", "Add-Content", "Get-FileHash"]


def test_the_new_vms_of_a_host_are_read_by_their_files_in_one_pipeline() -> None:
    other = dataclasses.replace(SPEC, name="c1-cp-1", folder=r"C:\aksnet\c1-cp-1")
    files = NewVmFiles({}, [SPEC, other])
    test_path, file_hash = files.statements()
    assert names([test_path, file_hash]) == ["Test-Path", "Get-FileHash"]
    assert isinstance(test_path, Cmdlet) and isinstance(file_hash, Cmdlet)
    assert test_path.get("LiteralPath") == [SPEC.vhd_path, other.vhd_path]
    assert file_hash.get("LiteralPath") == [SPEC.iso_path, other.iso_path]
    iso = {"Hash": "AB12", "Path": SPEC.iso_path.upper(), "Algorithm": "SHA256"}
    found = parse_new_vm_files("hci1", [SPEC, other], [True, iso, False])
    assert found[SPEC.name] == VmFacts(None, True, "AB12", False)
    assert found[other.name] == VmFacts(None, False, None, False)
    with pytest.raises(ProtocolError, match="Test-Path"):
        parse_new_vm_files("hci1", [SPEC, other], [True])
