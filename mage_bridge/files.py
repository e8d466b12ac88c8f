"""Atomic file writing: build beside the target, then rename into place.

Every file and folder MAGE Bridge writes goes through here, so readers (a DAW
script polling a folder, a second daemon, the user) see all of it or nothing.
New files get the permissions any new file gets (0666 minus the umask) unless
they hold a secret.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from mage_bridge.errors import InvalidInputError

#: Between a target's name and the job id in the name of its staging folder.
_PARTIAL = ".partial-"


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


def write_atomic(path: Path, write: Callable[[IO[bytes]], None], *, private: bool = False) -> Path:
    """Create or replace ``path`` with what ``write(file)`` writes, all at once.

    The bytes go to a hidden file beside ``path``, are flushed to disk, and
    the file is renamed over ``path``: a crash leaves the old file or the new
    one, never half of one. ``private`` makes the file 0600, for secrets only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_beside(path, suffix=".tmp")
    try:
        if private:
            os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: Path, data: Any, *, indent: int | None = 2, private: bool = False) -> Path:
    """Write ``data`` as UTF-8 JSON with :func:`write_atomic`; NaN and infinity are refused, not written."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    def write(f: IO[bytes]) -> None:
        f.write(text.encode("utf-8"))

    return write_atomic(path, write, private=private)


@contextmanager
def staged_folder(out_dir: Path, *, job_id: str, overwrite: bool = False) -> Iterator[Path]:
    """Build a result folder beside ``out_dir`` and rename it into place when the block succeeds.

    The hidden staging folder is made first, which also proves the target is
    writable before any work. On any error it is removed, so ``out_dir`` ends
    up complete or as it was: never half-written. ``out_dir`` must be absent or
    empty unless ``overwrite``.
    """
    staging = staging_path(out_dir, job_id)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as e:
        raise InvalidInputError(f"cannot write into {str(out_dir.parent)!r}: {e.strerror or e}") from e
    try:
        yield staging
        if out_dir.exists():
            shutil.rmtree(out_dir) if overwrite else out_dir.rmdir()
        os.rename(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def staging_path(out_dir: Path, job_id: str) -> Path:
    """The hidden folder :func:`staged_folder` builds ``out_dir`` in: ``.<name>.partial-<job_id>`` beside it."""
    return out_dir.parent / f".{out_dir.name}{_PARTIAL}{job_id}"


def remove_staging(out_dir: Path) -> list[Path]:
    """Remove every staging folder of ``out_dir`` (what a killed or cancelled writer left); returns them.

    Only for a target nothing writes to any more: the job has ended, or its process is dead.
    """
    removed = []
    for stale in out_dir.parent.glob(f".{out_dir.name}{_PARTIAL}*"):
        shutil.rmtree(stale, ignore_errors=True)
        removed.append(stale)
    return removed


def staging_targets(folder: Path) -> dict[str, list[Path]]:
    """The staging folders directly in ``folder``, by the name of the target they were building."""
    found: dict[str, list[Path]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        name = entry.name
        if not name.startswith(".") or _PARTIAL not in name:
            continue
        target = name[1:name.rindex(_PARTIAL)]
        if target:
            found.setdefault(target, []).append(Path(entry.path))
    return found
