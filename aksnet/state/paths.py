"""Where aksnet keeps its state: AKSNET_HOME, else a per-OS default."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def aksnet_home() -> Path:
    """AKSNET_HOME, else %ProgramData%\\AksNet on Windows, else $XDG_STATE_HOME/aksnet
    (~/.local/state/aksnet)."""
    configured = os.environ.get("AKSNET_HOME")
    if configured:
        return Path(configured)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "AksNet"
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "aksnet"


def default_store_path() -> Path:
    return aksnet_home() / "aksnet.db"
