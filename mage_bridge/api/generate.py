"""``generate``: a prompt becomes a clip folder (one WAV per stem, ``mix.wav``, MIDI, ``manifest.json``)."""

from __future__ import annotations

import math
import os
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from mage_bridge import manifest
from mage_bridge.api.checks import check_options, check_output_dir
from mage_bridge.api.clips import MASTER_FILE, ClipLyrics, clip_grid, clip_lyrics, measure_mix, write_clip
from mage_bridge.api.results import jsonable, register_result
from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidInputError
from mage_bridge.files import staged_folder
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.project import ProjectTime, fit_to_project, whole_bars
from mage_bridge.lyrics.writer import MODES as LYRICS_MODES
from mage_bridge.music import bar_seconds
from mage_bridge.progress import ProgressFn, no_progress

#: Options a generate request may carry (OSC options_json, CLI flags) and their checks.
GENERATE_OPTIONS = ("bpm", "key", "mode", "time_signature", "genre", "mood", "vocals", "duration_s", "bars",
                    "analysis_backend", "lead_in_bars", "master", "lyrics_mode", "lyrics_backend")

__all__ = ["GENERATE_OPTIONS", "MASTER_FILE", "apply_overrides", "check_generate_options", "clip_length", "generate",
           "lyrics_mode_for", "measure_mix", "stated_length_note"]

MIN_BPM, MAX_BPM = 40.0, 240.0
MIN_DURATION_S, MAX_DURATION_S = 4.0, 120.0
MAX_BARS = 256
#: Longest genre or backend name an option may carry.
MAX_NAME_CHARS = 64
#: Moods an option may name at most.
MAX_MOODS = 8


def _check_name(name: str, value: object) -> None:
    """A genre or backend name: 1 to :data:`MAX_NAME_CHARS` characters."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_NAME_CHARS:
        shown = value if not isinstance(value, str) else value[:40] + ("..." if len(value) > 40 else "")
        raise InvalidInputError(f"{name} must be a name of 1 to {MAX_NAME_CHARS} characters, got {shown!r}")


def check_generate_options(options: Mapping[str, Any] | None, *, kind: str = "generate",
                            known: tuple[str, ...] = GENERATE_OPTIONS) -> dict[str, Any]:
    """The options checked and normalised (floats, ``(num, den)``) before anything loads.

    ``kind`` and ``known`` let :func:`mage_bridge.api.lyrics` check its subset of these options the same way.
    """
    checked = check_options(kind, options, known)
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
    for name in ("genre", "analysis_backend"):
        if name in checked:
            _check_name(name, checked[name])
    if "lyrics_backend" in checked:
        check_lyrics_backend("lyrics_backend", checked["lyrics_backend"])
    if "mood" in checked:
        moods = checked["mood"]
        if isinstance(moods, str):
            moods = [m for m in moods.split(",") if m.strip()]
        if not isinstance(moods, (list, tuple)) or len(moods) > MAX_MOODS:
            raise InvalidInputError(f"mood must be a list of at most {MAX_MOODS} mood names, got {moods!r}"[:300])
        for m in moods:
            _check_name("mood", m)
        checked["mood"] = tuple(str(m).strip().lower() for m in moods)
    if "vocals" in checked and not isinstance(checked["vocals"], bool):
        raise InvalidInputError(f"vocals must be true or false, got {checked['vocals']!r}")
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
    if "bars" in checked:
        n = checked["bars"]
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BARS:
            raise InvalidInputError(f"bars must be an int from 1 to {MAX_BARS}, got {n!r}")
        if "duration_s" in checked:
            raise InvalidInputError("give bars or duration_s, not both")
    if "lead_in_bars" in checked:
        n = checked["lead_in_bars"]
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 4:
            raise InvalidInputError(f"lead_in_bars must be an int from 0 to 4, got {n!r}")
    if "lyrics_mode" in checked and checked["lyrics_mode"] not in LYRICS_MODES:
        raise InvalidInputError(f"lyrics_mode must be one of {', '.join(LYRICS_MODES)}, "
                                f"got {checked['lyrics_mode']!r}")
    if "master" in checked:
        settings = _check_master(checked["master"])
        if settings is None:
            del checked["master"]
        else:
            checked["master"] = settings
    return checked


def check_lyrics_backend(name: str, value: object) -> None:
    """A lyric backend name: ``"auto"`` or a registered one (an unknown name fails before any work)."""
    from mage_bridge.lyrics import REGISTRY as LYRICS

    _check_name(name, value)
    if value != "auto":
        LYRICS.spec(str(value))


def _check_master(value: object) -> dict[str, Any] | None:
    """The ``master`` option as ``{"target_lufs", "true_peak_dbtp", "preset"}``, or ``None`` for off.

    ``true`` masters with :func:`mage_bridge.api.master`'s defaults (−14 LUFS, −1 dBTP), a string names a
    mastering preset, an object may give ``target_lufs``, ``true_peak_dbtp`` or ``preset``.
    """
    from mage_bridge.api.master import DEFAULT_TARGET_LUFS, DEFAULT_TRUE_PEAK_DBTP
    from mage_bridge.effects.master import PRESETS, check_master_inputs

    if value is False or value is None:
        return None
    if value is True:
        value = {}
    elif isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"master must be true, a mastering preset name or an object, got {value!r}")
    unknown = set(value) - {"target_lufs", "true_peak_dbtp", "preset"}
    if unknown:
        raise InvalidInputError(f"master takes target_lufs, true_peak_dbtp and preset, got {sorted(unknown)!r}")
    preset = value.get("preset")
    if preset is not None and ("target_lufs" in value or "true_peak_dbtp" in value):
        raise InvalidInputError(f"master preset {preset!r} sets the loudness target and ceiling: give it or "
                                "target_lufs/true_peak_dbtp, not both")
    if preset is not None and not isinstance(preset, str):
        raise InvalidInputError(f"master preset must be a name, got {preset!r}")
    target = value.get("target_lufs", DEFAULT_TARGET_LUFS)
    ceiling = value.get("true_peak_dbtp", DEFAULT_TRUE_PEAK_DBTP)
    check_master_inputs(target_lufs=target, true_peak_dbtp=ceiling, preset=preset)
    if preset is not None:
        target, ceiling = PRESETS[preset].target_lufs, PRESETS[preset].true_peak_dbtp
    return {"target_lufs": float(target), "true_peak_dbtp": float(ceiling), "preset": preset}


def apply_overrides(analysis: Any, options: Mapping[str, Any]) -> Any:
    """Explicit options beat what the prompt said; record that they did."""
    fields = {k: options[k] for k in ("bpm", "key", "mode", "time_signature", "genre", "mood", "vocals")
              if k in options}
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
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    job_id: str | None = None,
    overwrite: bool = False,
    project: Mapping[str, Any] | ProjectTime | None = None,
    lineage: Mapping[str, Any] | None = None,
) -> Path:
    """Turn ``prompt`` into a clip folder: one WAV per stem, ``mix.wav``, ``manifest.json``, MIDI.

    Returns the manifest's path. ``out_dir`` must be new or empty (or
    ``overwrite=True``). ``options`` may fix ``bpm``, ``key``, ``mode``,
    ``time_signature``, ``genre``, ``mood`` (mood names), ``vocals`` (``True``: sung, ``False``:
    instrumental), ``duration_s`` or ``bars`` (the whole clip,
    lead-in and lead-out included; without them a length the prompt states,
    "a 45 second lo-fi beat", is rounded to whole bars), ``lead_in_bars`` and pick the
    ``analysis_backend`` and ``lyrics_backend`` (``None``: the config's ``backends.lyrics``); they win over
    the prompt. ``master`` (``True``, a
    mastering preset name, or ``{"target_lufs", "true_peak_dbtp", "preset"}``)
    also writes :data:`MASTER_FILE`, the mix through the mastering chain
    (:func:`mage_bridge.effects.master.master`), recorded in the manifest's
    ``master``; the stems and ``mix.wav`` stay as mixed, so they still sum. ``backend`` names the
    generator (``None``: the config's ``backends.generate``).

    ``project`` (``{"bpm", "numerator", "denominator"}``) makes the clip for a DAW
    project: its tempo and metre win over the prompt (not over explicit
    options) and the length becomes a whole number of bars
    (:mod:`mage_bridge.generate.project`); the manifest's ``daw`` says why.

    When the analysis asks for vocals (lyrics given imply them) the clip gets lyrics
    (:func:`~mage_bridge.api.clips.clip_lyrics`): written from the prompt, or the user's ``lyrics`` sung
    verbatim; the ``lyrics_mode`` option (``generate``, ``replace``, ``append``) picks which. They are timed
    per syllable on the clip's grid, written beside the stems as LRC and are what the generator sings
    (ACE-Step's lyrics); the manifest's ``lyrics`` holds them. An instrumental clip has ``lyrics: null``.
    Lyrics that cannot fit the clip are refused before anything is rendered.

    ``lineage`` names the clip this one remakes (``{"parent", "parent_job", "task": "retake"}``, from
    :func:`mage_bridge.api.retake`); its ``task`` becomes the manifest's ``kind``.
    """
    from mage_bridge.analysis import analyze
    from mage_bridge.analysis.rules import check_prompt
    from mage_bridge.generate import REGISTRY, create_generator

    started = time.perf_counter()
    progress = progress or no_progress
    check_prompt(prompt, lyrics)  # an empty prompt is refused before anything else happens
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
        raise InvalidInputError(f"seed must be an int from 0 to 2**32-1, got {seed!r}")
    opts = check_generate_options(options)
    lyrics_mode_for(opts, lyrics)  # a mode that does not go with the lyrics given is refused here
    if backend is not None:
        _check_name("backend", backend)
        if backend != "auto":
            REGISTRY.spec(backend)  # an unknown name fails now, before any work
    if project is not None and not isinstance(project, ProjectTime):
        project = ProjectTime.from_mapping(project)
    out_dir = check_output_dir(out_dir, overwrite=overwrite)
    config = config or load_config()
    seed = secrets.randbelow(2**31) if seed is None else seed
    job_id = job_id or uuid.uuid4().hex[:12]
    kind = str(lineage["task"]) if lineage is not None and lineage.get("task") else "generate"
    lineage = {"parent": None} if lineage is None else dict(lineage)

    with staged_folder(out_dir, job_id=job_id, overwrite=overwrite) as staging:
        progress("analyze", 0.0)
        analysis = analyze(prompt, lyrics=lyrics, backend=opts.get("analysis_backend"), config=config)
        analysis = apply_overrides(analysis, opts)
        daw_record = None
        if project is not None:
            analysis, daw_record = fit_to_project(analysis, opts, project)
        analysis = stated_length_note(analysis, opts)
        duration_s, bars = clip_length(analysis, opts, whole_bars_wanted=project is not None)
        if daw_record is not None:
            daw_record["used"]["bars"] = bars
        progress("analyze", 1.0)

        lead_in_bars = opts.get("lead_in_bars", 1)
        sung, notes = _lyrics_for_clip(analysis, opts, lyrics, seed, duration_s, lead_in_bars, progress, config)
        generator = create_generator(backend, config)
        request = GenerateRequest(
            analysis=analysis, seed=seed, duration_s=duration_s,
            lyrics=sung.text if sung is not None else lyrics, lead_in_bars=lead_in_bars,
            sung=tuple(sung.times) if sung is not None else None,
        )
        clip = generator.generate(request, progress=progress)
        vocal_notes = clip.details.get("vocal", {}).get("notes") if sung is not None else None
        if sung is not None and vocal_notes is not None and len(vocal_notes) == len(sung.times):
            # the generator wrote the melody over its chords: the manifest's syllables carry their notes
            sung = replace(sung, times=[replace(t, note=n) for t, n in zip(sung.times, vocal_notes)])
        write_clip(staging, clip, kind=kind, job_id=job_id,
                   request={"prompt": prompt, "lyrics": lyrics, "seed": seed, "backend": backend,
                            "options": jsonable(opts)},
                   analysis=analysis, backend=generator.name, seed=seed, bars=bars, started=started,
                   progress=progress, lineage=lineage, master=opts.get("master"), daw=daw_record,
                   warnings=notes, lyrics=sung)
    progress("write", 1.0)
    return register_result(out_dir / manifest.FILENAME, config)


def lyrics_mode_for(opts: Mapping[str, Any], lyrics: str | None) -> str:
    """The lyric mode: the ``lyrics_mode`` option, else ``"replace"`` when lyrics are given (sung verbatim),
    else ``"generate"``; a mode that does not go with the lyrics given is refused."""
    from mage_bridge.lyrics.writer import check_inputs

    given = bool(lyrics and lyrics.strip())
    mode = opts.get("lyrics_mode") or ("replace" if given else "generate")
    if mode not in LYRICS_MODES:
        raise InvalidInputError(f"lyrics_mode must be one of {', '.join(LYRICS_MODES)}, got {mode!r}")
    check_inputs(mode, lyrics if given else None, 0, None)
    return mode


def _lyrics_for_clip(analysis: Any, opts: Mapping[str, Any], lyrics: str | None, seed: int, duration_s: float,
                     lead_in_bars: int, progress: ProgressFn, config: Config) -> tuple[ClipLyrics | None, list[str]]:
    """The clip's lyrics timed on its grid when the analysis asks for vocals (lyrics given imply them), and
    the manifest warnings that go with them.

    The user's lyrics that cannot fit refuse the clip; written lyrics that cannot (a clip with no whole
    bar between lead-in and lead-out) leave it without, with a warning.
    """
    given = bool(lyrics and lyrics.strip())
    if not analysis.vocals:
        return None, (["lyrics_mode is ignored: the clip is instrumental"] if "lyrics_mode" in opts else [])
    progress("lyrics", 0.0)
    grid = clip_grid(analysis, duration_s=duration_s, lead_in_bars=lead_in_bars)
    try:
        sung = clip_lyrics(analysis, grid, mode=lyrics_mode_for(opts, lyrics), user_lyrics=lyrics if given else None,
                           seed=seed, backend=opts.get("lyrics_backend"), config=config)
    except InvalidInputError as e:
        if given:
            raise
        return None, [f"no lyrics were written: {e}"]
    progress("lyrics", 1.0)
    return sung, list(sung.lyrics.warnings)


def stated_length_note(analysis: Any, opts: Mapping[str, Any]) -> Any:
    """``analysis`` with a warning when the length it states is cut to the clip limits or overridden."""
    from dataclasses import replace

    stated = analysis.duration_s
    if stated is None:
        return analysis
    if "bars" in opts or "duration_s" in opts:
        note = f"the prompt asks for {stated:g} s; the {'bars' if 'bars' in opts else 'duration_s'} option wins"
    elif not MIN_DURATION_S <= stated <= MAX_DURATION_S:
        note = (f"the prompt asks for {stated:g} s; a clip runs {MIN_DURATION_S:g} to {MAX_DURATION_S:g} s, "
                f"so it is cut to the nearest whole number of bars within that")
    else:
        return analysis
    return replace(analysis, warnings=(*analysis.warnings, note))


def clip_length(analysis: Any, opts: Mapping[str, Any], *, whole_bars_wanted: bool) -> tuple[float, int | None]:
    """The clip's length in seconds and, when it is a whole number of bars, how many.

    ``bars`` in the options is taken as asked; a length the prompt states ("a 45 second lo-fi
    beat", ``analysis.duration_s``) and a clip for a DAW project round to the nearest whole number
    of bars that leaves room for the lead-in, one body bar and the lead-out, within
    :data:`MIN_DURATION_S`-:data:`MAX_DURATION_S` (the lead-in and lead-out count in the length);
    otherwise ``duration_s`` (default 32 s) is used as it is.
    """
    from mage_bridge.generate.compose import MIN_LEAD_OUT_S

    metre = tuple(analysis.time_signature)
    bar_s = bar_seconds(analysis.bpm, metre)
    min_bars = opts.get("lead_in_bars", 1) + 1 + math.ceil(MIN_LEAD_OUT_S / bar_s - 1e-9)
    if "bars" in opts:
        bars = opts["bars"]
        if bars < min_bars:
            raise InvalidInputError(f"bars={bars} is too short: at {analysis.bpm:g} BPM in {metre[0]}/{metre[1]} "
                                    f"a clip needs at least {min_bars} bars (lead-in, one bar, lead-out)")
        if bars * bar_s > MAX_DURATION_S:
            raise InvalidInputError(f"bars={bars} at {analysis.bpm:g} BPM is {bars * bar_s:.1f} s, more than "
                                    f"{MAX_DURATION_S:g} s")
        return bars * bar_s, bars
    stated = analysis.duration_s if "duration_s" not in opts else None
    duration_s = opts.get("duration_s", stated if stated is not None else 32.0)
    if not whole_bars_wanted and stated is None:
        shortest_s = (opts.get("lead_in_bars", 1) + 1) * bar_s + MIN_LEAD_OUT_S
        if duration_s < shortest_s:
            raise InvalidInputError(
                f"duration_s={duration_s:g} is too short for {metre[0]}/{metre[1]} at {analysis.bpm:g} BPM: a clip "
                f"needs at least {math.ceil(shortest_s * 10) / 10:g} s (lead-in, one bar of {bar_s:.2f} s, "
                f"{MIN_LEAD_OUT_S:g} s lead-out)")
        return duration_s, None
    bars, seconds = whole_bars(duration_s, analysis.bpm, metre, min_s=MIN_DURATION_S, max_s=MAX_DURATION_S,
                               min_bars=min_bars)
    return seconds, bars
