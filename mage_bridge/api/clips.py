"""A generated clip's folder: stems, ``mix.wav``, MIDI, the mastered mix, and its manifest.

``generate``, ``retake`` and the edit tasks (``repaint``, ``extend``, ``cover``, ``lego``,
``extract``) all leave the same folder, written here by :func:`write_clip`: the stems and their sum
measured without knowing the request (tempo, key, loudness, peaks), and the measured tempo set
beside the requested one. A generator that drifts to half time (ACE-Step is reported to) is
flagged: ``measured.tempo_off`` and a line in ``warnings`` when the two differ by more than
:data:`TEMPO_TOLERANCE`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mage_bridge import __version__, manifest
from mage_bridge import audio as audio_io
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.files import write_json_atomic
from mage_bridge.generate.base import GeneratedClip
from mage_bridge.progress import ProgressFn

#: The mastered copy of the mix written beside it when the ``master`` option is on.
MASTER_FILE = "mix.master.wav"
#: A measured tempo further than this (a fraction) from the requested one is flagged.
TEMPO_TOLERANCE = 0.02


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


def tempo_warning(requested_bpm: float, measured_bpm: float) -> str | None:
    """A warning when ``measured_bpm`` is more than :data:`TEMPO_TOLERANCE` off ``requested_bpm``, else ``None``."""
    if requested_bpm <= 0 or abs(measured_bpm - requested_bpm) <= TEMPO_TOLERANCE * requested_bpm:
        return None
    ratio = measured_bpm / requested_bpm
    felt = " (it feels half time)" if abs(ratio - 0.5) <= TEMPO_TOLERANCE else \
        " (it feels double time)" if abs(ratio - 2.0) <= 2 * TEMPO_TOLERANCE else ""
    return (f"the measured tempo {measured_bpm:g} BPM is {abs(ratio - 1) * 100:.1f} % off the requested "
            f"{requested_bpm:g} BPM{felt}")


def write_master(mix: audio_io.Audio, folder: Path, settings: Mapping[str, Any], *,
                 progress: ProgressFn) -> dict[str, Any]:
    """Master ``mix`` into ``folder``/:data:`MASTER_FILE` and return the manifest's record.

    The mastering chain reports its own progress as stage ``master``.

    ``measured`` is read back from the written 24-bit file, as :func:`mage_bridge.api.master` does.
    """
    from mage_bridge.api.results import measure_file
    from mage_bridge.effects.master import master

    result = master(mix, target_lufs=settings["target_lufs"], true_peak_dbtp=settings["true_peak_dbtp"],
                    preset=settings["preset"], progress=progress)
    assert result.audio is not None  # master() on a whole Audio returns it (only master_blocks streams)
    audio_io.save(result.audio, folder / MASTER_FILE)
    measured, _ = measure_file(folder / MASTER_FILE)
    return {"file": MASTER_FILE, "target_lufs": settings["target_lufs"],
            "true_peak_dbtp": settings["true_peak_dbtp"], "preset": settings["preset"],
            "measured": measured, "backend": result.to_dict()}


def write_clip(
    staging: Path,
    clip: GeneratedClip,
    *,
    kind: str,
    job_id: str,
    request: dict[str, Any],
    analysis: PromptAnalysis,
    backend: str,
    seed: int,
    bars: int | None,
    started: float,
    progress: ProgressFn,
    lineage: dict[str, Any] | None = None,
    master: Mapping[str, Any] | None = None,
    daw: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """Measure ``clip``, write its stems, mix, MIDI (and the mastered mix when ``master`` has settings)
    into ``staging`` and its manifest last; returns the manifest.

    ``analysis`` is what was asked for (the ``requested`` block); ``request`` is what re-renders the
    clip; ``lineage`` where it came from (``{"parent": None}`` for a clip made from a prompt).
    """
    mix = audio_io.mix(clip.stems)
    progress("measure", 0.0)
    measured = measure_mix(mix, time_signature=analysis.time_signature)
    off = tempo_warning(analysis.bpm, measured["bpm"])
    measured["tempo_off"] = off is not None
    progress("measure", 1.0)

    stem_files = {}
    for i, (name, stem) in enumerate(clip.stems.items()):
        progress("write", i / (len(clip.stems) + 1))
        audio_io.save(stem, staging / f"{name}.wav")
        stem_files[name] = f"{name}.wav"
    audio_io.save(mix, staging / "mix.wav")
    master_record = None
    if master is not None:
        master_record = write_master(mix, staging, master, progress=progress)
    midi = None
    if clip.score is not None:
        from mage_bridge.generate.midifile import write_score_midi

        midi = write_score_midi(clip.score, staging)
    data = {
        "schema": manifest.SCHEMA,
        "job_id": job_id,
        "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "mage_bridge_version": __version__,
        "request": request,
        "analysis": analysis.to_dict(),
        "backend": {"name": backend, "seed": seed, **clip.details},
        "requested": {
            "bpm": analysis.bpm, "key": analysis.key, "mode": analysis.mode,
            "time_signature": list(analysis.time_signature),
        },
        "measured": measured,
        "warnings": [*(warnings or []), *([off] if off else [])],
        "sample_rate": mix.sample_rate,
        "channels": mix.channels,
        "frames": mix.frames,
        "duration_s": round(mix.duration_s, 6),
        "stems": stem_files,
        "bars": bars,
        "structure": clip.structure,
        "mix": "mix.wav",
        "master": master_record,
        "midi": midi,
        "daw": daw,
        "lyrics": None,
        "lineage": lineage if lineage is not None else {"parent": None},
        "elapsed_s": round(time.perf_counter() - started, 3),
    }
    write_json_atomic(staging / manifest.FILENAME, data)
    return data
