"""HNS (Host Networking Service) state of an emulated Windows node: networks and endpoints."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aksnet.lab.hyperv.objects import LabObject


@dataclass
class HnsNetwork:
    name: str
    type: str
    subnets: list[dict[str, Any]]
    adapter_name: str | None = None
    # Networks created at run time do not survive a reboot on Windows Server 2019+ (flanneld
    # asks for EnableNonPersistent explicitly); the scripts recreate them after each boot.
    persistent: bool = False
    id: str = field(default_factory=lambda: str(uuid.uuid4()).upper())

    def to_object(self, management_ip: str) -> LabObject:
        return LabObject(
            "HnsNetwork",
            ID=self.id,
            Name=self.name,
            Type=self.type,
            Subnets=self.subnets,
            NetworkAdapterName=self.adapter_name,
            ManagementIP=management_ip,
        )


@dataclass
class HnsEndpoint:
    name: str | None
    network_id: str
    ip_address: str | None
    mac_address: str | None
    gateway: str | None
    policies: list[dict[str, Any]]
    id: str = field(default_factory=lambda: str(uuid.uuid4()).upper())

    def to_object(self) -> LabObject:
        return LabObject(
            "HnsEndpoint",
            ID=self.id,
            Name=self.name,
            VirtualNetwork=self.network_id,
            IPAddress=self.ip_address,
            MacAddress=self.mac_address,
            GatewayAddress=self.gateway,
            Policies=self.policies,
        )


def network_from_parameters(values: dict[str, Any]) -> HnsNetwork:
    """What hns.psm1 New-HnsNetwork builds: from -JsonString, or from -Type/-Name/...

    Subnets are attached only when both -AddressPrefix and -Gateway are given, as the function
    does."""
    if values.get("JsonString"):
        doc = json.loads(str(values["JsonString"]))
        return HnsNetwork(
            name=str(doc.get("Name", "")),
            type=str(doc.get("Type", "")),
            subnets=list(doc.get("Subnets", [])),
            adapter_name=doc.get("NetworkAdapterName"),
        )
    subnets: list[dict[str, Any]] = []
    if values.get("AddressPrefix") and values.get("Gateway"):
        subnets.append(
            {"AddressPrefix": values["AddressPrefix"], "GatewayAddress": values["Gateway"]}
        )
    return HnsNetwork(
        name=str(values.get("Name", "")),
        type=str(values.get("Type", "")),
        subnets=subnets,
        adapter_name=values.get("AdapterName"),
    )
