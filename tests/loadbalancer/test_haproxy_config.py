"""haproxy.cfg rendering: its structure, determinism, refusals, and the real `haproxy -c`."""

from __future__ import annotations

import random
import shutil

import pytest

from aksnet.errors import InvalidInput
from aksnet.loadbalancer.frontends import Backend, Frontend
from aksnet.loadbalancer.haproxy import (
    HAProxyConfigRejected,
    check_config,
    render_haproxy_config,
)

needs_haproxy = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy missing")

CONTROL_PLANE = tuple(Backend(f"c1-cp-{i}", f"198.18.1.{10 + i}", 6443) for i in range(3))


def workers(count: int, node_port: int) -> tuple[Backend, ...]:
    return tuple(
        Backend(f"c1-worker-{i}", f"198.18.{2 + i // 250}.{1 + i % 250}", node_port)
        for i in range(count)
    )


def service_frontends(services: int, nodes: int) -> list[Frontend]:
    """The API server's frontend and one per Service (VIPs shared by four ports each)."""
    frontends = [Frontend("api-server", "198.18.0.200", 6443, CONTROL_PLANE)]
    for s in range(services):
        vip = f"198.18.{10 + s // 1000}.{1 + (s // 4) % 250}"
        port = 80 + s % 4
        frontends.append(
            Frontend(f"svc-default-web{s}-{port}", vip, port, workers(nodes, 30000 + s))
        )
    return frontends


def sections(text: str) -> dict[str, list[str]]:
    """Section header -> its non-comment lines, stripped."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            current = line.strip()
            found[current] = []
        else:
            found[current].append(line.strip())
    return found


def test_structure_of_a_rendered_configuration() -> None:
    web = Frontend("svc-default-web-80", "198.18.0.201", 80, workers(2, 30080))
    found = sections(render_haproxy_config([web, service_frontends(0, 0)[0]]))
    assert list(found) == [
        "global",
        "defaults",
        "frontend api-server",
        "backend api-server",
        "frontend svc-default-web-80",
        "backend svc-default-web-80",
    ]
    assert "master-worker" in found["global"]
    assert (
        "stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners"
        in found["global"]
    )
    assert "mode tcp" in found["defaults"]
    assert "default-server inter 2s fastinter 500ms downinter 2s fall 2 rise 2" in found["defaults"]
    assert found["frontend svc-default-web-80"] == [
        "bind 198.18.0.201:80 transparent",
        "default_backend svc-default-web-80",
    ]
    assert found["backend svc-default-web-80"] == [
        "balance roundrobin",
        "server c1-worker-0 198.18.2.1:30080 check",
        "server c1-worker-1 198.18.2.2:30080 check",
    ]
    assert found["backend api-server"][1:] == [
        f"server c1-cp-{i} 198.18.1.{10 + i}:6443 check" for i in range(3)
    ]


def test_same_input_in_any_order_renders_byte_identical_output() -> None:
    frontends = service_frontends(20, 5)
    shuffled = [
        Frontend(f.name, f.vip, f.port, tuple(random.sample(f.backends, len(f.backends))))
        for f in random.sample(frontends, len(frontends))
    ]
    assert render_haproxy_config(shuffled) == render_haproxy_config(frontends)


BAD_NAMES = ["", "web 80", "web\n    bind :1", "web#1", '"web"', "web{x}", "-web", "wéb", "a" * 254]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_frontend_and_server_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        render_haproxy_config([Frontend(name, "198.18.0.1", 80, ())])
    assert raised.value.parameter == "frontend.name"
    with pytest.raises(InvalidInput) as raised:
        render_haproxy_config(
            [Frontend("web", "198.18.0.1", 80, (Backend(name, "198.18.0.2", 1),))]
        )
    assert raised.value.parameter == "backend.name"


@pytest.mark.parametrize(
    "address", ["198.18.0.300", "::1", "198.18.0.1 80", " 198.18.0.1", "198.018.0.1", "host"]
)
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        render_haproxy_config([Frontend("web", address, 80, ())])
    assert raised.value.parameter == "frontend.vip"
    with pytest.raises(InvalidInput) as raised:
        render_haproxy_config([Frontend("web", "198.18.0.1", 80, (Backend("n", address, 1),))])
    assert raised.value.parameter == "backend.address"


@pytest.mark.parametrize("port", [0, 65536, -1, True, "80", 80.0])
def test_bad_ports_are_refused(port: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        render_haproxy_config([Frontend("web", "198.18.0.1", port, ())])  # type: ignore[arg-type]
    assert raised.value.parameter == "frontend.port"
    server = Backend("n", "198.18.0.2", port)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as raised:
        render_haproxy_config([Frontend("web", "198.18.0.1", 80, (server,))])
    assert raised.value.parameter == "backend.port"


def test_duplicates_are_refused() -> None:
    a = Frontend("web", "198.18.0.1", 80, ())
    with pytest.raises(InvalidInput, match="frontend names must be unique"):
        render_haproxy_config([a, Frontend("web", "198.18.0.2", 80, ())])
    with pytest.raises(InvalidInput, match="VIP:port pairs must be unique"):
        render_haproxy_config([a, Frontend("web2", "198.18.0.1", 80, ())])
    twice = (Backend("n1", "198.18.0.2", 1), Backend("n1", "198.18.0.3", 1))
    with pytest.raises(InvalidInput, match="server names must be unique"):
        render_haproxy_config([Frontend("web", "198.18.0.1", 80, twice)])


@needs_haproxy
def test_haproxy_accepts_a_small_configuration() -> None:
    check_config(render_haproxy_config(service_frontends(3, 3)))


@needs_haproxy
def test_haproxy_accepts_the_longest_names() -> None:
    node = Backend("n" * 253, "198.18.0.2", 30080)
    check_config(render_haproxy_config([Frontend("f" * 253, "198.18.0.1", 80, (node,))]))


@needs_haproxy
def test_haproxy_accepts_1000_service_frontends_over_100_nodes() -> None:
    frontends = service_frontends(1000, 100)
    text = render_haproxy_config(frontends)
    assert text.count("\nfrontend ") == 1001
    assert text.count(" check\n") == 1000 * 100 + 3
    check_config(text)


@needs_haproxy
def test_haproxy_refusal_carries_haproxys_message() -> None:
    with pytest.raises(HAProxyConfigRejected) as raised:
        check_config("frontend broken\n    bind 198.18.0.1:x\n")
    assert "invalid character 'x' in port number" in str(raised.value)
    assert "[NOTICE]" not in str(raised.value)
    assert "haproxy.cfg:2" in raised.value.haproxy_message  # the line, not a temporary path


def test_a_missing_haproxy_program_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_config("global\n", haproxy="/nonexistent/haproxy")
    assert raised.value.parameter == "haproxy"
