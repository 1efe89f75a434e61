"""The critical path of a cluster create, computed from the injected latencies and the counts
measured during the run (no wall clock in it).

The run is cut into segments: each phase, and "Set up Linux nodes" further at the first control
plane's `kubeadm init` (the prepares, the init, the joins: each waits for the one before).
Within a segment the work of different units overlaps, so its cost is that of its slowest unit:
  - a Hyper-V host: its WSMan requests x the PSRP latency, over min(per_host, its VMs) lanes;
  - a node: its SSH round trips x the SSH latency + its WSMan requests (a Windows node) x the
    PSRP latency;
and never less than all of the segment's latency over the run's global limit of parallel work.
The provision phase adds one boot delay (the VMs boot while others are made; the last one made
still has to boot). The critical path is the sum over segments: the wall time an orchestrator
with no cost of its own, under the same concurrency limits, would need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Latencies:
    psrp: float  # per WSMan request (HTTP), every server of the lab
    ssh: float  # per SSH round trip (the relay's turns)
    boot: float  # from Start-VM until the guest answers

    def check(self) -> None:
        for name, value in (("psrp", self.psrp), ("ssh", self.ssh), ("boot", self.boot)):
            if not 0 <= value < 600:
                raise ValueError(f"latency {name} must be from 0 to 600 seconds, got {value!r}")


@dataclass
class Segment:
    """What one stretch of the run did: counts per unit, all deltas over the segment."""

    title: str
    host_requests: dict[str, int] = field(default_factory=dict)  # Hyper-V host -> requests
    node_requests: dict[str, int] = field(default_factory=dict)  # Windows node -> requests
    ssh_round_trips: dict[str, int] = field(default_factory=dict)  # node -> round trips
    wall_s: float = 0.0


def segment_cost(
    segment: Segment,
    latencies: Latencies,
    *,
    host_lanes: Mapping[str, int],
    limit: int,
) -> float:
    host_costs = [
        count * latencies.psrp / max(1, host_lanes.get(host, 1))
        for host, count in segment.host_requests.items()
    ]
    nodes = set(segment.node_requests) | set(segment.ssh_round_trips)
    node_costs = [
        segment.node_requests.get(n, 0) * latencies.psrp
        + segment.ssh_round_trips.get(n, 0) * latencies.ssh
        for n in nodes
    ]
    total = sum(
        c * host_lanes.get(h, 1) for c, h in zip(host_costs, segment.host_requests, strict=True)
    )
    total += sum(node_costs)
    slowest = max([*host_costs, *node_costs], default=0.0)
    return max(slowest, total / limit)


def critical_path(
    segments: Sequence[Segment],
    latencies: Latencies,
    *,
    host_lanes: Mapping[str, int],
    limit: int,
    boots: int = 1,
) -> float:
    """Seconds: the sum of the segments' costs plus `boots` boot delays."""
    cost = sum(segment_cost(s, latencies, host_lanes=host_lanes, limit=limit) for s in segments)
    return cost + boots * latencies.boot
