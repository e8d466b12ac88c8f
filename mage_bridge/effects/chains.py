"""Per-stem enhancement chains: pedalboard plugins plus two numpy stages.

A chain is a list you can read: ``chain_for("vocals", genre="house")`` gives
the plugins in order. Stages pedalboard lacks are done in numpy:

* :func:`de_ess` – dynamic EQ: the band above ``split_hz`` is turned down by the
  amount its level (RMS, ``window_ms``) exceeds ``threshold_db``, at ``ratio``; the
  band is taken as ``x − lowpass(x)`` so with no reduction the output is ``x``;
* :func:`widen` – mid/side width: S scaled by ``width`` (1 = unchanged) above
  ``low_cut_hz`` only, so the low end stays mono. Not used on vocals.

Presets come from the genre (names in :mod:`mage_bridge.genres`); an unknown or
missing genre falls back to ``DEFAULT`` rather than failing. The user's VST3
plugins are appended per stem from a JSON preset file (see :func:`load_user_plugins`).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge.audio import Audio
from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from mage_bridge.progress import STEM_NAMES


@dataclass(frozen=True)
class StemSettings:
    """One stem's chain, in processing order; dB, Hz, ms and ratios in the names."""

    highpass_hz: float
    low_shelf_hz: float = 120.0
    low_shelf_db: float = 0.0
    presence_hz: float = 3000.0
    presence_db: float = 0.0
    presence_q: float = 0.8
    high_shelf_hz: float = 8000.0
    high_shelf_db: float = 0.0
    de_ess_threshold_db: float | None = None
    compressor_threshold_db: float = -18.0
    compressor_ratio: float = 2.0
    compressor_attack_ms: float = 10.0
    compressor_release_ms: float = 120.0
    reverb_wet: float = 0.0
    reverb_room_size: float = 0.3
    width: float = 1.0


@dataclass(frozen=True)
class GenrePreset:
    name: str
    stems: dict[str, StemSettings] = field(default_factory=dict)


DEFAULT = GenrePreset("default", {
    "vocals": StemSettings(highpass_hz=90.0, presence_db=2.0, high_shelf_db=1.5, de_ess_threshold_db=-30.0,
                           compressor_threshold_db=-20.0, compressor_ratio=3.0, compressor_attack_ms=5.0,
                           reverb_wet=0.12, reverb_room_size=0.35),
    "drums": StemSettings(highpass_hz=30.0, low_shelf_hz=80.0, low_shelf_db=1.5, high_shelf_db=1.0,
                          compressor_threshold_db=-16.0, compressor_ratio=3.0, compressor_attack_ms=15.0,
                          width=1.1),
    "bass": StemSettings(highpass_hz=30.0, low_shelf_hz=90.0, low_shelf_db=1.0, presence_hz=800.0,
                         presence_db=1.0, compressor_threshold_db=-20.0, compressor_ratio=4.0,
                         compressor_attack_ms=20.0, compressor_release_ms=200.0),
    "other": StemSettings(highpass_hz=100.0, presence_db=0.5, high_shelf_db=1.0, reverb_wet=0.08, width=1.25),
})

_GENRE_CHANGES: dict[str, dict[str, dict[str, Any]]] = {
    "house": {"drums": {"compressor_ratio": 4.0, "low_shelf_db": 2.5}, "other": {"width": 1.4},
              "bass": {"compressor_ratio": 5.0}},
    "boom bap": {"drums": {"compressor_ratio": 4.0, "compressor_attack_ms": 25.0, "high_shelf_db": -1.0},
                 "other": {"high_shelf_db": -1.5, "width": 1.1}, "vocals": {"reverb_wet": 0.06}},
    "ambient": {"vocals": {"reverb_wet": 0.3, "reverb_room_size": 0.8, "compressor_ratio": 2.0},
                "other": {"reverb_wet": 0.25, "reverb_room_size": 0.8, "width": 1.5},
                "drums": {"compressor_ratio": 2.0}},
}


#: Genres without a preset of their own borrow the preset of their groove family.
_STYLE_PRESETS: dict[str, str] = {"four_on_floor": "house", "boom_bap": "boom bap", "none": "ambient"}


def preset_for(genre: str | None) -> GenrePreset:
    """The preset for a genre name or alias (genres.py), else its groove family's; ``DEFAULT`` otherwise."""
    if not genre:
        return DEFAULT
    from mage_bridge.genres import find

    entry = find(genre)
    if entry is None:
        return DEFAULT
    name = entry.name if entry.name in _GENRE_CHANGES else _STYLE_PRESETS.get(entry.drum_style)
    if name is None:
        return DEFAULT
    stems = {stem: replace(settings, **_GENRE_CHANGES[name].get(stem, {}))
             for stem, settings in DEFAULT.stems.items()}
    return GenrePreset(name, stems)


@dataclass(frozen=True)
class UserPlugin:
    """A VST3 plugin by path with parameter values (pedalboard parameter names)."""

    path: Path
    parameters: dict[str, Any] = field(default_factory=dict)


#: Largest plugin preset file read (they hold a few lines of JSON; a device or a huge file is refused).
MAX_PRESET_BYTES = 1 << 20


def load_user_plugins(preset: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, list[UserPlugin]]:
    """Read a plugin preset: ``{"vocals": [{"path": "...vst3", "parameters": {...}}], ...}``.

    ``preset`` is the file, or its content already read (the daemon's workers pass
    what :class:`~mage_bridge.server.security.RequestPolicy` checked). Keys are stem
    names or ``"all"``. Paths are resolved relative to the file. Only a regular file
    of at most :data:`MAX_PRESET_BYTES` is read: a FIFO or a device is refused, not waited on.
    """
    if isinstance(preset, Mapping):
        data: Any = preset
        path = Path.cwd() / "preset"
        where = "plugin preset"
    else:
        path = Path(preset).expanduser()
        where = f"plugin preset file {str(path)!r}"
        data = _read_preset(path)
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{where} must hold a JSON object, got {type(data).__name__}")
    out: dict[str, list[UserPlugin]] = {}
    for stem, entries in data.items():
        if stem not in (*STEM_NAMES, "all"):
            raise InvalidInputError(f"plugin preset key must be a stem name or 'all', got {stem!r}")
        if not isinstance(entries, list):
            raise InvalidInputError(f"plugin preset {stem!r} must be a list, got {entries!r}")
        plugins = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise InvalidInputError(f"each plugin needs a 'path', got {entry!r}")
            plugin_path = (path.parent / Path(entry["path"]).expanduser()).resolve()
            params = entry.get("parameters", {})
            if not isinstance(params, dict):
                raise InvalidInputError(f"plugin parameters must be an object, got {params!r}")
            plugins.append(UserPlugin(plugin_path, dict(params)))
        out[stem] = plugins
    return out


def _read_preset(path: Path) -> Any:
    """The JSON in a preset file: a regular file, opened without blocking, at most :data:`MAX_PRESET_BYTES`."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InvalidInputError(f"plugin preset file not found: {str(path)!r}") from None
    except OSError as e:
        raise InvalidInputError(f"cannot read plugin preset file {str(path)!r}: {e.strerror or e}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInputError(f"plugin preset file {str(path)!r} is not a regular file")
        if st.st_size > MAX_PRESET_BYTES:
            raise InvalidInputError(f"plugin preset file {str(path)!r} holds {st.st_size} bytes, "
                                    f"more than {MAX_PRESET_BYTES}")
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_PRESET_BYTES:
                raise InvalidInputError(f"plugin preset file {str(path)!r} holds more than {MAX_PRESET_BYTES} bytes")
    finally:
        os.close(fd)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise InvalidInputError(f"cannot read plugin preset file {str(path)!r}: {e}") from e


def load_vst3(plugin: UserPlugin) -> Any:
    """Load a VST3 with :func:`pedalboard.load_plugin` and set its parameters."""
    import pedalboard

    if not plugin.path.exists():
        raise InvalidInputError(f"VST3 plugin not found: {str(plugin.path)!r}")
    try:
        loaded = pedalboard.load_plugin(str(plugin.path))
    except (ImportError, RuntimeError, ValueError) as e:
        raise BackendUnavailableError(f"cannot load VST3 plugin {str(plugin.path)!r}: {e}") from e
    parameters = loaded.parameters  # type: ignore[attr-defined]  # VST3Plugin's; the stub types only the base class
    for name, value in plugin.parameters.items():
        if name not in parameters:
            known = ", ".join(sorted(parameters)) or "none"
            raise InvalidInputError(f"plugin {plugin.path.name!r} has no parameter {name!r}; it has: {known}")
        try:
            setattr(loaded, name, value)
        except (ValueError, TypeError, AttributeError) as e:
            raise InvalidInputError(f"plugin {plugin.path.name!r}: cannot set {name}={value!r}: {e}") from e
    return loaded


def chain_for(stem: str, *, genre: str | None = None) -> list[Any]:
    """The pedalboard plugins for ``stem`` under ``genre``'s preset, in order (numpy stages excluded)."""
    import pedalboard as pb

    if stem not in STEM_NAMES:
        raise InvalidInputError(f"stem must be one of {', '.join(STEM_NAMES)}, got {stem!r}")
    s = preset_for(genre).stems[stem]
    chain: list[Any] = [pb.HighpassFilter(cutoff_frequency_hz=s.highpass_hz)]
    if s.low_shelf_db:
        chain.append(pb.LowShelfFilter(cutoff_frequency_hz=s.low_shelf_hz, gain_db=s.low_shelf_db))
    if s.presence_db:
        chain.append(pb.PeakFilter(cutoff_frequency_hz=s.presence_hz, gain_db=s.presence_db, q=s.presence_q))
    if s.high_shelf_db:
        chain.append(pb.HighShelfFilter(cutoff_frequency_hz=s.high_shelf_hz, gain_db=s.high_shelf_db))
    chain.append(pb.Compressor(threshold_db=s.compressor_threshold_db, ratio=s.compressor_ratio,
                               attack_ms=s.compressor_attack_ms, release_ms=s.compressor_release_ms))
    if s.reverb_wet:
        chain.append(pb.Reverb(room_size=s.reverb_room_size, wet_level=s.reverb_wet, dry_level=1.0 - s.reverb_wet,
                               width=1.0))
    return chain


def de_ess(audio: Audio, *, threshold_db: float = -30.0, ratio: float = 4.0, split_hz: float = 5500.0,
           window_ms: float = 5.0, max_reduction_db: float = 12.0) -> Audio:
    """Dynamic EQ de-esser on the band above ``split_hz`` (see module docstring)."""
    from scipy import ndimage, signal

    x = audio.samples.astype(np.float64)
    if split_hz >= audio.sample_rate / 2 * 0.95 or audio.frames == 0:
        return audio
    sos = signal.butter(4, split_hz, btype="lowpass", fs=audio.sample_rate, output="sos")
    low = signal.sosfiltfilt(sos, x, axis=1) if x.shape[1] > 30 else x
    high = x - low
    window = max(1, int(round(window_ms / 1000.0 * audio.sample_rate)))
    power = ndimage.uniform_filter1d((high**2).mean(axis=0), size=window, mode="nearest")
    with np.errstate(divide="ignore"):
        level_db = 10.0 * np.log10(np.maximum(power, 1e-20))
    over = np.maximum(level_db - threshold_db, 0.0)
    reduction_db = np.minimum(over * (1.0 - 1.0 / ratio), max_reduction_db)
    reduction_db = ndimage.uniform_filter1d(reduction_db, size=window, mode="nearest")  # de-click
    gain = 10.0 ** (-reduction_db / 20.0)
    return Audio((low + high * gain).astype(np.float32), audio.sample_rate)


def widen(audio: Audio, *, width: float, low_cut_hz: float = 200.0) -> Audio:
    """Mid/side widening: side × ``width`` above ``low_cut_hz``; mono input is returned unchanged."""
    from scipy import signal

    if not 0.0 <= width <= 3.0:
        raise InvalidInputError(f"width must be from 0 to 3, got {width!r}")
    if audio.channels != 2 or width == 1.0 or audio.frames < 30:
        return audio
    x = audio.samples.astype(np.float64)
    mid, side = (x[0] + x[1]) / 2.0, (x[0] - x[1]) / 2.0
    sos = signal.butter(2, low_cut_hz, btype="highpass", fs=audio.sample_rate, output="sos")
    side_high = signal.sosfiltfilt(sos, side)
    side = side + (width - 1.0) * side_high
    return Audio(np.stack([mid + side, mid - side]).astype(np.float32), audio.sample_rate)


def load_user_chains(plugins: dict[str, list[UserPlugin]]) -> dict[str, list[Any]]:
    """Load every plugin of a preset (see :func:`load_user_plugins`) once, before any audio is touched.

    A bad path or parameter fails here, not after the stems are decoded; a
    plugin listed for several stems is loaded once (pedalboard resets its state
    on every call, so sharing it between stems is safe).
    """
    loaded: dict[tuple[Path, str], Any] = {}
    chains: dict[str, list[Any]] = {}
    for stem, entries in plugins.items():
        chain = []
        for plugin in entries:
            key = (plugin.path, json.dumps(plugin.parameters, sort_keys=True, default=str))
            if key not in loaded:
                loaded[key] = load_vst3(plugin)
            chain.append(loaded[key])
        chains[stem] = chain
    return chains


#: Context either side for the zero-phase stages (de-esser, widener) when run block by block: their
#: forward–backward IIR filters (≥ 200 Hz, Butterworth) and 5 ms windows have decayed far below float
#: precision within 0.25 s, so blocks join without a seam.
_ZERO_PHASE_CONTEXT_S = 0.25
#: pedalboard prepares its plugins for the first buffer's size and resets them when a later buffer is
#: larger, so the chain is fed equal blocks (the last one shorter) to keep its state across them.
_BOARD_FRAMES = 1 << 16


def _fixed_blocks(blocks: Iterable[np.ndarray], frames: int) -> Iterator[np.ndarray]:
    """Re-cut a stream of ``(channels, n)`` blocks into blocks of exactly ``frames`` (the last one shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += block.shape[1]
        if held >= frames:
            joined = np.concatenate(pending, axis=1)
            whole = held - held % frames
            for start in range(0, whole, frames):
                yield joined[:, start: start + frames]
            pending, held = [joined[:, whole:]], held - whole
    if held:
        yield np.concatenate(pending, axis=1)


def enhance_stem(audio: Audio, stem: str, *, genre: str | None = None,
                 user_plugins: list[Any] | None = None) -> Audio:
    """Run ``stem``'s chain: de-esser (vocals), pedalboard chain, user VST3s, width (not vocals).

    ``user_plugins`` are loaded plugins (:func:`load_vst3`, :func:`load_user_chains`).
    Shape and rate are kept; mono stays mono except where width needs stereo.
    The whole buffer is one block of :func:`enhance_blocks`.
    """
    parts = list(enhance_blocks([audio.samples], stem, sample_rate=audio.sample_rate, genre=genre,
                                user_plugins=user_plugins))
    samples = np.concatenate(parts, axis=1) if parts else np.zeros((audio.channels, 0), dtype=np.float32)
    return Audio(samples, audio.sample_rate)


def enhance_blocks(blocks: Iterable[np.ndarray], stem: str, *, sample_rate: int, genre: str | None = None,
                   user_plugins: list[Any] | None = None) -> Iterator[np.ndarray]:
    """:func:`enhance_stem` on a stream of ``(channels, frames)`` blocks, for inputs too long to hold.

    The pedalboard chain (and the user's VST3s) keep their state from block to
    block (``reset`` only on the first), so it is the same as one call; the
    zero-phase stages see 0.25 s of the neighbouring blocks
    (:func:`~mage_bridge.audio.map_blocks`). Output blocks may be cut differently.
    """
    import pedalboard as pb

    from mage_bridge.audio import map_blocks

    settings = preset_for(genre).stems.get(stem) if stem in STEM_NAMES else None
    if settings is None:
        raise InvalidInputError(f"stem must be one of {', '.join(STEM_NAMES)}, got {stem!r}")
    context = max(1, int(round(_ZERO_PHASE_CONTEXT_S * sample_rate)))
    stream: Iterable[np.ndarray] = blocks
    if stem == "vocals" and settings.de_ess_threshold_db is not None:
        threshold = settings.de_ess_threshold_db
        stream = map_blocks(stream, lambda x: de_ess(Audio(x, sample_rate), threshold_db=threshold).samples,
                            context_frames=context)
    board = pb.Pedalboard(chain_for(stem, genre=genre) + list(user_plugins or []))

    def run_board(parts: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        first = True
        for x in _fixed_blocks(parts, _BOARD_FRAMES):
            processed = board(np.asarray(x, dtype=np.float32), sample_rate, reset=first)
            first = False
            if processed.shape[0] > x.shape[0]:  # a stereo VST3 on a mono stem: keep the stem's layout
                processed = processed[: x.shape[0]]
            elif processed.shape[0] < x.shape[0]:  # a mono-out VST3 on a stereo stem: dual mono, as DAWs do
                processed = np.repeat(processed[:1], x.shape[0], axis=0)
            yield processed

    stream = run_board(stream)
    if stem != "vocals" and settings.width != 1.0:
        width = settings.width
        stream = map_blocks(stream, lambda x: widen(Audio(x, sample_rate), width=width).samples,
                            context_frames=context)
    yield from stream
