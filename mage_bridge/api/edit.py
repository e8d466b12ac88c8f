"""The tasks that rework a clip: ``repaint``, ``extend``, ``cover``, ``lego``, ``extract`` and ``retake``.

A source is a MAGE clip's ``manifest.json`` (its mix and stems are read, its analysis and lyrics
come from the manifest) or a plain audio file (resampled to 48 kHz stereo; its analysis from the
``prompt`` option, its tempo and key measured). Every option is checked before anything loads,
and the backend's :attr:`~mage_bridge.generate.base.Generator.tasks` before any audio is read: a
backend without the task fails with :class:`~mage_bridge.errors.NotSupportedError` naming one
that can. The result is a clip folder like :func:`mage_bridge.api.generate`'s (stems, ``mix.wav``,
``manifest.json``) whose manifest's ``kind`` is the task and whose ``lineage`` names the source.
Times are seconds from the source's start.

``retake`` renders a clip's request again with a new seed through :func:`mage_bridge.api.generate`.
"""

from __future__ import annotations

import math
import os
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mage_bridge import manifest
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.api.checks import check_input, check_output_dir
from mage_bridge.api.clips import write_clip
from mage_bridge.api.generate import MAX_DURATION_S, MIN_DURATION_S, generate
from mage_bridge.api.results import register_result
from mage_bridge.audio import Audio
from mage_bridge.config import Config, load_config
from mage_bridge.edits import COMMON_OPTIONS, EDIT_KINDS, EDIT_OPTIONS, TRACK_NAMES
from mage_bridge.errors import InvalidInputError, NotSupportedError
from mage_bridge.files import staged_folder
from mage_bridge.generate.base import EditRequest, Generator
from mage_bridge.genres import Mode
from mage_bridge.progress import ProgressFn, no_progress

#: The longest crossfade at a repainted window's edges (s).
MAX_CROSSFADE_S = 1.0
#: How long an extension is when neither ``bars`` nor ``duration_s`` is given.
DEFAULT_EXTEND_BARS = 8
#: The manifests a source may be: a clip with a mix and stems.
CLIP_KINDS: tuple[str, ...] = ("generate", *EDIT_KINDS)

__all__ = ["CLIP_KINDS", "EDIT_KINDS", "TRACK_NAMES", "check_edit_options", "cover", "extend", "extract", "lego",
           "repaint", "retake"]


# -- checks that need no source ----------------------------------------------------------------------
def _number(name: str, value: object, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not lo <= value <= hi:
        raise InvalidInputError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")
    return float(value)


def check_edit_options(kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options of an edit job of ``kind`` checked as far as they can be without its source.

    The daemon runs this when a request comes, so a malformed one is refused at once; the task's
    function checks again, with the source's length and tempo.
    """
    if kind not in EDIT_OPTIONS:
        raise InvalidInputError(f"edit kind must be one of {', '.join(EDIT_KINDS)}, got {kind!r}")
    if not isinstance(options, Mapping):
        raise InvalidInputError(f"{kind} options must be a mapping, got {type(options).__name__}")
    known = (*EDIT_OPTIONS[kind], *COMMON_OPTIONS)
    unknown = sorted(str(k) for k in options if k not in known)
    if unknown:
        raise InvalidInputError(f"unknown {kind} option(s) {', '.join(unknown)}; known: {', '.join(known)}")
    out = dict(options)
    _check_common(out.get("prompt"), out.get("lyrics"), out.get("seed"), out.get("backend"))
    if kind == "cover" and out.get("prompt") is None:
        raise InvalidInputError("cover needs a prompt: the style to play the source in")
    if "start_s" in out or kind == "repaint":
        if "start_s" not in out:
            raise InvalidInputError("repaint needs start_s: where the window to regenerate starts (s)")
        out["start_s"] = _number("start_s", out["start_s"], 0.0, math.inf)
    if out.get("end_s") is not None:
        out["end_s"] = _number("end_s", out["end_s"], 0.0, math.inf)
        if out["end_s"] <= out["start_s"]:
            raise InvalidInputError(f"end_s must be after start_s={out['start_s']:g}, got {out['end_s']:g}")
    if "crossfade_s" in out:
        out["crossfade_s"] = _number("crossfade_s", out["crossfade_s"], 0.0, MAX_CROSSFADE_S)
    if "side" in out and out["side"] not in ("after", "before"):
        raise InvalidInputError(f"side must be 'after' or 'before', got {out['side']!r}")
    if out.get("bars") is not None:
        bars = out["bars"]
        if isinstance(bars, bool) or not isinstance(bars, int) or bars < 1:
            raise InvalidInputError(f"bars must be a whole number of bars (1 or more), got {bars!r}")
        if out.get("duration_s") is not None:
            raise InvalidInputError("give bars or duration_s, not both")
    if out.get("duration_s") is not None:
        out["duration_s"] = _number("duration_s", out["duration_s"], MIN_DURATION_S, MAX_DURATION_S)
    if "strength" in out:
        out["strength"] = _number("strength", out["strength"], 0.0, 1.0)
    if kind in ("lego", "extract") and out.get("track") not in TRACK_NAMES:
        raise InvalidInputError(f"{kind} needs track, one of {', '.join(TRACK_NAMES)}, got {out.get('track')!r}")
    return out


def _check_common(prompt: object, lyrics: object, seed: object, backend: object) -> None:
    from mage_bridge.analysis.rules import check_prompt
    from mage_bridge.generate import REGISTRY

    if prompt is not None:
        check_prompt(prompt, lyrics)
    elif lyrics is not None and not isinstance(lyrics, str):
        raise InvalidInputError(f"lyrics must be a string or None, got {type(lyrics).__name__}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
        raise InvalidInputError(f"seed must be an int from 0 to 2**32-1, got {seed!r}")
    if backend is not None:
        if not isinstance(backend, str) or not backend.strip():
            raise InvalidInputError(f"backend must be a backend name, got {backend!r}")
        if backend != "auto":
            REGISTRY.spec(backend)  # an unknown name fails now, before any work


# -- the source --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Source:
    """What is known of a source before its audio is read."""

    given: str
    path: Path
    duration_s: float
    #: The clip's manifest, or ``None`` for a plain audio file.
    record: dict[str, Any] | None = None

    @property
    def job_id(self) -> str | None:
        return None if self.record is None else self.record.get("job_id")

    @property
    def analysis(self) -> PromptAnalysis | None:
        return None if self.record is None else PromptAnalysis.from_dict(self.record["analysis"])

    def file(self, name: object) -> Path:
        """A file the manifest lists, which must lie in the manifest's own folder."""
        folder = self.path.parent.resolve()
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"{self.given!r} lists {name!r} where a file name belongs")
        path = (folder / name).resolve()
        if path.parent != folder:
            raise InvalidInputError(f"{self.given!r} lists {name!r}, which is not a file in its own folder")
        return path


def _open_source(source: str | os.PathLike[str]) -> _Source:
    """The source's manifest (a clip's) or header (an audio file), read without decoding a sample."""
    given = os.fspath(source)
    path = Path(given).expanduser().absolute()
    if path.is_dir() and (path / manifest.FILENAME).is_file():
        path = path / manifest.FILENAME
    if path.suffix.lower() != ".json":
        path, info = check_input(path)
        return _Source(given, path, info.duration_s)
    try:
        record = manifest.read(path)
    except (OSError, ValueError) as e:
        raise InvalidInputError(f"cannot read the clip manifest {given!r}: {e}") from None
    if not isinstance(record, dict) or record.get("schema") != manifest.SCHEMA:
        raise InvalidInputError(f"{given!r} is not a MAGE manifest ({manifest.SCHEMA})")
    if record.get("kind") not in CLIP_KINDS or not isinstance(record.get("analysis"), dict):
        raise InvalidInputError(f"{given!r} is a {record.get('kind')!r} manifest, not a clip's; give a clip made by "
                                f"{', '.join(CLIP_KINDS)}, or an audio file")
    duration = record.get("duration_s")
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
        raise InvalidInputError(f"{given!r} has no duration_s")
    src = _Source(given, path, float(duration), record)
    _ = src.analysis  # a malformed analysis or a missing file fails now, before any work
    _clip_files(src)
    return src


def _clip_files(src: _Source) -> tuple[Path, dict[str, Path]]:
    """A clip's mix and stems, each checked (in the manifest's folder, readable, not too long) by its header."""
    assert src.record is not None
    listed = src.record.get("stems") or {}
    if not isinstance(listed, dict):
        raise InvalidInputError(f"{src.given!r}: stems must map names to files, got {listed!r}")
    mix = check_input(src.file(src.record.get("mix")))[0]
    return mix, {str(name): check_input(src.file(f))[0] for name, f in listed.items()}


def _load(src: _Source, notes: list[str]) -> tuple[Audio, dict[str, Audio] | None]:
    """The source's mix and (for a clip) its stems, 48 kHz stereo."""
    from mage_bridge.api.results import load_48k_stereo

    if src.record is None:
        return load_48k_stereo(src.path, notes)[0], None
    mix_path, stem_paths = _clip_files(src)
    stems = {name: load_48k_stereo(path, notes)[0] for name, path in stem_paths.items()}
    mix = load_48k_stereo(mix_path, notes)[0]
    if any(s.frames != mix.frames for s in stems.values()):
        raise InvalidInputError(f"{src.given!r}: its stems and mix differ in length")
    return mix, (stems or None)


def _source_analysis(src: _Source, mix: Audio, prompt: str | None, config: Config) -> PromptAnalysis:
    """What the source is: its manifest's analysis (a new ``prompt`` changes the words, not its tempo,
    key or metre), or for an audio file the prompt's analysis with the measured tempo and key."""
    from mage_bridge.analysis import analyze
    from mage_bridge.measure import measure_key, measure_tempo

    kept = src.analysis
    if kept is not None and prompt is None:
        return kept
    analysis = analyze(prompt or "music", config=config)
    sources = dict(analysis.sources)
    if kept is not None:
        sources.update({k: "source" for k in ("bpm", "key", "mode", "time_signature")})
        return replace(analysis, bpm=kept.bpm, key=kept.key, mode=kept.mode, scale=kept.scale,
                       time_signature=kept.time_signature, sources=sources)
    tempo = measure_tempo(mix, time_signature=analysis.time_signature)
    key = measure_key(mix)
    sources.update({"bpm": "measured", "key": "measured", "mode": "measured"})
    mode: Mode = "minor" if key.mode == "minor" else "major"
    return replace(analysis, bpm=round(float(tempo.bpm), 2), key=key.tonic, mode=mode, scale="", sources=sources)


def _extend_length(opts: Mapping[str, Any], analysis: PromptAnalysis) -> tuple[float, int]:
    """The extension's length: whole bars of the source's tempo within generate's limits."""
    from mage_bridge.generate.project import whole_bars
    from mage_bridge.music import bar_seconds

    metre = analysis.time_signature
    bar_s = bar_seconds(analysis.bpm, metre)
    bars = opts.get("bars")
    if bars is not None:
        if not MIN_DURATION_S <= bars * bar_s <= MAX_DURATION_S + 1e-9:
            raise InvalidInputError(f"bars={bars} at {analysis.bpm:g} BPM in {metre[0]}/{metre[1]} is "
                                    f"{bars * bar_s:.1f} s; an extension runs {MIN_DURATION_S:g} to "
                                    f"{MAX_DURATION_S:g} s")
        return bars * bar_s, bars
    wanted = opts.get("duration_s")
    n, seconds = whole_bars(DEFAULT_EXTEND_BARS * bar_s if wanted is None else wanted, analysis.bpm, metre,
                            min_s=MIN_DURATION_S, max_s=MAX_DURATION_S)
    return seconds, n


def _refuse_unsupported(generator: Generator, task: str, analysis: PromptAnalysis) -> None:
    """Fail with the backend's own :class:`NotSupportedError` (naming who can) when it lacks ``task``."""
    if task in generator.tasks:
        return
    import numpy as np

    probe = EditRequest(task=task, source=Audio(np.zeros((2, 1), np.float32), generator.sample_rate),
                        analysis=analysis)
    Generator.edit(generator, probe)  # the default: raises, naming the backends that can
    raise NotSupportedError(f"the {generator.name!r} generator cannot {task}")


# -- the tasks ---------------------------------------------------------------------------------------
def _edit(task: str, source: str | os.PathLike[str], out_dir: str | os.PathLike[str], opts: dict[str, Any], *,
          prompt: str | None, lyrics: str | None, seed: int | None, backend: str | None, config: Config | None,
          progress: ProgressFn | None, job_id: str | None, overwrite: bool) -> Path:
    """Check everything, then run ``task`` on the backend and write the result's clip folder."""
    from mage_bridge.generate import create_generator

    started = time.perf_counter()
    progress = progress or no_progress
    given = {k: v for k, v in opts.items() if v is not None}
    checked = check_edit_options(task, {**given, "prompt": prompt, "lyrics": lyrics, "seed": seed,
                                        "backend": backend})
    src = _open_source(source)
    known = src.analysis
    if task == "repaint":
        end = checked.get("end_s")
        end = src.duration_s if end is None else end
        if end > src.duration_s + 1e-6:
            raise InvalidInputError(f"end_s={end:g} is past the end of {src.given!r} ({src.duration_s:g} s)")
        if checked["start_s"] >= end:
            raise InvalidInputError(f"start_s={checked['start_s']:g} must be before the end of the window "
                                    f"({end:g} s; {src.given!r} lasts {src.duration_s:g} s)")
        checked["end_s"] = end
    if task == "extend" and known is not None:
        _extend_length(checked, known)  # a length that cannot fit fails now
    out = check_output_dir(out_dir, overwrite=overwrite)
    config = config or load_config()
    generator = create_generator(backend, config)
    _refuse_unsupported(generator, task, known or PromptAnalysis("", "", 120.0, "C", "major", (4, 4)))
    seed = secrets.randbelow(2**31) if seed is None else seed
    job_id = job_id or uuid.uuid4().hex[:12]
    record = src.record or {}
    if lyrics is None:
        lyrics = (record.get("request") or {}).get("lyrics")

    notes: list[str] = []
    with staged_folder(out, job_id=job_id, overwrite=overwrite) as staging:
        progress("load", 0.0)
        mix, stems = _load(src, notes)
        analysis = _source_analysis(src, mix, prompt, config)
        progress("load", 1.0)
        bars = record.get("bars") if isinstance(record.get("bars"), int) else None
        fields: dict[str, Any] = {}
        if task == "repaint":
            fields = {"start_s": checked["start_s"], "end_s": checked["end_s"],
                      "crossfade_s": checked.get("crossfade_s", 0.05)}
        elif task == "extend":
            duration_s, bars = _extend_length(checked, analysis)
            fields = {"side": checked.get("side", "after"), "duration_s": duration_s}
        elif task == "cover":
            fields = {"strength": checked.get("strength", 1.0)}
        else:
            fields = {"track": checked["track"]}
        request = EditRequest(task=task, source=mix, analysis=analysis, seed=seed, lyrics=lyrics, stems=stems,
                              **fields)
        clip = generator.edit(request, progress=progress)
        lineage: dict[str, Any] = {"parent": src.given, "parent_job": src.job_id, "task": task}
        if task == "repaint":
            lineage["range"] = [fields["start_s"], fields["end_s"]]
        elif task == "extend":
            lineage["side"] = fields["side"]
        elif task in ("lego", "extract"):
            lineage["track"] = fields["track"]
        if clip.stems and next(iter(clip.stems.values())).frames != mix.frames and task != "extend":
            bars = None
        write_clip(staging, clip, kind=task, job_id=job_id,
                   request={"source": src.given, "prompt": prompt, "lyrics": lyrics, "seed": seed, "backend": backend,
                            "options": {**given, **fields}},
                   analysis=analysis, backend=generator.name, seed=seed, bars=bars, started=started,
                   progress=progress, lineage=lineage, warnings=notes)
    progress("write", 1.0)
    return register_result(out / manifest.FILENAME, config)


def repaint(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, start_s: float,
            end_s: float | None = None, crossfade_s: float = 0.05, prompt: str | None = None,
            lyrics: str | None = None, seed: int | None = None, backend: str | None = None,
            config: Config | None = None, progress: ProgressFn | None = None, job_id: str | None = None,
            overwrite: bool = False) -> Path:
    """Regenerate ``[start_s, end_s)`` of ``source`` (``end_s`` ``None``: to its end); the rest stays as it
    was and the window's edges are crossfaded over ``crossfade_s`` (0 to 1 s).

    ``source`` is a clip's ``manifest.json`` or an audio file; ``prompt`` and ``lyrics`` replace the
    source's for the window. Returns the new clip's manifest path (``kind`` ``"repaint"``,
    ``lineage.range``).
    """
    return _edit("repaint", source, out_dir, {"start_s": start_s, "end_s": end_s, "crossfade_s": crossfade_s},
                 prompt=prompt, lyrics=lyrics, seed=seed, backend=backend, config=config, progress=progress,
                 job_id=job_id, overwrite=overwrite)


def extend(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, side: str = "after",
           bars: int | None = None, duration_s: float | None = None, prompt: str | None = None,
           lyrics: str | None = None, seed: int | None = None, backend: str | None = None,
           config: Config | None = None, progress: ProgressFn | None = None, job_id: str | None = None,
           overwrite: bool = False) -> Path:
    """A new clip that continues ``source`` ``"after"`` its end (a Next/Outro) or leads into its start
    ``"before"`` it (an Intro/Previous): ``bars`` of the source's tempo, or ``duration_s`` rounded to
    whole bars (default :data:`DEFAULT_EXTEND_BARS`), within generate's length limits."""
    return _edit("extend", source, out_dir, {"side": side, "bars": bars, "duration_s": duration_s},
                 prompt=prompt, lyrics=lyrics, seed=seed, backend=backend, config=config, progress=progress,
                 job_id=job_id, overwrite=overwrite)


def cover(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, prompt: str, strength: float = 1.0,
          lyrics: str | None = None, seed: int | None = None, backend: str | None = None,
          config: Config | None = None, progress: ProgressFn | None = None, job_id: str | None = None,
          overwrite: bool = False) -> Path:
    """``source``'s structure played in the style ``prompt`` describes; ``strength`` (0 to 1) is how much
    of the source is kept, 1.0 the most."""
    return _edit("cover", source, out_dir, {"strength": strength}, prompt=prompt, lyrics=lyrics, seed=seed,
                 backend=backend, config=config, progress=progress, job_id=job_id, overwrite=overwrite)


def lego(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, track: str, prompt: str | None = None,
         lyrics: str | None = None, seed: int | None = None, backend: str | None = None,
         config: Config | None = None, progress: ProgressFn | None = None, job_id: str | None = None,
         overwrite: bool = False) -> Path:
    """``source`` with one generated ``track`` added (one of :data:`TRACK_NAMES`, e.g. ``"drums"``)."""
    return _edit("lego", source, out_dir, {"track": track}, prompt=prompt, lyrics=lyrics, seed=seed,
                 backend=backend, config=config, progress=progress, job_id=job_id, overwrite=overwrite)


def extract(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, track: str,
            prompt: str | None = None, lyrics: str | None = None, seed: int | None = None,
            backend: str | None = None, config: Config | None = None, progress: ProgressFn | None = None,
            job_id: str | None = None, overwrite: bool = False) -> Path:
    """The ``track`` (one of :data:`TRACK_NAMES`) taken out of ``source``'s mix."""
    return _edit("extract", source, out_dir, {"track": track}, prompt=prompt, lyrics=lyrics, seed=seed,
                 backend=backend, config=config, progress=progress, job_id=job_id, overwrite=overwrite)


def retake(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, seed: int | None = None,
           prompt: str | None = None, lyrics: str | None = None, backend: str | None = None,
           config: Config | None = None, progress: ProgressFn | None = None, job_id: str | None = None,
           overwrite: bool = False) -> Path:
    """The request of the clip ``source`` (its ``manifest.json``) rendered again with a new ``seed``
    (default: random, never the source's) on the backend that made it; ``prompt``, ``lyrics`` and
    ``backend`` replace the source's."""
    check_edit_options("retake", {"prompt": prompt, "lyrics": lyrics, "seed": seed, "backend": backend})
    src = _open_source(source)
    record = src.record
    if record is None or record.get("kind") not in ("generate", "retake"):
        what = "an audio file" if record is None else f"a {record.get('kind')!r} clip"
        raise InvalidInputError(f"retake renders a generated clip's request again: {src.given!r} is {what}; give "
                                "the manifest.json of a clip made by generate or retake")
    asked = record.get("request")
    if not isinstance(asked, dict) or not isinstance(asked.get("prompt"), str):
        raise InvalidInputError(f"{src.given!r} holds no request to render again")
    old_seed = asked.get("seed")
    if seed is None:
        seed = secrets.randbelow(2**31)
        while seed == old_seed:
            seed = secrets.randbelow(2**31)
    project = None
    daw = record.get("daw")
    if isinstance(daw, dict) and isinstance(daw.get("project"), dict):
        num, den = daw["project"].get("time_signature") or (4, 4)
        project = {"bpm": daw["project"].get("bpm"), "numerator": num, "denominator": den}
    if backend is None:  # the backend that made the source, not the config's choice of today
        ran = record.get("backend")
        backend = ran.get("name") if isinstance(ran, dict) and isinstance(ran.get("name"), str) else None
    return generate(prompt if prompt is not None else asked["prompt"], out_dir,
                    lyrics=lyrics if lyrics is not None else asked.get("lyrics"), seed=seed, backend=backend,
                    options=asked.get("options") or None, config=config, progress=progress, job_id=job_id,
                    overwrite=overwrite, project=project,
                    lineage={"parent": src.given, "parent_job": src.job_id, "task": "retake"})
