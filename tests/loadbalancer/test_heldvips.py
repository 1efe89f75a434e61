"""The API VIP wait of the load-balancer phase: parsing `ip -o -4 address show`, returning the
VM that holds the VIP, and a clear timeout when none does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest

from aksnet.errors import OperationTimedOut
from aksnet.loadbalancer.heldvips import ApiVipHeld, HeldAddresses, parse_addresses, wait_for_vip
from aksnet.plan.facts import Fact
from aksnet.plan.runner import RunContext
from aksnet.remote.base import Completed

LISTING = """\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 198.18.0.40/24 brd 198.18.0.255 scope global eth0\\       valid_lft forever
2: eth0    inet 198.18.0.200/32 scope global eth0\\       valid_lft forever preferred_lft forever
"""


class Shell:
    """A VM whose address listing is the next of `listings` at each read (the last stays)."""

    def __init__(self, listings: Sequence[str]) -> None:
        self.listings, self.reads = list(listings), 0

    def run(self, argv: Sequence[str], **kwargs: Any) -> Completed:
        assert list(argv) == ["ip", "-o", "-4", "address", "show"]
        text = self.listings[min(self.reads, len(self.listings) - 1)]
        self.reads += 1
        return Completed(tuple(argv), 0, text.encode())

    def put(self, data: bytes, remote_path: str, *, mode: int = 0o644) -> None:
        raise AssertionError("the wait writes nothing")


class ReadingContext:
    """What wait_for_vip and ApiVipHeld need of a RunContext: facts read from the host."""

    def __init__(self, dry_run: bool = False) -> None:
        self.dry_run = dry_run

    def fact(self, host: str, fact: Fact[Any]) -> Any:
        return fact.read(host)


def context(dry_run: bool = False) -> RunContext:
    return cast(RunContext, ReadingContext(dry_run))


def test_addresses_other_than_loopback_are_parsed() -> None:
    assert parse_addresses(LISTING) == (("eth0", "198.18.0.40"), ("eth0", "198.18.0.200"))


def test_the_wait_returns_the_vm_once_it_holds_the_vip() -> None:
    without = "2: eth0    inet 198.18.0.41/24 brd 198.18.0.255 scope global eth0\n"
    first, second = Shell([without]), Shell([without, without, LISTING])
    holder = wait_for_vip(context(), [("lb-0", first), ("lb-1", second)], "198.18.0.200")
    assert holder == "lb-1"
    assert second.reads == 3 and first.reads == 3


def test_a_vip_nobody_takes_times_out_naming_the_vms_and_the_vip() -> None:
    shell = Shell(["2: eth0    inet 198.18.0.41/24 brd 198.18.0.255 scope global eth0\n"])
    with pytest.raises(OperationTimedOut) as raised:
        wait_for_vip(context(), [("lb-0", shell)], "198.18.0.200", timeout=0.3)
    assert "lb-0" in str(raised.value) and "198.18.0.200" in str(raised.value)
    assert "keepalived" in str(raised.value)
    assert shell.reads >= 2


def test_the_fact_key_is_the_same_for_every_shell() -> None:
    assert HeldAddresses(Shell([""])).key == HeldAddresses(Shell([LISTING])).key


def test_the_phase_waits_in_a_run_and_is_skipped_by_a_what_if() -> None:
    without = "2: eth0    inet 198.18.0.41/24 brd 198.18.0.255 scope global eth0\n"
    shell = Shell([without, LISTING])
    built: list[str] = []

    def vms() -> list[tuple[str, Shell]]:
        built.append("lb-0")  # the VMs' sessions are only made when the phase runs
        return [("lb-0", shell)]

    phase = ApiVipHeld(vms, "198.18.0.200")
    assert phase.prepare(context(dry_run=True)) is False and built == []
    assert phase.prepare(context()) is True
    phase.run(context())
    assert built == ["lb-0"] and shell.reads == 2
