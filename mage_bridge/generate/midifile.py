"""A composed :class:`~mage_bridge.generate.compose.Score` as Standard MIDI Files.

``parts.mid`` is a type-1 file with a conductor track (tempo, time signature, key, and a
marker at the first bar of each section, named as in the manifest's ``structure``) and one
track per part; every part is also written alone to ``midi/<part>.mid``, which is what a DAW
script drops on a track of its own. Tick 0 is frame 0 of the audio stems, so a MIDI item
placed where the audio goes lines up with it. Parts share one file, so each gets a channel of
its own (drums keep General MIDI's channel 10); the manifest records which.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mage_bridge.generate.compose import Part, Score
from mage_bridge.generate.metre import PPQ
from mage_bridge.music import key_name, key_signature_of

COMBINED_NAME = "parts.mid"
PARTS_DIR = "midi"
DRUM_CHANNEL = 9  # General MIDI's channel 10, counted from 0


def write_score_midi(score: Score, folder: Path) -> dict[str, Any]:
    """Write ``parts.mid`` and ``midi/<part>.mid`` into ``folder``; returns the manifest's ``midi`` entry."""
    import mido

    (folder / PARTS_DIR).mkdir(exist_ok=True)
    conductor = _conductor(score, mido)
    combined = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    combined.tracks.append(conductor)
    entries: list[dict[str, Any]] = []
    channels = _channels(score.parts)
    names: set[str] = set()
    for part, channel in zip(score.parts, channels):
        if not part.notes:
            continue
        track = _part_track(part, channel, _total_ticks(score), mido)
        combined.tracks.append(track)
        name = _unique(_file_stem(part.name), names)
        single = mido.MidiFile(type=1, ticks_per_beat=PPQ)
        single.tracks.extend([conductor, track])
        single.save(str(folder / PARTS_DIR / f"{name}.mid"))
        entries.append({"name": part.name, "stem": part.stem, "role": part.role, "channel": channel + 1,
                        "program": part.program, "notes": len(part.notes),
                        "file": f"{PARTS_DIR}/{name}.mid"})
    combined.save(str(folder / COMBINED_NAME))
    return {"file": COMBINED_NAME, "ppq": PPQ, "bpm": score.bpm,
            "time_signature": [score.metre.numerator, score.metre.denominator], "parts": entries}


def _conductor(score: Score, mido: Any) -> Any:
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name="conductor", time=0))
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(score.bpm), time=0))
    track.append(mido.MetaMessage("time_signature", numerator=score.metre.numerator,
                                  denominator=score.metre.denominator, time=0))
    # The signature that writes the clip's notes: G minor's for G minor ("Gm"), A minor's for D dorian.
    pc, mode = key_signature_of(score.tonic_pc, score.scale or score.mode)
    try:
        track.append(mido.MetaMessage("key_signature", key=key_name(pc, mode) + ("m" if mode == "minor" else ""),
                                      time=0))
    except ValueError:  # spellings mido does not know (e.g. "A#m"): the key is in the manifest anyway
        pass
    now = 0
    for section in score.sections:  # DAWs show these as markers at each section's first bar
        tick = section.start_bar * score.metre.bar_ticks
        track.append(mido.MetaMessage("marker", text=section.name, time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, _total_ticks(score) - now)))
    return track


def _total_ticks(score: Score) -> int:
    """The clip's length on the tick grid, so a MIDI item is as long as the audio."""
    return int(round(score.total_frames * score.bpm * PPQ / (60.0 * score.sample_rate)))


def _part_track(part: Part, channel: int, total_ticks: int, mido: Any) -> Any:
    """One part as absolute-time events (note-offs before controls before note-ons at a tick), then deltas."""
    events: list[tuple[int, int, Any]] = []
    for c in part.controls:
        events.append((c.tick, 1, mido.Message("control_change", channel=channel, control=c.control,
                                               value=c.value)))
    for n in part.notes:
        events.append((n.start, 2, mido.Message("note_on", channel=channel, note=n.pitch, velocity=n.velocity)))
        events.append((n.start + max(1, n.length), 0, mido.Message("note_off", channel=channel, note=n.pitch,
                                                                   velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=part.name, time=0))
    head = [mido.Message("control_change", channel=channel, control=7, value=part.volume),
            mido.Message("control_change", channel=channel, control=10, value=part.pan)]
    if channel != DRUM_CHANNEL:
        head.insert(0, mido.Message("program_change", channel=channel, program=part.program))
    track.extend(head)
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, total_ticks - now)))
    return track


def _channels(parts: tuple[Part, ...]) -> list[int]:
    """Drums on channel 10; every other part its own channel, skipping 10."""
    free = [c for c in range(16) if c != DRUM_CHANNEL]
    out = []
    for part in parts:
        out.append(DRUM_CHANNEL if part.channel == DRUM_CHANNEL else free.pop(0) if free else part.channel)
    return out


def _file_stem(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "part"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate
