"""The names of a cluster's VMs as create names them (aksnet.infra.provision), by kind."""

from __future__ import annotations

from dataclasses import dataclass

from aksnet.infra.placement import LOAD_BALANCER
from aksnet.infra.vmnames import vm_names
from aksnet.model.cluster import ClusterSpec


@dataclass(frozen=True)
class VmNames:
    """The cluster's VMs as create names them: Linux nodes (control planes first),
    load-balancer VMs and Windows nodes."""

    linux: list[str]
    load_balancers: list[str]
    windows: list[str]

    @classmethod
    def of(cls, spec: ClusterSpec) -> VmNames:
        named = [(n, role, os_type) for n, role, _size, os_type in vm_names(spec)]
        return cls(
            [n for n, role, os_type in named if os_type != "Windows" and role != LOAD_BALANCER],
            [n for n, role, _os in named if role == LOAD_BALANCER],
            [n for n, _role, os_type in named if os_type == "Windows"],
        )

    @property
    def all(self) -> list[str]:
        return [*self.linux, *self.load_balancers, *self.windows]
