"""The error hierarchy: exit codes, categories, and secrets kept out of messages."""

import pytest

from aksnet.errors import (
    AuthenticationFailed,
    ErrorRecord,
    HostFailures,
    HostKeyMismatch,
    HostUnreachable,
    InvalidInput,
    RemoteCommandFailed,
)
from aksnet.remote.base import Credential


def test_invalid_input_names_parameter_value_and_what_is_allowed() -> None:
    err = InvalidInput("vlanID", 5000, "must be between 0 and 4094.")
    assert err.exit_code == 2
    assert "'vlanID'" in str(err) and "5000" in str(err) and "between 0 and 4094" in str(err)


def test_invalid_secret_value_is_masked() -> None:
    err = InvalidInput("password", "hunter2!", "must not contain a newline.", secret=True)
    assert "hunter2" not in str(err)
    assert "<8 characters>" in str(err)


def test_credential_never_shows_its_password() -> None:
    cred = Credential("admin", "s3cr3t-value")
    assert "s3cr3t" not in repr(cred) and "s3cr3t" not in str(cred)


def test_authentication_failures_are_not_retryable_and_unreachable_is() -> None:
    assert not AuthenticationFailed("h", "denied").retryable
    assert not HostKeyMismatch("h", "SHA256:a", "SHA256:b").retryable
    assert HostUnreachable("h", "refused").retryable


def test_host_key_mismatch_names_both_fingerprints() -> None:
    err = HostKeyMismatch("node1", "SHA256:expected", "SHA256:presented")
    assert "SHA256:expected" in str(err) and "SHA256:presented" in str(err)


def test_remote_command_failed_carries_records() -> None:
    rec = ErrorRecord("boom", "InvalidOperation", "Boom,New-VM", "vm1")
    err = RemoteCommandFailed("hci1", "New-VM", records=[rec])
    assert err.records == (rec,)
    assert "Boom,New-VM" in str(err) and "hci1" in str(err)


def test_host_failures_keep_each_host_apart() -> None:
    group = HostFailures("create", {"a": HostUnreachable("a", "x"), "b": ValueError("y")})
    with pytest.raises(HostFailures) as info:
        raise group
    assert isinstance(info.value, ExceptionGroup)
    assert set(info.value.by_host) == {"a", "b"}
    assert "a: a: x" in str(info.value)
