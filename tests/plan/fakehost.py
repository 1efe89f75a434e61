"""An in-memory-or-JSON fake fleet of hosts, with facts, actions and phases over it.

The fleet's state is a JSON file so a child process can change it and be killed with SIGKILL
halfway; every effect is also appended to `effects`, which is how tests see an action's effect
happening twice. `hook(effect, when)` lets a test fail or block an action before or after its
effect is applied.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aksnet.errors import StateConflict
from aksnet.plan.actions import Action
from aksnet.plan.facts import Forecast
from aksnet.plan.parallel import HostWork
from aksnet.plan.phases import Phases
from aksnet.plan.runner import RunContext

Hook = Callable[[str, str], None]


class Fleet:
    """Hosts whose files, services and markers live in one JSON file."""

    def __init__(self, path: Path, hosts: list[str], hook: Hook | None = None) -> None:
        self.path = path
        self.hosts = hosts
        self.hook = hook
        self.reads = 0
        self._lock = threading.Lock()
        if not path.exists():
            self._save({"hosts": {h: {"files": {}, "services": {}} for h in hosts}, "effects": []})

    def state(self) -> dict[str, Any]:
        with self._lock:
            return self._load()

    def read(self, host: str, section: str, name: str) -> str | None:
        with self._lock:
            self.reads += 1
            value = self._load()["hosts"][host][section].get(name)
            return None if value is None else str(value)

    def change(self, host: str, section: str, name: str, value: str, effect: str) -> None:
        """Apply one effect, calling the hook before and after (to fail or block there)."""
        if self.hook is not None:
            self.hook(effect, "before")
        with self._lock:
            state = self._load()
            state["hosts"][host][section][name] = value
            state["effects"].append(effect)
            self._save(state)
        if self.hook is not None:
            self.hook(effect, "after")

    def record_effect(self, effect: str) -> None:
        """An effect no fact can see (like running kubeadm init)."""
        if self.hook is not None:
            self.hook(effect, "before")
        with self._lock:
            state = self._load()
            state["effects"].append(effect)
            self._save(state)
        if self.hook is not None:
            self.hook(effect, "after")

    def _load(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.path.read_text())
        return loaded

    def _save(self, state: dict[str, Any]) -> None:
        # Write and rename, so a kill -9 leaves the old or the new state, never half a file.
        tmp = self.path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.path)


@dataclass(frozen=True)
class Entry:
    """A fact: one file, service or marker of a host; None when absent."""

    fleet: Fleet
    section: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.section}:{self.name}"

    def read(self, host: str) -> str | None:
        return self.fleet.read(host, self.section, self.name)


@dataclass(frozen=True)
class Desired:
    """What each host should have."""

    files: dict[str, str]
    services: tuple[str, ...]
    token: str = "abcdef.0123456789abcdef"


class WriteFiles:
    """Writes each file whose content differs; hosts in parallel, through ctx.wet."""

    title = "Write configuration files"

    def __init__(self, fleet: Fleet, desired: Desired) -> None:
        self.fleet, self.desired = fleet, desired

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> None:
        ctx.each_host([HostWork(h, self._host_work(ctx, h)) for h in self.fleet.hosts])

    def _host_work(self, ctx: RunContext, host: str) -> Callable[[], None]:
        def work() -> None:
            for name, content in self.desired.files.items():
                fact = Entry(self.fleet, "files", name)
                if ctx.fact(host, fact) != content:
                    ctx.wet(
                        host,
                        f"write {name} on {host}",
                        self._writer(host, name, content),
                        _predict(host, fact, content),
                        kind="create",
                    )

        return work

    def _writer(self, host: str, name: str, content: str) -> Callable[[], None]:
        return lambda: self.fleet.change(host, "files", name, content, f"file:{host}:{name}")


class InitializeHosts:
    """Runs a once-only command (no fact shows its effect until the marker is written)."""

    title = "Initialize hosts"

    def __init__(self, fleet: Fleet, desired: Desired) -> None:
        self.fleet, self.desired = fleet, desired

    def prepare(self, ctx: RunContext) -> bool:
        return any(ctx.fact(h, _marker(self.fleet)) is None for h in self.fleet.hosts)

    def run(self, ctx: RunContext) -> Iterator[Action]:
        for host in self.fleet.hosts:
            if ctx.fact(host, _marker(self.fleet)) is None:
                yield Action(
                    host,
                    f"kubeadm init on {host} --token {self.desired.token}",
                    self._initializer(host),
                    kind="run",
                    secrets=(self.desired.token,),
                )

    def _initializer(self, host: str) -> Callable[[], None]:
        return lambda: self.fleet.record_effect(f"init:{host}")


class StartServices:
    """Starts services; refuses when a service's config file is missing (planned or real)."""

    title = "Start services"

    def __init__(self, fleet: Fleet, desired: Desired) -> None:
        self.fleet, self.desired = fleet, desired

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> Iterator[Action]:
        for host in self.fleet.hosts:
            for service in self.desired.services:
                if ctx.fact(host, Entry(self.fleet, "files", f"{service}.conf")) is None:
                    raise StateConflict(f"{host}: {service}.conf is missing", target=host)
                fact = Entry(self.fleet, "services", service)
                if ctx.fact(host, fact) != "running":
                    yield Action(
                        host,
                        f"start {service} on {host}",
                        self._starter(host, service),
                        _predict(host, fact, "running"),
                    )

    def _starter(self, host: str, service: str) -> Callable[[], None]:
        return lambda: self.fleet.change(
            host, "services", service, "running", f"start:{host}:{service}"
        )


class MarkInitialized:
    title = "Mark hosts initialized"

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def prepare(self, ctx: RunContext) -> bool:
        return True

    def run(self, ctx: RunContext) -> Iterator[Action]:
        for host in self.fleet.hosts:
            fact = _marker(self.fleet)
            if ctx.fact(host, fact) is None:
                yield Action(
                    host,
                    f"mark {host} initialized",
                    self._marker_writer(host),
                    _predict(host, fact, "yes"),
                )

    def _marker_writer(self, host: str) -> Callable[[], None]:
        return lambda: self.fleet.change(host, "files", "initialized", "yes", f"mark:{host}")


def _marker(fleet: Fleet) -> Entry:
    return Entry(fleet, "files", "initialized")


def _predict(host: str, fact: Entry, value: str) -> Callable[[Forecast], None]:
    return lambda forecast: forecast.set(host, fact, value)


DESIRED = Desired(files={"a.conf": "A", "b.conf": "B", "web.conf": "listen 80"}, services=("web",))
HOSTS = ["h1", "h2"]


def phases(fleet: Fleet, desired: Desired = DESIRED) -> Phases:
    return Phases(
        [
            WriteFiles(fleet, desired),
            InitializeHosts(fleet, desired),
            StartServices(fleet, desired),
            MarkInitialized(fleet),
        ]
    )


def expected_effects(hosts: list[str] = HOSTS, desired: Desired = DESIRED) -> list[str]:
    effects: list[str] = []
    for host in hosts:
        effects += [f"file:{host}:{name}" for name in desired.files]
        effects += [f"init:{host}", f"mark:{host}"]
        effects += [f"start:{host}:{s}" for s in desired.services]
    return sorted(effects)
