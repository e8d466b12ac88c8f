"""What a genre implies for the band: the drum style, the swing and the instruments of each stem.

A genre in the genre table says all of it; a genre the table does not know is
guessed from words in its name ("dark jazz" swings, "tech trance" is four on
the floor). The prompt's own instruments and exclusions come first, and a
prompt that names the whole ensemble (``exclusive``) gets nothing else: no
drums, no bass, no genre instruments unless named.
"""

from __future__ import annotations

from mage_bridge import genres, instruments
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.generate import grooves
from mage_bridge.generate.metre import Metre

#: When a genre is not in the table: a drum style guessed from words in its name.
_STYLE_WORDS: tuple[tuple[str, str], ...] = (
    ("trap", "trap"), ("drill", "trap"), ("drum and bass", "dnb"), ("dnb", "dnb"), ("jungle", "dnb"),
    ("dubstep", "halftime"), ("reggae", "one_drop"), ("dub", "one_drop"), ("ska", "one_drop"), ("jazz", "swing_ride"),
    ("swing", "swing_ride"), ("bebop", "swing_ride"), ("blues", "shuffle"), ("waltz", "waltz"),
    ("boom bap", "boom_bap"), ("hip hop", "boom_bap"), ("lofi", "boom_bap"), ("lo-fi", "boom_bap"),
    ("house", "four_on_floor"), ("techno", "four_on_floor"), ("trance", "four_on_floor"),
    ("disco", "four_on_floor"), ("edm", "four_on_floor"),
    ("latin", "latin"), ("bossa", "latin"), ("salsa", "latin"), ("samba", "latin"),
    ("ballad", "ballad"), ("soul", "ballad"), ("r&b", "ballad"), ("breakbeat", "breakbeat"),
    ("funk", "breakbeat"), ("ambient", "none"), ("drone", "none"), ("classical", "none"),
)
#: Bass and ``other`` instruments per drum style, for genres the table does not know.
_STYLE_BAND: dict[str, tuple[str, tuple[str, ...]]] = {
    "four_on_floor": ("synth bass", ("synth pad", "electric piano")),
    "trap": ("808", ("piano", "synth pad")),
    "boom_bap": ("acoustic bass", ("electric piano", "strings")),
    "dnb": ("synth bass", ("synth pad", "electric piano")),
    "breakbeat": ("electric bass", ("clavinet", "synth pad")),
    "one_drop": ("electric bass", ("organ", "clean guitar")),
    "swing_ride": ("acoustic bass", ("piano", "saxophone")),
    "rock": ("picked bass", ("overdriven guitar", "organ")),
    "shuffle": ("electric bass", ("piano", "overdriven guitar")),
    "waltz": ("acoustic bass", ("piano", "strings")),
    "six_eight": ("acoustic bass", ("piano", "strings")),
    "halftime": ("synth bass", ("synth pad", "piano")),
    "latin": ("acoustic bass", ("nylon guitar", "piano")),
    "ballad": ("electric bass", ("piano", "strings")),
    "none": ("synth bass", ("synth pad", "celesta")),
}

_HARMONIC_ROLES = frozenset({"pad", "strings", "keys", "guitar"})
#: Driven guitars play power chords (no third): they do not state the mode on their own.
POWER_CHORD_PROGRAMS = frozenset({29, 30})


def drum_style_for(analysis: PromptAnalysis, genre: genres.Genre | None) -> str:
    """The genre's drum style ("none" when the prompt excludes drums or names a whole ensemble without them)."""
    if _excludes_drums(analysis) or (analysis.exclusive and not _names_kit(analysis)):
        return "none"
    if genre is not None:
        return genre.drum_style
    text = analysis.genre.lower()
    for word, style in _STYLE_WORDS:
        if word in text:
            return style
    return "rock"


def _is_kit(name: str) -> bool:
    """``name`` is a whole drum kit (drums, brushes), not hand percussion played beside one."""
    if name.strip().lower() in ("drums", "drum", "beat", "beats", "percussion", "drum kit"):
        return True
    try:
        inst = instruments.lookup(name)
    except KeyError:
        return False
    return inst.role == "drums" and inst.drum_key is None


def _excludes_drums(analysis: PromptAnalysis) -> bool:
    return any(_is_kit(name) for name in analysis.exclude_instruments)


def _names_kit(analysis: PromptAnalysis) -> bool:
    return any(_is_kit(name) for name in analysis.instruments)


def drum_kit(analysis: PromptAnalysis, style: str, notes_out: list[str]) -> tuple[int, list[instruments.Instrument]]:
    """The kit program for ``style`` (brushes when asked) and the hand percussion named beside it.

    Hand percussion plays even when the kit does not ("just guitar and
    tambourine"); a stand-in GM sound is named in ``notes_out``.
    """
    kit = grooves.KITS.get(style, 0)
    extras: list[instruments.Instrument] = []
    excluded = {_canonical(n) for n in analysis.exclude_instruments}
    for name in analysis.instruments:
        try:
            inst = instruments.lookup(name)
        except KeyError:
            continue
        if inst.role != "drums" or inst.name in excluded:
            continue
        if inst.drum_key is not None and inst not in extras:
            extras.append(inst)
        elif inst.name != "drums" and style != "none":
            kit = inst.program
        else:
            continue
        if inst.stand_in:
            notes_out.append(f"{inst.name} plays as {inst.stand_in}")
    return kit, extras


def _canonical(name: str) -> str:
    try:
        return instruments.lookup(name).name
    except KeyError:
        return name.strip().lower()


def swing_for(analysis: PromptAnalysis, genre: genres.Genre | None, style: str, metre: Metre) -> float:
    """Swing from 0 to 1: the prompt's, else the genre's, else the drum style's; none in compound metres."""
    if metre.compound:
        return 0.0  # compound metres already carry their triplets
    if analysis.swing > 0 or analysis.sources.get("swing") in ("prompt", "option"):
        return float(min(max(analysis.swing, 0.0), 1.0))
    if genre is not None and genre.swing > 0:
        return float(genre.swing)
    return grooves.STYLE_SWING.get(style, 0.0)


def choose_instruments(analysis: PromptAnalysis, genre: genres.Genre | None, style: str,
                       notes_out: list[str]) -> tuple[instruments.Instrument | None,
                                                      list[instruments.Instrument]]:
    """Bass and ``other`` instruments: the prompt's first, then the genre's, 2-4 parts in ``other``.

    An exclusive prompt ("solo piano", "string quartet") gets exactly its named
    instruments: no bass unless named, nothing from the genre added. One that
    names nothing this backend plays (only a voice) falls back to the genre's band, with a note.
    """
    excluded = {_canonical(n) for n in analysis.exclude_instruments}
    excluded_roles = {r for r in ("bass",) if r in excluded}
    named: list[instruments.Instrument] = []
    for name in analysis.instruments:
        try:
            inst = instruments.lookup(name)
        except KeyError:
            notes_out.append(f"instrument {name!r} is not in the instrument table; left out")
            continue
        if inst.name not in excluded and named.count(inst) < max(1, analysis.instruments.count(name)):
            named.append(inst)
            if inst.stand_in and inst.role != "drums":
                notes_out.append(f"{inst.name} plays as {inst.stand_in}")
    if analysis.exclusive:
        bass = next((i for i in named if i.role == "bass"), None)
        other = [i for i in named if i.role not in ("bass", "drums", "vocals")]
        if bass is not None or other or _names_kit(analysis):
            if len(other) > 4:
                notes_out.append("the ensemble has more than four parts besides the bass; "
                                 + ", ".join(i.name for i in other[4:]) + " left out")
            return bass, other[:4]
        notes_out.append("the prompt names no instrument this backend plays; the genre's band plays instead")
    band_bass, band_other = _STYLE_BAND.get(style, _STYLE_BAND["rock"])
    genre_bass = genre.bass if genre else band_bass
    genre_other = genre.instruments if genre else band_other

    bass = next((i for i in named if i.role == "bass"), None)
    if bass is None and "bass" not in excluded_roles:
        bass = _lookup_or(genre_bass, "electric bass")
        if bass.name in excluded:
            bass = None
    other = [i for i in named if i.role not in ("bass", "drums", "vocals")][:4]
    for name in genre_other:
        if len(other) >= 3:
            break
        inst = _lookup_or(name, "piano")
        if inst.name not in excluded and inst not in other and inst.role not in ("bass", "drums", "vocals"):
            other.append(inst)
    if not any(i.role in _HARMONIC_ROLES and i.program not in POWER_CHORD_PROGRAMS for i in other):
        for fallback in ("synth pad", "piano", "strings"):
            inst = instruments.lookup(fallback)
            if inst.name not in excluded:
                other.append(inst)
                break
    return bass, other[:4]


def _lookup_or(name: str, fallback: str) -> instruments.Instrument:
    try:
        return instruments.lookup(name)
    except KeyError:
        return instruments.lookup(fallback)
