"""The result manifest: one JSON file per finished job, written atomically.

A DAW script needs nothing else to place the stems on bars, and a later run can
re-render the clip exactly from ``request`` + ``backend``. Paths inside are
relative to the manifest's folder so a result folder can be moved as a whole.
See docs/manifest.md for every field.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mage_bridge.files import create_temp_beside

SCHEMA = "mage-bridge/manifest@1"
FILENAME = "manifest.json"


def write_json_atomic(path: Path, data: dict[str, Any]) -> Path:
    """Write ``data`` as pretty JSON via a temp file + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_beside(path, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a manifest (the file or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / FILENAME
    return json.loads(path.read_text(encoding="utf-8"))


def finite_or_none(x: float) -> float | None:
    """JSON has no infinity: silence's -inf loudness is written as null."""
    return None if x != x or x in (float("inf"), float("-inf")) else round(float(x), 3)
