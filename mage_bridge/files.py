"""Atomic file writing: build beside the target, then rename into place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def create_temp_beside(path: Path, *, suffix: str = "") -> tuple[int, str]:
    """Open a new hidden file next to ``path``; returns ``(fd, temp_path)``.

    Same folder, so ``os.replace(temp, path)`` is atomic. Unlike
    ``tempfile.mkstemp`` (always 0600), the file gets the permissions any new
    file gets (0666 minus the umask), so results stay readable by the DAW and
    other tools the user runs.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.stem}.{secrets.token_hex(4)}{suffix or path.suffix}"
        try:
            return os.open(tmp, flags, 0o666), str(tmp)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {str(path)!r}")
