"""One error root for MAGE Bridge.

Every error the library raises on purpose is a :class:`MageError`. Children also
inherit the matching builtin, so ``except ValueError`` keeps working for callers
who do not know our names. Each class carries a short machine-readable ``code``
that the daemon sends as ``/mage/error s:req_id s:code s:message``.
"""

from __future__ import annotations


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


class PathNotAllowedError(MageError, PermissionError):
    """A path lies outside the folders the daemon may read or write."""

    code = "path_not_allowed"
