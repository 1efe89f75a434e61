"""How Get-AksHciCredential writes the kubeconfig, and that a bad one is never quoted (no lab)."""

from __future__ import annotations

import os
import stat
import traceback
from pathlib import Path

import pytest

from aksnet.cluster import credential
from aksnet.errors import ProtocolError, StateConflict

SECRET = "client-key-data: c2VjcmV0LWtleS1tYXRlcmlhbA=="


def test_written_owner_only_unchanged_the_second_time_and_not_over_another(tmp_path: Path) -> None:
    target = tmp_path / "new" / "config"
    assert credential._write(target, b"one", overwrite=False)
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(target.parent).st_mode) == 0o700
    assert not credential._write(target, b"one", overwrite=False)
    with pytest.raises(StateConflict, match="holds another kubeconfig"):
        credential._write(target, b"two", overwrite=False)
    assert target.read_bytes() == b"one"
    assert credential._write(target, b"two", overwrite=True)
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["config"]  # no temporary left


def test_a_file_that_is_not_a_kubeconfig_is_refused_without_quoting_it() -> None:
    broken = f"clusters:\n- {SECRET} : x\n".encode()  # YAML's own error quotes this line
    with pytest.raises(ProtocolError) as refused:
        credential._server_of(broken, "c1-cp-0")
    shown = "".join(traceback.format_exception(refused.value))
    assert SECRET not in shown and "c2VjcmV0" not in shown
    assert "is not a kubeconfig" in str(refused.value)


def test_the_server_is_read_from_the_first_cluster() -> None:
    config = b"clusters:\n- cluster:\n    server: https://198.18.0.200:6443\n  name: k\n"
    assert credential._server_of(config, "c1-cp-0") == "https://198.18.0.200:6443"
