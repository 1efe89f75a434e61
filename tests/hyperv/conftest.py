"""Fixtures for the emulated Hyper-V host and Windows node tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from aksnet.lab.backend import CommandCall, PSError
from aksnet.lab.hyperv import FailoverCluster, HyperVHost, HyperVMachine, VMEvent, WindowsNode

GB = 1024**3


def call(name: str, *positional: Any, **named: Any) -> CommandCall:
    """A CommandCall as psrpcore delivers it: positional values have name None."""
    params = tuple((None, v) for v in positional) + tuple(named.items())
    return CommandCall(name, params)


def run(
    machine: Any, *statements: Sequence[CommandCall] | CommandCall, input: Sequence[Any] = ()
) -> list[Any]:
    pipelines = [[s] if isinstance(s, CommandCall) else list(s) for s in statements]
    result: list[Any] = machine.invoke(pipelines, input)
    return result


def terminating(machine: Any, *statements: Sequence[CommandCall] | CommandCall) -> PSError:
    with pytest.raises(PSError) as info:
        run(machine, *statements)
    assert info.value.terminating
    return info.value


def errors_in(result: list[Any]) -> list[PSError]:
    return [r for r in result if isinstance(r, PSError)]


class Hooks:
    def __init__(self) -> None:
        self.started: list[VMEvent] = []
        self.stopped: list[VMEvent] = []


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
def cluster() -> FailoverCluster:
    return FailoverCluster("hcicluster")


@pytest.fixture
def host(tmp_path: Path, hooks: Hooks, cluster: FailoverCluster) -> HyperVHost:
    return HyperVHost(
        "hv1",
        tmp_path / "hv1",
        memory_bytes=8 * GB,
        logical_processors=8,
        storage_bytes=100 * GB,
        on_vm_start=hooks.started.append,
        on_vm_stop=hooks.stopped.append,
        cluster=cluster,
    )


@pytest.fixture
def hv(host: HyperVHost) -> HyperVMachine:
    machine = HyperVMachine(host)
    run(machine, call("New-VMSwitch", Name="lab", SwitchType="Internal"))
    return machine


@pytest.fixture
def node(tmp_path: Path) -> WindowsNode:
    return WindowsNode("win1", tmp_path / "win1", ip_address="198.18.0.21")
