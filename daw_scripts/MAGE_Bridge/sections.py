"""Locators (Live's cue points) at the sections of a generated clip placed in the Arrangement.

The manifest's ``structure`` lists the clip's sections (``name``, ``start_s``, ``end_s`` in seconds of the clip);
each musical one (not the lead-in or lead-out) gets a locator named ``MAGE <name>`` (``MAGE verse 1``, ``MAGE
verse 2`` when a name comes back) at its first beat.

The Live Object Model has no call that adds a locator at a given time: ``Song.set_or_delete_cue()`` "Toggle[s]
cue point at current Arrangement playback position", ``CuePoint.time`` is read-only and ``CuePoint.name`` is
get/set. Live's own control surfaces move ``Song.current_song_time`` (ableton.v2 ``TransportComponent``) and call
``set_or_delete_cue()`` (``KeyLab_Essential``'s ``ArrangementComponent``), so this script does the same, from
Live's display tick (never from a listener), one step per tick and **only while the transport is stopped**:

1. remember the song position, then set ``current_song_time`` to the section's first beat;
2. on a later tick, once the position reads back as set (Live's documentation does not say whether that is at
   once or a tick later), toggle a locator there, unless ``is_cue_point_selected()`` says one is there already
   (toggling would delete it), and name the new one, in one undo step;
3. after the last section, put the song position back where it was.

The transport starting holds the work until it stops again; the song position moved by someone else between two
steps ends it, leaving the position where they put it. Either way the status bar says what was marked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

FRAMING = ("lead-in", "lead-out")
#: Two song positions (beats) closer than this are the same place.
SAME_BEAT = 1e-3
#: Ticks (~100 ms each) to wait for a set song position to read back before giving up.
SEEK_TICKS = 10


def section_marks(structure: object, start_beats: float, beat_bpm: float, clip_beats: float) -> list:
    """(name, beat) of each musical section of a manifest's ``structure`` whose first beat is in the clip.

    ``start_beats`` is where the clip's first frame is in the Arrangement, ``beat_bpm`` turns the clip's seconds
    into the set's beats (see ``TempoPlan``) and ``clip_beats`` is the clip's length in beats.
    """
    if not isinstance(structure, list):
        return []
    sections = []
    for s in structure:
        if not isinstance(s, dict):
            continue
        name, start_s = s.get("name"), s.get("start_s")
        if (not isinstance(name, str) or not name or name in FRAMING or isinstance(start_s, bool)
                or not isinstance(start_s, (int, float)) or not math.isfinite(start_s)):
            continue
        beat = float(start_s) * beat_bpm / 60.0
        if 0.0 <= beat < clip_beats - SAME_BEAT:
            sections.append((name, start_beats + beat))
    counts: dict = {}
    for name, _beat in sections:
        counts[name] = counts.get(name, 0) + 1
    seen: dict = {}
    marks = []
    for name, beat in sections:
        seen[name] = seen.get(name, 0) + 1
        marks.append((f"MAGE {name} {seen[name]}" if counts[name] > 1 else f"MAGE {name}", beat))
    return marks


class CueWriter:
    """Adds locators one step per tick (:meth:`tick`) while Live's transport is stopped."""

    def __init__(self, song: Callable, say: Callable, log: Callable) -> None:
        self._song = song       # the surface's song(): the set may be another one after a reload
        self._say = say
        self._log = log
        self._queue: list = []                 # (name, beat) still to mark
        self._home: float | None = None        # the song position to put back at the end
        self._seeking: float | None = None     # the beat set on the last tick, waiting to read back
        self._at: float | None = None          # the beat of the last locator made: the song position till the next
        self._restoring: float | None = None   # the position put back, until it reads back
        self._from = 0.0                       # the song position before the last seek
        self._seek_ticks = 0
        self._marked: list = []
        self._skipped: list = []
        self._told_waiting = False
        self._bar_beats = 4.0
        self._placed = ""

    @property
    def busy(self) -> bool:
        """True while the song position is (or may be) somewhere the user did not put it."""
        return self._home is not None or self._restoring is not None

    def add(self, marks: list, bar_beats: float, placed: str = "") -> str:
        """Queue locators; returns a note for the status bar. ``placed`` (what the status bar says of the clip
        they belong to) begins the status bar's word once they are made."""
        self._bar_beats = bar_beats
        self._placed = placed
        self._queue.extend(marks)
        if not marks or not self._song().is_playing:
            return ""
        self._told_waiting = True
        return f"{len(self._queue)} section locator(s) follow when the transport stops"

    def tick(self) -> None:
        song = self._song()
        if self._restoring is not None:
            self._seek_ticks += 1
            if abs(float(song.current_song_time) - self._restoring) <= SAME_BEAT or self._seek_ticks >= SEEK_TICKS:
                self._restoring = None
            return
        if not self._queue:
            return
        if song.is_playing:
            if self._home is not None:  # play was pressed between two steps: playback keeps the position
                self._seeking, self._home, self._at = None, None, None
            if not self._told_waiting:
                self._told_waiting = True
                self._say(f"{len(self._queue)} section locator(s) follow when the transport stops")
            return
        self._told_waiting = False
        if self._seeking is None:
            self._seek(song)
        else:
            self._mark(song)

    def _seek(self, song: Any) -> None:
        here = float(song.current_song_time)
        if self._home is None:
            self._home = here
        elif self._at is not None and abs(here - self._at) > SAME_BEAT:
            self._log(f"MAGE Bridge: section locators stopped: the song position was moved (at {here:.3f}, "
                      f"not {self._at:.3f})")
            self._finish(song, restore=False, why="the song position was moved")
            return
        self._seeking, self._seek_ticks, self._from = self._queue[0][1], 0, here
        song.current_song_time = self._seeking

    def _mark(self, song: Any) -> None:
        name, beat = self._queue[0]
        here = float(song.current_song_time)
        if abs(here - beat) > SAME_BEAT:
            self._seek_ticks += 1
            if abs(here - self._from) <= SAME_BEAT and self._seek_ticks < SEEK_TICKS:
                return  # not applied yet
            why = ("the song position was moved" if self._seek_ticks < SEEK_TICKS
                   else "Live did not move the song position")
            self._log(f"MAGE Bridge: section locators stopped: {why} (at {here:.3f}, not {beat:.3f})")
            self._finish(song, restore=False, why=why)
            return
        self._queue.pop(0)
        self._seeking, self._at = None, beat
        if song.is_cue_point_selected():
            self._skipped.append(name)  # a locator is there already: toggling would delete it
        else:
            self._toggle(song, name, beat)
        if not self._queue:
            self._finish(song, restore=True)

    def _toggle(self, song: Any, name: str, beat: float) -> None:
        """Toggle a locator at the song position and name it. Should the toggle have deleted one instead (Live
        said none was there), toggle again and give it its name back."""
        before = [(float(c.time), c.name) for c in song.cue_points]
        undo = hasattr(song, "begin_undo_step")
        if undo:
            song.begin_undo_step()
        try:
            song.set_or_delete_cue()
            after = list(song.cue_points)
            if len(after) < len(before):
                times = [float(c.time) for c in after]
                lost = [n for t, n in before if not _take(times, t)]
                song.set_or_delete_cue()
                times = [float(c.time) for c in after]
                back = [c for c in song.cue_points if not _take(times, float(c.time))]
                if back and lost:
                    back[0].name = lost[0]
                self._log(f"MAGE Bridge: toggling at beat {beat:.3f} deleted a locator; it was put back")
                self._skipped.append(name)
                return
            times = [t for t, _n in before]
            new = [c for c in after if not _take(times, float(c.time))]
            if new:
                new[0].name = name
                self._marked.append((name, float(new[0].time)))
            else:
                self._log(f"MAGE Bridge: no locator appeared at beat {beat:.3f} for {name}")
        finally:
            if undo:
                song.end_undo_step()

    def _finish(self, song: Any, *, restore: bool, why: str = "") -> None:
        home = self._home
        left = [name for name, _beat in self._queue]
        self._queue, self._home, self._seeking, self._at = [], None, None, None
        if restore and home is not None:
            self._restoring, self._seek_ticks = home, 0
            song.current_song_time = home
        parts = []
        if self._marked:
            parts.append("locators at " + ", ".join(
                f"{name} (bar {math.floor(beat / self._bar_beats + 1e-6) + 1})"
                for name, beat in self._marked))
        if self._skipped:
            parts.append("a locator was already at " + ", ".join(self._skipped))
        if left:
            parts.append(f"no locator for {', '.join(left)} ({why})")
        self._marked, self._skipped = [], []
        if parts:
            self._say("; ".join(([self._placed] if self._placed else []) + parts))
        self._placed = ""


def _take(times: list, t: float) -> bool:
    """Remove one time within SAME_BEAT of ``t`` from ``times``; False when there is none (a new locator)."""
    for i, u in enumerate(times):
        if abs(u - t) <= SAME_BEAT:
            del times[i]
            return True
    return False
