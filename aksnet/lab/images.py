"""The lab's stand-in node images: one JSON line saying which OS a VM booted from it runs.

A lab host holds no real VHDX. Each image file it offers (aksnet.infra.provision's DEFAULT_IMAGE
and DEFAULT_WINDOWS_IMAGE) holds ``{"aksnet-lab-image": true, "os": "Linux"}`` (or "Windows");
at Start-VM the lab follows the VM's first hard disk to the image at the root of its
differencing chain and boots what the marker says. Lab only: product code never reads this.
"""

from __future__ import annotations

import json
from pathlib import Path

from aksnet.lab.hyperv.host import BootRefused, VMEvent

MARKER_KEY = "aksnet-lab-image"
OPERATING_SYSTEMS = ("Linux", "Windows")
_MAX_MARKER = 4096  # a marker is one short line; a large file is not a lab image


def marker(os_name: str) -> bytes:
    """The bytes of a stand-in image for os_name ("Linux" or "Windows")."""
    if os_name not in OPERATING_SYSTEMS:
        raise ValueError(f"os_name {os_name!r}: expected one of {OPERATING_SYSTEMS}")
    return (json.dumps({MARKER_KEY: True, "os": os_name}) + "\n").encode()


def write_image(path: Path, os_name: str) -> None:
    """Write the stand-in image for os_name at path (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(marker(os_name))


def image_os(path: Path) -> str | None:
    """The OS a marker file names; None when the file is not a lab image (or unreadable)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_MARKER + 1)
    except OSError:
        return None
    if len(data) > _MAX_MARKER:
        return None
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict) or document.get(MARKER_KEY) is not True:
        return None
    found = document.get("os")
    return found if found in OPERATING_SYSTEMS else None


def boot_os(event: VMEvent) -> str | None:
    """What the VM boots: the OS its disk's image names; None when the VM has no hard disk.

    A disk whose image holds no marker cannot boot in the lab: BootRefused names the VM and the
    image path (Start-VM's error shows it).
    """
    if event.image_path is None:
        return None
    found = image_os(event.image_path)
    if found is None:
        raise BootRefused(
            f"aksnet lab: VM '{event.name}' cannot boot: its disk '{event.disk_path}' leads to "
            f"'{event.image_path}', which is not an aksnet lab image (no "
            f'{{"{MARKER_KEY}": true, "os": ...}} marker)'
        )
    return found
