"""The critical path arithmetic of benchmarks.critical, on hand-made counts."""

from __future__ import annotations

import time

import pytest

from benchmarks.critical import Latencies, Segment, critical_path, segment_cost
from benchmarks.labrig import MachineCpu

L = Latencies(psrp=0.1, ssh=0.2, boot=3.0)


def test_a_host_segment_costs_its_busiest_host_over_its_lanes() -> None:
    segment = Segment("Provision VMs", host_requests={"hci1": 40, "hci2": 10})
    # hci1: 40 requests x 0.1 s over 2 lanes = 2 s; hci2 over 1 lane = 1 s.
    assert segment_cost(segment, L, host_lanes={"hci1": 2, "hci2": 1}, limit=8) == pytest.approx(2)


def test_a_node_costs_its_ssh_round_trips_and_its_own_wsman_requests() -> None:
    segment = Segment(
        "Join Windows nodes",
        node_requests={"win-0": 10},
        ssh_round_trips={"cp-0": 3, "win-0": 1},
    )
    # win-0: 10 x 0.1 + 1 x 0.2 = 1.2 s; cp-0: 0.6 s.
    assert segment_cost(segment, L, host_lanes={}, limit=8) == pytest.approx(1.2)


def test_the_global_limit_bounds_many_equal_units() -> None:
    segment = Segment("Set up Linux nodes", ssh_round_trips={f"n{i}": 10 for i in range(16)})
    # each node 2 s; 16 nodes x 2 s over 8 parallel workers = 4 s.
    assert segment_cost(segment, L, host_lanes={}, limit=8) == pytest.approx(4)


def test_the_path_sums_segments_and_adds_the_boots() -> None:
    segments = [
        Segment("a", ssh_round_trips={"n": 5}),  # 1 s
        Segment("b", host_requests={"hci1": 5}),  # 0.5 s
    ]
    assert critical_path(segments, L, host_lanes={"hci1": 1}, limit=8) == pytest.approx(4.5)
    assert critical_path([], L, host_lanes={}, limit=8, boots=0) == 0


def test_latencies_are_checked() -> None:
    with pytest.raises(ValueError, match="latency ssh"):
        Latencies(psrp=0, ssh=-1, boot=0).check()


def test_machine_cpu_counts_busy_time_of_the_block() -> None:
    with MachineCpu() as cpu:
        deadline = time.process_time() + 0.3
        while time.process_time() < deadline:  # burn 0.3 s of this process's CPU
            pass
    assert cpu.aksnet_s >= 0.29
    assert cpu.busy_s >= 0.25  # the machine was busy at least while this process was
    assert cpu.floor_s == round(cpu.busy_s / cpu.cores, 2)
