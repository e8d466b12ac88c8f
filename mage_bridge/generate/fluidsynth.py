"""A small ctypes binding to libfluidsynth (2.x): just what offline rendering needs.

No audio driver, no MIDI driver: a :class:`Synth` is fed events between calls to
``fluid_synth_write_float``, which renders straight into numpy buffers. ctypes
releases the GIL during each foreign call, so synths on different threads render
in parallel.

FluidSynth renders in internal blocks of 64 frames; an event sent after
rendering ``n`` frames takes effect at the next block boundary, i.e. within 64
frames (1.3 ms at 48 kHz) of its frame, always the same way for the same events.

A :class:`SoundFont` is loaded once per process and lent to any number of
synths: opening MuseScore General (SF3) takes over a second and decoding an
instrument's Ogg Vorbis samples a fraction of one, lending the font to a new
synth takes microseconds. Its sample data is read-only while synths render,
so synths sharing it render on different threads.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import threading
from pathlib import Path

import numpy as np

from mage_bridge.errors import BackendUnavailableError, InvalidInputError

_LIB_NAMES = ("libfluidsynth.so.3", "libfluidsynth.so.2", "libfluidsynth.so", "libfluidsynth.3.dylib",
              "libfluidsynth.dylib", "libfluidsynth-3.dll", "libfluidsynth-2.dll", "fluidsynth")
#: Where Homebrew (Apple silicon, Intel) and MacPorts put the library; dlopen does not search these by name.
_MACOS_LIB_DIRS = ("/opt/homebrew/lib", "/usr/local/lib", "/opt/local/lib")
_WINDOWS_DLLS = ("libfluidsynth-3.dll", "libfluidsynth-2.dll")
FLUID_FAILED = -1
DRUM_CHANNEL = 9
#: SoundFont 2.04 generator 38, releaseVolEnv: the volume envelope's release, in timecents (2^(tc/1200) s).
GEN_RELEASE_VOL_ENV = 38

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_load_error: str | None = None


def _bind(lib: ctypes.CDLL) -> None:
    vp, c_int, c_double, c_char_p = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_char_p
    sigs: dict[str, tuple[object, list[object]]] = {
        "new_fluid_settings": (vp, []),
        "delete_fluid_settings": (None, [vp]),
        "fluid_settings_setnum": (c_int, [vp, c_char_p, c_double]),
        "fluid_settings_setint": (c_int, [vp, c_char_p, c_int]),
        "fluid_settings_setstr": (c_int, [vp, c_char_p, c_char_p]),
        "new_fluid_synth": (vp, [vp]),
        "delete_fluid_synth": (None, [vp]),
        "fluid_synth_sfload": (c_int, [vp, c_char_p, c_int]),
        "fluid_synth_get_sfont_by_id": (vp, [vp, c_int]),
        "fluid_synth_add_sfont": (c_int, [vp, vp]),
        "fluid_synth_remove_sfont": (c_int, [vp, vp]),
        "fluid_synth_program_select": (c_int, [vp, c_int, c_int, c_int, c_int]),
        "fluid_synth_program_change": (c_int, [vp, c_int, c_int]),
        "fluid_synth_noteon": (c_int, [vp, c_int, c_int, c_int]),
        "fluid_synth_noteoff": (c_int, [vp, c_int, c_int]),
        "fluid_synth_cc": (c_int, [vp, c_int, c_int, c_int]),
        "fluid_synth_pitch_bend": (c_int, [vp, c_int, c_int]),
        "fluid_synth_set_gen": (c_int, [vp, c_int, c_int, ctypes.c_float]),
        "fluid_synth_write_float": (c_int, [vp, c_int, vp, c_int, c_int, vp, c_int, c_int]),
        "fluid_version_str": (c_char_p, []),
        "fluid_set_log_function": (vp, [c_int, vp, vp]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def install_hint() -> str:
    """How to install FluidSynth 2.x on this platform."""
    from mage_bridge.platforms import platform_name

    kind = platform_name()
    if kind == "macos":
        return "brew install fluid-synth (or: sudo port install fluidsynth)"
    if kind == "windows":
        return ("winget install FluidSynth.FluidSynth (or choco install fluidsynth); if libfluidsynth-3.dll is "
                "still not found, set MAGE_FLUIDSYNTH_LIB to its full path")
    return ("apt-get install libfluidsynth3 (Debian/Ubuntu), dnf install fluidsynth-libs (Fedora) or "
            "pacman -S fluidsynth (Arch)")


def _candidates() -> list[str]:
    """Library names and paths to try, in order: ``$MAGE_FLUIDSYNTH_LIB``, the linker's answer, the usual names."""
    from mage_bridge.platforms import platform_name

    candidates = list(_LIB_NAMES)
    kind = platform_name()
    if kind == "macos":
        candidates = [f"{d}/{n}" for d in _MACOS_LIB_DIRS for n in ("libfluidsynth.3.dylib", "libfluidsynth.dylib")
                      ] + candidates
    elif kind == "windows":
        candidates = _windows_dlls() + candidates
    found = ctypes.util.find_library("fluidsynth")
    if found:
        candidates.insert(0, found)
    if os.environ.get("MAGE_FLUIDSYNTH_LIB"):
        candidates.insert(0, os.environ["MAGE_FLUIDSYNTH_LIB"])
    return candidates


def _windows_dlls() -> list[str]:
    """Full paths of FluidSynth DLLs on PATH and in winget's and the installer's folders.

    Python on Windows loads a DLL named without a folder only from the system
    folders, never from PATH, so each is tried by its full path.
    """
    import glob

    folders = [f for f in os.environ.get("PATH", "").split(os.pathsep) if f]
    folders.append(os.path.join(os.environ.get("ProgramFiles") or "C:\\Program Files", "FluidSynth", "bin"))
    if os.environ.get("LOCALAPPDATA"):
        folders += sorted(glob.glob(os.path.join(os.environ["LOCALAPPDATA"], "Microsoft", "WinGet", "Packages",
                                                 "FluidSynth.FluidSynth_*", "*", "bin")), reverse=True)
    return [os.path.join(f, n) for f in folders for n in _WINDOWS_DLLS if os.path.isfile(os.path.join(f, n))]


def _initialise_tables(lib: ctypes.CDLL) -> None:
    """Create and free one synth, so FluidSynth's process-wide tables are complete before any render.

    The first ``new_fluid_synth`` in a process fills global tables (conversion
    curves, interpolation coefficients, default modulators) after flipping an
    "initialised" flag; a second synth created on another thread meanwhile
    skips the work and renders with half-filled tables. That made the first
    parallel render of a process differ from every later one (same seed,
    different audio, about one process in ten under load).
    """
    settings = lib.new_fluid_settings()
    if not settings:
        return
    synth = lib.new_fluid_synth(settings)
    if synth:
        lib.delete_fluid_synth(synth)
    lib.delete_fluid_settings(settings)


def load_library() -> ctypes.CDLL:
    """Find, load and bind libfluidsynth once; :class:`BackendUnavailableError` if absent."""
    global _lib, _load_error
    with _lock:
        if _lib is not None:
            return _lib
        if _load_error is not None:
            raise BackendUnavailableError(_load_error)
        tried = []
        for name in _candidates():
            try:
                lib = ctypes.CDLL(name)
                _bind(lib)
            except (OSError, AttributeError) as e:
                tried.append(f"{name} ({e})")
                continue
            # Silence FluidSynth's own logging: a library does not print.
            for level in range(5):
                lib.fluid_set_log_function(level, None, None)
            _initialise_tables(lib)
            _lib = lib
            return lib
        _load_error = (
            "libfluidsynth (FluidSynth 2.x) is not installed or cannot be loaded: "
            f"{install_hint()}; tried {', '.join(tried)}"
        )
        raise BackendUnavailableError(_load_error)


#: How many loaded SoundFonts a process keeps (a GM font, two drum kits, one spare).
MAX_LOADED_FONTS = 4
_fonts: dict[Path, SoundFont] = {}
_fonts_lock = threading.Lock()
_loading: dict[Path, threading.Lock] = {}


def loaded_soundfont(path: str | os.PathLike[str]) -> SoundFont:
    """The process's loaded :class:`SoundFont` for ``path``, loading it on first use.

    Opening MuseScore General takes over a second; lending it takes
    microseconds, so every stem of every clip in a process shares one load.
    Two fonts load at once on two threads. At most :data:`MAX_LOADED_FONTS`
    stay loaded: the least recently used font that no synth holds is closed
    to make room (a font returned here and not yet lent counts as unheld, so
    more fonts than that in flight at once can see theirs closed).
    """
    key = Path(path).resolve()
    with _fonts_lock:
        font = _fonts.pop(key, None)
        if font is not None:
            _fonts[key] = font  # most recently used last
            return font
        loading = _loading.setdefault(key, threading.Lock())
    with loading:
        with _fonts_lock:
            font = _fonts.get(key)
        if font is None:
            font = SoundFont(key)
            with _fonts_lock:
                _fonts[key] = font
                _loading.pop(key, None)
                for old in list(_fonts):
                    if len(_fonts) <= MAX_LOADED_FONTS:
                        break
                    if old != key and _fonts[old].borrowers == 0:
                        _fonts.pop(old).close()
        return font


def library_available() -> str | None:
    """``None`` when libfluidsynth loads, else the reason."""
    try:
        load_library()
    except BackendUnavailableError as e:
        return str(e)
    return None


def version() -> str:
    return load_library().fluid_version_str().decode()


def soundfont_name(path: str | os.PathLike[str]) -> str:
    """The SoundFont's own name (its INFO/INAM chunk), or the file name if it has none."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
    except OSError:
        return path.name
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        return path.name
    pos = 12
    while pos + 12 <= len(head):
        cid, size = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if cid == b"LIST" and head[pos + 8:pos + 12] == b"INFO":
            sub, end = pos + 12, min(pos + 8 + size, len(head))
            while sub + 8 <= end:
                sid, ssize = head[sub:sub + 4], struct.unpack("<I", head[sub + 4:sub + 8])[0]
                if sid == b"INAM":
                    return head[sub + 8:sub + 8 + ssize].split(b"\0")[0].decode("latin-1").strip() or path.name
                sub += 8 + ssize + (ssize & 1)
            return path.name
        pos += 8 + size + (size & 1)
    return path.name


#: Channels of a font's holder synth: each keeps one used preset selected, so its samples stay decoded.
_HOLDER_CHANNELS = 256


class SoundFont:
    """A SoundFont file loaded once, lent to any number of :class:`Synth` objects.

    Samples load on demand (``synth.dynamic-sample-loading``): a preset's
    samples are read, and for SF3 decoded, the first time a synth selects it.
    A holder synth owns the font and keeps every preset once selected
    selected on one of its own channels, so nothing is decoded twice in a
    process. Loading, selecting and unloading run under :attr:`lock`;
    rendering reads the sample data only, so borrowers render on many
    threads. Every borrower holds this font alone, so the font's id is 1 in
    every synth that holds it. Close the font after its borrowers.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._lib = load_library()
        lib = self._lib
        self.path = Path(path)
        self.lock = threading.Lock()
        self.borrowers = 0
        self._pinned: dict[tuple[int, int], int] = {}
        self._settings = lib.new_fluid_settings()
        self._holder = None
        self.handle = None
        if not self._settings:
            raise BackendUnavailableError("FluidSynth could not allocate its settings")
        # The holder never sounds: one voice and no effects keep it small.
        lib.fluid_settings_setint(self._settings, b"synth.polyphony", 1)
        lib.fluid_settings_setint(self._settings, b"synth.midi-channels", _HOLDER_CHANNELS)
        lib.fluid_settings_setint(self._settings, b"synth.reverb.active", 0)
        lib.fluid_settings_setint(self._settings, b"synth.chorus.active", 0)
        lib.fluid_settings_setint(self._settings, b"synth.dynamic-sample-loading", 1)
        self._holder = lib.new_fluid_synth(self._settings)
        if not self._holder:
            self.close()
            raise BackendUnavailableError("FluidSynth could not create a synth")
        self._sfid = lib.fluid_synth_sfload(self._holder, os.fsencode(self.path), 0)
        if self._sfid == FLUID_FAILED:
            self.close()
            raise BackendUnavailableError(f"FluidSynth cannot load the SoundFont {str(self.path)!r}")
        self.handle = lib.fluid_synth_get_sfont_by_id(self._holder, self._sfid)
        # Every borrower starts on these (a synth's program reset); keep them decoded.
        self.pin(bank=0, program=0)
        self.pin(bank=128, program=0)

    def pin(self, *, bank: int, program: int) -> None:
        """Keep ``bank``/``program`` selected on a holder channel (call with :attr:`lock` held or before lending)."""
        if (bank, program) in self._pinned or len(self._pinned) >= _HOLDER_CHANNELS or not self._holder:
            return
        channel = len(self._pinned)
        if self._lib.fluid_synth_program_select(self._holder, channel, self._sfid, bank, program) != FLUID_FAILED:
            self._pinned[(bank, program)] = channel

    def close(self) -> None:
        if self._holder:
            self._lib.delete_fluid_synth(self._holder)
            self._holder = None
            self.handle = None
        if self._settings:
            self._lib.delete_fluid_settings(self._settings)
            self._settings = None

    def __enter__(self) -> SoundFont:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Synth:
    """One FluidSynth instance with its own reverb and chorus, rendering stereo float32.

    ``soundfont`` is a file to load for this synth alone, or a loaded
    :class:`SoundFont` to borrow. Use as a context manager so the native
    objects are freed: ``with Synth(...) as s:``. A synth renders one job and
    is freed: ``fluid_synth_system_reset`` leaves voice state behind, so a
    reused synth does not render what a fresh one renders, bit for bit.
    """

    def __init__(
        self,
        soundfont: str | os.PathLike[str] | SoundFont,
        *,
        sample_rate: int = 48_000,
        gain: float = 0.4,
        reverb: bool = True,
        chorus: bool = True,
        reverb_room_size: float = 0.35,
        reverb_damp: float = 0.4,
        reverb_level: float = 0.7,
        polyphony: int = 256,
    ) -> None:
        self._lib = load_library()
        lib = self._lib
        self._settings = lib.new_fluid_settings()
        self._synth = None
        self._borrowed: SoundFont | None = None
        if not self._settings:
            raise BackendUnavailableError("FluidSynth could not allocate its settings")
        s = self._settings
        lib.fluid_settings_setnum(s, b"synth.sample-rate", float(sample_rate))
        lib.fluid_settings_setnum(s, b"synth.gain", float(gain))
        lib.fluid_settings_setint(s, b"synth.polyphony", int(polyphony))
        lib.fluid_settings_setint(s, b"synth.cpu-cores", 1)
        lib.fluid_settings_setint(s, b"synth.threadsafe-api", 0)
        lib.fluid_settings_setint(s, b"synth.reverb.active", int(reverb))
        lib.fluid_settings_setint(s, b"synth.chorus.active", int(chorus))
        lib.fluid_settings_setnum(s, b"synth.reverb.room-size", float(reverb_room_size))
        lib.fluid_settings_setnum(s, b"synth.reverb.damp", float(reverb_damp))
        lib.fluid_settings_setnum(s, b"synth.reverb.level", float(reverb_level))
        # A font this synth loads alone decodes only the presets it selects (SF3: seconds saved).
        lib.fluid_settings_setint(s, b"synth.dynamic-sample-loading", 1)
        self._synth = lib.new_fluid_synth(s)
        if not self._synth:
            self.close()
            raise BackendUnavailableError("FluidSynth could not create a synth")
        self.sample_rate = int(sample_rate)
        if isinstance(soundfont, SoundFont):
            with soundfont.lock:
                if not soundfont.handle:
                    self.close()
                    raise InvalidInputError(f"the SoundFont {str(soundfont.path)!r} is closed")
                self.sfid = lib.fluid_synth_add_sfont(self._synth, soundfont.handle)
                if self.sfid != FLUID_FAILED:
                    self._borrowed = soundfont
                    soundfont.borrowers += 1
        else:
            self.sfid = lib.fluid_synth_sfload(self._synth, os.fsencode(soundfont), 1)
        if self.sfid == FLUID_FAILED:
            self.close()
            name = soundfont.path if isinstance(soundfont, SoundFont) else soundfont
            raise BackendUnavailableError(f"FluidSynth cannot load the SoundFont {str(name)!r}")

    def __enter__(self) -> Synth:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        font = self._borrowed
        if self._synth and font is not None:
            with font.lock:
                # Give the font back first: deleting a synth deletes every font on its stack.
                self._lib.fluid_synth_remove_sfont(self._synth, font.handle)
                self._lib.delete_fluid_synth(self._synth)
                font.borrowers -= 1
            self._synth = None
            self._borrowed = None
        if self._synth:
            self._lib.delete_fluid_synth(self._synth)
            self._synth = None
        if self._settings:
            self._lib.delete_fluid_settings(self._settings)
            self._settings = None

    def program_select(self, channel: int, *, bank: int, program: int) -> bool:
        """Select ``bank``/``program`` on ``channel``; ``False`` if the SoundFont lacks it."""
        font = self._borrowed
        if font is None:
            return self._lib.fluid_synth_program_select(self._synth, channel, self.sfid, bank, program) != FLUID_FAILED
        with font.lock:
            ok = self._lib.fluid_synth_program_select(self._synth, channel, self.sfid, bank, program) != FLUID_FAILED
            if ok:
                font.pin(bank=bank, program=program)
        return ok

    def program_change(self, channel: int, program: int) -> None:
        if self._borrowed is None:
            self._lib.fluid_synth_program_change(self._synth, channel, program)
            return
        with self._borrowed.lock:
            self._lib.fluid_synth_program_change(self._synth, channel, program)

    def noteon(self, channel: int, key: int, velocity: int) -> None:
        self._lib.fluid_synth_noteon(self._synth, channel, key, velocity)

    def noteoff(self, channel: int, key: int) -> None:
        self._lib.fluid_synth_noteoff(self._synth, channel, key)

    def cc(self, channel: int, control: int, value: int) -> None:
        self._lib.fluid_synth_cc(self._synth, channel, control, value)

    def offset_generator(self, channel: int, generator: int, amount: float) -> None:
        """Add ``amount`` to SoundFont generator ``generator`` of every voice on ``channel`` (like an NRPN)."""
        self._lib.fluid_synth_set_gen(self._synth, channel, generator, float(amount))

    def pitch_bend(self, channel: int, value: int) -> None:
        self._lib.fluid_synth_pitch_bend(self._synth, channel, value)

    def write(self, out: np.ndarray, start: int, frames: int) -> None:
        """Render ``frames`` frames into ``out[:, start:start + frames]`` (``out``: float32, (2, n))."""
        if frames <= 0:
            return
        if out.dtype != np.float32 or out.ndim != 2 or out.shape[0] != 2 or not out.flags.c_contiguous:
            raise InvalidInputError(f"out must be C-contiguous float32 (2, n), got {out.dtype} {out.shape}")
        if start < 0 or start + frames > out.shape[1]:
            raise InvalidInputError(f"cannot write frames {start}..{start + frames} into {out.shape[1]}")
        left = out[0].ctypes.data
        right = out[1].ctypes.data
        self._lib.fluid_synth_write_float(self._synth, frames, left, start, 1, right, start, 1)
