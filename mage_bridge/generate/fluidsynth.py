"""A small ctypes binding to libfluidsynth (2.x): just what offline rendering needs.

No audio driver, no MIDI driver: a :class:`Synth` is fed events between calls to
``fluid_synth_write_float``, which renders straight into numpy buffers. ctypes
releases the GIL during each foreign call, so synths on different threads render
in parallel.

FluidSynth renders in internal blocks of 64 frames; an event sent after
rendering ``n`` frames takes effect at the next block boundary, i.e. within 64
frames (1.3 ms at 48 kHz) of its frame, always the same way for the same events.
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
        "fluid_synth_program_select": (c_int, [vp, c_int, c_int, c_int, c_int]),
        "fluid_synth_program_change": (c_int, [vp, c_int, c_int]),
        "fluid_synth_noteon": (c_int, [vp, c_int, c_int, c_int]),
        "fluid_synth_noteoff": (c_int, [vp, c_int, c_int]),
        "fluid_synth_cc": (c_int, [vp, c_int, c_int, c_int]),
        "fluid_synth_pitch_bend": (c_int, [vp, c_int, c_int]),
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


class Synth:
    """One FluidSynth instance with its own reverb and chorus, rendering stereo float32.

    Use as a context manager so the native objects are freed: ``with Synth(...) as s:``.
    """

    def __init__(
        self,
        soundfont: str | os.PathLike[str],
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
        self._synth = lib.new_fluid_synth(s)
        if not self._synth:
            self.close()
            raise BackendUnavailableError("FluidSynth could not create a synth")
        self.sample_rate = int(sample_rate)
        self.sfid = lib.fluid_synth_sfload(self._synth, os.fsencode(soundfont), 1)
        if self.sfid == FLUID_FAILED:
            self.close()
            raise BackendUnavailableError(f"FluidSynth cannot load the SoundFont {str(soundfont)!r}")

    def __enter__(self) -> Synth:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._synth:
            self._lib.delete_fluid_synth(self._synth)
            self._synth = None
        if self._settings:
            self._lib.delete_fluid_settings(self._settings)
            self._settings = None

    def program_select(self, channel: int, *, bank: int, program: int) -> bool:
        """Select ``bank``/``program`` on ``channel``; ``False`` if the SoundFont lacks it."""
        return self._lib.fluid_synth_program_select(self._synth, channel, self.sfid, bank, program) != FLUID_FAILED

    def program_change(self, channel: int, program: int) -> None:
        self._lib.fluid_synth_program_change(self._synth, channel, program)

    def noteon(self, channel: int, key: int, velocity: int) -> None:
        self._lib.fluid_synth_noteon(self._synth, channel, key, velocity)

    def noteoff(self, channel: int, key: int) -> None:
        self._lib.fluid_synth_noteoff(self._synth, channel, key)

    def cc(self, channel: int, control: int, value: int) -> None:
        self._lib.fluid_synth_cc(self._synth, channel, control, value)

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
