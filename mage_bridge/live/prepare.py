"""Clips made ready to play: loaded, cut to their body, resampled, time-stretched to the live tempo.

All of this runs in worker threads, never in the audio callback. Rubber Band (through
``pedalboard.time_stretch``) stretches each stem so that its body lasts exactly its beats at the
live tempo; the result is trimmed or padded to the exact frame count, so a loop is the grid's
length to the frame. A :class:`PreparedClip` holds the stems as ``(frames, channels)`` float32
arrays, the layout of the output buffer, so the callback only multiplies and adds.

The :class:`Preparer` keeps prepared clips by id. Keeping them is also what makes the callback
safe: the cache (and the callback's own list of clips it has let go, emptied by the player's
thread) holds a reference to every clip the callback plays, so a clip's arrays are never freed on
the audio thread.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from mage_bridge import audio as audio_io
from mage_bridge.errors import BackendUnavailableError
from mage_bridge.live.clips import ClipInfo

log = logging.getLogger("mage_bridge.live")

#: Most stems a clip may have (vocals, drums, bass, other, and room to spare).
MAX_STEMS = 8
#: Tempo ratios closer to 1 than this are played as they are, without Rubber Band.
UNSTRETCHED = 1e-6


class PreparedClip:
    """A clip ready for the callback: its body at ``bpm`` and ``sample_rate``, one array per stem.

    ``stem_gains`` holds the gain each stem should have (0.0 muted, 1.0 open). The player writes
    it and the callback glides to it; one float per stem, nothing else is shared.
    """

    __slots__ = ("info", "bpm", "sample_rate", "stem_names", "stems", "frames", "beats", "stem_gains")

    def __init__(self, info: ClipInfo, bpm: float, sample_rate: int, stems: dict[str, np.ndarray]) -> None:
        if not 0 < len(stems) <= MAX_STEMS:
            raise ValueError(f"a clip has 1 to {MAX_STEMS} stems, got {len(stems)}")
        lengths = {a.shape[0] for a in stems.values()}
        if len(lengths) != 1:
            raise ValueError(f"stems of one clip must have one length, got {sorted(lengths)}")
        self.info = info
        self.bpm = float(bpm)
        self.sample_rate = int(sample_rate)
        self.stem_names = tuple(stems)
        self.stems = tuple(np.ascontiguousarray(a, dtype=np.float32) for a in stems.values())
        self.frames = lengths.pop()
        self.beats = info.body_beats
        self.stem_gains = np.ones(MAX_STEMS, dtype=np.float32)

    @property
    def clip_id(self) -> str:
        return self.info.clip_id

    def set_muted(self, muted: set[str]) -> None:
        for i, name in enumerate(self.stem_names):
            self.stem_gains[i] = 0.0 if name in muted else 1.0


def body_frames(beats: float, bpm: float, sample_rate: int) -> int:
    """Frames of ``beats`` quarter notes at ``bpm``: the exact length of a prepared loop."""
    return int(round(beats * 60.0 / bpm * sample_rate))


def stretch(samples: np.ndarray, sample_rate: int, ratio: float) -> np.ndarray:
    """``samples`` ``(channels, frames)`` played ``ratio`` times as fast, pitch kept (Rubber Band)."""
    if abs(ratio - 1.0) < UNSTRETCHED:
        return samples
    try:
        from pedalboard import time_stretch
    except ImportError as e:
        raise BackendUnavailableError(f"time-stretching needs pedalboard (pip install pedalboard): {e}") from e
    return np.asarray(time_stretch(np.ascontiguousarray(samples, dtype=np.float32), float(sample_rate),
                                   stretch_factor=float(ratio), high_quality=True))


def prepare(info: ClipInfo, *, bpm: float, sample_rate: int, muted: set[str] | None = None) -> PreparedClip:
    """Load ``info``'s stems and make its body last ``info.body_beats`` beats at ``bpm``, at ``sample_rate``."""
    stems: dict[str, np.ndarray] = {}
    target = body_frames(info.body_beats, bpm, sample_rate)
    for name, path in info.stems.items():
        audio = audio_io.load(path).to_stereo()
        if audio.sample_rate != sample_rate:
            audio = audio_io.resample(audio, sample_rate)
        start = int(round(info.body_start_s * sample_rate))
        length = body_frames(info.body_beats, info.bpm, sample_rate)
        body = np.zeros((2, length), dtype=np.float32)
        part = audio.samples[:, start:start + length]
        body[:, :part.shape[1]] = part
        out = stretch(body, sample_rate, bpm / info.bpm)
        fitted = np.zeros((target, 2), dtype=np.float32)
        n = min(target, out.shape[1])
        fitted[:n] = out[:, :n].T
        stems[name] = fitted
    clip = PreparedClip(info, bpm, sample_rate, stems)
    clip.set_muted(muted or set())
    return clip


class Preparer:
    """Prepares clips in worker threads and keeps the latest version of each, by clip id.

    ``get(info, bpm)`` returns a future; a clip already prepared at that tempo (to
    ``tolerance_bpm``) is returned at once. Clips beyond ``keep`` are let go oldest first, except
    those :meth:`pin` holds (what plays, what is queued, the arrangement).
    """

    def __init__(self, *, sample_rate: int, threads: int = 1, keep: int = 32, tolerance_bpm: float = 0.01,
                 muted: Callable[[str], set[str]] | None = None) -> None:
        self.sample_rate = sample_rate
        self.tolerance_bpm = tolerance_bpm
        self.keep = keep
        self._muted = muted or (lambda clip_id: set())
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="mage-live-prepare")
        self._lock = threading.Lock()
        self._ready: OrderedDict[str, PreparedClip] = OrderedDict()
        self._busy: dict[tuple[str, float], Future[PreparedClip]] = {}
        self._pinned: set[str] = set()

    def get(self, info: ClipInfo, bpm: float) -> Future[PreparedClip]:
        with self._lock:
            ready = self._ready.get(info.clip_id)
            if ready is not None and ready.info == info and abs(ready.bpm - bpm) <= self.tolerance_bpm:
                self._ready.move_to_end(info.clip_id)
                done: Future[PreparedClip] = Future()
                done.set_result(ready)
                return done
            key = (info.clip_id, round(bpm, 4))
            busy = self._busy.get(key)
            if busy is not None:
                return busy
            future = self._pool.submit(self._prepare, info, bpm)
            self._busy[key] = future
            return future

    def _prepare(self, info: ClipInfo, bpm: float) -> PreparedClip:
        try:
            clip = prepare(info, bpm=bpm, sample_rate=self.sample_rate, muted=self._muted(info.clip_id))
            log.info("clip %s ready: %.2f beats at %.2f BPM (made at %.2f), %d stem(s)", info.clip_id,
                     info.body_beats, bpm, info.bpm, len(clip.stems))
            with self._lock:
                self._ready[info.clip_id] = clip
                self._ready.move_to_end(info.clip_id)
                self._evict()
            return clip
        finally:
            with self._lock:
                self._busy.pop((info.clip_id, round(bpm, 4)), None)

    def _evict(self) -> None:
        for clip_id in list(self._ready):
            if len(self._ready) <= self.keep:
                return
            if clip_id not in self._pinned:
                del self._ready[clip_id]

    def pin(self, clip_ids: set[str]) -> None:
        """Keep these clips whatever ``keep`` says."""
        with self._lock:
            self._pinned = set(clip_ids)

    def ready(self) -> list[PreparedClip]:
        with self._lock:
            return list(self._ready.values())

    def ready_clip(self, clip_id: str) -> PreparedClip | None:
        with self._lock:
            return self._ready.get(clip_id)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

