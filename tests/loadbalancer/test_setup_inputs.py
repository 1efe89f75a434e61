"""LoadBalancerSetup refuses bad input while it is built, before any VM is touched."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from aksnet.errors import InvalidInput
from aksnet.loadbalancer.frontends import Backend, Frontend
from aksnet.loadbalancer.setup import LoadBalancerSetup, LoadBalancerVm
from aksnet.remote.base import Completed


class UntouchableShell:
    """A shell that fails the test when anything is sent through it."""

    def run(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> Completed:
        raise AssertionError(f"a VM was touched: {list(argv)}")

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        raise AssertionError(f"a VM was touched: put {remote_path}")


API = Frontend("api-server", "198.18.0.200", 6443, (Backend("c1-cp-0", "198.18.0.10", 6443),))


def vm(name: str = "c1-lb-0", address: str = "198.18.0.20") -> LoadBalancerVm:
    return LoadBalancerVm(name, address, UntouchableShell())


def test_a_bad_frontend_is_refused_before_any_vm_is_touched() -> None:
    bad = Frontend("svc;rm -rf /", "198.18.0.201", 80, ())
    with pytest.raises(InvalidInput) as raised:
        LoadBalancerSetup([vm()], [API, bad], cluster="c1", api_vip="198.18.0.200")
    assert raised.value.parameter == "frontend.name"


def test_duplicate_vm_names_are_refused() -> None:
    with pytest.raises(InvalidInput, match="must be unique"):
        LoadBalancerSetup([vm(), vm()], [API], cluster="c1", api_vip="198.18.0.200")


def test_a_bad_interface_or_cluster_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        LoadBalancerSetup([vm()], [API], cluster="c1", api_vip="198.18.0.200", interface="e 0")
    assert raised.value.parameter == "interface"
    with pytest.raises(InvalidInput) as raised:
        LoadBalancerSetup([vm()], [API], cluster="C_1", api_vip="198.18.0.200")
    assert raised.value.parameter == "name"


def test_each_vm_gets_its_own_keepalived_priority_and_unicast_peers() -> None:
    vms = [vm("c1-lb-0", "198.18.0.20"), vm("c1-lb-1", "198.18.0.21")]
    setup = LoadBalancerSetup(vms, [API], cluster="c1", api_vip="198.18.0.200", unicast=True)
    first, second = setup.keepalived_confs
    assert "priority 150" in first and "unicast_src_ip 198.18.0.20" in first
    assert "priority 149" in second and "        198.18.0.20\n" in second
    assert "backend api-server" in setup.haproxy_cfg


def test_no_frontend_at_all_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        LoadBalancerSetup([vm()], [], cluster="c1", api_vip="198.18.0.200")
    assert raised.value.parameter == "frontends"
