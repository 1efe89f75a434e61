"""Hyper-V VM cmdlets against the emulated host: state, capacity, hooks, pipelines, errors."""

from __future__ import annotations

import threading

import pytest

from aksnet.lab.backend import EmulatedMachine, PSError
from aksnet.lab.hyperv import HyperVHost, HyperVMachine, WindowsNode

from .conftest import GB, Hooks, call, errors_in, run, terminating


def new_vm(hv: HyperVMachine, name: str, memory: int = 2 * GB, generation: int = 2) -> dict:  # type: ignore[type-arg]
    out = run(
        hv,
        call(
            "New-VM", Name=name, MemoryStartupBytes=memory, Generation=generation, SwitchName="lab"
        ),
    )
    return dict(out[0])


def test_new_vm_returns_the_real_property_names(hv: HyperVMachine) -> None:
    vm = new_vm(hv, "cp1")
    assert vm["Name"] == "cp1" and vm["State"] == "Off" and vm["Generation"] == 2
    assert vm["MemoryStartup"] == 2 * GB and vm["ProcessorCount"] == 1
    assert vm["Path"] == "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V"
    assert vm["Lab"] is True
    adapter = vm["NetworkAdapters"][0]
    assert adapter["SwitchName"] == "lab" and adapter["VMName"] == "cp1"


def test_new_vm_path_gets_a_folder_named_after_the_vm(hv: HyperVMachine, host: HyperVHost) -> None:
    (vm,) = run(hv, call("New-VM", Name="w", Path="C:\\ClusterStorage\\Volume1\\vms"))
    assert vm["Path"] == "C:\\ClusterStorage\\Volume1\\vms\\w"
    assert host.fs.real(vm["Path"]).is_dir()


def test_new_vm_with_unknown_switch(hv: HyperVMachine) -> None:
    result = run(hv, call("New-VM", Name="x", SwitchName="nope"))
    (err,) = errors_in(result)
    assert err.message == 'Hyper-V was unable to find a virtual switch with name "nope".'
    assert err.error_id == "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.NewVM"


def test_get_vm_missing_is_non_terminating(hv: HyperVMachine) -> None:
    new_vm(hv, "a")
    result = run(hv, call("Get-VM", Name=["a", "missing"]), call("Get-VM", Name="a"))
    names = [r["Name"] for r in result if isinstance(r, dict)]
    assert names == ["a", "a"]  # the second statement still ran
    (err,) = errors_in(result)
    assert err.message == 'Hyper-V was unable to find a virtual machine with name "missing".'
    assert err.error_id == "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVM"
    assert err.category == "InvalidArgument" and err.target == "missing"
    assert not err.terminating


def test_wildcards_match_and_never_fail(hv: HyperVMachine) -> None:
    new_vm(hv, "node-1")
    new_vm(hv, "node-2")
    assert [v["Name"] for v in run(hv, call("Get-VM", "node-*"))] == ["node-1", "node-2"]
    assert run(hv, call("Get-VM", "none*")) == []


def test_error_action_is_honoured(hv: HyperVMachine) -> None:
    assert run(hv, call("Get-VM", Name="missing", ErrorAction="SilentlyContinue")) == []
    with pytest.raises(PSError) as info:
        run(hv, call("Get-VM", Name="missing", ErrorAction="Stop"), call("New-VM", Name="never"))
    assert info.value.terminating
    assert run(hv, call("Get-VM")) == []  # the statement after the stop never ran


def test_pipeline_get_vm_into_start_vm(hv: HyperVMachine, hooks: Hooks) -> None:
    new_vm(hv, "w1")
    assert run(hv, [call("Get-VM", Name="w1"), call("Start-VM")]) == []
    assert run(hv, call("Get-VM", "w1"))[0]["State"] == "Running"
    assert [e.name for e in hooks.started] == ["w1"]


def test_empty_upstream_runs_nothing_downstream(hv: HyperVMachine, hooks: Hooks) -> None:
    assert run(hv, [call("Get-VM", Name="none*"), call("Start-VM")]) == []
    assert hooks.started == []


def test_start_refused_for_lack_of_memory(hv: HyperVMachine, host: HyperVHost) -> None:
    new_vm(hv, "big1", memory=6 * GB)
    new_vm(hv, "big2", memory=4 * GB)
    run(hv, call("Start-VM", "big1"))
    (err,) = errors_in(run(hv, call("Start-VM", "big2")))
    assert err.error_id == "OutOfMemory,Microsoft.HyperV.PowerShell.Commands.StartVM"
    assert "Not enough memory in the system to start the virtual machine big2" in err.message
    assert "ram size 4096 megabytes" in err.message
    assert host.memory_free() == 2 * GB
    run(hv, call("Stop-VM", "big1"))
    assert run(hv, call("Start-VM", "big2", Passthru=True))[0]["State"] == "Running"


def test_hooks_receive_what_the_runtime_needs(
    hv: HyperVMachine, host: HyperVHost, hooks: Hooks
) -> None:
    new_vm(hv, "lnx")
    iso = host.fs.real("C:\\ClusterStorage\\Volume1\\lnx\\seed.iso")
    iso.parent.mkdir(parents=True)
    iso.write_bytes(b"CD001")
    run(
        hv,
        call(
            "Set-VMNetworkAdapter",
            VMName="lnx",
            StaticMacAddress="00-15-5D-0A-0B-0C",
            MacAddressSpoofing="On",
        ),
        call("Set-VMNetworkAdapterVlan", VMName="lnx", Access=True, VlanId=42),
        call("Add-VMDvdDrive", VMName="lnx", Path="C:\\ClusterStorage\\Volume1\\lnx\\seed.iso"),
        call("Set-VMFirmware", "lnx", SecureBootTemplate="MicrosoftUEFICertificateAuthority"),
        call("Set-VMProcessor", "lnx", Count=4),
        call("Start-VM", "lnx"),
    )
    (event,) = hooks.started
    assert event.name == "lnx" and event.host == "hv1" and event.processor_count == 4
    assert event.mac_addresses == ("00155D0A0B0C",)
    adapter = event.adapters[0]
    assert adapter.vlan_id == 42 and adapter.switch_name == "lab" and adapter.mac_spoofing
    assert event.iso_paths == (iso,)
    assert event.secure_boot and event.secure_boot_template == "MicrosoftUEFICertificateAuthority"
    run(hv, call("Stop-VM", "lnx", Force=True))
    assert [e.name for e in hooks.stopped] == ["lnx"]


def test_dynamic_mac_is_assigned_at_first_start(hv: HyperVMachine) -> None:
    new_vm(hv, "d")
    run(hv, call("Start-VM", "d"))
    mac = run(hv, call("Get-VMNetworkAdapter", VMName="d"))[0]["MacAddress"]
    assert mac.startswith("00155D") and len(mac) == 12


def test_failing_hook_leaves_the_vm_off(tmp_path) -> None:
    def broken(event: object) -> None:
        raise RuntimeError("no runtime")

    machine = HyperVMachine(HyperVHost("hv2", tmp_path / "hv2", on_vm_start=broken))
    run(machine, call("New-VM", Name="x"))
    (err,) = errors_in(run(machine, call("Start-VM", "x")))
    assert err.message.startswith("'x' failed to start.")
    assert run(machine, call("Get-VM", "x"))[0]["State"] == "Off"


def test_start_running_vm_and_remove_running_vm_are_invalid_state(hv: HyperVMachine) -> None:
    new_vm(hv, "r")
    run(hv, call("Start-VM", "r"))
    (err,) = errors_in(run(hv, call("Start-VM", "r")))
    assert err.message == (
        "The operation cannot be performed while the virtual machine is in its current state."
    )
    assert err.error_id == "InvalidState,Microsoft.HyperV.PowerShell.Commands.StartVM"
    (err,) = errors_in(run(hv, call("Remove-VM", "r", Force=True)))
    assert err.error_id == "InvalidState,Microsoft.HyperV.PowerShell.Commands.RemoveVM"
    run(hv, call("Stop-VM", "r", TurnOff=True), call("Remove-VM", "r", Force=True))
    assert run(hv, call("Get-VM")) == []


def test_processor_count_limited_by_logical_processors(hv: HyperVMachine) -> None:
    new_vm(hv, "p")
    (err,) = errors_in(run(hv, call("Set-VMProcessor", "p", Count=9)))
    assert (
        err.error_id.endswith("Commands.SetVMProcessor") and "8 logical processors" in err.message
    )
    run(hv, call("Set-VMProcessor", "p", Count=8))
    assert run(hv, call("Get-VM", "p"))[0]["ProcessorCount"] == 8


def test_set_vm_memory(hv: HyperVMachine) -> None:
    new_vm(hv, "m")
    run(hv, call("Set-VMMemory", "m", StartupBytes=3 * GB, DynamicMemoryEnabled=True))
    vm = run(hv, call("Get-VM", "m"))[0]
    assert vm["MemoryStartup"] == 3 * GB and vm["DynamicMemoryEnabled"] is True


def test_differencing_vhd_and_hard_disk(hv: HyperVMachine, host: HyperVHost) -> None:
    base = host.fs.real("C:\\ClusterStorage\\Volume1\\base.vhdx")
    base.write_bytes(b"\0" * 4096)
    new_vm(hv, "v")
    child = "C:\\ClusterStorage\\Volume1\\v\\os.vhdx"
    (vhd,) = run(
        hv,
        call(
            "New-VHD",
            Path=child,
            ParentPath="C:\\ClusterStorage\\Volume1\\base.vhdx",
            Differencing=True,
        ),
    )
    assert vhd["VhdType"] == "Differencing" and vhd["ParentPath"].endswith("base.vhdx")
    assert host.fs.real(child).is_file()
    assert run(hv, call("Get-VHD", child))[0]["ParentPath"] == vhd["ParentPath"]
    run(hv, call("Add-VMHardDiskDrive", VMName="v", Path=child))
    assert host.vms[0].hard_disks[0].path == child
    (err,) = errors_in(
        run(hv, call("New-VHD", Path="C:\\c.vhdx", ParentPath="C:\\nope.vhdx", Differencing=True))
    )
    assert "cannot find the file specified" in err.message


def test_vhd_storage_capacity(hv: HyperVMachine) -> None:
    (err,) = errors_in(
        run(hv, call("New-VHD", Path="C:\\big.vhdx", SizeBytes=101 * GB, Dynamic=True))
    )
    assert "There is not enough space on the disk." in err.message


def test_dvd_needs_an_existing_iso(hv: HyperVMachine, host: HyperVHost) -> None:
    new_vm(hv, "iso")
    (err,) = errors_in(run(hv, call("Add-VMDvdDrive", VMName="iso", Path="C:\\missing.iso")))
    assert "cannot find the file specified" in err.message
    host.fs.real("C:\\seed.iso").write_bytes(b"x")
    run(hv, call("Add-VMDvdDrive", VMName="iso", Path="C:\\SEED.ISO"))
    (dvd,) = run(hv, call("Get-VMDvdDrive", VMName="iso"))
    assert dvd["Path"] == "C:\\SEED.ISO" and dvd["DvdMediaType"] == "ISO"
    run(hv, call("Set-VMDvdDrive", VMName="iso", Path=None))
    assert run(hv, call("Get-VMDvdDrive", VMName="iso"))[0]["Path"] is None


def test_firmware_is_generation_2_only(hv: HyperVMachine) -> None:
    new_vm(hv, "g1", generation=1)
    new_vm(hv, "g2")
    (err,) = errors_in(run(hv, call("Set-VMFirmware", "g1", EnableSecureBoot="Off")))
    assert err.error_id.endswith("SetVMFirmware")
    run(hv, call("Set-VMFirmware", "g2", EnableSecureBoot="Off"))
    assert run(hv, call("Get-VMFirmware", "g2"))[0]["SecureBoot"] == "Off"


def test_get_vm_host_reports_capacity(hv: HyperVMachine) -> None:
    new_vm(hv, "h", memory=GB)
    run(hv, call("Start-VM", "h"))
    (vmhost,) = run(hv, call("Get-VMHost"))
    assert vmhost["MemoryCapacity"] == 8 * GB and vmhost["FreeMemory"] == 7 * GB
    assert vmhost["LogicalProcessorCount"] == 8


def test_bad_input_to_a_vm_cmdlet_still_terminates(hv: HyperVMachine) -> None:
    err = terminating(hv, call("Start-VM"))
    assert err.error_id == "MissingMandatoryParameter,Microsoft.HyperV.PowerShell.Commands.StartVM"


def test_concurrent_starts_never_overcommit_memory(tmp_path) -> None:
    host = HyperVHost("busy", tmp_path / "busy", memory_bytes=8 * GB)
    machine = HyperVMachine(host)
    for i in range(12):
        run(machine, call("New-VM", Name=f"vm{i}", MemoryStartupBytes=GB))
    barrier = threading.Barrier(12)
    results: dict[int, list[object]] = {}

    def start(i: int) -> None:
        barrier.wait()
        results[i] = run(machine, call("Start-VM", f"vm{i}"))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [i for i, r in results.items() if errors_in(r)]
    assert len(refused) == 4
    assert all(errors_in(results[i])[0].error_id.startswith("OutOfMemory,") for i in refused)
    assert sum(1 for vm in host.vms if vm.state == "Running") == 8
    assert host.memory_free() == 0


def test_one_vm_failing_does_not_stop_the_others(hv: HyperVMachine) -> None:
    new_vm(hv, "on", memory=GB)
    new_vm(hv, "off", memory=GB)
    run(hv, call("Start-VM", "on"))
    result = run(hv, call("Set-VMProcessor", ["on", "off"], Count=2))
    (err,) = errors_in(result)
    assert err.error_id == "InvalidState,Microsoft.HyperV.PowerShell.Commands.SetVMProcessor"
    counts = {v["Name"]: v["ProcessorCount"] for v in run(hv, call("Get-VM"))}
    assert counts == {"on": 1, "off": 2}
    (err,) = errors_in(run(hv, call("Set-VMMemory", "on", StartupBytes=2 * GB)))
    assert err.error_id.endswith("SetVMMemory") and err.message.startswith(
        "Failed to modify device 'Memory'."
    )


def test_import_module_on_a_host(hv: HyperVMachine) -> None:
    assert run(hv, call("Import-Module", "Hyper-V")) == []
    err = terminating(hv, call("Import-Module", "NoSuchModule"))
    assert (
        err.error_id == "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand"
    )


def test_machines_satisfy_the_backend_protocol(host: HyperVHost, tmp_path) -> None:
    machines: list[EmulatedMachine] = [HyperVMachine(host), WindowsNode("w", tmp_path / "w")]
    assert [m.name for m in machines] == ["hv1", "w"]
