"""The EMULATED API's object store: shared through its file, watch log limits (410 Gone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aksnet.lab.k8sapi import objects
from aksnet.lab.k8sapi.objects import ObjectStore, changes_since, objects_of, record_change


def add(store: ObjectStore, name: str) -> int:
    with store.transaction() as document:
        obj = {"metadata": {"name": name, "namespace": "default"}}
        objects_of(document, "services")[f"default/{name}"] = obj
        return record_change(document, "services", "ADDED", obj)


def test_two_stores_on_one_file_see_each_others_changes(tmp_path: Path) -> None:
    first, second = ObjectStore(tmp_path / "api.json"), ObjectStore(tmp_path / "api.json")
    version = add(first, "web")
    assert second.current_version() == version
    assert "default/web" in objects_of(second.snapshot(), "services")
    assert second.wait_for_change(version - 1, timeout=5) == version


def test_a_watch_from_before_the_kept_log_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(objects, "LOG_LIMIT", 3)
    store = ObjectStore()
    versions = [add(store, f"s{i}") for i in range(5)]
    document = store.snapshot()
    assert changes_since(document, "services", versions[0]) is None
    kept = changes_since(document, "services", versions[1])
    assert kept is not None
    assert [c["object"]["metadata"]["name"] for c in kept] == ["s2", "s3", "s4"]
    assert changes_since(document, "events", versions[1]) == []
