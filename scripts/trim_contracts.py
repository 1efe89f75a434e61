"""Regenerate aksnet/data/cmdlet_contracts.json: the cmdlet contracts the lab answers.

Input: ../shared/reference/cmdlet-contracts.json (parsed from Microsoft's platyPS help) plus the
contracts written below by hand from their cited sources: five PowerShell 5.1 cmdlets the reference
lacks, and two functions of microsoft/SDN hns.psm1 (functions, not documented cmdlets).

Usage: python scripts/trim_contracts.py [REFERENCE_JSON] [OUTPUT_JSON]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_REFERENCE = HERE.parent.parent / "shared" / "reference" / "cmdlet-contracts.json"
DEFAULT_OUTPUT = HERE.parent / "aksnet" / "data" / "cmdlet_contracts.json"

# Reference cmdlets the lab does not answer (ScheduledTasks, Test-NetConnection...) are dropped.
LAB_CMDLETS = (
    "Get-VM",
    "New-VM",
    "Set-VM",
    "Start-VM",
    "Stop-VM",
    "Remove-VM",
    "Get-VMHost",
    "Get-VMSwitch",
    "New-VMSwitch",
    "New-VHD",
    "Get-VHD",
    "Add-VMHardDiskDrive",
    "Set-VMProcessor",
    "Set-VMMemory",
    "Get-VMNetworkAdapter",
    "Add-VMNetworkAdapter",
    "Set-VMNetworkAdapter",
    "Set-VMNetworkAdapterVlan",
    "Get-VMNetworkAdapterVlan",
    "Connect-VMNetworkAdapter",
    "Disconnect-VMNetworkAdapter",
    "Add-VMDvdDrive",
    "Set-VMDvdDrive",
    "Get-VMDvdDrive",
    "Set-VMFirmware",
    "Get-VMFirmware",
    "Get-Cluster",
    "Get-ClusterNode",
    "Add-ClusterVirtualMachineRole",
    "Get-ClusterGroup",
    "Remove-ClusterGroup",
    "Get-NetAdapter",
    "Get-NetIPAddress",
    "Get-NetFirewallRule",
    "New-NetFirewallRule",
    "Get-HnsEndpoint",
    "Get-HnsNetwork",
    "Remove-HnsEndpoint",
    "Remove-HnsNetwork",
    "Test-Path",
    "New-Item",
    "Remove-Item",
    "Copy-Item",
    "Get-Item",
    "Get-Content",
    "Set-Content",
    "Get-Service",
    "Start-Service",
    "Restart-Service",
)

PARAM_KEYS = ("type", "aliases", "accepted_values", "switch")
SET_KEYS = ("required", "position", "by_value", "by_property_name")
SET_KEYS_OF_SETS = ("parameters", "mandatory", "positional_order")

PS_DOCS = "MicrosoftDocs/PowerShell-Docs"
SDN = "microsoft/SDN"
HNS_COMMIT = "48b403efa770cec7495722c270557480d9d7277a"
COMMON_ALL = "(All)"


def _p(
    type_: str,
    sets: dict[str, tuple[bool, int | None, str]],
    aliases: tuple[str, ...] = (),
    accepted: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One hand-written parameter: sets maps set -> (required, position, pipeline: ''|V|P|VP)."""
    return {
        "type": type_,
        "aliases": list(aliases),
        "accepted_values": list(accepted),
        "switch": type_ == "System.Management.Automation.SwitchParameter",
        "dynamic_provider": None,
        "sets": {
            s: {
                "required": r,
                "position": pos,
                "by_value": "V" in pl,
                "by_property_name": "P" in pl,
            }
            for s, (r, pos, pl) in sets.items()
        },
    }


def _all(
    sets: tuple[str, ...], required: bool = False, pos: int | None = None, pl: str = ""
) -> Any:
    return {s: (required, pos, pl) for s in sets}


SW = "System.Management.Automation.SwitchParameter"
STR = "System.String"
STRS = "System.String[]"
ENCODINGS = (
    "ASCII",
    "BigEndianUnicode",
    "BigEndianUTF32",
    "Byte",
    "Default",
    "OEM",
    "String",
    "Unicode",
    "Unknown",
    "UTF7",
    "UTF8",
    "UTF32",
)


def _add_content() -> dict[str, Any]:
    sets = ("Path", "LiteralPath")
    return {
        "module": "Microsoft.PowerShell.Management",
        "repo": PS_DOCS,
        "commit": "c066d2819fd6da69cab9a23c69643056e85cf885",
        "doc_path": "reference/5.1/Microsoft.PowerShell.Management/Add-Content.md",
        "default_parameter_set": "Path",
        "supports_should_process": True,
        "parameters": {
            "Path": _p(STRS, {"Path": (True, 0, "P")}),
            "LiteralPath": _p(STRS, {"LiteralPath": (True, None, "P")}, ("PSPath",)),
            "Value": _p("System.Object[]", _all(sets, True, 1, "VP")),
            "PassThru": _p(SW, _all(sets)),
            "Filter": _p(STR, _all(sets)),
            "Include": _p(STRS, _all(sets)),
            "Exclude": _p(STRS, _all(sets)),
            "Force": _p(SW, _all(sets)),
            "Credential": _p("System.Management.Automation.PSCredential", _all(sets, pl="P")),
            "UseTransaction": _p(SW, _all(sets), ("usetx",)),
            "NoNewline": _p(SW, _all(sets)),
            "Encoding": _p(
                "Microsoft.PowerShell.Commands.FileSystemCmdletProviderEncoding",
                _all(sets),
                accepted=tuple(ENCODINGS),
            ),
            "Stream": _p(STR, _all(sets)),
            "WhatIf": _p(SW, _all(sets), ("wi",)),
            "Confirm": _p(SW, _all(sets), ("cf",)),
        },
    }


def _filesystem_dynamic(entry: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Mark parameters the docs call dynamic parameters of the FileSystem provider."""
    for name in names:
        entry["parameters"][name]["dynamic_provider"] = "FileSystem"
    return entry


def _get_filehash() -> dict[str, Any]:
    sets = ("Path", "LiteralPath", "Stream")
    algorithms = ("SHA1", "SHA256", "SHA384", "SHA512", "MACTripleDES", "MD5", "RIPEMD160")
    return {
        # Windows PowerShell 5.1 ships Get-FileHash as a script function of the Utility module
        # (Microsoft.PowerShell.Utility.psm1), so its errors name the function, not a class.
        "kind": "function",
        "module": "Microsoft.PowerShell.Utility",
        "repo": PS_DOCS,
        "commit": "eeb78c230296dc27eed9836b1bf74dceaa6a3403",
        "doc_path": "reference/5.1/Microsoft.PowerShell.Utility/Get-FileHash.md",
        "default_parameter_set": "Path",
        "supports_should_process": False,
        "parameters": {
            "Path": _p(STRS, {"Path": (True, 0, "")}),
            "LiteralPath": _p(STRS, {"LiteralPath": (True, None, "P")}, ("PSPath",)),
            "InputStream": _p("System.IO.Stream", {"Stream": (True, None, "")}),
            "Algorithm": _p(STR, _all(sets), accepted=algorithms),
        },
    }


def _move_item() -> dict[str, Any]:
    sets = ("Path", "LiteralPath")
    return {
        "module": "Microsoft.PowerShell.Management",
        "repo": PS_DOCS,
        "commit": "e8ead8cca6a3b10ed2cd6f82651c6883d81b507b",
        "doc_path": "reference/5.1/Microsoft.PowerShell.Management/Move-Item.md",
        "default_parameter_set": "Path",
        "supports_should_process": True,
        "parameters": {
            "Path": _p(STRS, {"Path": (True, 0, "VP")}),
            "LiteralPath": _p(STRS, {"LiteralPath": (True, None, "P")}, ("PSPath",)),
            "Destination": _p(STR, _all(sets, False, 1, "P")),
            "Force": _p(SW, _all(sets)),
            "Filter": _p(STR, _all(sets)),
            "Include": _p(STRS, _all(sets)),
            "Exclude": _p(STRS, _all(sets)),
            "PassThru": _p(SW, _all(sets)),
            "Credential": _p("System.Management.Automation.PSCredential", _all(sets, pl="P")),
            "UseTransaction": _p(SW, _all(sets), ("usetx",)),
            "WhatIf": _p(SW, _all(sets), ("wi",)),
            "Confirm": _p(SW, _all(sets), ("cf",)),
        },
    }


def _import_module() -> dict[str, Any]:
    # Only the Name set and the parameters every set shares; the PSSession/CimSession/Assembly/
    # ModuleInfo/FullyQualifiedName sets import from places the lab does not have.
    sets = ("Name",)
    return {
        "module": "Microsoft.PowerShell.Core",
        "repo": PS_DOCS,
        "commit": "8452be80d93960c7484cc81282f75a2c158b3b20",
        "doc_path": "reference/5.1/Microsoft.PowerShell.Core/Import-Module.md",
        "default_parameter_set": "Name",
        "supports_should_process": False,
        "note": "Name set only (the other sets of the 5.1 page are not emulated).",
        "parameters": {
            "Name": _p(STRS, {"Name": (True, 0, "V")}),
            "Global": _p(SW, _all(sets)),
            "Prefix": _p(STR, _all(sets)),
            "Function": _p(STRS, _all(sets)),
            "Cmdlet": _p(STRS, _all(sets)),
            "Variable": _p(STRS, _all(sets)),
            "Alias": _p(STRS, _all(sets)),
            "Force": _p(SW, _all(sets)),
            "PassThru": _p(SW, _all(sets)),
            "AsCustomObject": _p(SW, _all(sets)),
            "MinimumVersion": _p("System.Version", _all(sets), ("Version",)),
            "MaximumVersion": _p(STR, _all(sets)),
            "RequiredVersion": _p("System.Version", _all(sets)),
            "ArgumentList": _p("System.Object[]", _all(sets), ("Args",)),
            "DisableNameChecking": _p(SW, _all(sets)),
            "NoClobber": _p(SW, _all(sets), ("NoOverwrite",)),
            "Scope": _p(STR, _all(sets), accepted=("Local", "Global")),
        },
    }


def _hns_function(params: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "function",
        "module": "hns",
        "repo": SDN,
        "commit": HNS_COMMIT,
        "doc_path": "Kubernetes/windows/hns.psm1",
        "default_parameter_set": "__AllParameterSets",
        "supports_should_process": False,
        "note": "A script function of hns.psm1, not a documented cmdlet. [parameter()] makes it an "
        "advanced function, so the common parameters apply.",
        "parameters": params,
    }


def _new_hns_network() -> dict[str, Any]:
    one = "__AllParameterSets"
    types = [
        "ICS",
        "Internal",
        "Transparent",
        "NAT",
        "Overlay",
        "L2Bridge",
        "L2Tunnel",
        "Layered",
        "Private",
    ]
    return _hns_function(
        {
            "JsonString": _p(STR, {one: (False, 0, "")}),
            "Type": _p(STR, {one: (False, 0, "")}, accepted=tuple(types)),
            "Name": _p(STR, {one: (False, None, "")}),
            "AddressPrefix": _p(STR, {one: (False, None, "")}),
            "Gateway": _p(STR, {one: (False, None, "")}),
            "DNSServer": _p(STR, {one: (False, None, "")}),
            "AdapterName": _p(STR, {one: (False, None, "")}),
        }
    )


def _new_hns_endpoint() -> dict[str, Any]:
    one = "__AllParameterSets"
    return _hns_function(
        {
            "JsonString": _p(STR, {one: (False, 0, "")}),
            "NetworkId": _p("System.Guid", {one: (False, 0, "")}),
            "Name": _p(STR, {one: (False, None, "")}),
            "IPAddress": _p(STR, {one: (False, None, "")}),
            "Gateway": _p(STR, {one: (False, None, "")}),
            "MacAddress": _p(STR, {one: (False, None, "")}),
            "EnableOutboundNat": _p(SW, {one: (False, None, "")}),
        }
    )


def _start_process() -> dict[str, Any]:
    # The reference lacks Start-Process; its 5.1 page lists the Default and UseShellExecute sets.
    sets = ("Default", "UseShellExecute")
    default = ("Default",)
    return {
        "module": "Microsoft.PowerShell.Management",
        "repo": PS_DOCS,
        "commit": "7231c76422715cd1f6f93afb3f20e9df308d9503",
        "doc_path": "reference/5.1/Microsoft.PowerShell.Management/Start-Process.md",
        "default_parameter_set": "Default",
        "supports_should_process": False,
        "parameters": {
            "FilePath": _p(STR, _all(sets, True, 0), ("PSPath",)),
            "ArgumentList": _p(STRS, _all(sets, False, 1), ("Args",)),
            "Credential": _p(
                "System.Management.Automation.PSCredential", _all(default), ("RunAs",)
            ),
            "WorkingDirectory": _p(STR, _all(sets)),
            "LoadUserProfile": _p(SW, _all(default), ("Lup",)),
            "NoNewWindow": _p(SW, _all(default), ("nnw",)),
            "PassThru": _p(SW, _all(sets)),
            "RedirectStandardError": _p(STR, _all(default), ("RSE",)),
            "RedirectStandardInput": _p(STR, _all(default), ("RSI",)),
            "RedirectStandardOutput": _p(STR, _all(default), ("RSO",)),
            "Verb": _p(STR, _all(("UseShellExecute",))),
            "WindowStyle": _p(
                "System.Diagnostics.ProcessWindowStyle",
                _all(sets),
                accepted=("Normal", "Hidden", "Minimized", "Maximized"),
            ),
            "Wait": _p(SW, _all(sets)),
            "UseNewEnvironment": _p(SW, _all(default)),
        },
    }


EXTRA = {
    "Add-Content": lambda: _filesystem_dynamic(_add_content(), ("Encoding", "Stream")),
    "Get-FileHash": _get_filehash,
    "Move-Item": _move_item,
    "Import-Module": _import_module,
    "New-HnsNetwork": _new_hns_network,
    "New-HnsEndpoint": _new_hns_endpoint,
    "Start-Process": _start_process,
}


def _sets_from_parameters(params: dict[str, Any], default: str) -> dict[str, Any]:
    """Parameter sets (members, mandatory, positional order) derived from the parameters."""
    names: list[str] = []
    for p in params.values():
        names += [s for s in p["sets"] if s not in names]
    out: dict[str, Any] = {}
    for s in names:
        members = sorted(n for n, p in params.items() if s in p["sets"])
        positional = [(params[n]["sets"][s]["position"], n) for n in members]
        out[s] = {
            "is_default": s == default,
            "parameters": members,
            "mandatory": sorted(n for n in members if params[n]["sets"][s]["required"]),
            "positional_order": [n for pos, n in sorted(p for p in positional if p[0] is not None)],
        }
    return out


def trim_cmdlet(ref: dict[str, Any], commits: dict[str, str]) -> dict[str, Any]:
    """The fields the lab binder needs from one reference cmdlet entry."""
    # Provider-dynamic parameters exist only on that provider's drives; the lab's paths are all
    # FileSystem paths, so the WSMan/Certificate/Alias ones (New-Item -ConnectionURI...) are out.
    params = {
        name: {
            **{k: p[k] for k in PARAM_KEYS},
            "dynamic_provider": p["dynamic_provider"],
            "sets": {s: {k: v[k] for k in SET_KEYS} for s, v in p["sets"].items()},
        }
        for name, p in ref["parameters"].items()
        if p["dynamic_provider"] in (None, "FileSystem")
    }
    sets = {
        name: {
            "is_default": s["is_default"],
            **{k: [n for n in s[k] if n in params] for k in SET_KEYS_OF_SETS},
        }
        for name, s in ref["parameter_sets"].items()
    }
    return {
        "kind": "cmdlet",
        "module": ref["module"],
        "repo": ref["repo"],
        "commit": commits[ref["repo"]],
        "doc_path": ref["doc_path"],
        "default_parameter_set": ref["default_parameter_set"],
        "common_parameters": ref["common_parameters"],
        "supports_should_process": ref["supports_should_process"],
        "parameter_sets": sets,
        "parameters": params,
    }


def build_extra(name: str) -> dict[str, Any]:
    """One hand-written contract in the trimmed format."""
    raw = EXTRA[name]()
    entry: dict[str, Any] = {"kind": raw.pop("kind", "cmdlet"), **raw, "common_parameters": True}
    entry["parameter_sets"] = _sets_from_parameters(raw["parameters"], raw["default_parameter_set"])
    return entry


def trim(reference: dict[str, Any]) -> dict[str, Any]:
    """The whole lab contract file from the reference document."""
    commits = {reference["source"]["repo"]: reference["source"]["commit"]}
    commits.update({s["repo"]: s["commit"] for s in reference["additional_sources"]})
    cmdlets = {n: trim_cmdlet(reference["cmdlets"][n], commits) for n in LAB_CMDLETS}
    cmdlets.update({n: build_extra(n) for n in EXTRA})
    common = reference["common_parameter_definitions"]
    return {
        "generated_by": "scripts/trim_contracts.py",
        "sources": [reference["source"], *reference["additional_sources"]],
        "common_parameters": {
            n: {k: p[k] for k in PARAM_KEYS}
            for n, p in common["parameters"].items()
            if p["group"] == "common"  # WhatIf/Confirm only where a cmdlet lists them itself
        },
        "cmdlets": dict(sorted(cmdlets.items())),
    }


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_REFERENCE
    dst = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    data = trim(json.loads(src.read_text(encoding="utf-8")))
    dst.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {len(data['cmdlets'])} contracts to {dst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
