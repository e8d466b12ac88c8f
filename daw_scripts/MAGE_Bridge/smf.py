"""A small Standard MIDI File reader in pure Python (Live's embedded Python has no mido).

``read(path)`` returns the file's notes in quarter notes from time 0 — what ``Clip.add_new_notes`` wants —
following the SMF 1.0 specification: header ``MThd`` (format 0 or 1; a division in ticks per quarter note),
track chunks ``MTrk`` of delta-time events with running status, meta events (``FF type len data``), SysEx
(``F0``/``F7 len data``); meta events and SysEx cancel running status. A note starts at Note On with
velocity > 0 and ends at the next Note Off (or Note On with velocity 0) of the same channel and key, first in
first out; a note still sounding at the end of its track ends there.
SMPTE divisions and format 2 files are refused with :class:`SmfError`. Tempo events are irrelevant here:
positions in quarter notes do not depend on the tempo.
"""

from __future__ import annotations

import struct

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_NOTES = 100000
# Data bytes after the status byte, per channel message kind (high nibble).
_DATA_BYTES = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}


class SmfError(ValueError):
    """A file that is not a Standard MIDI File this reader understands."""


class Note:
    """One note: ``pitch`` 0-127, ``start`` and ``duration`` in quarter notes, ``velocity`` 1-127, ``channel`` 0-15."""

    __slots__ = ("pitch", "start", "duration", "velocity", "channel")

    def __init__(self, pitch: int, start: float, duration: float, velocity: int, channel: int) -> None:
        self.pitch, self.start, self.duration, self.velocity, self.channel = pitch, start, duration, velocity, channel

    def __repr__(self) -> str:
        return "Note(%d, %g, %g, %d, ch %d)" % (self.pitch, self.start, self.duration, self.velocity, self.channel)


class MidiFile:
    """``ppq`` (ticks per quarter note), ``notes`` sorted by start then pitch, ``end`` (quarter notes)."""

    def __init__(self, ppq: int, notes: list, end: float) -> None:
        self.ppq, self.notes, self.end = ppq, notes, end


def _vlq(data: bytes, pos: int, end: int) -> tuple:
    value = 0
    for _ in range(4):
        if pos >= end:
            raise SmfError("file ends inside a variable-length number")
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos
    raise SmfError("variable-length number longer than 4 bytes at byte %d" % pos)


def _track(data: bytes, pos: int, end: int, ppq: int, notes: list) -> int:
    """Read one MTrk body; append its notes; return its last tick."""
    tick = 0
    status = 0
    sounding: dict = {}  # (channel, pitch) -> [(start_tick, velocity), ...] (first in, first out)
    while pos < end:
        delta, pos = _vlq(data, pos, end)
        tick += delta
        if pos >= end:
            raise SmfError("track ends inside an event")
        byte = data[pos]
        if byte == 0xFF:  # meta event
            if pos + 2 > end:
                raise SmfError("track ends inside a meta event")
            kind = data[pos + 1]
            length, pos = _vlq(data, pos + 2, end)
            pos += length
            status = 0
            if pos > end:
                raise SmfError("a meta event runs past the end of its track")
            if kind == 0x2F:  # End of Track
                break
            continue
        if byte in (0xF0, 0xF7):  # SysEx
            length, pos = _vlq(data, pos + 1, end)
            pos += length
            status = 0
            if pos > end:
                raise SmfError("a SysEx event runs past the end of its track")
            continue
        if byte & 0x80:
            status = byte
            pos += 1
        elif not status:
            raise SmfError("data byte 0x%02x without a status byte at byte %d" % (byte, pos))
        kind, channel = status & 0xF0, status & 0x0F
        if kind not in _DATA_BYTES:
            raise SmfError("unsupported status byte 0x%02x at byte %d" % (status, pos))
        size = _DATA_BYTES[kind]
        if pos + size > end:
            raise SmfError("track ends inside a channel message")
        key = data[pos]
        velocity = data[pos + 1] if size == 2 else 0
        pos += size
        if kind == 0x90 and velocity > 0:
            sounding.setdefault((channel, key), []).append((tick, velocity))
        elif kind in (0x80, 0x90):
            started = sounding.get((channel, key))
            if started:
                start, vel = started.pop(0)
                notes.append(Note(key, start / ppq, (tick - start) / ppq, vel, channel))
    for (channel, key), started in sounding.items():
        for start, vel in started:
            notes.append(Note(key, start / ppq, (tick - start) / ppq, vel, channel))
    if len(notes) > MAX_NOTES:
        raise SmfError("more than %d notes" % MAX_NOTES)
    return tick


def parse(data: bytes) -> MidiFile:
    """Parse the bytes of a Standard MIDI File."""
    if len(data) < 14 or data[:4] != b"MThd":
        raise SmfError("not a Standard MIDI File (no MThd header)")
    (length,) = struct.unpack(">I", data[4:8])
    if length < 6:
        raise SmfError("MThd chunk too short (%d bytes)" % length)
    fmt, ntracks, division = struct.unpack(">HHH", data[8:14])
    if fmt not in (0, 1):
        raise SmfError("SMF format %d is not supported (only 0 and 1)" % fmt)
    if division & 0x8000 or division == 0:
        raise SmfError("SMPTE time division is not supported (ticks per quarter note only)")
    ppq = division
    pos = 8 + length
    notes: list = []
    last_tick = 0
    seen = 0
    while pos + 8 <= len(data) and seen < ntracks:
        kind = data[pos:pos + 4]
        (size,) = struct.unpack(">I", data[pos + 4:pos + 8])
        body = pos + 8
        end = body + size
        if end > len(data):
            raise SmfError("chunk %r runs past the end of the file" % kind)
        if kind == b"MTrk":
            last_tick = max(last_tick, _track(data, body, end, ppq, notes))
            seen += 1
        pos = end  # unknown chunks are skipped, as the specification asks
    if seen < ntracks:
        raise SmfError("the header announces %d track(s), the file holds %d" % (ntracks, seen))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return MidiFile(ppq, notes, last_tick / ppq)


def read(path: str) -> MidiFile:
    """Read and parse ``path``."""
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SmfError("%s is larger than %d bytes" % (path, MAX_FILE_BYTES))
    return parse(data)
