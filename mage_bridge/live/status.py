"""The player's state as one JSON-able dict: what ``/mage/live/status`` and the panel show."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from mage_bridge.live import engine as eng

if TYPE_CHECKING:
    from mage_bridge.live.player import Player


def callback_figures(times: np.ndarray, count: int) -> dict[str, float]:
    """p50, p99 and max of the callback durations kept, in milliseconds."""
    kept = times[:min(count, times.size)]
    if kept.size == 0:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    p50, p99 = np.percentile(kept, [50, 99])
    return {"p50_ms": round(float(p50) * 1e3, 4), "p99_ms": round(float(p99) * 1e3, 4),
            "max_ms": round(float(kept.max()) * 1e3, 4)}


def status_of(player: Player) -> dict[str, Any]:
    """``state`` is ``closed`` (no output open yet), ``stopped``, ``playing`` or ``waiting`` (an outside
    clock has stopped the transport); ``playing``/``queued`` are clip ids (``""`` when none)."""
    engine = player.engine
    out: dict[str, Any] = {
        "state": "closed", "playing": "", "queued": "", "slot": player.index + 1 if player.index >= 0 else 0,
        "bpm": round(player.current_bpm(), 3), "beat": 0.0, "bar": 0, "beats_per_bar": player.beats_per_bar,
        "clock": player.config.clock, "quantum": player.quantum, "crossfade_beats": player.crossfade_beats,
        "follow": player.follow, "order": list(player.order),
        "mutes": {k: sorted(v) for k, v in player.mutes.items() if v},
        "xruns": 0, "late_callbacks": 0, "callbacks": 0, "launches": 0,
    }
    info = player.device
    if engine is None or info is None:
        return out
    s = engine.snapshot()
    newest = player._newest(engine)
    pending = engine.pending_clip
    beat = player.beat_now()
    held = bool(s[eng.HELD])
    out.update({
        "state": "waiting" if held else ("playing" if s[eng.PLAYING] else "stopped"),
        "playing": newest.clip.clip_id if newest is not None and newest.clip is not None else "",
        "queued": pending.clip_id if pending is not None else "",
        "queued_bar": (engine.grid.bar_of(float(s[eng.PENDING_BEAT]))
                       if not math.isnan(s[eng.PENDING_BEAT]) else 0),
        "beat": round(beat, 4) if beat is not None else 0.0,
        "bar": engine.grid.bar_of(beat) if beat is not None else 0,
        "beats_per_bar": float(s[eng.BEATS_PER_BAR]),
        "xruns": int(s[eng.XRUNS]), "late_callbacks": int(s[eng.LATE]), "callbacks": int(s[eng.CALLBACKS]),
        "launches": int(s[eng.LAUNCHES]), "last_launch_frame": int(s[eng.LAST_LAUNCH_FRAME]),
        "frame": int(s[eng.FRAME]),
        "device": {"name": info.name, "host_api": info.host_api, "sample_rate": info.sample_rate,
                   "buffer_frames": info.buffer_frames, "latency_ms": round(info.latency_s * 1e3, 3)},
        "buffer_ms": round(info.buffer_frames / info.sample_rate * 1e3, 4),
        "callback": callback_figures(engine.times, int(s[eng.CALLBACKS])),
    })
    return out
