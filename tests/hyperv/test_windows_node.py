"""The emulated Windows node: services, firewall, HNS lifecycle, reboot, adapters."""

from __future__ import annotations

from aksnet.lab.backend import CommandCall
from aksnet.lab.hyperv import WindowsNode

from .conftest import call, errors_in, run, terminating

HNS = "C:\\k\\hns.psm1"


def install_hns_module(node: WindowsNode) -> None:
    run(
        node,
        call("New-Item", Path="C:\\k", ItemType="Directory"),
        call("Set-Content", Path=HNS, Value="# hns"),
    )


def external_network() -> CommandCall:
    return call(
        "New-HnsNetwork",
        Type="Overlay",
        Name="External",
        AddressPrefix="192.168.255.0/30",
        Gateway="192.168.255.1",
    )


def test_services(node: WindowsNode) -> None:
    (svc,) = run(node, call("Get-Service", "kubelet"))
    assert svc["Status"] == "Stopped" and svc["Lab"] is True
    assert run(node, [call("Get-Service", "kubelet"), call("Start-Service")]) == []
    assert run(node, call("Get-Service", "kubelet"))[0]["Status"] == "Running"
    # A positional name binds to -Name, not to -InputObject <ServiceController[]> at position 0.
    assert run(node, call("Start-Service", "flanneld")) == []
    statuses = {s["Name"]: s["Status"] for s in run(node, call("Get-Service"))}
    assert statuses["flanneld"] == "Running" and statuses["containerd"] == "Stopped"
    (restarted,) = run(node, call("Restart-Service", Name="kube-proxy", PassThru=True))
    assert restarted["Status"] == "Running"
    (err,) = errors_in(run(node, call("Get-Service", "nosuch")))
    assert err.message == "Cannot find any service with service name 'nosuch'."
    assert (
        err.error_id == "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand"
    )


def test_firewall_rules(node: WindowsNode) -> None:
    rule = call(
        "New-NetFirewallRule",
        Name="OverlayTraffic4789UDP",
        DisplayName="Overlay Traffic 4789 UDP",
        Action="Allow",
        LocalPort=["4789"],
        Protocol="UDP",
        Enabled="True",
    )
    (created,) = run(node, rule)
    assert created["Name"] == "OverlayTraffic4789UDP" and created["Action"] == "Allow"
    (err,) = errors_in(run(node, rule))
    assert err.message == "Cannot create a file when that file already exists."
    assert (
        run(
            node,
            CommandCall(rule.name, (*rule.parameters, ("ErrorAction", "SilentlyContinue"))),
        )
        == []
    )
    assert [
        r["Name"] for r in run(node, call("Get-NetFirewallRule", Name="OverlayTraffic4789UDP"))
    ] == ["OverlayTraffic4789UDP"]
    (err,) = errors_in(run(node, call("Get-NetFirewallRule", Name="x")))
    assert err.error_id == "CmdletizationQuery_NotFound_Name,Get-NetFirewallRule"


def test_new_hns_network_needs_the_imported_module(node: WindowsNode) -> None:
    err = terminating(node, external_network())
    assert err.message.startswith("The term 'New-HnsNetwork' is not recognized")
    err = terminating(node, call("Import-Module", HNS))
    assert err.message == (
        f"The specified module '{HNS}' was not loaded because no valid module file was found in "
        "any module directory."
    )
    assert (
        err.error_id == "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand"
    )
    install_hns_module(node)
    run(node, call("Import-Module", HNS, DisableNameChecking=True))
    (net,) = run(node, external_network())
    assert net["Name"] == "External" and net["Type"] == "Overlay"
    assert net["Subnets"] == [
        {"AddressPrefix": "192.168.255.0/30", "GatewayAddress": "192.168.255.1"}
    ]


def test_hns_validate_set_comes_from_hns_psm1(node: WindowsNode) -> None:
    install_hns_module(node)
    run(node, call("Import-Module", HNS))
    err = terminating(node, call("New-HnsNetwork", Type="Bridge"))
    assert err.error_id == "ParameterArgumentValidationError,New-HnsNetwork"


def test_hns_lifecycle(node: WindowsNode) -> None:
    install_hns_module(node)
    run(node, call("Import-Module", HNS))
    (net,) = run(node, external_network())
    (ep,) = run(
        node, call("New-HnsEndpoint", NetworkId=net["ID"], Name="Calico_ep", IPAddress="10.244.1.2")
    )
    assert ep["VirtualNetwork"] == net["ID"] and ep["IPAddress"] == "10.244.1.2"
    assert [e["Name"] for e in run(node, call("Get-HnsEndpoint"))] == ["Calico_ep"]
    run(node, [call("Get-HnsEndpoint"), call("Remove-HnsEndpoint")])
    assert run(node, call("Get-HnsEndpoint")) == []
    run(node, [call("Get-HnsNetwork"), call("Remove-HnsNetwork")])
    assert run(node, call("Get-HnsNetwork")) == []


def test_reboot_loses_non_persistent_hns_state(node: WindowsNode) -> None:
    install_hns_module(node)
    run(node, call("Import-Module", HNS), external_network(), call("Start-Service", Name="kubelet"))
    node.services["flanneld"].start_type = "Manual"
    node.reboot()
    assert run(node, call("Get-HnsNetwork")) == []
    statuses = {s["Name"]: s["Status"] for s in run(node, call("Get-Service"))}
    assert statuses["kubelet"] == "Running" and statuses["flanneld"] == "Stopped"
    err = terminating(node, external_network())  # the module must be imported again
    assert err.error_id == "CommandNotFoundException"


def test_adapters_and_addresses(node: WindowsNode) -> None:
    assert [a["Name"] for a in run(node, call("Get-NetAdapter"))] == ["Ethernet"]
    (ip,) = run(node, call("Get-NetIPAddress", AddressFamily="IPv4"))
    assert ip["IPAddress"] == "198.18.0.21" and ip["InterfaceAlias"] == "Ethernet"
    install_hns_module(node)
    run(node, call("Import-Module", HNS), external_network())
    # The first overlay network creates the vSwitch: the address moves to its vEthernet adapter.
    assert [a["Name"] for a in run(node, call("Get-NetAdapter"))] == [
        "Ethernet",
        "vEthernet (Ethernet)",
    ]
    assert run(node, call("Get-NetIPAddress"))[0]["InterfaceAlias"] == "vEthernet (Ethernet)"


def test_hyperv_cmdlets_do_not_exist_on_a_node(node: WindowsNode) -> None:
    err = terminating(node, call("Get-VM"))
    assert err.error_id == "CommandNotFoundException"
