"""The sandbox's JSON state file: loaded at start, replaced atomically on save."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = "exalsius-sandbox-state/1"


def load_state(path: Path) -> list[dict[str, Any]] | None:
    """The saved workspace records, or None when there is no state file yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a sandbox state file ({FORMAT})")
    return list(data["workspaces"])


def save_state(path: Path, records: list[dict[str, Any]]) -> None:
    """Write the records to a temporary file beside `path`, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"format": FORMAT, "workspaces": records}, out, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
