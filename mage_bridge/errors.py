"""One error root for MAGE Bridge.

Every error the library raises on purpose is a :class:`MageError`. Children also
inherit the matching builtin, so ``except ValueError`` keeps working for callers
who do not know our names. Each class carries a short machine-readable ``code``
that the daemon sends as ``/mage/error s:req_id s:code s:message``.
:func:`failure_code` and :func:`failure_message` name any exception the same way
(a full disk, a refused permission, memory), for job ends, OSC replies and the CLI.
"""

from __future__ import annotations

import errno
import sqlite3


class MageError(Exception):
    """Root of every error raised on purpose by MAGE Bridge."""

    code = "error"


class InvalidInputError(MageError, ValueError):
    """A parameter is out of range, malformed or contradictory."""

    code = "invalid_input"


class InvalidAudioError(MageError, ValueError):
    """Audio that is not what a stage needs (shape, rate, NaN, corrupt file...)."""

    code = "invalid_audio"


class AudioFileError(MageError, OSError):
    """An audio file could not be read or written."""

    code = "audio_file"


class OutputExistsError(MageError, FileExistsError):
    """The output already exists and overwriting was not asked for."""

    code = "output_exists"


class ConfigError(MageError, ValueError):
    """The config file or an environment override is invalid."""

    code = "config"


class BackendUnavailableError(MageError, ImportError):
    """A backend cannot run here: a package, a binary or model weights are missing."""

    code = "backend_unavailable"


class NotSupportedError(MageError):
    """The chosen backend cannot do this task (repaint on the procedural engine); the message names one that can."""

    code = "not_supported"


class OutOfMemoryError(MageError, MemoryError):
    """A model did not fit in the device's memory; the message names the settings that make it fit."""

    code = "out_of_memory"


class CancelledError(MageError):
    """A job was cancelled while it ran; raised from its progress callback so the work stops between steps."""

    code = "cancelled"


class ClipNotFoundError(MageError, KeyError):
    """No clip has this id: none in the library (or an id prefix matches several), none that the live player's
    clip sources know."""

    code = "not_found"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "clip not found"


class ClipDeletedError(ClipNotFoundError):
    """The clip was in the library but has been deleted (or its files went missing); the message says when and why."""

    code = "clip_deleted"


class AudioDeviceUnavailableError(MageError, OSError):
    """No audio output device can be opened here (none found, the named one is missing, the server is down)."""

    code = "audio_unavailable"


class PathNotAllowedError(MageError, PermissionError):
    """A path lies outside the folders the daemon may read or write."""

    code = "path_not_allowed"


#: OS errors that have a code of their own: the user can act on them (free space, fix permissions).
ERRNO_CODES = {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EFBIG: "disk_full",
               errno.EACCES: "permission_denied", errno.EPERM: "permission_denied",
               errno.EROFS: "permission_denied"}


def failure_code(exc: BaseException) -> str:
    """The error code for ``exc``: what a job ends with, an OSC error reply carries, the CLI prints.

    ``disk_full`` (no space, quota, file too large) and ``permission_denied`` (access denied, read-only
    file system) when an OS error caused it, however deep in the ``raise ... from`` chain; else the
    :class:`MageError`'s own code, ``out_of_memory``, ``io_error`` (another OS error: a missing
    folder, a broken device), or ``internal`` (a bug).
    """
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in ERRNO_CODES:
            return ERRNO_CODES[e.errno]
        if isinstance(e, sqlite3.Error):
            name = getattr(e, "sqlite_errorname", "")
            if name == "SQLITE_FULL" or "disk is full" in str(e):
                return "disk_full"
            if name in ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN") or "readonly" in str(e):
                return "permission_denied"
        e = e.__cause__ or e.__context__
    if isinstance(exc, MageError):
        return exc.code
    if isinstance(exc, MemoryError):
        return "out_of_memory"
    if isinstance(exc, OSError):
        return "io_error"
    return "internal"


def failure_message(exc: BaseException, *, name_file: bool = True) -> str:
    """A one-line reason for ``exc``: what went wrong and, for an OS error, on which file.

    ``name_file=False`` leaves the file out, for replies to other programs that must not learn
    the daemon's own folders (the local log keeps the whole message).
    """
    if isinstance(exc, MageError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename and name_file else ""
        return f"{exc.strerror}{where}"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return f"{type(exc).__name__}: {exc}"
