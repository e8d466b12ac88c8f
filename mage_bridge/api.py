"""The Python API: one function per job kind, shared by the CLI and the daemon.

Each function validates its arguments before anything heavy loads, reports
progress as ``progress(stage, fraction)``, writes its result into a staging
folder beside the target and renames it into place at the end, so an output
folder is either complete or absent: never half-written.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mage_bridge import __version__
from mage_bridge import audio as audio_io
from mage_bridge import manifest
from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidInputError, OutputExistsError
from mage_bridge.files import staged_folder
from mage_bridge.generate.base import GenerateRequest, ProgressFn

# The other job kinds live beside their stages; the API is their one front door.
from mage_bridge.api_effects import enhance, export, master, separate  # noqa: E402,F401

__all__ = ["generate", "separate", "enhance", "master", "export", "measure_mix", "check_output_dir"]

#: Options a generate request may carry (OSC options_json, CLI flags) and their checks.
GENERATE_OPTIONS = ("bpm", "key", "mode", "time_signature", "genre", "duration_s",
                    "backend", "analysis_backend", "lead_in_bars")

MIN_BPM, MAX_BPM = 40.0, 240.0
MIN_DURATION_S, MAX_DURATION_S = 4.0, 120.0


def _noop(stage: str, fraction: float) -> None:
    pass


def check_output_dir(out_dir: Path, *, overwrite: bool = False) -> None:
    """Refuse, before any work, a target that holds something or cannot be written."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputExistsError(f"{str(out_dir)!r} exists and is not a folder")
        if any(out_dir.iterdir()) and not overwrite:
            raise OutputExistsError(
                f"{str(out_dir)!r} already holds files; choose an empty or new folder"
            )
    parent = out_dir.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidInputError(f"cannot write into {str(parent)!r}: permission denied")


def _check_generate_options(options: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(GENERATE_OPTIONS))
    if unknown:
        raise InvalidInputError(
            f"unknown generate option(s) {', '.join(unknown)}; known: {', '.join(GENERATE_OPTIONS)}"
        )
    checked = dict(options)
    if "bpm" in checked:
        bpm = checked["bpm"]
        if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not MIN_BPM <= bpm <= MAX_BPM:
            raise InvalidInputError(f"bpm must be a number from {MIN_BPM:g} to {MAX_BPM:g}, got {bpm!r}")
        checked["bpm"] = float(bpm)
    if "duration_s" in checked:
        d = checked["duration_s"]
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not MIN_DURATION_S <= d <= MAX_DURATION_S:
            raise InvalidInputError(
                f"duration_s must be from {MIN_DURATION_S:g} to {MAX_DURATION_S:g}, got {d!r}"
            )
        checked["duration_s"] = float(d)
    if "mode" in checked and checked["mode"] not in ("major", "minor"):
        raise InvalidInputError(f"mode must be 'major' or 'minor', got {checked['mode']!r}")
    if "key" in checked:
        from mage_bridge.music import pitch_class

        pitch_class(str(checked["key"]))  # raises InvalidInputError on "H#"
    if "time_signature" in checked:
        ts = checked["time_signature"]
        if isinstance(ts, str) and "/" in ts:
            ts = ts.split("/", 1)
        try:
            num, den = int(ts[0]), int(ts[1])
        except (TypeError, ValueError, IndexError):
            raise InvalidInputError(f"time_signature must look like '6/8' or [6, 8], got {ts!r}") from None
        if not 1 <= num <= 16 or den not in (2, 4, 8, 16):
            raise InvalidInputError(f"time_signature out of range, got {num}/{den}")
        checked["time_signature"] = (num, den)
    if "lead_in_bars" in checked:
        n = checked["lead_in_bars"]
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 4:
            raise InvalidInputError(f"lead_in_bars must be an int from 0 to 4, got {n!r}")
    return checked


def _apply_overrides(analysis: Any, options: Mapping[str, Any]) -> Any:
    """Explicit options beat what the prompt said; record that they did."""
    from dataclasses import replace

    fields = {k: options[k] for k in ("bpm", "key", "mode", "time_signature", "genre") if k in options}
    if not fields:
        return analysis
    sources = dict(analysis.sources)
    sources.update({k: "option" for k in fields})
    return replace(analysis, sources=sources, **fields)


def generate(
    prompt: str,
    out_dir: str | os.PathLike[str],
    *,
    lyrics: str | None = None,
    seed: int | None = None,
    options: Mapping[str, Any] | None = None,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    job_id: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Turn ``prompt`` into a clip folder: one WAV per stem, ``mix.wav``, ``manifest.json``.

    Returns the manifest's path. ``out_dir`` must be new or empty (or
    ``overwrite=True``). ``options`` may fix ``bpm``, ``key``, ``mode``,
    ``time_signature``, ``genre``, ``duration_s``, ``lead_in_bars`` and pick
    ``backend`` / ``analysis_backend``; they win over the prompt.
    """
    from mage_bridge.analysis import analyze
    from mage_bridge.generate import create_generator

    started = time.perf_counter()
    progress = progress or _noop
    config = config or load_config()
    out_dir = Path(out_dir).expanduser().absolute()
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
        raise InvalidInputError(f"seed must be an int from 0 to 2**32-1, got {seed!r}")
    opts = _check_generate_options(options or {})
    check_output_dir(out_dir, overwrite=overwrite)
    seed = secrets.randbelow(2**31) if seed is None else seed
    job_id = job_id or uuid.uuid4().hex[:12]

    with staged_folder(out_dir, job_id=job_id, overwrite=overwrite) as staging:
        progress("analyze", 0.0)
        analysis = analyze(prompt, lyrics=lyrics, backend=opts.get("analysis_backend", config.backends.analysis),
                           config=config)
        analysis = _apply_overrides(analysis, opts)
        progress("analyze", 1.0)

        generator = create_generator(opts.get("backend", config.backends.generate), config)
        request = GenerateRequest(
            analysis=analysis, seed=seed, duration_s=opts.get("duration_s", 32.0), lyrics=lyrics,
            lead_in_bars=opts.get("lead_in_bars", 1),
        )
        clip = generator.generate(request, progress=progress)
        mix = audio_io.mix(clip.stems)

        progress("measure", 0.0)
        measured = measure_mix(mix, time_signature=analysis.time_signature)
        progress("measure", 1.0)

        stem_files = {}
        for i, (name, stem) in enumerate(clip.stems.items()):
            progress("write", i / (len(clip.stems) + 1))
            audio_io.save(stem, staging / f"{name}.wav")
            stem_files[name] = f"{name}.wav"
        audio_io.save(mix, staging / "mix.wav")
        data = {
            "schema": manifest.SCHEMA,
            "job_id": job_id,
            "kind": "generate",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "mage_bridge_version": __version__,
            "request": {"prompt": prompt, "lyrics": lyrics, "seed": seed, "options": _jsonable(opts)},
            "analysis": analysis.to_dict(),
            "backend": {"name": generator.name, "seed": seed, **clip.details},
            "requested": {
                "bpm": analysis.bpm, "key": analysis.key, "mode": analysis.mode,
                "time_signature": list(analysis.time_signature),
            },
            "measured": measured,
            "sample_rate": mix.sample_rate,
            "channels": mix.channels,
            "frames": mix.frames,
            "duration_s": round(mix.duration_s, 6),
            "stems": stem_files,
            "mix": "mix.wav",
            "lyrics": None,
            "lineage": {"parent": None},
            "elapsed_s": round(time.perf_counter() - started, 3),
        }
        manifest.write_json_atomic(staging / manifest.FILENAME, data)
    progress("write", 1.0)
    return out_dir / manifest.FILENAME


def measure_mix(mix: audio_io.Audio, *, time_signature: tuple[int, int]) -> dict[str, Any]:
    """Tempo, key, loudness and peaks of a rendered mix, measured without knowing the request."""
    from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
    from mage_bridge.measure import measure_key, measure_tempo

    tempo = measure_tempo(mix, time_signature=time_signature)
    key = measure_key(mix)
    return {
        "bpm": round(float(tempo.bpm), 3),
        "tempo_confidence": round(float(tempo.confidence), 3),
        "key": key.tonic,
        "mode": key.mode,
        "key_confidence": round(float(key.confidence), 3),
        "loudness_lufs": manifest.finite_or_none(integrated_loudness(mix)),
        "true_peak_dbtp": manifest.finite_or_none(true_peak_dbtp(mix)),
        "peak_dbfs": manifest.finite_or_none(mix.peak_dbfs()),
    }


def _jsonable(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
