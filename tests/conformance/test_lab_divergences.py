"""Places where the lab's emulated Hyper-V host once answered differently from Windows
PowerShell 5.1, found by the conformance suite; each test pins the fixed behaviour."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from aksnet.remote.base import Cmdlet
from aksnet.remote.psrp import PSRPSession
from tests.conformance.lab_windows import WindowsLab


@pytest.fixture
def psrp(windows_lab: WindowsLab) -> Iterator[PSRPSession]:
    session = PSRPSession(windows_lab.endpoint(), windows_lab.credential())
    try:
        yield session
    finally:
        session.close()


def test_get_content_byte_with_read_count_zero_is_one_object(
    windows_lab: WindowsLab, psrp: PSRPSession
) -> None:
    data = os.urandom(1000)
    windows_lab.host.fs.real("C:\\readcount.bin").write_bytes(data)
    output = psrp.invoke(
        Cmdlet.of("Get-Content", LiteralPath="C:\\readcount.bin", Encoding="Byte", ReadCount=0)
    )
    assert len(output) == 1  # one array object (PowerShell: byte[], which PSRP sends as <BA>)
    assert bytes(output[0]) == data
