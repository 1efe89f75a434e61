"""NoCloud seed ISOs: the cloud-init files (meta-data, user-data, network-config) a Linux VM boots.

The ISO has the volume label ``cidata`` that cloud-init's NoCloud datasource looks for, and
ISO9660 + Joliet + Rock Ridge names, so ``meta-data`` keeps its dash whichever way it is mounted.
The same input gives the same bytes: every timestamp pycdlib writes comes from a fixed clock.
User data may carry private host keys, so the ISO file is written atomically with mode 0600.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import time as stdtime
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycdlib
import pycdlib.dates
import pycdlib.headervd
import pycdlib.pycdlib
import pycdlib.utils
import yaml

from aksnet.errors import InvalidInput, NotFound

VOLUME_LABEL = "cidata"
CLOUD_CONFIG_HEADER = "#cloud-config\n"
# The fixed build time of every seed ISO (2020-01-01T00:00:00Z), for reproducible bytes.
FIXED_EPOCH = 1577836800.0

# (ISO9660 name, Rock Ridge and Joliet name) of each file in the seed.
_FILES = {
    "meta-data": "/META_DATA.;1",
    "user-data": "/USER_DATA.;1",
    "network-config": "/NETWORK_CONFIG.;1",
}


@dataclass(frozen=True)
class Seed:
    """The contents of a seed ISO, parsed."""

    meta_data: dict[str, Any]
    user_data: dict[str, Any]
    network_config: dict[str, Any] | None


def build_seed_iso(
    path: str | os.PathLike[str],
    *,
    meta_data: Mapping[str, Any],
    user_data: Mapping[str, Any],
    network_config: Mapping[str, Any] | None = None,
) -> Path:
    """Write a NoCloud seed ISO to path (atomically, mode 0600) and return the path."""
    files = render_seed_files(meta_data, user_data, network_config)
    image = _build_image(files)
    target = Path(path)
    _write_atomically(target, image)
    return target


def render_seed_files(
    meta_data: Mapping[str, Any],
    user_data: Mapping[str, Any],
    network_config: Mapping[str, Any] | None,
) -> dict[str, bytes]:
    """The seed's files as bytes, keyed by their NoCloud names."""
    if not isinstance(meta_data, Mapping) or not meta_data.get("instance-id"):
        raise InvalidInput("meta_data", meta_data, "give a mapping with a non-empty 'instance-id'.")
    if not isinstance(user_data, Mapping):
        raise InvalidInput("user_data", user_data, "give a mapping (a cloud-config).")
    files = {
        "meta-data": _yaml(meta_data).encode("utf-8"),
        "user-data": (CLOUD_CONFIG_HEADER + _yaml(user_data)).encode("utf-8"),
    }
    if network_config is not None:
        if not isinstance(network_config, Mapping) or network_config.get("version") != 2:
            raise InvalidInput(
                "network_config", network_config, "give a network-config v2 mapping ('version: 2')."
            )
        files["network-config"] = _yaml(network_config).encode("utf-8")
    return files


def read_seed_iso(path: str | os.PathLike[str]) -> Seed:
    """Read and parse the seed ISO at path."""
    iso = pycdlib.PyCdlib()
    try:
        iso.open(os.fspath(path))
    except FileNotFoundError as error:
        raise NotFound("seed ISO", os.fspath(path)) from error
    except pycdlib.pycdlibexception.PyCdlibException as error:
        raise InvalidInput(
            "path", os.fspath(path), f"give the path of an ISO image ({error})."
        ) from error
    try:
        texts = {name: _read_file(iso, name) for name in _FILES}
    finally:
        iso.close()
    user_text = texts["user-data"]
    if user_text is None or not user_text.startswith(CLOUD_CONFIG_HEADER.rstrip("\n")):
        raise InvalidInput(
            "path", os.fspath(path), "give a seed ISO whose user-data starts with '#cloud-config'."
        )
    if texts["meta-data"] is None:
        raise InvalidInput("path", os.fspath(path), "give a seed ISO that has a meta-data file.")
    network = texts["network-config"]
    return Seed(
        meta_data=_parse_mapping(texts["meta-data"]),
        user_data=_parse_mapping(user_text),
        network_config=_parse_mapping(network) if network is not None else None,
    )


def _build_image(files: Mapping[str, bytes]) -> bytes:
    with _frozen_clock():
        iso = pycdlib.PyCdlib()
        iso.new(interchange_level=3, vol_ident=VOLUME_LABEL, joliet=3, rock_ridge="1.09")
        for name in sorted(files):
            data = files[name]
            iso.add_fp(
                io.BytesIO(data),
                len(data),
                _FILES[name],
                rr_name=name,
                joliet_path=f"/{name}",
                file_mode=0o100400,
            )
        out = io.BytesIO()
        iso.write_fp(out)
        iso.close()
    return out.getvalue()


def _read_file(iso: pycdlib.PyCdlib, name: str) -> str | None:
    out = io.BytesIO()
    try:
        iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
    except pycdlib.pycdlibexception.PyCdlibInvalidInput:
        return None
    return out.getvalue().decode("utf-8")


def _parse_mapping(text: str) -> dict[str, Any]:
    value = yaml.safe_load(text)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("seed file", text[:80], "each seed file must be a YAML mapping.")
    return value


def _yaml(value: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(value), sort_keys=True, default_flow_style=False, allow_unicode=True)


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class _FixedClock:
    """Stands in for the ``time`` module inside pycdlib while an image is built.

    pycdlib stamps every record with time.time() in local time; a fixed UTC clock makes two
    builds of the same input byte-identical (and independent of the machine's time zone).
    """

    @staticmethod
    def time() -> float:
        return FIXED_EPOCH

    @staticmethod
    def localtime(seconds: float | None = None) -> stdtime.struct_time:
        return stdtime.gmtime(FIXED_EPOCH if seconds is None else seconds)

    gmtime = staticmethod(stdtime.gmtime)
    strftime = staticmethod(stdtime.strftime)
    mktime = staticmethod(stdtime.mktime)


_CLOCK_LOCK = threading.Lock()
_PYCDLIB_MODULES_USING_TIME = (pycdlib.dates, pycdlib.headervd, pycdlib.pycdlib, pycdlib.utils)


@contextmanager
def _frozen_clock() -> Iterator[None]:
    with _CLOCK_LOCK:
        saved = [module.time for module in _PYCDLIB_MODULES_USING_TIME]
        try:
            for module in _PYCDLIB_MODULES_USING_TIME:
                module.time = _FixedClock  # type: ignore[attr-defined]
            yield
        finally:
            for module, original in zip(_PYCDLIB_MODULES_USING_TIME, saved, strict=True):
                module.time = original  # type: ignore[attr-defined]
