"""The checks every API function runs before any audio is decoded or any model loads.

An input file must exist, hold samples, be mono or stereo and last at most
:data:`MAX_INPUT_DURATION_S`; an output file must have a supported extension
and, unless ``overwrite``, not exist (nor its ``.json`` sidecar); an output
folder must be new or empty; the folder above either must be writable; an
``options`` mapping may hold only the keys its function knows.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mage_bridge import audio as audio_io
from mage_bridge.errors import InvalidAudioError, InvalidInputError, OutputExistsError

#: Longest input accepted (s). Separate, enhance and master stream it, so memory does not depend on it.
MAX_INPUT_DURATION_S = 30 * 60.0
#: Output formats by extension. WAV subtypes: pcm16, pcm24, float; MP3 qualities: cbr320, v0.
FORMATS = {".wav": "wav", ".flac": "flac", ".mp3": "mp3"}
WAV_SUBTYPES = ("pcm16", "pcm24", "float")
MP3_QUALITIES = ("cbr320", "v0")


def clock(seconds: float) -> str:
    """``m:ss.sss`` (``30:01.000``): a limit and a length just over it must not both read "30.0 min"."""
    minutes, ms = divmod(round(seconds * 1000), 60_000)
    return f"{minutes}:{ms / 1000:06.3f}"


def check_options(kind: str, options: Mapping[str, Any] | None, known: Iterable[str]) -> dict[str, Any]:
    """``options`` as a dict, or :class:`InvalidInputError` naming the unknown keys and the known ones."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidInputError(f"{kind} options must be a mapping, got {type(options).__name__}")
    known = tuple(known)
    unknown = sorted(str(k) for k in set(options) - set(known))
    if unknown:
        raise InvalidInputError(f"unknown {kind} option(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return dict(options)


def check_input(audio_path: str | os.PathLike[str]) -> tuple[Path, audio_io.AudioInfo]:
    """The input's absolute path and header, read without decoding a sample."""
    path = Path(audio_path).expanduser().absolute()
    info = audio_io.probe(path)  # missing, empty or unreadable: a clear error, nothing decoded
    if info.frames <= 0:
        raise InvalidAudioError(f"audio file holds no samples: {str(path)!r}")
    if info.duration_s > MAX_INPUT_DURATION_S:
        raise InvalidAudioError(
            f"{str(path)!r} lasts {clock(info.duration_s)}; the limit is {clock(MAX_INPUT_DURATION_S)}"
        )
    if info.channels not in (1, 2):
        raise InvalidAudioError(f"{str(path)!r} has {info.channels} channels; only mono and stereo are supported")
    return path, info


def sidecar(out: Path) -> Path:
    """The manifest beside an output file: ``song.wav`` -> ``song.wav.json``."""
    return out.with_name(out.name + ".json")


def check_writable_parent(target: Path) -> None:
    """The nearest existing folder above ``target`` must be one this user may create files in."""
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidInputError(f"cannot write into {str(target.parent)!r}: permission denied")


def check_output_file(out_path: str | os.PathLike[str], *, overwrite: bool) -> tuple[Path, str]:
    """The output file's absolute path and format (from its extension); refuses one that exists."""
    out = Path(out_path).expanduser().absolute()
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InvalidInputError(
            f"output format is chosen by the extension: .wav, .flac or .mp3, got {out.suffix or 'none'!r} "
            f"in {str(out)!r}"
        )
    if out.is_dir():
        raise OutputExistsError(f"{str(out)!r} is a folder")
    for target in (out, sidecar(out)):
        if target.exists() and not overwrite:
            raise OutputExistsError(f"{str(target)!r} exists; pass overwrite=True (--overwrite) to replace it")
    check_writable_parent(out)
    return out, fmt


def check_output_dir(out_dir: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """The output folder's absolute path; refuses one that holds something (unless ``overwrite``) or is a file."""
    out = Path(out_dir).expanduser().absolute()
    if out.exists():
        if not out.is_dir():
            raise OutputExistsError(f"{str(out)!r} exists and is not a folder")
        if any(out.iterdir()) and not overwrite:
            raise OutputExistsError(f"{str(out)!r} already holds files; choose an empty or new folder")
    check_writable_parent(out)
    return out


def check_format_options(fmt: str, *, subtype: str, mp3_quality: str) -> None:
    """WAV/FLAC sample format and MP3 quality names; FLAC cannot store floats."""
    if subtype not in WAV_SUBTYPES:
        raise InvalidInputError(f"subtype must be one of {', '.join(WAV_SUBTYPES)}, got {subtype!r}")
    if fmt == "flac" and subtype == "float":
        raise InvalidInputError("FLAC stores integers: use subtype pcm16 or pcm24, got 'float'")
    if mp3_quality not in MP3_QUALITIES:
        raise InvalidInputError(f"mp3_quality must be one of {', '.join(MP3_QUALITIES)}, got {mp3_quality!r}")
