"""The output device: finding it through PortAudio (``sounddevice``), opening the stream, and
saying plainly why not.

Devices are looked up afresh each time the player opens its output (PortAudio is re-initialised
when no stream is open), so a sound server started after the daemon — JACK, PipeWire — is found
on the next launch. Every failure is an :class:`~mage_bridge.errors.AudioDeviceUnavailableError`
that names what PortAudio sees: its host APIs and their output devices.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mage_bridge.errors import AudioDeviceUnavailableError

log = logging.getLogger("mage_bridge.live")

#: Output channels the player writes (stereo; a mono device is refused by name).
CHANNELS = 2
#: The interpreter's thread switch interval while a stream plays: a thread that holds the GIL gives
#: it up this often, so the audio callback waits at most this long for it (the default is 5 ms,
#: about a whole 256-frame buffer).
SWITCH_INTERVAL_S = 0.0005


def import_sounddevice() -> Any:
    """The ``sounddevice`` module, or a clear error when it or PortAudio is missing."""
    try:
        import sounddevice
    except OSError as e:  # the module is there, the PortAudio library is not
        raise AudioDeviceUnavailableError(
            f"no audio output: the PortAudio library is missing ({e}); install it (Debian/Ubuntu: "
            "apt install libportaudio2, macOS: brew install portaudio)") from e
    except ImportError as e:
        raise AudioDeviceUnavailableError(f"no audio output: sounddevice is not installed "
                                          f"(pip install sounddevice): {e}") from e
    return sounddevice


def release(sd: Any) -> None:
    """Let go of PortAudio altogether (its JACK host API holds a client of the JACK server while it is
    initialised): done whenever the player's output closes or fails to open, so a sound server may
    stop or restart without PortAudio tripping over it later, at exit."""
    while getattr(sd, "_initialized", 0) > 0:
        try:
            sd._terminate()
        except Exception as e:
            log.debug("PortAudio termination failed: %s", e)
            return


def rescan(sd: Any) -> None:
    """Let PortAudio look for host APIs and devices afresh (only while no stream of ours is open)."""
    release(sd)
    try:
        sd._initialize()
    except Exception as e:
        raise AudioDeviceUnavailableError(f"no audio output: PortAudio cannot start: {e}") from e


def describe(sd: Any) -> str:
    """What PortAudio sees, host API by host API: ``"ALSA: none; JACK Audio Connection Kit: 0 'system' (2 out)"``."""
    parts = []
    devices = sd.query_devices()
    for api in sd.query_hostapis():
        outs = [f"{i} {devices[i]['name']!r} ({devices[i]['max_output_channels']} out)"
                for i in api["devices"] if devices[i]["max_output_channels"] > 0]
        parts.append(f"{api['name']}: {', '.join(outs) if outs else 'no output device'}")
    return "; ".join(parts) if parts else "no host API"


def find_output(sd: Any, wanted: str) -> int:
    """The index of the output device ``wanted`` names (see :class:`~mage_bridge.config.LiveConfig`)."""
    devices = sd.query_devices()
    apis = sd.query_hostapis()
    outputs = [i for i, d in enumerate(devices) if d["max_output_channels"] > 0]
    text = wanted.strip()
    if not outputs:
        named = f" (live.device {text!r} wanted)" if text else ""
        raise AudioDeviceUnavailableError(
            f"no audio output device{named}: PortAudio sees {describe(sd)}. Start a sound server (JACK, PipeWire, "
            "PulseAudio) or connect an audio interface, then launch again; the rest of the daemon works without it")
    if not text:
        default = sd.default.device[1]
        return int(default) if default is not None and int(default) in outputs else outputs[0]
    if text.isdigit():
        index = int(text)
        if index in outputs:
            return index
        raise AudioDeviceUnavailableError(f"live.device {index} is not an output device; outputs here: "
                                          f"{describe(sd)}")
    low = text.lower()
    for i in outputs:
        if low in str(devices[i]["name"]).lower():
            return i
    for i in outputs:  # a host API's name ("JACK") picks its default output
        api = apis[devices[i]["hostapi"]]
        if low in str(api["name"]).lower():
            default = api.get("default_output_device", -1)
            return int(default) if default in outputs else i
    raise AudioDeviceUnavailableError(f"no output device matches live.device {text!r}; PortAudio sees {describe(sd)}")


@dataclass(frozen=True)
class OutputInfo:
    """The device a stream was opened on."""

    index: int
    name: str
    host_api: str
    sample_rate: int
    buffer_frames: int
    latency_s: float


class Output:
    """An open output stream feeding ``callback`` ``(outdata, frames, time, status)``."""

    def __init__(self, stream: Any, info: OutputInfo, previous_switch_s: float, sd: Any) -> None:
        self.stream = stream
        self.info = info
        self._previous_switch_s = previous_switch_s
        self._sd = sd

    @classmethod
    def open(cls, *, device: str, sample_rate: int, buffer_frames: int,
             callback_for: Callable[[int], Callable[..., None]]) -> Output:
        """Open and start the stream; ``callback_for(sample_rate)`` builds the callback once the rate is known."""
        if buffer_frames < 16 or buffer_frames > 8192:
            raise AudioDeviceUnavailableError(f"live.buffer_frames must be from 16 to 8192, got {buffer_frames}")
        sd = import_sounddevice()
        rescan(sd)
        try:
            return cls._open(sd, device=device, sample_rate=sample_rate, buffer_frames=buffer_frames,
                             callback_for=callback_for)
        except BaseException:
            release(sd)
            raise

    @classmethod
    def _open(cls, sd: Any, *, device: str, sample_rate: int, buffer_frames: int,
              callback_for: Callable[[int], Callable[..., None]]) -> Output:
        index = find_output(sd, device)
        dev = sd.query_devices(index)
        api = sd.query_hostapis(dev["hostapi"])["name"]
        if dev["max_output_channels"] < CHANNELS:
            raise AudioDeviceUnavailableError(f"output device {dev['name']!r} ({api}) has "
                                              f"{dev['max_output_channels']} channel(s); the player needs {CHANNELS}")
        rate = int(sample_rate or round(dev["default_samplerate"]))
        callback = callback_for(rate)
        try:
            stream = sd.OutputStream(device=index, samplerate=rate, blocksize=buffer_frames, channels=CHANNELS,
                                     dtype="float32", latency="low", callback=callback)
        except Exception as e:  # sounddevice.PortAudioError, or ValueError for settings it refuses
            raise AudioDeviceUnavailableError(f"cannot open output device {dev['name']!r} ({api}) at {rate} Hz with "
                                              f"{buffer_frames}-frame buffers: {e}") from e
        previous = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        # A full collection walks every object the daemon holds with the GIL taken: 15-25 ms for the
        # ~50 000 objects of a running daemon, three or four buffers the callback could not run. What
        # lives now (modules, the library, the clips) lives on; the collector leaves it alone from here.
        gc.freeze()
        try:
            stream.start()
        except Exception as e:
            sys.setswitchinterval(previous)
            stream.close()
            raise AudioDeviceUnavailableError(f"cannot start output device {dev['name']!r} ({api}): {e}") from e
        info = OutputInfo(index, str(dev["name"]), str(api), rate, buffer_frames, float(stream.latency))
        log.info("live output: %r (%s), %d Hz, %d-frame buffers, %.1f ms output latency", info.name, info.host_api,
                 rate, buffer_frames, info.latency_s * 1000)
        return cls(stream, info, previous, sd)

    def close(self) -> None:
        try:
            self.stream.stop()
        finally:
            self.stream.close()
            sys.setswitchinterval(self._previous_switch_s)
            release(self._sd)


def probe(device: str) -> str:
    """One line for the daemon's log: the output the player would open, or why there is none."""
    try:
        sd = import_sounddevice()
    except AudioDeviceUnavailableError as e:
        return str(e)
    try:
        rescan(sd)
        index = find_output(sd, device)
        dev = sd.query_devices(index)
        return f"output {dev['name']!r} ({sd.query_hostapis(dev['hostapi'])['name']}), opened on the first launch"
    except AudioDeviceUnavailableError as e:
        return str(e)
    except Exception as e:
        return f"PortAudio could not list devices: {e}"
    finally:
        release(sd)
