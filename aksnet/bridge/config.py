"""Where the AksNet module keeps its configuration (Set-AksHciConfig) and how it is read.

The file holds settings only, never secrets. Its workingDir is the aksnet home (the store's
directory) whenever AKSNET_HOME is not set in the environment.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from aksnet.errors import StateConflict


def config_path() -> Path:
    """The module configuration file: AKSNET_CONFIG, else a per-user default."""
    configured = os.environ.get("AKSNET_CONFIG")
    if configured:
        return Path(configured)
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "AksNet" / "config.json"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aksnet" / "config.json"


def load_config() -> dict[str, Any]:
    """The saved configuration, {} when there is none yet."""
    path = config_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise StateConflict(f"The configuration file {path} cannot be read: {err}.") from None
    return data if isinstance(data, dict) else {}


def save_config(config: dict[str, Any]) -> Path:
    """Write atomically (temp file + rename), so a crash never leaves half a file."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(config, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
    return path


def store_path() -> Path:
    """The store file: under AKSNET_HOME, else the configured workingDir, else the default."""
    from aksnet.state.paths import aksnet_home

    if not os.environ.get("AKSNET_HOME"):
        working_dir = load_config().get("workingDir")
        if isinstance(working_dir, str) and working_dir:
            return Path(working_dir) / "aksnet.db"
    return aksnet_home() / "aksnet.db"
