"""The boot polls' pauses: small first, doubling, then capped."""

from __future__ import annotations

from itertools import islice

from aksnet.infra.provision import poll_delays


def test_the_pauses_start_small_double_and_stay_at_the_cap() -> None:
    assert list(islice(poll_delays(cap=0.5), 6)) == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
    assert list(islice(poll_delays(first=0.25, cap=1.0), 4)) == [0.25, 0.5, 1.0, 1.0]
