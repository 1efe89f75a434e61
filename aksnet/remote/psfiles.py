"""Files over any PowerShellSession, with typed cmdlets only and a SHA-256 check both ways.

put: the bytes go to ``<path>.aksnet-tmp`` with Set-Content (first chunk) and Add-Content (the
others), several chunk statements per round trip while the step stays under a size budget; the
host's Get-FileHash must match the local SHA-256 before Move-Item puts the file in place, so a
reader never sees a partial file. A caller may send statements of its own in the same round
trips (`before`: ahead of the first chunk, such as New-Item of the folder; `after`: behind
Move-Item, such as the cmdlet that reads the file): a small file then costs two round trips in
all. get: Get-FileHash and Get-Content in one round trip, verified.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from aksnet.errors import InvalidInput, ProtocolError
from aksnet.remote.base import Cmdlet, PowerShellSession, PSValue, Statement

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".aksnet-tmp"
DEFAULT_CHUNK_SIZE = 256 * 1024
DEFAULT_STEP_BUDGET = 2 * 1024 * 1024  # bytes of file data in one round trip


def put(
    session: PowerShellSession,
    data: bytes,
    path: str,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    step_budget: int = DEFAULT_STEP_BUDGET,
    before: Sequence[Statement] = (),
    after: Sequence[Statement] = (),
) -> list[PSValue]:
    """Write data to path on the session's host atomically, verified by SHA-256.

    `before` runs in the first round trip ahead of the first chunk; `after` runs behind
    Move-Item in the last round trip, only once the file is verified and in place. Returns the
    output of that last round trip (after's output: Move-Item writes none). A transport may cap
    the chunk size (WinRMSession.max_file_chunk).
    """
    _check_path(path)
    chunk_size = min(chunk_size, getattr(session, "max_file_chunk", chunk_size))
    if chunk_size <= 0:
        raise InvalidInput("chunk_size", chunk_size, "must be a positive number of bytes")
    if step_budget < chunk_size:
        raise InvalidInput(
            "step_budget", step_budget, f"must be at least chunk_size ({chunk_size})"
        )
    temp = path + TEMP_SUFFIX
    writes = list(_chunk_statements(data, temp, chunk_size))
    per_step = step_budget // chunk_size
    steps = [writes[i : i + per_step] for i in range(0, len(writes), per_step)]
    steps[0] = [*before, *steps[0]]
    log.debug("put %d bytes to %s on %s in %d steps", len(data), path, session.host, len(steps))
    for step in steps[:-1]:
        session.invoke(*step)
    # The hash rides with the last chunks: one round trip less.
    output = session.invoke(
        *steps[-1], Cmdlet.of("Get-FileHash", LiteralPath=temp, Algorithm="SHA256")
    )
    expected = hashlib.sha256(data).hexdigest().upper()
    reported = _hash_of(session, output)
    if reported != expected:
        session.invoke(Cmdlet.of("Remove-Item", LiteralPath=temp, Force=True))
        raise ProtocolError(
            session.host,
            f"checksum mismatch writing {path}: SHA256 {reported} on the host, {expected} sent; "
            "the temporary file was removed",
        )
    move = Cmdlet.of("Move-Item", LiteralPath=temp, Destination=path, Force=True)
    return session.invoke(move, *after)


def get(session: PowerShellSession, path: str) -> bytes:
    """Read path on the session's host, verified against the host's SHA-256."""
    _check_path(path)
    output = session.invoke(
        Cmdlet.of("Get-FileHash", LiteralPath=path, Algorithm="SHA256"),
        Cmdlet.of("Get-Content", LiteralPath=path, Encoding="Byte", ReadCount=0),
    )
    reported = _hash_of(session, output[:1])
    data = _bytes_of(session, output[1:])
    actual = hashlib.sha256(data).hexdigest().upper()
    if reported != actual:
        raise ProtocolError(
            session.host,
            f"checksum mismatch reading {path}: SHA256 {reported} on the host, {actual} received",
        )
    return data


def _chunk_statements(data: bytes, temp: str, chunk_size: int) -> list[Statement]:
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] or [b""]
    return [
        Cmdlet.of(
            "Set-Content" if index == 0 else "Add-Content",
            LiteralPath=temp,
            Value=chunk,
            Encoding="Byte",
        )
        for index, chunk in enumerate(chunks)
    ]


def _hash_of(session: PowerShellSession, output: Sequence[Any]) -> str:
    found = [o for o in output if isinstance(o, dict) and "Hash" in o]
    if len(found) != 1:
        raise ProtocolError(session.host, f"Get-FileHash answered {len(found)} hash objects, not 1")
    return str(found[0]["Hash"])


def _bytes_of(session: PowerShellSession, output: Sequence[Any]) -> bytes:
    # PSRP returns the byte[] as one object; WinRM's JSON unrolls it into numbers.
    if len(output) == 1 and isinstance(output[0], bytes | list):
        output = list(output[0])
    if not all(isinstance(b, int) and 0 <= b <= 255 for b in output):
        raise ProtocolError(session.host, "Get-Content -Encoding Byte answered something else")
    return bytes(output)


def _check_path(path: str) -> None:
    if not isinstance(path, str) or not path.strip() or "\0" in path:
        raise InvalidInput("path", path, "must be a non-empty path without NUL characters")
