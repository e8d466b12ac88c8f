"""Which sound source plays each part of a :class:`Score`: a SoundFont preset or a synthesis engine.

:func:`choose_sources` is the one place that decides, from the score's drum
style, the genre and each part's role and instrument:

* **drums, acoustic styles** (rock, shuffle, jazz, ballad, waltz, 6/8, latin,
  boom bap, reggae, funk and the like): a recorded kit, the AVL drum kits
  (``Black_Pearl_4_LV2.sf2``, ``Red_Zeppelin_4_LV2.sf2``). Both map the General
  MIDI kit keys 36–53, 55, 57 and 59 (kick, side stick, snares, toms, hats,
  crash, ride, ride bell, splash, crash 2, ride 2); key 35 (bass drum 2) plays
  their kick. Every other key (clap, tambourine, cowbell, congas, bongos,
  shakers, claves: the AVL kits hold other sounds there, or none) stays on the
  GM font's kit.
  Without the AVL fonts the GM kit plays everything, and the details say so.
  A brush kit named in the prompt stays on the GM font (the AVL kits have no
  brushes).
* **drums, electronic genres**: synthesised by
  :mod:`mage_bridge.generate.electronic`, ``tr808`` for trap, drill, phonk and
  reggaeton, ``tr909`` for house, techno, trance, garage, breakbeat, dubstep
  (drum and bass keeps a recorded kit: its breaks are recorded drums); keys
  the engine has no voice for (cymbals, hand percussion) stay on the GM kit.
  The genre's own drum style decides, not the groove a
  metre turned it into (trap in 3/4 still gets the 808).
* **bass**: the 808 part (``808``, ``sub bass``) is the ``sub808`` engine; any
  other bass plays its GM preset.
* **everything else**: the GM SoundFont's presets, except that with MuseScore
  General as the GM font, Warm Pad (89) and Synth Bass 1 (38) play FluidR3's
  presets where FluidR3 is installed (:data:`KEEP_ON_FLUIDR3`): over six seeds
  of the two drumless benchmark prompts (piano ballad, ambient) the measured
  tempo was right 8/12 times with MuseScore's, 10/12 with FluidR3's (pads'
  release shortened a third, as :mod:`~mage_bridge.generate.render` does),
  9/12 all FluidR3; MuseScore's Warm Pad also rings ~3 s after its note-off.

Each choice becomes a :class:`Layer` (parts + source) for the renderer and a
JSON-ready entry for the manifest.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mage_bridge.generate.score import Part, Score

#: GM drum keys the AVL kits play (35 is sent as their kick, 36).
AVL_KEYS = frozenset({35, *range(36, 54), 55, 57, 59})
#: Which AVL kit suits each acoustic drum style: the big rock kit or the rounder jazz/soul kit.
AVL_KIT_FOR_STYLE: dict[str, str] = {
    "rock": "red_zeppelin", "shuffle": "red_zeppelin", "halftime": "red_zeppelin", "dnb": "red_zeppelin",
    "breakbeat": "red_zeppelin", "four_on_floor": "black_pearl", "generic": "red_zeppelin",
    "swing_ride": "black_pearl", "ballad": "black_pearl", "waltz": "black_pearl", "six_eight": "black_pearl",
    "latin": "black_pearl", "boom_bap": "black_pearl", "one_drop": "black_pearl", "trap": "black_pearl",
}
#: The electronic drum engine a drum style gets when the genre does not say otherwise.
#: Drum and bass keeps a recorded kit: its breaks are recorded drums, and with the 909 (and FluidR3's synth bass)
#: the 174 BPM benchmark clip measured 69.6 BPM at seeds 0 and 1; with the AVL kit 173.9.
STYLE_ENGINES: dict[str, str] = {"trap": "tr808", "four_on_floor": "tr909", "halftime": "tr909"}
#: Genres that decide against their drum style's default: ``"avl"`` for a recorded kit, else an engine.
GENRE_DRUMS: dict[str, str] = {
    "disco": "avl", "cinematic": "avl",
    "uk garage": "tr909", "breakbeat": "tr909", "chiptune": "tr909", "reggaeton": "tr808",
}
#: Bass instruments (the part's name) that the ``sub808`` engine plays.
SUB_BASS_PARTS = frozenset({"808"})
#: GM programs that play FluidR3's preset when the GM font is MuseScore General (see the module docstring).
KEEP_ON_FLUIDR3: dict[int, str] = {
    38: "Synth Bass 1: FluidR3's kept (MuseScore General's blurs the beat of drumless clips)",
    89: "Warm Pad: FluidR3's kept (MuseScore General's rings ~3 s and blurs the beat of drumless clips)",
}
#: The GM brush kit: kept on the GM font when the prompt asks for it (the AVL kits have no brushes).
BRUSH_KIT = 40
#: The kit program each style gets by default (the composer's table); a different program was asked for.
_STYLE_KITS: dict[str, int] = {"ballad": BRUSH_KIT}


@dataclass(frozen=True)
class Layer:
    """Parts played by one source: a SoundFont (``soundfont`` set) or a synthesis ``engine``."""

    parts: tuple[Part, ...]
    soundfont: Path | None = None
    engine: str | None = None

    def __post_init__(self) -> None:
        if (self.soundfont is None) == (self.engine is None):
            raise ValueError(f"a layer has a soundfont or an engine, got {self.soundfont!r} and {self.engine!r}")


@dataclass(frozen=True)
class Soundfonts:
    """The SoundFonts installed: the General MIDI font and the recorded drum kits by name."""

    gm: Path
    drum_kits: dict[str, Path] = dataclasses.field(default_factory=dict)
    #: FluidR3, for the presets of :data:`KEEP_ON_FLUIDR3` when ``gm`` is MuseScore General.
    fluidr3: Path | None = None

    def font_for(self, program: int) -> tuple[Path, str | None]:
        """The GM font that plays melodic ``program``, and why when it is not :attr:`gm`."""
        if (self.fluidr3 is not None and program in KEEP_ON_FLUIDR3
                and self.gm.resolve().name.lower().startswith("musescore_general")):
            return self.fluidr3, KEEP_ON_FLUIDR3[program]
        return self.gm, None


@dataclass(frozen=True)
class Sources:
    """The layers of every stem, in render order, and the manifest's ``sources`` object."""

    layers: dict[str, tuple[Layer, ...]]
    details: dict[str, Any]


def base_style(style: str, genre: str = "") -> str:
    """The genre's own drum style (a trap clip in 3/4 plays a waltz groove but is still trap), else ``style``."""
    from mage_bridge import genres

    found = genres.find(genre) if genre.strip() else None
    return found.drum_style if found is not None and found.drum_style != "none" else style


def drum_choice(style: str, genre: str = "") -> str:
    """``"avl"`` (a recorded kit) or the engine name for drums of ``style`` (the score's) in ``genre``."""
    from mage_bridge import genres

    known = genres.find(genre) if genre.strip() else None
    choice = GENRE_DRUMS.get(known.name if known is not None else genre.strip().lower())
    if choice is not None:
        return choice
    return STYLE_ENGINES.get(base_style(style, genre), "avl")


def choose_sources(score: Score, soundfonts: Soundfonts, *, genre: str = "") -> Sources:
    """The source of every part of ``score``; ``genre`` is the analysis's (it refines the drum style)."""
    from mage_bridge.generate.electronic import ENGINES

    layers: dict[str, tuple[Layer, ...]] = {}
    details: dict[str, Any] = {}
    for stem, parts in score.stems().items():
        stem_layers: list[Layer] = []
        entries: list[dict[str, Any]] = []
        notes: list[str] = []
        for part in parts:
            if part.role == "drums":
                made = _drum_layers(part, score, soundfonts, genre, ENGINES, notes)
            elif part.role == "bass" and part.name in SUB_BASS_PARTS:
                made = [Layer((part,), engine="sub808")]
            else:
                font, why = soundfonts.font_for(part.program)
                made = [Layer((part,), soundfont=font)]
                if why:
                    notes.append(why)
            stem_layers += made
            entries += [_entry(layer) for layer in made]
        layers[stem] = tuple(_merge(stem_layers))
        details[stem] = _summary(entries, notes)
    return Sources(layers=layers, details=details)


def _drum_layers(part: Part, score: Score, fonts: Soundfonts, genre: str, engines: dict[str, frozenset[int]],
                 notes: list[str]) -> list[Layer]:
    choice = drum_choice(score.drum_style, genre)
    if choice != "avl":
        voiced = engines[choice]
        return _split(part, voiced, Layer(_keep(part, voiced), engine=choice), fonts.gm)
    style = base_style(score.drum_style, genre)
    if part.program == BRUSH_KIT and _STYLE_KITS.get(style) != BRUSH_KIT:
        notes.append("brushes asked for: the AVL kits have none; the GM brush kit plays")
        return [Layer((part,), soundfont=fonts.gm)]
    kit = AVL_KIT_FOR_STYLE.get(style, "red_zeppelin")
    path = fonts.drum_kits.get(kit) or next(iter(fonts.drum_kits.values()), None)
    if path is None:
        notes.append("AVL drum kits not installed (Debian: avldrums.lv2-soundfont); the GM kit plays")
        return [Layer((part,), soundfont=fonts.gm)]
    avl = _keep(part, AVL_KEYS)
    avl = tuple(dataclasses.replace(p, bank=0, program=0,
                                    notes=tuple(dataclasses.replace(n, pitch=36) if n.pitch == 35 else n
                                                for n in p.notes)) for p in avl)
    return _split(part, AVL_KEYS, Layer(avl, soundfont=path), fonts.gm)


def _keep(part: Part, keys: frozenset[int]) -> tuple[Part, ...]:
    kept = tuple(n for n in part.notes if n.pitch in keys)
    return (dataclasses.replace(part, notes=kept),) if kept else ()


def _split(part: Part, keys: frozenset[int], main: Layer, gm: Path) -> list[Layer]:
    """``main`` (the keys in ``keys``) and a GM-kit layer for the rest, each only when it has notes."""
    out = [main] if main.parts else []
    rest = tuple(n for n in part.notes if n.pitch not in keys)
    if rest:
        out.append(Layer((dataclasses.replace(part, notes=rest),), soundfont=gm))
    return out


def _merge(layers: list[Layer]) -> list[Layer]:
    """Layers on the same source joined into one (one synth per SoundFont and stem), first-seen order."""
    merged: dict[tuple[Path | None, str | None], list[Part]] = {}
    for layer in layers:
        merged.setdefault((layer.soundfont, layer.engine), []).extend(layer.parts)
    return [Layer(tuple(parts), soundfont=sf, engine=engine) for (sf, engine), parts in merged.items()]


def _entry(layer: Layer) -> dict[str, Any]:
    from mage_bridge.generate.fluidsynth import soundfont_name

    part = layer.parts[0]
    if layer.engine is not None or layer.soundfont is None:
        out: dict[str, Any] = {"source": "synth", "engine": layer.engine, "part": part.name}
    else:
        out = {"source": "soundfont", "soundfont": str(layer.soundfont),
               "soundfont_name": soundfont_name(layer.soundfont), "part": part.name,
               "preset": {"bank": part.bank, "program": part.program}}
    if part.role == "drums":
        out["keys"] = sorted({n.pitch for n in part.notes})
    return out


def _summary(entries: list[dict[str, Any]], notes: list[str]) -> dict[str, Any]:
    """A stem's entry: its first source, with the others under ``also`` and any fallback or exception under
    ``fallback``."""
    out = dict(entries[0])
    if len(entries) > 1:
        out["also"] = entries[1:]
    if notes:
        out["fallback"] = "; ".join(notes)
    return out
