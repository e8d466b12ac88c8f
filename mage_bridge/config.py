"""Configuration: frozen dataclasses read from one TOML file plus env overrides.

Precedence, lowest to highest: built-in defaults, the TOML file, ``MAGE_*``
environment variables, explicit keyword overrides (the CLI's flags).

The file is ``$MAGE_CONFIG`` if set, else ``config.toml`` in the platform's config
folder (:mod:`mage_bridge.platforms`): ``$XDG_CONFIG_HOME/mage-bridge`` (``~/.config/mage-bridge``)
on Linux, ``~/Library/Application Support/mage-bridge`` on macOS, ``%APPDATA%\\mage-bridge``
on Windows. A missing file is fine; a malformed one is an error that names the file
and the key. Example::

    data_dir = "~/Music/MAGE"          # library, job results, outbox
    models_dir = "~/models/mage"       # heavy backends' weights, never downloaded
    soundfont = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

    [backends]                         # what each stage runs when a caller names none
    analysis = "auto"                  # or "rules", "embedding", "transformers"
    lyrics = "auto"                    # or "embedded", "transformers"
    generate = "auto"                  # or "procedural", "acestep"
    separate = "auto"                  # or "dsp", "demucs"

    [server]
    host = "127.0.0.1"
    port = 9137
    panel_port = 9138                  # the web panel, on 127.0.0.1 only (panel = false: none)

    [acestep]                          # the ACE-Step backend (users with a GPU and its weights)
    model_dir = "~/models/acestep"     # default <models_dir>/acestep (diffusers layout); env MAGE_ACESTEP_DIR
    device = "auto"                    # or "cuda", "mps", "cpu"

    [library]                          # the clip library (SQLite): every result, searchable
    dir = "~/Music/MAGE/library"       # default <data_dir>/library; env MAGE_LIBRARY_DIR
    register = true                    # every finished job's clip is recorded there

    [lyrics]                           # the transformers lyric writer (a GPT-2-class model of the user's)
    model_dir = "~/models/lyrics"      # default <models_dir>/lyrics; env MAGE_LYRICS_MODEL_DIR

    [live]                             # the live player (docs/osc.md, "Live")
    device = "JACK"                    # output device; env MAGE_LIVE_DEVICE
    buffer_frames = 256
    clock = "daw"                      # or "internal", "midi", "link"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mage_bridge.errors import ConfigError
from mage_bridge.platforms import default_plugin_dirs, find_soundfont, user_folders

#: Default OSC port: clear of AbletonOSC (11000/11001) and REAPER's usual 8000/9000.
DEFAULT_OSC_PORT = 9137
#: Default TCP port of the web panel (on 127.0.0.1 only).
DEFAULT_PANEL_PORT = 9138

#: Keys that name something this version does not have: a clear error instead of a setting that does nothing.
_NOT_IN_THIS_VERSION: dict[str, str] = {}


def default_config_path() -> Path:
    """``$MAGE_CONFIG``, else ``config.toml`` in the platform's config folder."""
    if os.environ.get("MAGE_CONFIG"):
        return Path(os.environ["MAGE_CONFIG"]).expanduser()
    return user_folders().config_file


@dataclass(frozen=True)
class BackendChoice:
    """Which backend each stage uses when a caller names none: a registered name or ``"auto"``.

    The stage factories (``create_analyzer``, ``create_lyric_writer``, ``create_generator``,
    ``create_separator``) read these when given ``None``; a name passed to them is an override.
    """

    analysis: str = "auto"
    lyrics: str = "auto"
    generate: str = "auto"
    separate: str = "auto"


@dataclass(frozen=True)
class ServerConfig:
    """The daemon's doors."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_OSC_PORT
    allow_clients: tuple[str, ...] = ()
    workers: int = 1
    max_queue: int = 64
    midi_map: Path | None = None
    #: Binding to a non-loopback ``host`` also needs this and a non-empty ``allow_clients``.
    allow_remote: bool = False
    #: Where job result folders go; default ``<state_dir>/jobs``.
    jobs_dir: Path | None = None
    #: Per-client limit on job requests: ``rate_burst`` at once, then ``rate_per_minute``.
    rate_per_minute: int = 120
    rate_burst: int = 20
    #: Waiting jobs one client host may hold, so one flood cannot fill the whole queue.
    max_queue_per_client: int = 32
    #: On SIGINT/SIGTERM, running jobs get this long to finish before they are re-queued.
    shutdown_grace_s: int = 10
    #: A DAW that reported no context for this long is forgotten (controller jobs stop going there).
    daw_client_timeout_s: int = 30
    #: A ``/mage/subscribe`` lasts this long unless sent again (renewed) before it ends.
    subscription_lease_s: int = 600
    #: Results no DAW picked up expire from the outbox after this many days (their job folders stay).
    outbox_keep_days: int = 7
    #: A request (OSC, spool) may name a plugin preset file anywhere under the allowed folders, whose VST3s then
    #: load in a worker. Off: only presets in ``plugin_preset_dirs`` (the user's own) may be named.
    allow_request_plugins: bool = False
    #: The user's own plugin preset files (JSON, see ``mage-bridge enhance --plugins``): a request may name one.
    plugin_preset_dirs: tuple[Path, ...] = ()
    #: Where the VST3 bundles a preset lists may be (plus the allowed folders with ``allow_request_plugins``).
    #: Default: the platform's VST3 folders (:func:`mage_bridge.platforms.default_plugin_dirs`).
    plugin_dirs: tuple[Path, ...] = field(default_factory=default_plugin_dirs)
    #: The web panel (``mage-bridge panel``): served on 127.0.0.1 only, on this TCP port (0 picks a free one).
    panel: bool = True
    panel_port: int = DEFAULT_PANEL_PORT


@dataclass(frozen=True)
class AceStepConfig:
    """The ACE-Step backend: where its weights are, which route and device run it, how long it stays loaded."""

    #: The diffusers-layout folder (``model_index.json`` and its component folders); default ``<models_dir>/acestep``.
    model_dir: Path | None = None
    #: The native ACE-Step 1.5 ``checkpoints/`` folder, for the ``native`` route; default: the one beside the
    #: installed ``acestep`` package.
    checkpoints_dir: Path | None = None
    #: ``"auto"`` (diffusers when its folder is complete, else native), ``"diffusers"`` or ``"native"``.
    route: str = "auto"
    #: ``"auto"`` (CUDA, then Apple MPS, else the CPU with a warning), ``"cuda"``, ``"mps"`` or ``"cpu"``.
    device: str = "auto"
    #: ``"auto"`` (bfloat16 on CUDA, float16 on MPS, float32 on the CPU), ``"float32"``, ``"float16"``, ``"bfloat16"``.
    dtype: str = "auto"
    #: Diffusion steps; 0 = the variant's default (8 on turbo, 50 on base/SFT).
    steps: int = 0
    #: Classifier-free guidance on base/SFT (turbo ignores it).
    guidance: float = 7.0
    #: The timestep shift of the flow-matching schedule.
    shift: float = 3.0
    #: Move each component to the GPU only while it runs (saves VRAM, costs time).
    cpu_offload: bool = False
    #: A loaded model is released after this many seconds without a job (0: keep it loaded).
    idle_release_s: int = 600


@dataclass(frozen=True)
class LibraryConfig:
    """The clip library: where its database and imported clips live, and whether results are recorded."""

    #: ``library.sqlite3`` and the folder of imported clips; default ``<data_dir>/library``.
    dir: Path | None = None
    #: Record every generated, separated or mastered clip when its job finishes (whichever door sent it).
    register: bool = True


@dataclass(frozen=True)
class LyricsConfig:
    """The transformers lyric writer: where its causal language model is and how hard it tries per line."""

    #: A Hugging Face causal LM folder (``config.json``, ``model.safetensors``, ``tokenizer.json``), e.g. what
    #: ``mage-bridge train-lyrics`` writes; default ``<models_dir>/lyrics``.
    model_dir: Path | None = None
    #: ``"auto"`` (CUDA when torch sees one, else the CPU), ``"cuda"``, ``"mps"`` or ``"cpu"``.
    device: str = "auto"
    #: Candidate lines the model samples for one line of the song before the embedded writer's line is sung.
    tries: int = 32

    def resolved_model_dir(self, models_dir: Path) -> Path:
        """``model_dir``, else ``<models_dir>/lyrics``."""
        return self.model_dir if self.model_dir is not None else Path(models_dir) / "lyrics"


@dataclass(frozen=True)
class LiveConfig:
    """The live player (``mage_bridge.live``): its output, its clock, its clips."""

    #: Output device: ``""`` for the system default, else an index or (part of) a name as
    #: ``python -m sounddevice`` lists them; ``"JACK"`` picks the JACK server's default output.
    device: str = ""
    #: Frames per audio callback: the latency and the CPU headroom (256 at 48 kHz is 5.3 ms).
    buffer_frames: int = 256
    #: The output rate; 0 takes the device's own (clips are resampled to it when they are prepared).
    sample_rate: int = 0
    #: Where launches land: ``"bar"``, ``"beat"`` or ``"now"``.
    quantum: str = "bar"
    #: Equal-power crossfade between clips, in beats (0: cut on the launch point).
    crossfade_beats: float = 4.0
    #: What sets the tempo: ``"internal"``, ``"daw"`` (``/mage/daw/context``), ``"midi"`` (MIDI clock in)
    #: or ``"link"`` (Ableton Link, with the ``aalink`` package).
    clock: str = "internal"
    #: The tempo until a clock source says otherwise.
    bpm: float = 120.0
    #: The MIDI clock input for ``clock = "midi"``: ``"virtual"`` (a port called "MAGE Bridge Clock") or a port name.
    midi_clock_input: str = "virtual"
    #: MIDI clock out (24 ppqn, start/stop) when the player is the master: ``""`` none, ``"virtual"`` or a port name.
    midi_clock_output: str = ""
    #: ``"auto"``, ``"alsa"`` or ``"jack"``: the MIDI API of the clock ports.
    midi_api: str = "auto"
    #: Clip folders (``<id>/manifest.json``); default ``<data_dir>/clips``, and the daemon's jobs folder.
    clips_dirs: tuple[Path, ...] = ()
    #: Threads that load and time-stretch clips (never the audio callback).
    prepare_threads: int = 1


@dataclass(frozen=True)
class Config:
    """Everything the user can set. Build with :func:`load_config`."""

    data_dir: Path = field(default_factory=lambda: user_folders().data)
    models_dir: Path = field(default_factory=lambda: user_folders().data / "models")
    #: Job results, outbox, spool, daemon.json; default ``<data_dir>/state``.
    state_dir: Path | None = None
    #: The daemon's log; default the state folder when ``state_dir`` is set (so daemons with their own
    #: state keep their own log), else the platform's log folder (the state folder on Linux).
    log_dir: Path | None = None
    #: A General MIDI SoundFont (.sf2/.sf3); default the first one :func:`~mage_bridge.platforms.find_soundfont` finds.
    soundfont: Path | None = None
    allowed_roots: tuple[Path, ...] = ()
    backends: BackendChoice = field(default_factory=BackendChoice)
    server: ServerConfig = field(default_factory=ServerConfig)
    acestep: AceStepConfig = field(default_factory=AceStepConfig)
    library: LibraryConfig = field(default_factory=LibraryConfig)
    lyrics: LyricsConfig = field(default_factory=LyricsConfig)
    live: LiveConfig = field(default_factory=LiveConfig)

    @property
    def resolved_state_dir(self) -> Path:
        return self.state_dir if self.state_dir is not None else self.data_dir / "state"

    @property
    def resolved_log_dir(self) -> Path:
        """Where the daemon writes ``mage-bridge.log``: ``log_dir``, ``state_dir``, else the platform's log folder."""
        if self.log_dir is not None:
            return self.log_dir
        if self.state_dir is not None:
            return self.state_dir
        return user_folders().log or self.resolved_state_dir

    @property
    def resolved_library_dir(self) -> Path:
        """The clip library's folder: ``library.dir``, else ``<data_dir>/library``."""
        return self.library.dir if self.library.dir is not None else self.data_dir / "library"

    def resolved_soundfont(self) -> Path | None:
        """``soundfont`` if set, else the first SoundFont in ``<data_dir>/soundfonts`` or the platform's places."""
        return self.soundfont if self.soundfont is not None else find_soundfont(self.data_dir)


_ENV = {
    "MAGE_DATA_DIR": ("data_dir",),
    "MAGE_MODELS_DIR": ("models_dir",),
    "MAGE_STATE_DIR": ("state_dir",),
    "MAGE_LOG_DIR": ("log_dir",),
    "MAGE_SOUNDFONT": ("soundfont",),
    "MAGE_ALLOWED_ROOTS": ("allowed_roots",),
    "MAGE_ANALYSIS_BACKEND": ("backends", "analysis"),
    "MAGE_LYRICS_BACKEND": ("backends", "lyrics"),
    "MAGE_GENERATE_BACKEND": ("backends", "generate"),
    "MAGE_SEPARATE_BACKEND": ("backends", "separate"),
    "MAGE_HOST": ("server", "host"),
    "MAGE_PORT": ("server", "port"),
    "MAGE_WORKERS": ("server", "workers"),
    "MAGE_PANEL_PORT": ("server", "panel_port"),
    "MAGE_ACESTEP_DIR": ("acestep", "model_dir"),
    "MAGE_LIBRARY_DIR": ("library", "dir"),
    "MAGE_LYRICS_MODEL_DIR": ("lyrics", "model_dir"),
    "MAGE_LIVE_DEVICE": ("live", "device"),
}


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Config:
    """Read defaults, then the TOML file, then ``MAGE_*`` env vars, then ``overrides``.

    ``overrides`` are top-level field names (``data_dir=...``) or
    ``"section.key"`` strings passed via ``**{"server.port": 9000}``; ``None``
    values are ignored so CLI flags can be passed through unconditionally.
    """
    raw: dict[str, Any] = {}
    file = Path(path).expanduser() if path is not None else default_config_path()
    if path is not None and not file.is_file():
        raise ConfigError(f"config file not found: {str(file)!r}")
    if file.is_file():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot parse config file {str(file)!r}: {e}") from e
    for var, key in _ENV.items():
        if os.environ.get(var):
            _set(raw, key, os.environ[var])
    for name, value in overrides.items():
        if value is not None:
            _set(raw, tuple(name.split(".")), value)
    return _build(Config, raw, where=str(file))


def _set(raw: dict[str, Any], key: tuple[str, ...], value: Any) -> None:
    for part in key[:-1]:
        raw = raw.setdefault(part, {})
    raw[key[-1]] = value


def _build(cls: type, raw: dict[str, Any], where: str, prefix: str = "") -> Any:
    known = {f.name: f for f in fields(cls)}
    for name in raw:
        if prefix + name in _NOT_IN_THIS_VERSION:
            raise ConfigError(f"{where}: {prefix + name}: {_NOT_IN_THIS_VERSION[prefix + name]}")
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(prefix + u for u in unknown)}")
    obj = cls()
    values: dict[str, Any] = {}
    for name, value in raw.items():
        current = getattr(obj, name)
        key = prefix + name
        if isinstance(current, (BackendChoice, ServerConfig, AceStepConfig, LibraryConfig, LyricsConfig, LiveConfig)):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table, got {value!r}")
            values[name] = _build(type(current), value, where, prefix=key + ".")
        else:
            values[name] = _coerce(known[name].type, value, key, where)
    return replace(obj, **values)


def _coerce(annotation: Any, value: Any, key: str, where: str) -> Any:
    text = str(annotation)
    try:
        if "tuple[Path" in text:
            items = value.split(os.pathsep) if isinstance(value, str) else list(value)
            return tuple(Path(str(v)).expanduser() for v in items if str(v))
        if "tuple[str" in text:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if "Path" in text:
            return Path(str(value)).expanduser()
        if text == "bool":
            if isinstance(value, bool):
                return value
            if str(value).strip().lower() in ("1", "true", "yes", "on"):
                return True
            if str(value).strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if text == "int":
            if isinstance(value, bool):
                raise ValueError("a boolean is not a number")
            return int(value)
        if text == "float":
            if isinstance(value, bool):
                raise ValueError("a boolean is not a number")
            return float(value)
        return str(value)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {key} has an invalid value {value!r}: {e}") from e
