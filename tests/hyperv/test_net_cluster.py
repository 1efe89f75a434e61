"""vSwitches, VM network adapters, VLANs, guest IPs, and the failover cluster's second hop."""

from __future__ import annotations

from aksnet.lab.hyperv import FailoverCluster, HyperVHost, HyperVMachine

from .conftest import GB, call, errors_in, run, terminating


def test_switches(hv: HyperVMachine) -> None:
    (ext,) = run(hv, call("New-VMSwitch", Name="ext", NetAdapterName="Ethernet"))
    assert ext["SwitchType"] == "External" and ext["Lab"] is True
    assert [s["Name"] for s in run(hv, call("Get-VMSwitch"))] == ["lab", "ext"]
    assert [s["Name"] for s in run(hv, call("Get-VMSwitch", SwitchType="Internal"))] == ["lab"]
    (err,) = errors_in(run(hv, call("Get-VMSwitch", "nope")))
    assert err.message == 'Hyper-V was unable to find a virtual switch with name "nope".'
    assert err.error_id == "InvalidParameter,Microsoft.HyperV.PowerShell.Commands.GetVMSwitch"


def test_adapters_pipeline_static_mac_and_spoofing(hv: HyperVMachine) -> None:
    run(hv, call("New-VM", Name="n", Generation=2, SwitchName="lab"))
    run(hv, call("Add-VMNetworkAdapter", VMName="n", Name="storage", SwitchName="lab"))
    out = run(
        hv,
        [
            call("Get-VMNetworkAdapter", VMName="n", Name="storage"),
            call(
                "Set-VMNetworkAdapter",
                StaticMacAddress="00155D112233",
                MacAddressSpoofing="On",
                Passthru=True,
            ),
        ],
    )
    assert out[0]["MacAddress"] == "00155D112233" and out[0]["MacAddressSpoofing"] == "On"
    assert out[0]["DynamicMacAddressEnabled"] is False
    names = [a["Name"] for a in run(hv, call("Get-VMNetworkAdapter", VMName="n"))]
    assert names == ["Network Adapter", "storage"]
    (err,) = errors_in(run(hv, call("Set-VMNetworkAdapter", VMName="n", StaticMacAddress="zz")))
    assert "'zz' is not valid" in err.message


def test_vlan_access_mode(hv: HyperVMachine) -> None:
    run(hv, call("New-VM", Name="v", SwitchName="lab"))
    run(hv, call("Set-VMNetworkAdapterVlan", VMName="v", Access=True, VlanId=7))
    (vlan,) = run(hv, call("Get-VMNetworkAdapterVlan", VMName="v"))
    assert vlan["OperationMode"] == "Access" and vlan["AccessVlanId"] == 7
    err = terminating(hv, call("Set-VMNetworkAdapterVlan", VMName="v", Access=True))
    assert "VlanId" in err.message
    run(hv, call("Set-VMNetworkAdapterVlan", VMName="v", Untagged=True))
    assert run(hv, call("Get-VMNetworkAdapterVlan", VMName="v"))[0]["OperationMode"] == "Untagged"


def test_connect_and_disconnect(hv: HyperVMachine) -> None:
    run(hv, call("New-VMSwitch", Name="other", SwitchType="Private"))
    run(hv, call("New-VM", Name="c", SwitchName="lab"))
    run(hv, call("Disconnect-VMNetworkAdapter", VMName="c"))
    assert run(hv, call("Get-VMNetworkAdapter", VMName="c"))[0]["SwitchName"] is None
    run(hv, call("Connect-VMNetworkAdapter", VMName="c", SwitchName="other"))
    assert run(hv, call("Get-VMNetworkAdapter", VMName="c"))[0]["SwitchName"] == "other"


def test_ip_addresses_reported_while_running(hv: HyperVMachine, host: HyperVHost) -> None:
    run(hv, call("New-VM", Name="ip", SwitchName="lab", MemoryStartupBytes=GB))
    run(hv, call("Set-VMNetworkAdapter", VMName="ip", StaticMacAddress="00155D000001"))
    run(hv, call("Start-VM", "ip"))
    host.set_guest_ips("ip", "00:15:5d:00:00:01", ["198.18.1.10"])
    assert run(hv, call("Get-VMNetworkAdapter", VMName="ip"))[0]["IPAddresses"] == ["198.18.1.10"]
    run(hv, call("Stop-VM", "ip"))
    assert run(hv, call("Get-VMNetworkAdapter", VMName="ip"))[0]["IPAddresses"] == []


def test_cluster_queries(hv: HyperVMachine, tmp_path, cluster: FailoverCluster) -> None:
    HyperVHost("hv2", tmp_path / "hv2", cluster=cluster)
    assert run(hv, call("Get-Cluster"))[0]["Name"] == "hcicluster"
    assert [n["Name"] for n in run(hv, call("Get-ClusterNode"))] == ["hv1", "hv2"]


def test_cluster_role_without_delegation_fails_like_the_second_hop(hv: HyperVMachine) -> None:
    run(hv, call("New-VM", Name="ha", SwitchName="lab"))
    err = terminating(hv, call("Add-ClusterVirtualMachineRole", VMName="ha"))
    assert err.message.startswith("You do not have administrative privileges on the cluster.")
    assert err.error_id == (
        "ClusterAccessDenied,Microsoft.FailoverClusters.PowerShell.AddClusterVirtualMachineRoleCommand"
    )
    assert run(hv, call("Get-ClusterGroup")) == []


def test_cluster_role_with_delegation(hv: HyperVMachine) -> None:
    hv.delegated = True
    run(hv, call("New-VM", Name="ha", SwitchName="lab"))
    (group,) = run(hv, call("Add-ClusterVirtualMachineRole", VMName="ha"))
    assert (
        group["Name"] == "ha"
        and group["OwnerNode"] == "hv1"
        and group["GroupType"] == "VirtualMachine"
    )
    assert [g["Name"] for g in run(hv, call("Get-ClusterGroup", "ha"))] == ["ha"]
    run(
        hv,
        [
            call("Get-ClusterGroup", "ha"),
            call("Remove-ClusterGroup", Force=True, RemoveResources=True),
        ],
    )
    (err,) = errors_in(run(hv, call("Get-ClusterGroup", "ha")))
    assert err.category == "ObjectNotFound"


def test_host_without_cluster(tmp_path) -> None:
    machine = HyperVMachine(HyperVHost("solo", tmp_path / "solo"))
    err = terminating(machine, call("Get-Cluster"))
    assert err.message.startswith("The cluster service is not running.")
