"""Python API of the audio stages: separate, enhance, master, export (re-exported by ``mage_bridge.api``).

Every function validates its arguments and checks its target (exists? writable?
supported extension?) *before* any audio is decoded, reports
``progress(stage, fraction)``, builds its result under a hidden temp name beside
the target and renames it into place at the end: a target is complete or absent.
Each writes a JSON manifest (schema ``mage-bridge/manifest@1``) and returns its path:

* :func:`separate` – ``<out_dir>/manifest.json`` beside one 24-bit WAV per stem;
* :func:`enhance` – a file: ``<out>.json`` beside it; a stem folder: ``<out_dir>/manifest.json``;
* :func:`master`, :func:`export` – ``<out>.json`` beside the audio file.

Outputs are 48 kHz stereo. Inputs at other rates are resampled (polyphase
windowed sinc) and mono is duplicated, each with a note in the manifest.
Inputs longer than :data:`MAX_INPUT_DURATION_S` are refused before decoding.

Separate, enhance and master never hold the input whole: they read it as 48 kHz
stereo blocks of 10 s (resampled and mono-duplicated block-wise; formats only
ffmpeg decodes go to a float WAV in a scratch folder beside the output first),
keep intermediates in that scratch folder, and write and measure their outputs
block by block, so peak memory does not grow with the input's length
(``benchmarks/memory_long.py``). Export still loads its input whole.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mage_bridge import __version__, manifest
from mage_bridge import audio as audio_io
from mage_bridge.audio import SAMPLE_RATE, Audio
from mage_bridge.config import Config, load_config
from mage_bridge.errors import InvalidAudioError, InvalidInputError, OutputExistsError
from mage_bridge.files import create_temp_beside, staged_folder, write_json_atomic
from mage_bridge.progress import STEM_NAMES, ProgressFn, no_progress

#: Longest input accepted (s). Separate, enhance and master stream it, so memory does not depend on it.
MAX_INPUT_DURATION_S = 30 * 60.0
#: Output formats by extension. WAV subtypes: pcm16, pcm24, float; MP3 qualities: cbr320, v0.
FORMATS = {".wav": "wav", ".flac": "flac", ".mp3": "mp3"}
WAV_SUBTYPES = ("pcm16", "pcm24", "float")
MP3_QUALITIES = ("cbr320", "v0")
SEPARATE_OPTIONS = ("model", "shifts", "overlap", "segment_s", "device", "n_fft", "hop", "bass_cutoff_hz",
                    "harmonic_kernel_frames", "percussive_kernel_bins", "neighbours", "centre_width")
ENHANCE_OPTIONS = ("stem", "genre", "prompt", "plugins", "subtype")
#: Lossy round trip: extra tries, each with a ceiling tightened by the decoded overshoot.
_LOSSY_TRIES = 4


# --- checks that run before any work -------------------------------------------------------

def _clock(seconds: float) -> str:
    """``m:ss.sss`` (``30:01.000``): a limit and a length just over it must not both read "30.0 min"."""
    minutes, ms = divmod(round(seconds * 1000), 60_000)
    return f"{minutes}:{ms / 1000:06.3f}"


def _check_input(audio_path: str | os.PathLike[str]) -> tuple[Path, audio_io.AudioInfo]:
    path = Path(audio_path).expanduser().absolute()
    info = audio_io.probe(path)  # missing, empty or unreadable: a clear error, nothing decoded
    if info.frames <= 0:
        raise InvalidAudioError(f"audio file holds no samples: {str(path)!r}")
    if info.duration_s > MAX_INPUT_DURATION_S:
        raise InvalidAudioError(
            f"{str(path)!r} lasts {_clock(info.duration_s)}; the limit is {_clock(MAX_INPUT_DURATION_S)}"
        )
    if info.channels not in (1, 2):
        raise InvalidAudioError(f"{str(path)!r} has {info.channels} channels; only mono and stereo are supported")
    return path, info


def _check_writable_parent(target: Path) -> None:
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidInputError(f"cannot write into {str(target.parent)!r}: permission denied")


def _check_output_file(out_path: str | os.PathLike[str], *, overwrite: bool) -> tuple[Path, str]:
    out = Path(out_path).expanduser().absolute()
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InvalidInputError(
            f"output format is chosen by the extension: .wav, .flac or .mp3, got {out.suffix or 'none'!r} "
            f"in {str(out)!r}"
        )
    if out.is_dir():
        raise OutputExistsError(f"{str(out)!r} is a folder")
    for target in (out, _sidecar(out)):
        if target.exists() and not overwrite:
            raise OutputExistsError(f"{str(target)!r} exists; pass overwrite=True (--overwrite) to replace it")
    _check_writable_parent(out)
    return out, fmt


def _check_output_dir(out_dir: Path, *, overwrite: bool) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputExistsError(f"{str(out_dir)!r} exists and is not a folder")
        if any(out_dir.iterdir()) and not overwrite:
            raise OutputExistsError(f"{str(out_dir)!r} already holds files; choose an empty or new folder")
    _check_writable_parent(out_dir)


def _check_format_options(fmt: str, *, subtype: str, mp3_quality: str) -> None:
    if subtype not in WAV_SUBTYPES:
        raise InvalidInputError(f"subtype must be one of {', '.join(WAV_SUBTYPES)}, got {subtype!r}")
    if fmt == "flac" and subtype == "float":
        raise InvalidInputError("FLAC stores integers: use subtype pcm16 or pcm24, got 'float'")
    if mp3_quality not in MP3_QUALITIES:
        raise InvalidInputError(f"mp3_quality must be one of {', '.join(MP3_QUALITIES)}, got {mp3_quality!r}")


def _sidecar(out: Path) -> Path:
    return out.with_name(out.name + ".json")


# --- shared steps ----------------------------------------------------------------------------

def _load_48k_stereo(path: Path, notes: list[str]) -> tuple[Audio, dict[str, Any]]:
    audio = audio_io.load(path)
    source = {"path": str(path), "sample_rate": audio.sample_rate, "channels": audio.channels,
              "frames": audio.frames}
    if audio.channels == 1:
        audio = audio.to_stereo()
        notes.append("mono input duplicated to stereo")
    if audio.sample_rate != SAMPLE_RATE:
        notes.append(f"resampled from {audio.sample_rate} Hz to {SAMPLE_RATE} Hz (polyphase windowed sinc)")
        audio = audio_io.resample(audio, SAMPLE_RATE)
    return audio, source


class _Source48k:
    """An input file read as 48 kHz stereo blocks, as often as needed, never whole (see audio.blocks_48k_stereo)."""

    def __init__(self, path: Path, work_dir: Path, notes: list[str]) -> None:
        import soundfile as sf

        self.path = audio_io.decode_to_wav(path, work_dir)
        info = sf.info(str(self.path))
        rate, channels, frames = int(info.samplerate), int(info.channels), int(info.frames)
        self.input = {"path": str(path), "sample_rate": rate, "channels": channels, "frames": frames}
        if channels == 1:
            notes.append("mono input duplicated to stereo")
        if rate != SAMPLE_RATE:
            notes.append(f"resampled from {rate} Hz to {SAMPLE_RATE} Hz (polyphase windowed sinc)")
        self.frames = -(-frames * SAMPLE_RATE // rate)
        self.sample_rate = SAMPLE_RATE
        self.channels = 2
        self.duration_s = audio_io.frames_to_seconds(self.frames, SAMPLE_RATE)

    def blocks(self) -> Any:
        return audio_io.blocks_48k_stereo(self.path)


def _work_dir(beside: Path) -> tempfile.TemporaryDirectory[str]:
    """A hidden scratch folder beside an output (same file system; removed when the job ends, however it ends)."""
    beside.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=beside.parent, prefix=f".{beside.name}.work-")


def _measure_blocks(blocks: Any) -> tuple[dict[str, Any], audio_io.AudioInfo]:
    """Loudness, true peak and sample peak of a stream of blocks, block by block; and its shape."""
    from mage_bridge.effects.loudness import LoudnessMeter, TruePeakMeter

    loudness = peaks = None
    frames, channels = 0, 2
    for block in blocks:
        if loudness is None:
            channels = block.shape[0]
            loudness, peaks = LoudnessMeter(SAMPLE_RATE, channels), TruePeakMeter(channels)
        loudness.add(block)
        peaks.add(block)
        frames += block.shape[1]
    if loudness is None:
        nothing = {"loudness_lufs": None, "true_peak_dbtp": None, "peak_dbfs": None}
        return nothing, audio_io.AudioInfo(0, SAMPLE_RATE, channels, "?")
    return ({"loudness_lufs": manifest.finite_or_none(loudness.integrated_lufs()),
             "true_peak_dbtp": manifest.finite_or_none(peaks.dbtp()),
             "peak_dbfs": manifest.finite_or_none(peaks.sample_peak_dbfs())},
            audio_io.AudioInfo(frames, SAMPLE_RATE, channels, "?"))


def _measure_file(path: Path) -> tuple[dict[str, Any], audio_io.AudioInfo]:
    import soundfile as sf

    measured, info = _measure_blocks(audio_io.read_blocks(path))
    return measured, audio_io.AudioInfo(info.frames, int(sf.info(str(path)).samplerate), info.channels, info.format)


def _measure(audio: Audio) -> dict[str, Any]:
    from mage_bridge.effects.loudness import integrated_loudness, sample_peak_dbfs, true_peak_dbtp

    return {
        "loudness_lufs": manifest.finite_or_none(integrated_loudness(audio)),
        "true_peak_dbtp": manifest.finite_or_none(true_peak_dbtp(audio)),
        "peak_dbfs": manifest.finite_or_none(sample_peak_dbfs(audio)),
    }


def _base_manifest(kind: str, job_id: str, request: dict[str, Any], audio: Any) -> dict[str, Any]:
    """The manifest's common fields; ``audio`` is anything with sample_rate, channels, frames, duration_s."""
    return {
        "schema": manifest.SCHEMA, "job_id": job_id, "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "mage_bridge_version": __version__,
        "request": request, "sample_rate": audio.sample_rate, "channels": audio.channels,
        "frames": audio.frames, "duration_s": round(audio.duration_s, 6),
    }


def _write_audio(audio: Audio, path: Path, fmt: str, *, subtype: str, mp3_quality: str) -> None:
    """Write to ``path`` (a fresh temp name: overwrite is fine here)."""
    if fmt == "mp3":
        audio_io.save_mp3(audio, path, quality=mp3_quality, overwrite=True)
    else:
        audio_io.save(audio, path, subtype=subtype, overwrite=True)


def _temp_beside(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = create_temp_beside(out)
    os.close(fd)
    return Path(tmp)


def _commit_file(tmp_audio: Path, out: Path, data: dict[str, Any]) -> Path:
    """Rename the audio into place, then write its manifest atomically; return the manifest path."""
    os.replace(tmp_audio, out)
    return write_json_atomic(_sidecar(out), data)


# --- separate --------------------------------------------------------------------------------

def separate(
    audio_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    backend: str = "auto",
    options: Mapping[str, Any] | None = None,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    overwrite: bool = False,
    job_id: str | None = None,
) -> Path:
    """Split an audio file into ``vocals``, ``drums``, ``bass``, ``other`` WAVs (24-bit, 48 kHz stereo).

    ``backend`` is ``"auto"``, ``"demucs"`` or ``"dsp"``; ``options`` go to it
    (Demucs: ``model``, ``shifts``, ``overlap``, ``segment_s``, ``device``; dsp:
    ``n_fft``, ``hop``, ...). Returns ``<out_dir>/manifest.json``.
    """
    from mage_bridge.separate import REGISTRY, create_separator, separate_blocks

    started = time.perf_counter()
    progress = progress or no_progress
    config = config or load_config()
    opts = dict(options or {})
    unknown = sorted(set(opts) - set(SEPARATE_OPTIONS))
    if unknown:
        raise InvalidInputError(f"unknown separate option(s) {', '.join(unknown)}; known: {', '.join(SEPARATE_OPTIONS)}")
    if backend != "auto":
        REGISTRY.spec(backend)  # unknown name: error now, before any work
    out = Path(out_dir).expanduser().absolute()
    path, _ = _check_input(audio_path)
    _check_output_dir(out, overwrite=overwrite)
    separator = create_separator(backend, config, **opts)
    job_id = job_id or uuid.uuid4().hex[:12]

    notes: list[str] = []
    with staged_folder(out, job_id=job_id, overwrite=overwrite) as staging:
        with _work_dir(staging / "input") as work:
            progress("load", 0.0)
            source = _Source48k(path, Path(work), notes)
            progress("load", 1.0)
            writers = {name: audio_io.BlockWriter(staging / f"{name}.wav", sample_rate=SAMPLE_RATE)
                       for name in STEM_NAMES}
            try:
                for pieces in separate_blocks(separator, source.blocks(), frames=source.frames,
                                              progress=progress):
                    for name, samples in pieces.items():
                        writers[name].write(samples)
            finally:
                for writer in writers.values():
                    writer.close()
            progress("write", 0.0)
            measured = {"mix": _measure_blocks(source.blocks())[0]}
        files = {}
        for i, name in enumerate(STEM_NAMES):
            progress("write", (i + 1) / (len(STEM_NAMES) + 1))
            measured[name] = _measure_file(staging / f"{name}.wav")[0]
            files[name] = f"{name}.wav"
        data = _base_manifest("separate", job_id, {"audio_path": str(path), "backend": backend,
                                                   "options": opts}, source)
        data.update({
            "backend": separator.details(),
            "input": source.input,
            "notes": notes,
            "measured": measured,
            "stems": files,
            "lineage": {"parent": str(path)},
            "elapsed_s": round(time.perf_counter() - started, 3),
        })
        write_json_atomic(staging / manifest.FILENAME, data)
    progress("write", 1.0)
    return out / manifest.FILENAME


# --- enhance ---------------------------------------------------------------------------------

def _genre_from(opts: Mapping[str, Any], config: Config) -> tuple[str | None, str]:
    if opts.get("genre"):
        return str(opts["genre"]), "option"
    if opts.get("prompt"):
        try:
            from mage_bridge.analysis import analyze

            return analyze(str(opts["prompt"]), config=config).genre, "prompt"
        except Exception:  # analysis is optional here: fall back to the default preset
            return None, "default (prompt analysis unavailable)"
    return None, "default"


def enhance(
    audio_path: str | os.PathLike[str],
    out_path_or_dir: str | os.PathLike[str],
    *,
    options: Mapping[str, Any] | None = None,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    overwrite: bool = False,
    job_id: str | None = None,
) -> Path:
    """Run the per-stem enhancement chains.

    ``audio_path`` is one stem file, or a separation result (its folder or
    ``manifest.json``): then every stem is enhanced into the folder
    ``out_path_or_dir``. ``options``: ``stem`` (for one file; default from the
    file name, else ``other``), ``genre`` or ``prompt`` (picks the preset),
    ``plugins`` (a JSON preset file of VST3 plugins per stem, or its content as the
    daemon's workers pass it once checked), ``subtype``.
    Returns the manifest path.
    """
    from mage_bridge.effects.chains import enhance_blocks, load_user_chains, load_user_plugins

    started = time.perf_counter()
    progress = progress or no_progress
    config = config or load_config()
    opts = dict(options or {})
    unknown = sorted(set(opts) - set(ENHANCE_OPTIONS))
    if unknown:
        raise InvalidInputError(f"unknown enhance option(s) {', '.join(unknown)}; known: {', '.join(ENHANCE_OPTIONS)}")
    subtype = str(opts.get("subtype", "pcm24"))
    plugins = load_user_chains(load_user_plugins(opts["plugins"])) if opts.get("plugins") else {}
    genre, genre_source = _genre_from(opts, config)
    job_id = job_id or uuid.uuid4().hex[:12]
    source = Path(audio_path).expanduser().absolute()

    if source.is_dir() or source.name == manifest.FILENAME:
        folder = source if source.is_dir() else source.parent
        try:
            stem_files = {k: folder / v for k, v in manifest.read(folder)["stems"].items()}
        except (OSError, ValueError, KeyError):
            stem_files = {n: folder / f"{n}.wav" for n in STEM_NAMES if (folder / f"{n}.wav").is_file()}
        if not stem_files:
            raise InvalidInputError(f"{str(folder)!r} holds no stems (vocals.wav, drums.wav, bass.wav, other.wav)")
        for p in stem_files.values():
            _check_input(p)
        out = Path(out_path_or_dir).expanduser().absolute()
        _check_format_options("wav", subtype=subtype, mp3_quality="cbr320")
        _check_output_dir(out, overwrite=overwrite)
        with staged_folder(out, job_id=job_id, overwrite=overwrite) as staging:
            written, notes, measured = {}, [], {}
            for i, (name, p) in enumerate(stem_files.items()):
                progress("enhance", i / len(stem_files))
                stem_name = name if name in STEM_NAMES else "other"
                with _work_dir(staging / f"{name}.wav") as work:
                    source = _Source48k(p, Path(work), notes)
                    blocks = enhance_blocks(source.blocks(), stem_name, sample_rate=SAMPLE_RATE, genre=genre,
                                            user_plugins=plugins.get(stem_name, []) + plugins.get("all", []))
                    audio_io.write_blocks(staging / f"{name}.wav", blocks, sample_rate=SAMPLE_RATE, subtype=subtype)
                written[name] = f"{name}.wav"
                measured[name], result = _measure_file(staging / f"{name}.wav")
            data = _base_manifest("enhance", job_id, {"audio_path": str(source), "options": _jsonable(opts)}, result)
            data.update({"backend": {"name": "chains", "genre_preset": genre or "default",
                                     "genre_source": genre_source},
                         "notes": sorted(set(notes)), "measured": measured, "stems": written,
                         "lineage": {"parent": str(source)},
                         "elapsed_s": round(time.perf_counter() - started, 3)})
            write_json_atomic(staging / manifest.FILENAME, data)
        progress("enhance", 1.0)
        return out / manifest.FILENAME

    path, _ = _check_input(source)
    stem = str(opts.get("stem") or (path.stem if path.stem in STEM_NAMES else "other"))
    if stem not in STEM_NAMES:
        raise InvalidInputError(f"stem must be one of {', '.join(STEM_NAMES)}, got {stem!r}")
    out = Path(out_path_or_dir).expanduser().absolute()
    if out.is_dir() or not out.suffix:
        out = out / f"{path.stem}.enhanced.wav"
    out, fmt = _check_output_file(out, overwrite=overwrite)
    _check_format_options(fmt, subtype=subtype, mp3_quality="cbr320")
    notes: list[str] = []
    tmp = _temp_beside(out)
    try:
        with _work_dir(out) as work:
            progress("load", 0.0)
            source = _Source48k(path, Path(work), notes)
            progress("enhance", 0.0)
            blocks = enhance_blocks(source.blocks(), stem, sample_rate=SAMPLE_RATE, genre=genre,
                                    user_plugins=plugins.get(stem, []) + plugins.get("all", []))
            audio_io.write_blocks(tmp, blocks, sample_rate=SAMPLE_RATE, fmt=fmt, subtype=subtype,
                                  mp3_quality="cbr320")
        progress("enhance", 1.0)
        measured, result = _measure_file(tmp)
        data = _base_manifest("enhance", job_id, {"audio_path": str(path), "options": _jsonable(opts)}, result)
        data.update({"backend": {"name": "chains", "stem": stem, "genre_preset": genre or "default",
                                 "genre_source": genre_source},
                     "input": source.input, "notes": notes, "measured": measured, "output": out.name,
                     "lineage": {"parent": str(path)}, "elapsed_s": round(time.perf_counter() - started, 3)})
        return _commit_file(tmp, out, data)
    finally:
        tmp.unlink(missing_ok=True)


# --- master ----------------------------------------------------------------------------------

def master(
    audio_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    lufs: float = -14.0,
    true_peak_db: float = -1.0,
    preset: str | None = None,
    overwrite: bool = False,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    subtype: str = "pcm24",
    mp3_quality: str = "cbr320",
    job_id: str | None = None,
) -> Path:
    """Master an audio file to ``lufs`` integrated under a ``true_peak_db`` dBTP ceiling.

    ``out_path``'s extension picks the format (.wav/.flac/.mp3). ``preset``
    (streaming −14, apple −16, broadcast −23, loud −9 LUFS) overrides ``lufs``
    and ``true_peak_db``. The written file is decoded and measured again; for
    MP3 the encode–decode round trip is repeated with a tightened ceiling until
    the *decoded* file holds the ceiling. Returns ``<out_path>.json``.
    """
    from mage_bridge.effects.master import PRESETS, check_master_inputs, master_blocks

    started = time.perf_counter()
    progress = progress or no_progress
    config = config or load_config()
    check_master_inputs(target_lufs=lufs, true_peak_dbtp=true_peak_db, preset=preset)
    if preset is not None:
        lufs, true_peak_db = PRESETS[preset].target_lufs, PRESETS[preset].true_peak_dbtp
    path, _ = _check_input(audio_path)
    out, fmt = _check_output_file(out_path, overwrite=overwrite)
    _check_format_options(fmt, subtype=subtype, mp3_quality=mp3_quality)
    job_id = job_id or uuid.uuid4().hex[:12]

    notes: list[str] = []
    ceiling = float(true_peak_db)
    spec = PRESETS.get(preset) if preset is not None else None
    tmp = _temp_beside(out)
    try:
        with _work_dir(out) as work:
            progress("load", 0.0)
            source = _Source48k(path, Path(work), notes)
            progress("load", 1.0)
            for attempt in range(1, _LOSSY_TRIES + 1 if fmt == "mp3" else 2):
                scratch = audio_io.FileBlockStore(Path(work) / "glued.wav", sample_rate=SAMPLE_RATE, channels=2)
                with audio_io.BlockWriter(tmp, sample_rate=SAMPLE_RATE, fmt=fmt, subtype=subtype,
                                          mp3_quality=mp3_quality) as writer:
                    result = master_blocks(source, sample_rate=SAMPLE_RATE, frames=source.frames,
                                           write=writer.write, scratch=scratch, target_lufs=float(lufs),
                                           true_peak_dbtp=ceiling, glue_ratio=spec.glue_ratio if spec else None,
                                           glue_threshold_lu=spec.glue_threshold_lu if spec else None,
                                           progress=progress)
                progress("write", 0.0)
                measured, decoded = _measure_file(tmp)
                peak = measured["true_peak_dbtp"]
                if fmt != "mp3" or peak is None or peak <= true_peak_db:
                    break
                ceiling = max(ceiling - (peak - true_peak_db) - 0.05, -12.0)
                notes.append(f"MP3 round trip {attempt} peaked at {peak} dBTP: re-mastered with a {ceiling:.2f} "
                             "dBTP ceiling")
        data = _base_manifest("master", job_id, {"audio_path": str(path), "lufs": lufs, "true_peak_db": true_peak_db,
                                                 "preset": preset, "format": fmt, "subtype": subtype,
                                                 "mp3_quality": mp3_quality}, decoded)
        data.update({"backend": {"name": "master", "limiter_ceiling_dbtp": round(ceiling, 3),
                                 **result.to_dict()},
                     "input": source.input, "notes": notes + list(result.notes), "measured": measured,
                     "output": out.name, "lineage": {"parent": str(path)},
                     "elapsed_s": round(time.perf_counter() - started, 3)})
        manifest_path = _commit_file(tmp, out, data)
    finally:
        tmp.unlink(missing_ok=True)
    progress("write", 1.0)
    return manifest_path


# --- export ----------------------------------------------------------------------------------

def export(
    audio_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    subtype: str = "pcm24",
    mp3_quality: str = "cbr320",
    overwrite: bool = False,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    job_id: str | None = None,
) -> Path:
    """Convert an audio file to 48 kHz stereo WAV (pcm16/pcm24/float), FLAC or MP3 (cbr320/v0).

    The extension of ``out_path`` picks the format. Samples beyond ±1.0 cannot
    be stored in integer formats or MP3 and are clipped, with a note. Returns
    ``<out_path>.json``.
    """
    import numpy as np

    started = time.perf_counter()
    progress = progress or no_progress
    path, _ = _check_input(audio_path)
    out, fmt = _check_output_file(out_path, overwrite=overwrite)
    _check_format_options(fmt, subtype=subtype, mp3_quality=mp3_quality)
    job_id = job_id or uuid.uuid4().hex[:12]
    progress("load", 0.0)
    notes: list[str] = []
    audio, input_info = _load_48k_stereo(path, notes)
    progress("load", 1.0)
    peak = float(np.max(np.abs(audio.samples))) if audio.frames else 0.0
    if peak > 1.0 and not (fmt == "wav" and subtype == "float"):
        notes.append(f"sample peak {20 * math.log10(peak):+.2f} dBFS clipped to 0 dBFS by the {fmt} format")
        audio = Audio(np.clip(audio.samples, -1.0, 1.0), audio.sample_rate)
    tmp = _temp_beside(out)
    try:
        progress("write", 0.0)
        _write_audio(audio, tmp, fmt, subtype=subtype, mp3_quality=mp3_quality)
        decoded = audio_io.load(tmp)
        data = _base_manifest("export", job_id, {"audio_path": str(path), "format": fmt, "subtype": subtype,
                                                 "mp3_quality": mp3_quality}, decoded)
        data.update({"backend": {"name": "export"}, "input": input_info, "notes": notes,
                     "measured": _measure(decoded), "output": out.name, "lineage": {"parent": str(path)},
                     "elapsed_s": round(time.perf_counter() - started, 3)})
        manifest_path = _commit_file(tmp, out, data)
    finally:
        tmp.unlink(missing_ok=True)
    progress("write", 1.0)
    return manifest_path


def _jsonable(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}
