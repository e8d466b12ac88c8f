"""The Live script's own Standard MIDI File reader (Live's Python has no mido), checked against mido."""

from __future__ import annotations

import importlib
import struct
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest

from tests.daw.fake_live.harness import Rig, live  # noqa: F401


@pytest.fixture
def smf(live: Rig) -> Any:
    return importlib.import_module("MAGE_Bridge.smf")


def track_chunk(body: bytes) -> bytes:
    return b"MTrk" + struct.pack(">I", len(body)) + body


def header(fmt: int = 0, ntracks: int = 1, division: int = 96) -> bytes:
    return b"MThd" + struct.pack(">IHHH", 6, fmt, ntracks, division)


def notes_of(midi: Any) -> list[tuple[int, float, float, int, int]]:
    return [(n.pitch, n.start, n.duration, n.velocity, n.channel) for n in midi.notes]


def test_random_parts_read_as_mido_wrote_them(smf: Any, tmp_path: Path, rng: np.random.Generator) -> None:
    ppq = 480
    want = []
    for channel in (0, 9):
        for _ in range(60):
            start = int(rng.integers(0, 32 * ppq))
            want.append((int(rng.integers(24, 100)), start, int(rng.integers(1, 2 * ppq)), int(rng.integers(1, 128)),
                         channel))
    events = []
    for pitch, start, length, velocity, channel in want:
        events.append((start, 1, mido.Message("note_on", note=pitch, velocity=velocity, channel=channel)))
        # half of the offs as Note On with velocity 0, as many files have them
        off = ("note_on", {"velocity": 0}) if pitch % 2 else ("note_off", {"velocity": 64})
        events.append((start + length, 0, mido.Message(off[0], note=pitch, channel=channel, **off[1])))
    events.sort(key=lambda e: (e[0], e[1]))
    track, now = mido.MidiTrack([mido.MetaMessage("track_name", name="bass")]), 0
    for tick, _order, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    path = tmp_path / "part.mid"
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(97)),
                                mido.MetaMessage("time_signature", numerator=6, denominator=8)])
    mido.MidiFile(type=1, ticks_per_beat=ppq, tracks=[conductor, track]).save(str(path))
    midi = smf.read(str(path))
    assert midi.ppq == ppq
    # Overlapping notes of one key pair first in, first out, as mido's own note pairing would.
    expected = []
    sounding: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for tick, _order, msg in events:
        key = (msg.channel, msg.note)
        if msg.type == "note_on" and msg.velocity > 0:
            sounding.setdefault(key, []).append((tick, msg.velocity))
        elif sounding.get(key):
            start, velocity = sounding[key].pop(0)
            expected.append((msg.note, start / ppq, (tick - start) / ppq, velocity, msg.channel))
    assert sorted(notes_of(midi)) == sorted(expected)
    assert [(n.start, n.pitch) for n in midi.notes] == sorted((n.start, n.pitch) for n in midi.notes)


def test_running_status_and_a_note_still_sounding_at_the_end(smf: Any) -> None:
    body = bytes([
        0x00, 0x90, 60, 100,   # note on C4
        0x00, 64, 90,          # running status: note on E4
        0x60, 60, 0,           # one beat later (96 ticks), running status, velocity 0: C4 off
        0x00, 0xFF, 0x01, 0x02, ord("h"), ord("i"),  # a text meta event cancels running status
        0x00, 0x91, 67, 80,    # G4 on channel 2
        0x81, 0x40, 0x80, 64, 0,  # 192 ticks later: E4 off (Note Off, status byte 0x80)
        0x60, 0xFF, 0x2F, 0x00,  # end of track 96 ticks later: G4 still sounding ends here
    ])
    midi = smf.parse(header() + track_chunk(body))
    assert notes_of(midi) == [(60, 0.0, 1.0, 100, 0), (64, 0.0, 3.0, 90, 0), (67, 1.0, 3.0, 80, 1)]
    assert midi.end == 4.0


@pytest.mark.parametrize(("data", "message"), [
    (b"RIFF....", "not a Standard MIDI File (no MThd header)"),
    (header(division=0xE728) + track_chunk(b"\x00\xff\x2f\x00"), "SMPTE time division is not supported"),
    (header(fmt=2), "SMF format 2 is not supported (only 0 and 1)"),
    (header(ntracks=2) + track_chunk(b"\x00\xff\x2f\x00"), "the header announces 2 track(s), the file holds 1"),
    (header() + track_chunk(b"\x00\x40\x40"), "data byte 0x40 without a status byte"),
    (header() + b"MTrk\x00\x00\x01\x00\x00\x90", "runs past the end of the file"),
], ids=["not-midi", "smpte", "format-2", "missing-track", "no-status", "truncated"])
def test_what_it_cannot_read_is_said(smf: Any, data: bytes, message: str) -> None:
    with pytest.raises(smf.SmfError, match=message.replace("(", r"\(").replace(")", r"\)")):
        smf.parse(data)
