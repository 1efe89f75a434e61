"""The module's cmdlets against the bridge's request schema, the docs and the manifest, read from
tree-sitter parse trees (no PowerShell needed)."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ElementTree

import pytest

from aksnet.bridge.request import CREDENTIAL_FIELDS, REQUEST_FIELDS
from aksnet.bridge.schema import PROTOCOL_VERSION, REQUEST_SCHEMA, CommandSchema, Param
from aksnet.lab import psparse
from aksnet.model.sizes import VM_SIZES
from aksnet.network.plugins import PLUGINS
from tests.bridge.contract import export_problems, help_problems, parameter_problems
from tests.bridge.documented import DOCUMENTED_PARAMETERS
from tests.bridge.psmodule import (
    HELPER,
    MODULE,
    Attribute,
    ScriptParameter,
    manifest_exports,
    manifest_value,
    text,
    unquote,
    walk,
)
from tests.bridge.psmodule import public_functions as read_public_functions

FUNCTIONS = read_public_functions()
SIZE_PARAMETERS = {"controlPlaneVmSize", "loadBalancerVmSize", "nodeVmSize", "vmSize"}


def test_every_covered_cmdlet_is_defined() -> None:
    assert sorted(FUNCTIONS) == sorted(DOCUMENTED_PARAMETERS)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_cmdlet_parameters_match_bridge_schema_and_docs(name: str) -> None:
    assert parameter_problems(FUNCTIONS[name], REQUEST_SCHEMA, DOCUMENTED_PARAMETERS[name]) == []


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_cmdlet_help_has_synopsis_every_parameter_and_an_example(name: str) -> None:
    assert help_problems(FUNCTIONS[name]) == []


def test_a_parameter_the_bridge_does_not_know_is_reported() -> None:
    function = FUNCTIONS["Remove-AksHciClusterNetwork"]
    extra = ScriptParameter("force", "switch", ())
    widened = dataclasses.replace(function, parameters={**function.parameters, "force": extra})
    problems = parameter_problems(widened, REQUEST_SCHEMA, ["name"])
    assert problems == [
        "Remove-AksHciClusterNetwork: -force is passed but the bridge does not know it"
    ]


def test_a_missing_documented_parameter_is_reported() -> None:
    function = FUNCTIONS["Get-AksHciClusterNetwork"]
    narrowed = dataclasses.replace(function, parameters={"name": function.parameters["name"]})
    schemas = {"Get-AksHciClusterNetwork": CommandSchema({"name": Param(("string",))})}
    problems = parameter_problems(narrowed, schemas, ["name", "clusterName"])
    assert problems == [
        "Get-AksHciClusterNetwork: documented AksHci parameter -clusterName is missing"
    ]


def test_a_type_the_bridge_refuses_is_reported() -> None:
    function = FUNCTIONS["Get-AksHciClusterNetwork"]
    schemas = {
        "Get-AksHciClusterNetwork": CommandSchema(
            {"name": Param(("integer",)), "clusterName": Param(("string",))}
        )
    }
    problems = parameter_problems(function, schemas, [])
    assert len(problems) == 1 and "-name is [string]" in problems[0]


def test_functions_to_export_equals_the_public_functions() -> None:
    files = sorted(p.stem for p in (MODULE / "Public").glob("*.ps1"))
    assert export_problems(manifest_exports(), sorted(FUNCTIONS)) == []
    assert files == sorted(FUNCTIONS)  # one file per cmdlet, named after it


def test_an_export_mismatch_is_reported() -> None:
    problems = export_problems(["Get-AksHciVmSize", "Get-Nothing"], ["Get-AksHciVmSize", "X"])
    assert problems == [
        "defined but not in FunctionsToExport: X",
        "in FunctionsToExport but not defined: Get-Nothing",
    ]


def test_manifest_fields() -> None:
    assert manifest_value("ModuleVersion") == ["0.1.0"]
    assert manifest_value("PowerShellVersion") == ["5.1"]
    assert manifest_value("CompatiblePSEditions") == ["Desktop", "Core"]
    assert manifest_value("RootModule") == ["AksNet.psm1"]
    assert manifest_value("FormatsToProcess") == ["AksNet.format.ps1xml"]
    assert {"AksHci", "Kubernetes", "PSEdition_Desktop", "PSEdition_Core"} <= set(
        manifest_value("Tags")
    )


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_should_process_exactly_on_the_mutating_cmdlets(name: str) -> None:
    function = FUNCTIONS[name]
    binding = function.cmdlet_binding
    assert binding is not None
    supports = "SupportsShouldProcess" in binding.arguments
    assert supports == REQUEST_SCHEMA[name].what_if
    high = "ConfirmImpact = 'High'" in binding.arguments
    assert high == name.startswith("Remove-")


def test_remove_takes_names_from_the_get_pipeline() -> None:
    for name in ("Get-AksHciClusterNetwork", "Remove-AksHciClusterNetwork"):
        attribute = FUNCTIONS[name].parameters["name"].attribute("Parameter")
        assert attribute is not None
        assert "ValueFromPipelineByPropertyName" in attribute.arguments


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("Get-AksHciCluster", ("name",)),
        ("Set-AksHciCluster", ("name",)),
        ("Remove-AksHciCluster", ("name",)),
        ("Get-AksHciCredential", ("name",)),
        ("Sync-AksHciLoadBalancer", ("name",)),
        ("Test-AksHciClusterNetwork", ("name",)),
        ("Repair-AksHciClusterNetwork", ("name",)),
        ("Register-AksHciRemediationTask", ("name",)),
        ("Unregister-AksHciRemediationTask", ("name",)),
        ("New-AksHciNodePool", ("clusterName",)),
        ("Get-AksHciNodePool", ("clusterName", "name")),
        ("Set-AksHciNodePool", ("clusterName", "name")),
        ("Remove-AksHciNodePool", ("clusterName", "name")),
    ],
)
def test_lifecycle_cmdlets_take_names_by_property_name(
    name: str, parameters: tuple[str, ...]
) -> None:
    for parameter in parameters:
        attribute = FUNCTIONS[name].parameters[parameter].attribute("Parameter")
        assert attribute is not None, (name, parameter)
        assert "ValueFromPipelineByPropertyName" in attribute.arguments, (name, parameter)


def test_node_pool_names_pipe_from_get_aks_hci_node_pool() -> None:
    for name in ("Get-AksHciNodePool", "Set-AksHciNodePool", "Remove-AksHciNodePool"):
        alias = FUNCTIONS[name].parameters["name"].attribute("Alias")
        assert alias is not None and list(alias.arguments) == ["NodePoolName"], name


def test_vm_size_parameters_offer_exactly_the_known_sizes() -> None:
    sizes = [s.name for s in VM_SIZES]
    checked = 0
    for function in FUNCTIONS.values():
        for parameter in function.parameters.values():
            if parameter.name in SIZE_PARAMETERS or parameter.name.endswith("NodeVmSize"):
                validate = parameter.attribute("ValidateSet")
                assert validate is not None, (function.name, parameter.name)
                assert list(validate.arguments) == sizes, (function.name, parameter.name)
                checked += 1
    # 5 in New-AksHciCluster, Set-AksHciConfig, LB setting, New/Set-AksHciNodePool,
    # Set-AksHciCluster
    assert checked == 10


def test_documented_validate_sets() -> None:
    cluster = FUNCTIONS["New-AksHciCluster"].parameters
    lb = FUNCTIONS["New-AksHciLoadBalancerSetting"].parameters

    def values(parameter: ScriptParameter) -> tuple[str, ...]:
        attribute = parameter.attribute("ValidateSet")
        assert attribute is not None
        return attribute.arguments

    assert sorted(values(cluster["primaryNetworkPlugin"])) == sorted(PLUGINS)
    assert values(cluster["osType"]) == ("Linux", "Windows")
    assert values(lb["loadBalancerSku"]) == ("HAProxy", "none")
    dns = FUNCTIONS["New-AksHciClusterNetwork"].parameters["dnsServers"]
    assert dns.attribute("ValidateCount") == Attribute("ValidateCount", ("1", "3"))


def test_format_views_cover_every_result_type() -> None:
    tree = ElementTree.parse(MODULE / "AksNet.format.ps1xml")
    selected = {node.text for node in tree.iter("TypeName")}
    expected = {
        "AksNet.Network",
        "AksNet.ClusterPlan",
        "AksNet.Plugin",
        "AksNet.VmSize",
        "AksNet.LoadBalancerSetting",
        "AksNet.Config",
        "AksNet.Cluster",
        "AksNet.NodePool",
        "AksNet.RunResult",
        "AksNet.Credential",
        "AksNet.LoadBalancerSync",
        "AksNet.ClusterNetworkReport",
        "AksNet.RemediationTask",
    }
    assert selected == expected


def test_protocol_document_lists_every_command_and_parameter() -> None:
    document = (MODULE.parents[1] / "aksnet" / "bridge_protocol.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line
        for line in document.splitlines()
        if line.startswith("| ") and "-Aks" in line.split("|")[1]
    }
    assert sorted(rows) == sorted(REQUEST_SCHEMA)
    for command, schema in REQUEST_SCHEMA.items():
        for name in schema.parameters:
            assert f" {name}" in rows[command], (command, name)


def _hash_keys(node_text: str) -> list[str]:
    root = psparse.parse(node_text).root_node
    return [text(k) for k in walk(root) if k.type == "key_expression"]


def test_the_helper_builds_requests_the_bridge_accepts() -> None:
    helper = (MODULE / "Private" / "Invoke-AksNetBridge.ps1").read_text(encoding="utf-8")
    keys = _hash_keys(helper)
    assert keys[:4] == ["protocol", "command", "parameters", "whatIf"]
    assert set(keys) == (set(REQUEST_FIELDS) - {"credential"}) | set(CREDENTIAL_FIELDS)
    assert "$request['credential']" in helper
    assert "protocol   = 1" in helper and PROTOCOL_VERSION == 1


def test_cmdlets_use_only_the_one_private_helper() -> None:
    private = (MODULE / "Private" / "Invoke-AksNetBridge.ps1").read_text(encoding="utf-8")
    root = psparse.parse(private).root_node
    defined = {
        text(n.child_by_field_name("function_name"))
        or text(next(c for c in n.children if c.type == "function_name"))
        for n in walk(root)
        if n.type == "function_statement"
    }
    assert HELPER in defined
    for path in sorted((MODULE / "Public").glob("*.ps1")):
        used = {use.name for use in psparse.extract(path.read_text(encoding="utf-8"))}
        assert used & defined == {HELPER}, path.name


def test_names_complete_with_tab() -> None:
    module = (MODULE / "AksNet.psm1").read_text(encoding="utf-8")
    registrations = [u for u in psparse.extract(module) if u.name == "Register-ArgumentCompleter"]
    assert len(registrations) == 5
    assert all(
        set(u.parameters) >= {"-CommandName", "-ParameterName", "-ScriptBlock"}
        for u in registrations
    )
    for target in (
        "'Get-AksHciClusterNetwork', 'Remove-AksHciClusterNetwork' -ParameterName 'name'",
        "'New-AksHciCluster' -ParameterName 'vnet'",
        "'Get-AksHciCluster', 'Set-AksHciCluster', 'Remove-AksHciCluster', 'Get-AksHciCredential', "
        "'Sync-AksHciLoadBalancer' -ParameterName 'name'",
        "'New-AksHciNodePool', 'Get-AksHciNodePool', 'Set-AksHciNodePool', "
        "'Remove-AksHciNodePool' -ParameterName 'clusterName'",
        "'Get-AksHciNodePool', 'Set-AksHciNodePool', 'Remove-AksHciNodePool' -ParameterName 'name'",
    ):
        assert target in module


def test_aliases_to_export_are_the_module_aliases_and_name_public_functions() -> None:
    """Get-/Remove-AksHciNetworkSetting (issue 6's names) are aliases of the cluster-network
    cmdlets: the manifest exports exactly the aliases the module defines, each of a cmdlet
    the module exports."""
    root = psparse.parse((MODULE / "AksNet.psm1").read_text(encoding="utf-8")).root_node
    aliases: dict[str, str] = {}
    for command in (n for n in walk(root) if n.type == "command"):
        words = [unquote(text(c)) for c in walk(command) if c.type == "string_literal"]
        if text(command.child_by_field_name("command_name")) == "New-Alias":
            aliases[words[0]] = words[1]
    assert sorted(aliases) == sorted(manifest_value("AliasesToExport"))
    assert set(aliases) == {"Get-AksHciNetworkSetting", "Remove-AksHciNetworkSetting"}
    assert set(aliases.values()) <= set(manifest_exports())
