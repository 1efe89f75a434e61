"""The scratch copy create's what-if runs on (remediation runs one per cluster): in memory
(/dev/shm) when that is there, else the default temporary folder; removed afterwards; the
store and key folder it was copied from unchanged."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from aksnet.cluster import create
from aksnet.cluster.keys import ClusterKeys
from aksnet.state.store import Store


def _copy_of(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """Where the scratch was, the original key folder's files before and after."""
    with Store(tmp_path / "aksnet.db") as store:
        keys = ClusterKeys.beside(store.path, "c1")
        keys.admin()
        before = sorted(p.name for p in keys.folder.iterdir())
        with create._scratch(store, keys) as (scratch_store, scratch_keys):
            folder = scratch_store.path.parent
            assert scratch_keys.admin() == keys.admin()
            scratch_keys.host_key("c1-cp-0")  # a key the what-if makes stays in the scratch
        after = sorted(p.name for p in keys.folder.iterdir())
    return folder, before, after


@pytest.mark.skipif(not os.access(create.MEMORY_SCRATCH, os.W_OK), reason="no /dev/shm")
def test_the_scratch_is_in_memory_and_gone_afterwards(tmp_path: Path) -> None:
    folder, before, after = _copy_of(tmp_path)
    assert folder.parent == Path(create.MEMORY_SCRATCH)
    assert not folder.exists()
    assert before == after == ["admin_ed25519", "admin_ed25519.pub"]


def test_without_memory_the_scratch_is_in_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(create, "MEMORY_SCRATCH", str(tmp_path / "no-shm"))
    folder, before, after = _copy_of(tmp_path)
    assert folder.parent == Path(tempfile.gettempdir())
    assert not folder.exists()
    assert before == after
