"""`aksnet loadbalancer sync`: what it refuses before reaching any host (tests in this folder
run the sync itself on a lab cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aksnet import api, cli
from aksnet.model.network import network_setting
from aksnet.state.store import Store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "aksnet.db"
    with Store(path) as store:
        store.add_network(
            network_setting(
                name="net1",
                vswitch_name="sw",
                vip_pool_start="198.18.5.200",
                vip_pool_end="198.18.5.204",
            )
        )
        store.add_cluster(api.new_cluster_spec(name="c1", vnet="net1"))
    return path


def test_an_unknown_cluster_exits_3(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["loadbalancer", "sync", "--store", str(store_path), "--name", "c9"])
    assert code == 3
    assert "c9" in capsys.readouterr().err


def test_what_if_with_watch_is_refused_naming_the_flag(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["loadbalancer", "sync", "--store", str(store_path), "--name", "c1"]
    code = cli.main([*argv, "--what-if", "--watch"])
    assert code == 2
    assert "(--watch)" in capsys.readouterr().err


def test_a_cluster_not_created_yet_is_a_state_conflict(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["loadbalancer", "sync", "--store", str(store_path), "--name", "c1"])
    assert code == 4
    assert "No address is known for c1-cp-0" in capsys.readouterr().err
