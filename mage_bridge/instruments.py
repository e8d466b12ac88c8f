"""Instrument vocabulary: names a prompt may use -> General MIDI programs.

The analyser recognises these names (and their aliases) in prompts; the
procedural generator renders them with the GM program given here. Programs are
0-based as in MIDI (0 = Acoustic Grand Piano). ``role`` says which stem an
instrument lands in and how the composer uses it.

An instrument General MIDI lacks plays on the nearest GM sound; its
``stand_in`` says which, and the composer writes that into the clip's notes
(the manifest's ``backend.notes``) so nobody mistakes a steel guitar for a
pedal steel. Percussion on the drum channel (tambourine, bodhran) has a
``drum_key``: the GM percussion key it plays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["keys", "pad", "lead", "guitar", "strings", "brass", "bass", "drums", "vocals", "pluck"]


@dataclass(frozen=True)
class Instrument:
    name: str
    program: int
    role: Role
    aliases: tuple[str, ...] = ()
    #: What plays it when GM has no such sound ("" when the program is the instrument itself).
    stand_in: str = ""
    #: GM percussion key (drum channel) for hand percussion; ``None`` for everything else.
    drum_key: int | None = None


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("piano", 0, "keys", ("grand piano", "acoustic piano", "keys")),
    Instrument("bright piano", 1, "keys", ("upright piano",)),
    Instrument("electric piano", 4, "keys", ("rhodes", "e-piano", "epiano", "wurlitzer", "wurli")),
    Instrument("harpsichord", 6, "keys", ()),
    Instrument("clavinet", 7, "keys", ("clav",)),
    Instrument("celesta", 8, "pluck", ()),
    Instrument("glockenspiel", 9, "pluck", ()),
    Instrument("music box", 10, "pluck", ()),
    Instrument("vibraphone", 11, "keys", ("vibes",)),
    Instrument("marimba", 12, "pluck", ()),
    Instrument("xylophone", 13, "pluck", ()),
    Instrument("tubular bells", 14, "pluck", ("bells", "chimes", "church bells")),
    Instrument("organ", 16, "keys", ("hammond", "b3", "drawbar organ")),
    Instrument("church organ", 19, "keys", ("pipe organ",)),
    Instrument("accordion", 21, "keys", ()),
    Instrument("bandoneon", 23, "keys", ("bandoneón", "concertina"), stand_in="GM 24 Tango Accordion"),
    Instrument("harmonica", 22, "lead", ()),
    Instrument("nylon guitar", 24, "guitar", ("classical guitar", "spanish guitar", "flamenco guitar")),
    Instrument("ukulele", 24, "guitar", ("uke",)),
    Instrument("acoustic guitar", 25, "guitar", ("steel guitar", "folk guitar")),
    Instrument("jazz guitar", 26, "guitar", ("hollow body guitar",)),
    Instrument("pedal steel", 26, "guitar", ("pedal steel guitar", "lap steel", "lap steel guitar",
                                             "hawaiian guitar"),
               stand_in="GM 27 Electric Guitar (jazz); GM has no pedal steel, no slides"),
    Instrument("clean guitar", 27, "guitar", ("electric guitar", "clean electric guitar")),
    Instrument("muted guitar", 28, "guitar", ("palm muted guitar",)),
    Instrument("overdriven guitar", 29, "guitar", ("crunch guitar",)),
    Instrument("distorted guitar", 30, "guitar", ("distortion guitar", "heavy guitar", "metal guitar")),
    Instrument("acoustic bass", 32, "bass", ("upright bass", "double bass", "standup bass")),
    Instrument("electric bass", 33, "bass", ("bass guitar", "fingered bass")),
    Instrument("picked bass", 34, "bass", ()),
    Instrument("fretless bass", 35, "bass", ()),
    Instrument("slap bass", 36, "bass", ()),
    Instrument("synth bass", 38, "bass", ("bass synth", "reese", "acid bass", "303")),
    Instrument("808", 38, "bass", ("808 bass", "sub bass", "808s")),
    Instrument("violin", 40, "strings", ("fiddle",)),
    Instrument("viola", 41, "strings", ()),
    Instrument("cello", 42, "strings", ()),
    Instrument("pizzicato strings", 45, "pluck", ("pizzicato",)),
    Instrument("harp", 46, "pluck", ()),
    Instrument("timpani", 47, "strings", ()),
    Instrument("strings", 48, "strings", ("string section", "string ensemble", "orchestra", "orchestral strings")),
    Instrument("choir", 52, "pad", ("choir aahs", "voices")),
    Instrument("trumpet", 56, "brass", ()),
    Instrument("trombone", 57, "brass", ()),
    Instrument("tuba", 58, "brass", ()),
    Instrument("french horn", 60, "brass", ("horn", "french horns")),
    Instrument("brass", 61, "brass", ("brass section", "horns", "horn section", "horn stabs", "brass stabs")),
    Instrument("saxophone", 65, "lead", ("sax", "alto sax", "tenor sax")),
    Instrument("oboe", 68, "lead", ()),
    Instrument("bassoon", 70, "lead", ()),
    Instrument("clarinet", 71, "lead", ()),
    Instrument("flute", 73, "lead", ()),
    Instrument("recorder", 74, "lead", ()),
    Instrument("pan flute", 75, "lead", ("panpipes",)),
    Instrument("ocarina", 79, "lead", ()),
    Instrument("synth lead", 81, "lead", ("lead synth", "saw lead", "square lead")),
    Instrument("synth pad", 89, "pad", ("pad", "warm pad", "pads")),
    Instrument("synth", 90, "pad", ("synths", "synthesizer", "polysynth", "analog synth")),
    Instrument("synth strings", 50, "strings", ("string synth", "string machine")),
    Instrument("sitar", 104, "pluck", ()),
    Instrument("banjo", 105, "pluck", ()),
    Instrument("shamisen", 106, "pluck", ()),
    Instrument("koto", 107, "pluck", ()),
    Instrument("kalimba", 108, "pluck", ("thumb piano", "mbira")),
    Instrument("bagpipes", 109, "lead", ("bagpipe",)),
    Instrument("steel drums", 114, "pluck", ("steelpan", "steel pan")),
    Instrument("drums", 0, "drums", ("drum kit", "beat", "percussion")),
    Instrument("brushes", 40, "drums", ("brush kit", "brushed drums", "brush drums", "brushed snare"),
               stand_in="GS drum kit 40 Brush (a SoundFont without it plays its standard kit)"),
    Instrument("tambourine", 0, "drums", ("tambo",), stand_in="GM percussion key 54 Tambourine", drum_key=54),
    Instrument("bodhran", 0, "drums", ("bodhrán", "frame drum"),
               stand_in="GM percussion 41 Low Floor Tom and 43 High Floor Tom (GM has no frame drum)", drum_key=41),
    Instrument("vocals", 52, "vocals", ("vocal", "voice", "singer", "singing")),
)

BY_NAME: dict[str, Instrument] = {i.name: i for i in INSTRUMENTS}


def lookup(name: str) -> Instrument:
    """The instrument called ``name`` (canonical name or alias)."""
    key = name.strip().lower()
    if key in BY_NAME:
        return BY_NAME[key]
    for inst in INSTRUMENTS:
        if key in inst.aliases:
            return inst
    raise KeyError(name)
