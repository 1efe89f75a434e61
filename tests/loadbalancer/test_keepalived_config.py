"""keepalived.conf rendering: the VRRP instance, priorities, the router id, refusals, and the real
`keepalived -t`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aksnet.errors import InvalidInput
from aksnet.loadbalancer.keepalived import render_keepalived_config, virtual_router_id

needs_keepalived = pytest.mark.skipif(
    shutil.which("keepalived") is None, reason="keepalived missing (apt-get install keepalived)"
)
VIPS = ["198.18.0.202", "198.18.0.201", "198.18.0.202", "198.18.0.200"]


def config(**changes: object) -> str:
    arguments: dict[str, object] = {
        "cluster": "c1",
        "interface": "eth0",
        "api_vip": "198.18.0.200",
        "service_vips": VIPS,
    }
    arguments.update(changes)
    return render_keepalived_config(**arguments)  # type: ignore[arg-type]


def lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_one_instance_holds_every_vip_and_tracks_haproxy() -> None:
    found = lines(config())
    assert "vrrp_instance aksnet_c1 {" in found
    assert f"virtual_router_id {virtual_router_id('c1')}" in found
    api = found.index("virtual_ipaddress {")
    assert found[api + 1 : api + 3] == ["198.18.0.200/32 dev eth0", "}"]
    services = found.index("virtual_ipaddress_excluded {")
    assert found[services + 1 : services + 4] == [
        "198.18.0.201/32 dev eth0",
        "198.18.0.202/32 dev eth0",
        "}",
    ]
    assert 'script "/usr/bin/pgrep -F /run/haproxy.pid -x haproxy"' in found
    assert found[found.index("track_script {") + 1] == "haproxy_alive"
    assert not any(ln.startswith(("authentication", "auth_pass")) for ln in found)


def test_the_first_vm_is_master_and_priorities_fall_by_index() -> None:
    first, second = lines(config(index=0)), lines(config(index=1))
    assert "state MASTER" in first and "priority 150" in first
    assert "state BACKUP" in second and "priority 149" in second
    assert "unicast_peer {" not in first


def test_unicast_lists_the_peers() -> None:
    found = lines(config(index=1, address="198.18.0.11", peers=["198.18.0.10", "198.18.0.12"]))
    assert "unicast_src_ip 198.18.0.11" in found
    start = found.index("unicast_peer {")
    assert found[start + 1 : start + 4] == ["198.18.0.10", "198.18.0.12", "}"]


def test_router_id_is_stable_per_cluster_and_in_range() -> None:
    ids = {name: virtual_router_id(name) for name in ("c1", "c2", "prod", "x" * 32)}
    assert all(1 <= i <= 255 for i in ids.values())
    assert ids == {name: virtual_router_id(name) for name in ids}
    assert len(set(ids.values())) > 1
    assert "virtual_router_id 7" in lines(config(router_id=7))


def test_same_input_renders_byte_identical_output() -> None:
    assert config() == config(service_vips=list(reversed(VIPS)))


@pytest.mark.parametrize(
    ("changes", "parameter"),
    [
        ({"cluster": "C-1"}, "name"),
        ({"interface": "eth0 dev lo"}, "interface"),
        ({"interface": "a" * 16}, "interface"),
        ({"api_vip": "198.18.0.256"}, "api_vip"),
        ({"service_vips": ["198.18.0.1\n}"]}, "service_vips"),
        ({"index": 100}, "index"),
        ({"index": -1}, "index"),
        ({"router_id": 0}, "router_id"),
        ({"router_id": 256}, "router_id"),
        ({"peers": ["198.18.0.10"]}, "address"),
        ({"peers": ["x"], "address": "198.18.0.11"}, "peers"),
    ],
)
def test_bad_input_is_refused_naming_the_parameter(
    changes: dict[str, object], parameter: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        config(**changes)
    assert raised.value.parameter == parameter


@needs_keepalived
@pytest.mark.parametrize("index", [0, 1])
def test_keepalived_accepts_the_configuration(tmp_path: Path, index: int) -> None:
    path = tmp_path / "keepalived.conf"
    path.write_text(config(index=index, address="198.18.0.11", peers=["198.18.0.10"]))
    done = subprocess.run(["keepalived", "-t", "-f", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout


@needs_keepalived
def test_keepalived_check_would_catch_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "keepalived.conf"
    path.write_text(config().replace("advert_int 1", "advert_int 1\n    no_such_keyword 1"))
    done = subprocess.run(["keepalived", "-t", "-f", str(path)], capture_output=True, text=True)
    assert done.returncode != 0
    assert "no_such_keyword" in done.stderr + done.stdout
