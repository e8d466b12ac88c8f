"""Test-only job kinds, reachable only with ``MAGE_TEST_JOBS=1`` (see :mod:`.kinds`).

``sleep`` waits ``options.seconds`` in ``options.steps`` steps reporting
progress; ``burn`` keeps a CPU busy the same way; ``crash`` raises, or exits
the worker hard with ``options.exit_code``. ``sleep`` and ``burn`` build their
job folder in a staging folder (:func:`mage_bridge.files.staged_folder`) and
write a tiny ``manifest.json``, so they start, end and leave things behind
like a real job.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from mage_bridge.files import staged_folder
from mage_bridge.progress import ProgressFn


def _finish(staging: Path, kind: str, options: dict[str, Any]) -> None:
    path = staging / "manifest.json"
    path.write_text(json.dumps({"kind": kind, "options": options, "pid": os.getpid(), "stems": {}}))


def sleep(out_dir: Path, *, options: dict[str, Any] | None = None, config: object = None,
          progress: ProgressFn | None = None, job_id: str = "sleep") -> Path:
    """Sleep ``seconds`` (default 1) in ``steps`` (default 10) steps."""
    options = dict(options or {})
    seconds = float(options.get("seconds", 1.0))
    steps = max(1, int(options.get("steps", 10)))
    with staged_folder(out_dir, job_id=job_id, overwrite=True) as staging:
        for i in range(steps):
            if progress:
                progress("sleep", i / steps)
            time.sleep(seconds / steps)
        if progress:
            progress("sleep", 1.0)
        _finish(staging, "sleep", options)
    return out_dir / "manifest.json"


def burn(out_dir: Path, *, options: dict[str, Any] | None = None, config: object = None,
         progress: ProgressFn | None = None, job_id: str = "burn") -> Path:
    """Keep one CPU busy for ``seconds`` (default 2)."""
    options = dict(options or {})
    seconds = float(options.get("seconds", 2.0))
    start = time.perf_counter()
    x = 0
    with staged_folder(out_dir, job_id=job_id, overwrite=True) as staging:
        while (elapsed := time.perf_counter() - start) < seconds:
            for i in range(20_000):
                x += i * i
            if progress:
                progress("burn", min(1.0, elapsed / seconds))
        _finish(staging, "burn", options)
    return out_dir / "manifest.json"


def crash(out_dir: Path, *, options: dict[str, Any] | None = None, config: object = None,
          progress: ProgressFn | None = None) -> Path:
    """Raise ``RuntimeError``, or ``os._exit(exit_code)`` when that option is given."""
    options = dict(options or {})
    if progress:
        progress("crash", 0.5)
    if "exit_code" in options:
        os._exit(int(options["exit_code"]))
    raise RuntimeError("the crash job crashed, as asked")
