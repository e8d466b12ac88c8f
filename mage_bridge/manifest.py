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

SCHEMA = "mage-bridge/manifest@1"
FILENAME = "manifest.json"


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a manifest (the file or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / FILENAME
    return json.loads(path.read_text(encoding="utf-8"))


def finite_or_none(x: float) -> float | None:
    """JSON has no infinity: silence's -inf loudness is written as null."""
    return None if x != x or x in (float("inf"), float("-inf")) else round(float(x), 3)
