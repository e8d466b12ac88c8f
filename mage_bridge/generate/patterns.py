"""A clip's own drum groove: the style's fixed identity plus what a seed chooses around it.

A style is the part of a groove listeners name it by: four-on-the-floor's kick
on every beat, rock's snare on 2 and 4, trap's clap on 3 and its hat rolls, the
jazz ride's spang-a-lang. Everything else is a drummer's choice, and here the
seed makes it: which extra kicks (from the placements the style uses), which
ghost notes, how the hats move (8ths, 16ths, off-beats, a ride) and where they
open, which drum takes the backbeat, and a hand-percussion layer (a Euclidean
rhythm on a shaker, conga or cowbell; never the tambourine, which plays when a
prompt names it) for the fullest sections. Each clip also
gets an *answer* bar, a variation that closes its two-bar phrases, and ways of
its own through the form: the chorus on another cymbal figure with a few more
kicks and ghosts (the *lift*), a band's verse on the rim or with the hats moved
to the floor tom, a pre-chorus with the snare on every beat, and a build that
rolls on its own drum at its own speeds.

Above those choices the seed picks the clip's whole *feel* by its remainder
(:func:`feel_of`), as drummers of a style play it in other songs, so a retake
(the next seed) never plays the same one: rock's backbeat, four on the floor
or half time; trap's clap on 3 or its bounce (the clap on 2 and 4, the hats on
the off-beat); drum and bass's two-step or the Amen break; reggae's one drop,
rockers or steppers; jazz's spang-a-lang, brushes or a head's two-feel; latin's
bossa or samba. Every feel keeps the beat where the style's tempo is read.

Patterns are step strings as in :mod:`~mage_bridge.generate.grooves` (``X``
accent, ``x`` hit, ``o`` soft, ``g`` ghost, ``-`` rest), one step a 16th (an 8th
in the swung 8-step styles).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from mage_bridge.generate import grooves as g
from mage_bridge.generate.grooves import Hit
from mage_bridge.generate.metre import PPQ, Metre


@dataclass(frozen=True)
class Groove:
    """One clip's groove: its main bar, the answer bar that ends each two-bar phrase, its percussion layer."""

    style: str
    bar: tuple[Hit, ...]
    answer: tuple[Hit, ...]
    percussion: tuple[Hit, ...] = ()
    #: Trap only: the hat figure of each beat ("8", "16", "trip", "32"), re-rolled now and then per bar.
    trap_beats: tuple[str, ...] = field(default=())
    #: The cymbal part of the fullest sections (a chorus opens the hats or moves to the ride), when it differs.
    full_cymbals: tuple[Hit, ...] | None = None
    #: Beats a fill takes (1 or 2) and its notes per beat (2, 3 or 4): this drummer's way into a section.
    fill_beats: int = 1
    fill_rate: int = 4
    #: Hits the fullest sections add to the bar (the chorus kicks and ghosts more than its verse).
    lift: tuple[Hit, ...] = ()
    #: How this drummer builds into a drop: the rolled drum and its notes per beat in each third of the build.
    build_drum: int = g.SNARE
    build_rates: tuple[int, int, int] = (1, 2, 4)
    #: How the lighter sections (a verse) play: the ``groove``, its backbeat on the rim (``cross-stick``), or
    #: its hats moved to the floor tom (``toms``); the chorus plays the whole kit.
    verse_feel: str = "groove"
    #: A pre-chorus that lifts into the chorus with the snare on every beat (``quarters``), or the ``groove``.
    pre_feel: str = "groove"


@dataclass(frozen=True)
class _Spec:
    """What a 16-step style fixes and what it leaves to the seed."""

    kick: tuple[int, ...]
    kick_options: dict[int, float]
    kick_max: int
    backbeat: tuple[int, ...]
    backbeat_drums: tuple[tuple[int, ...], ...]
    ghosts: dict[int, float]
    hats: tuple[str, ...]
    percussion: tuple[int, ...] = ()
    ghost_drum: int = g.SNARE
    #: Layers every clip of the style plays as written (trap's side stick keeps the quarter pulse).
    fixed: tuple[tuple[int, str], ...] = ()
    #: Steps of which the kick takes exactly one (trap kicks on 2 or 4, which keeps its beat a quarter).
    kick_one_of: tuple[int, ...] = ()
    #: How hard the seed's kicks hit: as the downbeat ("X"), a step under it ("x") where slow swung
    #: grooves would otherwise read their 8ths as the beat, or soft ("o"): a house kick between the
    #: beats is a ghost under the four, or the 8ths read as the beat.
    kick_accent: str = "X"
    #: Whether the hats may accent the off-beat (disco, upbeat rock); slow swung grooves keep it on the beat,
    #: or their 8ths read as the beat.
    upbeat_hats: bool = True
    #: The whole-clip feels a drummer of the style plays (:func:`make_groove` takes one by the seed):
    #: ``backbeat`` (the spec as written), ``four`` (the kick on every beat under the backbeat with the hats
    #: on the off-beats, as disco-rock, dance-pop and reggae's steppers play it), ``halftime`` (one
    #: backbeat, on the bar's middle beat), and the feels of one style (:func:`_felt`): trap's ``bounce``,
    #: drum and bass's ``amen``, reggae's ``rockers``.
    feels: tuple[str, ...] = ("backbeat",)
    #: Trap only: the chances of each beat's hat figure (:data:`_TRAP_HATS`; see :func:`trap_hats`).
    trap_hat_p: tuple[float, ...] = (0.3, 0.15, 0.3, 0.1, 0.15, 0.0)
    #: How the ghost notes hit (:data:`_VELOCITY`); "" for the ghost drum's own (a snare's ghost, a rim's soft).
    ghost_accent: str = ""


_SPECS: dict[str, _Spec] = {
    "four_on_floor": _Spec((0, 4, 8, 12), {15: .3, 7: .15, 11: .1, 14: .1}, 1, (4, 12),
                           ((g.CLAP,), (g.CLAP, g.SNARE), (g.CLAP,), (g.E_SNARE,)), {15: .15, 10: .1, 7: .1},
                           ("offopen", "16", "off8", "offopen16", "8", "gallop", "skip", "offride"),
                           (g.MARACAS, g.HIGH_CONGA, g.COWBELL, g.CLAVES, g.SIDE_STICK, g.HIGH_BONGO),
                           kick_accent="o"),
    "trap": _Spec((0,), {3: .2, 6: .4, 7: .3, 10: .5, 11: .3, 12: .3, 13: .2, 14: .3}, 4, (8,),
                  ((g.CLAP,), (g.CLAP, g.SNARE)), {2: .2, 14: .3, 15: .3}, ("trap",),
                  ghost_drum=g.SIDE_STICK, fixed=((g.SIDE_STICK, "----o-------o---"),), kick_one_of=(4, 12),
                  feels=("backbeat", "bounce")),
    "boom_bap": _Spec((0,), {2: .15, 3: .2, 6: .35, 7: .2, 8: .5, 10: .45, 11: .25, 14: .2}, 3, (4, 12),
                      ((g.SNARE,), (g.SNARE, g.CLAP)), {2: .15, 7: .25, 9: .2, 13: .15, 15: .3},
                      ("8", "8", "16", "8pick", "gallop", "4"), (g.MARACAS, g.HIGH_BONGO), kick_accent="x",
                      upbeat_hats=False),
    "dnb": _Spec((0, 10), {2: .2, 3: .15, 7: .25, 11: .3, 13: .25}, 2, (4, 12), ((g.SNARE,),),
                 {2: .2, 7: .3, 9: .3, 14: .3, 15: .2}, ("8", "16", "ride8", "8pick", "off8", "ride4"),
                 (g.MARACAS, g.HIGH_BONGO), feels=("backbeat", "amen")),
    "breakbeat": _Spec((0,), {2: .4, 6: .3, 7: .2, 8: .35, 10: .5, 11: .3, 14: .2}, 3, (4, 12),
                       ((g.SNARE,),), {2: .2, 7: .4, 9: .4, 10: .2, 13: .3, 15: .4},
                       ("16", "8", "8pick", "16", "gallop", "skip", "offopen16"),
                       (g.COWBELL, g.HIGH_CONGA, g.MARACAS), feels=("backbeat", "four", "halftime")),
    "one_drop": _Spec((8,), {14: .15}, 1, (8,), ((g.SIDE_STICK,), (g.SIDE_STICK, g.SNARE)),
                      {2: .3, 6: .35, 10: .3, 12: .35, 14: .35, 15: .3}, ("8", "8pick", "gallop"),
                      (g.MARACAS, g.CLAVES, g.HIGH_BONGO), upbeat_hats=False,
                      ghost_drum=g.SIDE_STICK, feels=("backbeat", "rockers", "four")),
    "rock": _Spec((0,), {3: .2, 6: .4, 7: .25, 8: .5, 10: .5, 11: .25, 14: .35, 15: .15}, 3, (4, 12),
                  ((g.SNARE,),), {2: .1, 7: .15, 9: .1, 15: .2},
                  ("8", "8", "ride8", "4", "16", "8pick", "gallop", "ride4"),
                  (g.COWBELL, g.MARACAS), feels=("backbeat", "four", "halftime")),
    "halftime": _Spec((0,), {3: .2, 6: .2, 7: .4, 10: .4, 11: .3, 14: .3}, 3, (8,), ((g.SNARE,), (g.SNARE, g.CLAP)),
                      {2: .2, 14: .3, 15: .2}, ("8", "16", "8pick", "off8", "gallop", "skip"),
                      ghost_drum=g.SIDE_STICK,
                      fixed=((g.SIDE_STICK, "----o-------o---"),), feels=("backbeat", "four")),
    "ballad": _Spec((0,), {6: .15, 8: .6, 10: .3, 14: .15}, 2, (4, 12), ((g.SNARE,), (g.SIDE_STICK,)),
                    {7: .1, 15: .15}, ("8", "8", "16", "ride8", "ride4"), (g.MARACAS, g.HIGH_BONGO)),
}

#: The cymbals a hat figure plays (what a chorus's figure replaces).
CYMBALS = frozenset({g.CLOSED_HAT, g.PEDAL_HAT, g.OPEN_HAT, g.RIDE, g.RIDE_BELL})
#: Latin claves: son 3-2, son 2-3, rumba, bossa nova.
_CLAVES = ("x--x--x---x-x---", "--x-x---x--x--x-", "x--x---x--x-x---", "x--x--x---x--x--")
#: Trap's hat figures of one beat (:func:`trap_hats`): 8ths (twice, for their chance), 16ths, triplets,
#: a 32nd roll, and the bounce's off-beat (the "and" accented over a soft beat).
_TRAP_HATS = ("8", "8", "16", "trip", "32", "off")
_VELOCITY = {"X": 118, "x": 98, "o": 72, "s": 60, "g": 46}
#: Pulses of a Euclidean percussion figure over a 16-step bar: 5 or 7 spread evenly would pulse
#: against the beat (at 5 per bar, the tempo reads as the fifth of a bar).
_PULSES = (3, 4, 6, 8)


def make_groove(style: str, metre: Metre, rng: np.random.Generator, *, variant: int = 0) -> Groove:
    """The groove this clip plays in ``style`` (as :func:`~mage_bridge.generate.grooves.groove_style` maps it).

    ``variant`` (the clip's seed) picks the style's whole-clip feel by its remainder, so that neighbouring
    seeds - a retake is the next seed - never play the same feel.
    """
    if style == "none":
        return Groove(style, (), ())
    if style in _SPECS:
        return _sixteen(style, _felt(_SPECS[style], feel_of(style, variant)), rng)
    if style == "latin":
        return _latin(rng, feel_of(style, variant))
    if style == "swing_ride":
        return _swing_ride(rng, feel_of(style, variant))
    if style == "shuffle":
        return _shuffle(rng)
    return _other_metre(style, metre, rng)


def _hits(pattern: dict[int, str], step: int) -> tuple[Hit, ...]:
    return tuple(sorted((Hit(i * step, note, _VELOCITY[ch]) for note, grid in pattern.items()
                         for i, ch in enumerate(grid) if ch in _VELOCITY), key=lambda h: (h.tick, h.note)))


def _put(pattern: dict[int, str], note: int, step: int, ch: str) -> None:
    grid = list(pattern.get(note, "-" * 16))
    grid[step] = ch
    pattern[note] = "".join(grid)


def _chosen(rng: np.random.Generator, options: dict[int, float], most: int) -> list[int]:
    """Steps of ``options`` that the seed takes (each with its chance), at most ``most`` of them."""
    taken = [s for s, p in options.items() if rng.random() < p]
    rng.shuffle(taken)
    return taken[:most]


def _hat_figure(kind: str, rng: np.random.Generator, *, upbeat: bool = True) -> dict[int, str]:
    """A cymbal part of 16 steps: the figure ``kind``, its accents and pickups drawn from ``rng``.

    Figures: ``8``, ``16``, ``4`` (quarters), ``off8`` (the off-beat 8ths), ``offopen``
    (an open hat on every off-beat, ``offopen16`` with closed 16ths between), ``8pick``
    (8ths with a 16th pickup into some beats), ``gallop`` (one, and, a: ``x-xx``),
    ``skip`` (the two-step's e and and: ``-xx-``), ``ride8``, ``ride4`` (the ride on the
    beat, its bell on some off-beats) and ``offride`` (the ride on the off-beats over a
    pedal hat on the beat).
    """
    on_beat = rng.random() < 0.6 or not upbeat  # accents on the beat, else even or on the off-beat
    # 16ths between the 8ths ghosted, or (one drummer in two) played nearly evenly; slow swung grooves ghost
    # them, or their 8ths read as the beat
    between = "s" if upbeat and rng.random() < 0.5 else "g"
    if kind == "16":
        drops = {s for s in range(16) if s % 2 and rng.random() < 0.25}
        grid = "".join("-" if s in drops else ("o" if s % 4 == 0 and on_beat else between if s % 2 else "o")
                       for s in range(16))
        return {g.CLOSED_HAT: grid}
    if kind in ("offopen", "offopen16"):
        out = {g.OPEN_HAT: "--o---o---o---o-"}
        if kind == "offopen16":
            out[g.CLOSED_HAT] = "".join(between if s % 2 and rng.random() < 0.7 else "-" for s in range(16))
        return out
    if kind == "off8":
        return {g.CLOSED_HAT: "--o---o---o---o-" if on_beat else "--x---x---x---x-"}
    if kind == "4":
        return {g.CLOSED_HAT: "x---x---x---x---"}
    if kind == "gallop":
        return {g.CLOSED_HAT: "".join(("x" if on_beat else "o", "-", "o", between)[s % 4] for s in range(16))}
    if kind == "skip":
        return {g.CLOSED_HAT: "".join(("-", "s", "o", "-")[s % 4] for s in range(16)),
                g.PEDAL_HAT: "o---o---o---o---" if rng.random() < 0.5 else "----------------"}
    if kind == "ride4":
        bell = "".join("o" if s % 4 == 2 and rng.random() < 0.6 else "-" for s in range(16))
        return {g.RIDE: "x---x---x---x---", g.RIDE_BELL: bell}
    if kind == "offride":
        return {g.RIDE: "--o---o---o---o-", g.PEDAL_HAT: "o---o---o---o---"}
    if kind == "ride8":
        grid = "".join(("x" if s % 4 == 0 else "o") if s % 2 == 0 else "-" for s in range(16))
        out = {g.RIDE: grid}
        if rng.random() < 0.5:
            out[g.RIDE_BELL] = "".join("o" if s % 4 == 2 and rng.random() < 0.5 else "-" for s in range(16))
        return out
    # 8ths, accented on the beat or (disco, upbeat rock) on the off-beat
    accent = 0 if on_beat else 2
    grid = "".join(("x" if s % 4 == accent else "o") if s % 2 == 0 else "-" for s in range(16))
    if kind == "8pick":  # 8ths with a 16th pickup into some beats
        grid = "".join("g" if s % 4 == 3 and rng.random() < 0.5 else c for s, c in enumerate(grid))
    return {g.CLOSED_HAT: grid}


def _open_hats(pattern: dict[int, str], rng: np.random.Generator) -> None:
    """Open one or two of the off-beat 8ths the hat plays (the hat that sizzles into the next beat)."""
    if g.OPEN_HAT in pattern or g.CLOSED_HAT not in pattern:
        return
    played = [s for s in (2, 6, 10, 14) if pattern[g.CLOSED_HAT][s] != "-"]
    if not played or rng.random() < 0.35:
        return
    for step in rng.choice(played, size=min(len(played), int(rng.integers(1, 3))), replace=False):
        _put(pattern, g.OPEN_HAT, int(step), "x")
        _put(pattern, g.CLOSED_HAT, int(step), "-")


def _euclid(pulses: int, steps: int, rotate: int) -> list[int]:
    """Bjorklund's evenly spread ``pulses`` over ``steps`` (the tresillo is 3 over 8), rotated."""
    return sorted(((i * steps) // pulses + rotate) % steps for i in range(pulses))


def _percussion(choices: tuple[int, ...], rng: np.random.Generator, *, upbeat: bool = True) -> tuple[Hit, ...]:
    """A hand-percussion layer: a shaker in 16ths, or a Euclidean figure on one drum.

    The shaker accents the beat (an accented off-beat in the snare's band reads
    as a backbeat of twice the tempo). Where the style keeps its accents on the
    beat (``upbeat`` false: slow swung grooves, whose 8ths would otherwise read as
    the beat), the figure starts on the downbeat; elsewhere it may sit anywhere.
    """
    if not choices:
        return ()
    if g.MARACAS in choices and rng.random() < 0.3:
        return tuple(Hit(s * PPQ // 4, g.MARACAS, 76 if s % 4 == 0 else 56) for s in range(16))
    drum = int(choices[int(rng.integers(len(choices)))])
    pulses, rotate = int(rng.choice(_PULSES)), int(rng.integers(16))
    steps = _euclid(pulses, 16, rotate if upbeat else 0)
    return tuple(Hit(s * PPQ // 4, drum, 84 if s % 4 == 0 else 68) for s in steps)


#: The whole-clip feels of the styles written bar by bar rather than from a :class:`_Spec`: jazz's
#: ``four`` (spang-a-lang over a feathered four), ``brushes`` (the snare swept and tapped, no ride) and
#: ``two`` (the two-feel of a head: the ride and the kick on 1 and 3, the hat's chick on 2 and 4);
#: latin's ``bossa`` (the surdo kick, the clave on the rim) and ``samba`` (the surdo's accent on 2 and 4,
#: the hats' 16ths accented on each beat's last, a partido-alto rim).
_FEELS: dict[str, tuple[str, ...]] = {"swing_ride": ("four", "brushes", "two"), "latin": ("bossa", "samba")}


def feel_of(style: str, variant: int) -> str:
    """The whole-clip feel (:attr:`_Spec.feels`, :data:`_FEELS`) ``style`` plays at seed ``variant``; ``""``
    for a style without feels of its own (shuffle, the other metres)."""
    spec = _SPECS.get(style)
    feels = spec.feels if spec is not None else _FEELS.get(style, ("",))
    return feels[variant % len(feels)]


def _felt(spec: _Spec, feel: str) -> _Spec:
    """``spec`` played in ``feel`` (see :attr:`_Spec.feels`)."""
    if feel == "four":  # the kick on every beat; the seed adds at most one push between them
        return replace(spec, kick=(0, 4, 8, 12), kick_max=1, kick_accent="o",
                       hats=("off8", "offopen", "offopen16"))
    if feel == "halftime":  # the backbeat on 3 only; kicks around it, the hats keep the beat's 8ths
        return replace(spec, backbeat=(8,), kick_options={3: .2, 6: .3, 7: .3, 10: .4, 11: .3, 14: .3},
                       ghosts={2: .2, 6: .2, 14: .3, 15: .2}, hats=("8", "16", "8pick", "ride8"))
    if feel == "bounce":  # trap's clap on 2 and 4 over a kick that skips around it, the hats mostly in 8ths
        return replace(spec, backbeat=(4, 12), kick_one_of=(), kick_max=3,
                       kick_options={3: .3, 6: .4, 7: .3, 8: .5, 10: .5, 11: .3, 14: .4},
                       ghosts={7: .3, 10: .2, 15: .3}, trap_hat_p=(0.1, 0.1, 0.15, 0.0, 0.05, 0.6))
    if feel == "amen":  # drum and bass on the Amen break: kick 1 and its and, snare ghosts around 3 and into 1
        return replace(spec, kick=(0, 2, 10), kick_options={11: .6, 7: .15}, kick_max=1,
                       ghosts={7: .9, 9: .9, 15: .7, 14: .2}, ghost_accent="o", hats=("ride4", "4"))
    if feel == "rockers":  # reggae's rockers: the kick on 1 and 3 under the rim's 3, the hats on the beat
        return replace(spec, kick=(0, 8), kick_options={6: .15, 14: .15}, hats=("4",),
                       ghosts={3: .3, 11: .3, 15: .4})
    return spec


def _sixteen(style: str, spec: _Spec, rng: np.random.Generator) -> Groove:
    pattern: dict[int, str] = dict(spec.fixed)
    for s in spec.kick:
        _put(pattern, g.KICK, s, "X")
    options = {s: p for s, p in spec.kick_options.items() if s not in spec.kick}
    extra = _chosen(rng, options, spec.kick_max)
    if spec.kick_one_of:
        extra.append(int(spec.kick_one_of[int(rng.integers(len(spec.kick_one_of)))]))
    for s in extra:  # the seed's kicks are the groove's signature
        _put(pattern, g.KICK, s, spec.kick_accent)
    drums = spec.backbeat_drums[int(rng.integers(len(spec.backbeat_drums)))]
    for drum in drums:
        for s in spec.backbeat:
            _put(pattern, drum, s, "X" if drum in (g.CLAP, g.SNARE) and style == "trap" else "x")
    ghost = spec.ghost_accent or ("g" if spec.ghost_drum == g.SNARE else "o")
    for s in _chosen(rng, spec.ghosts, 3):
        if s not in spec.backbeat:
            _put(pattern, spec.ghost_drum, s, ghost)
    hats = spec.hats[int(rng.integers(len(spec.hats)))]
    trap_beats: tuple[str, ...] = ()
    if hats == "trap":
        trap_beats = tuple(str(k) for k in rng.choice(list(_TRAP_HATS), size=4, p=list(spec.trap_hat_p)))
    else:
        pattern.update(_hat_figure(hats, rng, upbeat=spec.upbeat_hats))
        _open_hats(pattern, rng)
    main = _hits(pattern, PPQ // 4)
    answer = dict(pattern)
    rest = [s for s in options if s not in extra and s not in spec.backbeat]
    if rest and rng.random() < 0.4:  # the answer bar kicks once more, as phrase ends do
        _put(answer, g.KICK, int(rest[int(rng.integers(len(rest)))]), "x")
    if rng.random() < 0.3:
        _put(answer, spec.ghost_drum, 15 if 15 not in spec.backbeat else 14, "o")
    perc = _percussion(spec.percussion, rng, upbeat=spec.upbeat_hats) if rng.random() < 0.9 else ()
    full: tuple[Hit, ...] | None = None
    others = [k for k in spec.hats if k != hats]
    if others and rng.random() < 0.7:  # the chorus opens up: another cymbal figure than the verse's
        figure = _hat_figure(others[int(rng.integers(len(others)))], rng, upbeat=spec.upbeat_hats)
        _open_hats(figure, rng)
        full = _hits(figure, PPQ // 4)
    lift: dict[int, str] = {}
    for s in _chosen(rng, {s: 0.5 for s in rest}, 2):  # and kicks and ghosts more than the verse
        _put(lift, g.KICK, s, "o")  # pushes under the groove's own kicks, which the bass doubles
    for s in _chosen(rng, {s: 0.4 for s in spec.ghosts if s not in spec.backbeat}, 2):
        if g.KICK not in lift or lift[g.KICK][s] == "-":
            _put(lift, spec.ghost_drum, s, ghost)
    fill_beats, fill_rate = _fill_shape(rng)
    build_drum, build_rates = _build_shape(rng)
    verse, pre = "groove", "groove"
    if g.SNARE in drums and spec.backbeat == (4, 12):  # a band's backbeat: the verse and pre have feels of their own
        verse = ("groove", "groove", "cross-stick", "toms")[int(rng.integers(4))]
        pre = "quarters" if rng.random() < 0.4 else "groove"
    if style == "rock" and full is not None and rng.random() < 0.3:  # a big chorus rides the crash
        full = tuple(sorted([h for h in full if h.note not in (g.CLOSED_HAT, g.OPEN_HAT, g.RIDE, g.RIDE_BELL)]
                            + [Hit(b * PPQ, g.CRASH, 84) for b in range(4)], key=lambda h: (h.tick, h.note)))
    return Groove(style, main, _hits(answer, PPQ // 4), perc, trap_beats, full, fill_beats, fill_rate,
                  _hits(lift, PPQ // 4), build_drum, build_rates, verse, pre)


def _build_shape(rng: np.random.Generator) -> tuple[int, tuple[int, int, int]]:
    """How this drummer builds into a drop: which drum rolls and how the roll speeds up.

    The kick stays on every beat through the build; the roll always speeds up
    into its last third, in 16ths, where the drop lands.
    """
    drum = (g.SNARE, g.SNARE, g.CLAP, g.E_SNARE)[int(rng.integers(4))]
    rates: tuple[int, int, int] = ((1, 2, 4), (2, 3, 4), (1, 2, 4), (1, 1, 4), (2, 2, 4))[int(rng.integers(5))]
    return drum, rates


def _fill_shape(rng: np.random.Generator) -> tuple[int, int]:
    """How this drummer fills: over one beat or two, in 8ths, triplets or 16ths."""
    beats = 2 if rng.random() < 0.35 else 1
    rate = int(rng.choice([2, 3, 4], p=[0.2, 0.2, 0.6])) if beats == 2 else int(rng.choice([3, 4], p=[0.3, 0.7]))
    return beats, rate


def _latin(rng: np.random.Generator, feel: str = "bossa") -> Groove:
    """Latin in ``feel`` (:data:`_FEELS`): the bossa's surdo kick (``X--o``: 1 and the a of 2, in each half)
    under the seed's clave on the rim or the claves and a shaker's 16ths, or the samba: the surdo's answer
    on 2 and 4 the loudest kick, the hats' 16ths accented on the last of each beat, a partido-alto figure
    on the rim and a low conga that closes the phrase."""
    if feel == "samba":
        pattern: dict[int, str] = {g.KICK: "o--xX--xo--xX--x"}
        pattern[g.CLOSED_HAT] = "".join(("g", "g" if rng.random() < 0.7 else "-", "o", "x")[s % 4] for s in range(16))
        partido = ("-x--x-x--x--x-x-", "x--x-x--x-x--x--", "--x--x-x--x--x-x")[int(rng.integers(3))]
        pattern[g.SIDE_STICK] = partido
        answer = dict(pattern)
        _put(answer, g.LOW_CONGA, int(rng.choice([13, 14, 15])), "x")
        perc = _percussion((g.COWBELL, g.HIGH_CONGA, g.MARACAS), rng)
        return Groove("latin", _hits(pattern, PPQ // 4), _hits(answer, PPQ // 4), perc)
    pattern = {g.KICK: "X--oX--oX--oX--o"}
    clave = _CLAVES[int(rng.integers(len(_CLAVES)))]
    pattern[g.CLAVES if rng.random() < 0.5 else g.SIDE_STICK] = clave
    shaker = "".join(("o" if s % 4 == 1 else "g") if rng.random() < 0.85 else "-" for s in range(16))
    pattern[g.MARACAS] = shaker
    answer = dict(pattern)
    _put(answer, g.LOW_CONGA, int(rng.choice([10, 14, 15])), "o")
    conga = _euclid(int(rng.choice(_PULSES)), 16, int(rng.integers(16)))
    perc = tuple(Hit(s * PPQ // 4, g.HIGH_CONGA if k % 2 else g.LOW_CONGA, 72) for k, s in enumerate(conga))
    return Groove("latin", _hits(pattern, PPQ // 4), _hits(answer, PPQ // 4), perc)


def _eight(rng: np.random.Generator, fixed: dict[int, str], options: dict[int, tuple[str, float]]) -> dict[int, str]:
    out = dict(fixed)
    for key, (grid, chance) in options.items():
        extra = "".join(c if c != "-" and rng.random() < chance else "-" for c in grid)
        base = out.get(key, "-" * 8)
        out[key] = "".join(b if b != "-" else e for b, e in zip(base, extra))
    return out


def _swing_ride(rng: np.random.Generator, feel: str = "four") -> Groove:
    """Jazz in ``feel`` (:data:`_FEELS`), swung.

    ``four``: spang-a-lang on the ride, the hat on 2 and 4 and the kick feathered on every beat; the seed's
    drummer comps on the snare's off-beats and may drop a bomb, in figures of their own that come back
    every bar. ``two``: a head's two-feel, the ride and the kick on 1 and 3 and the hat's chick on 2 and 4,
    the rim on 4 now and then. ``brushes``: no ride; the brushes tap 2 and 4 and their swung pickups on
    the snare and sweep it in 16ths between (the seed's strokes), the hat on 2 and 4 under them.
    """
    if feel == "two":
        fixed = {g.RIDE: ("X---X---", "X---X--g")[int(rng.integers(2))], g.PEDAL_HAT: "--o---o-",
                 g.KICK: "x---x---"}
        if rng.random() < 0.5:
            fixed[g.SIDE_STICK] = "------o-"
        answer = _eight(rng, fixed, {g.SNARE: ("-----g-o", 0.4), g.KICK: ("-------o", 0.4)})
        return Groove("swing_ride", _hits(fixed, PPQ // 2), _hits(answer, PPQ // 2), fill_beats=1, fill_rate=3)
    if feel == "brushes":  # in 16ths: the sweep's strokes around the taps on 2 and 4 and their swung pickups
        taps = {2: "o", 4: "x", 10: "o", 12: "x"}
        stir = "".join(taps.get(s, "g" if rng.random() < 0.7 else "-") for s in range(16))
        brush: dict[int, str] = {g.SNARE: stir, g.PEDAL_HAT: "----o-------o---", g.KICK: "g-------g-------"}
        answer = dict(brush)
        _put(answer, g.SNARE, 14, "o")
        return Groove("swing_ride", _hits(brush, PPQ // 4), _hits(answer, PPQ // 4), fill_beats=1, fill_rate=3)
    ride = ("x-xox-xo", "x-xox-x-", "x-x-x-xo")[int(rng.integers(3))]
    fixed = {g.RIDE: ride, g.PEDAL_HAT: "--o---o-", g.KICK: "g-g-g-g-"}
    comp = ["-"] * 8
    for step in rng.choice([1, 3, 5, 7], size=int(rng.integers(1, 3)), replace=False):
        comp[int(step)] = "o" if rng.random() < 0.5 else "g"
    fixed[g.SNARE] = "".join(comp)
    if rng.random() < 0.5:  # a kick bomb on the and of 4, into the next bar
        fixed[g.KICK] = "g-g-g-go"
    answer = _eight(rng, fixed, {g.SNARE: ("---g-o-o", 0.4), g.KICK: ("-------o", 0.4)})
    return Groove("swing_ride", _hits(fixed, PPQ // 2), _hits(answer, PPQ // 2), fill_beats=1, fill_rate=3)


def _shuffle(rng: np.random.Generator) -> Groove:
    cymbal = (g.CLOSED_HAT, g.RIDE)[int(rng.integers(2))]
    fixed = {g.KICK: "X---X---", g.SNARE: "--X---X-",
             cymbal: ("xoxoxoxo", "x-x-x-x-", "xoxoxox-", "oxoxoxox")[int(rng.integers(4))]}
    main = _eight(rng, fixed, {g.KICK: ("-x-x--xx", 0.4), g.SNARE: ("-o-o-o-o", 0.3)})
    answer = _eight(rng, main, {g.KICK: ("-------o", 0.5), g.SNARE: ("-----g-o", 0.4)})
    return Groove("shuffle", _hits(main, PPQ // 2), _hits(answer, PPQ // 2))


def _other_metre(style: str, metre: Metre, rng: np.random.Generator) -> Groove:
    """Waltz, 6/8, 12/8 and odd metres: the metre's beat, with the seed's cymbal, pickups and ghosts."""
    if style == "waltz" or not metre.compound:
        base = g.simple_metre_hits(metre)
    else:
        base = g.compound_metre_hits(metre, variant=int(rng.integers(g.COMPOUND_VARIANTS)))
    unit = metre.unit_ticks if metre.compound else metre.beat_ticks // 2
    units = metre.bar_ticks // unit
    per_beat = metre.beat_ticks // unit
    cymbal = g.RIDE if rng.random() < 0.4 else g.CLOSED_HAT
    figure = ("every", "off", "long-short")[int(rng.integers(3 if metre.compound else 2))]
    hats = [h for h in base if h.note == g.CLOSED_HAT]
    keep = {"every": lambda i: True, "off": lambda i: i % per_beat != 0,
            "long-short": lambda i: i % per_beat != 1}[figure]
    base = [h for h in base if h.note != g.CLOSED_HAT] + [
        Hit(h.tick, cymbal, h.velocity + 12 * (figure == "off")) for h in hats if keep(h.tick // unit)]
    taken = {h.tick for h in base if h.note in (g.KICK, g.SNARE)}
    extra: list[Hit] = []
    for i in range(1, units):
        tick = i * unit
        if tick in taken:
            continue
        roll = rng.random()
        if roll < 0.15:
            extra.append(Hit(tick, g.KICK, 88))
        elif roll < 0.3:
            extra.append(Hit(tick, g.SNARE, 60))
    main = tuple(sorted(list(base) + extra, key=lambda h: (h.tick, h.note)))
    last = metre.bar_ticks - unit
    answer = tuple(sorted([h for h in main if h.tick != last or h.note != g.CLOSED_HAT]
                          + [Hit(last, g.OPEN_HAT if rng.random() < 0.5 else g.SNARE, 70)],
                          key=lambda h: (h.tick, h.note)))
    return Groove(style, main, answer)


def trap_hats(beats: tuple[str, ...], rng: np.random.Generator) -> list[Hit]:
    """Trap hats of one bar: each beat's figure from the clip's ``beats`` (:data:`_TRAP_HATS`), one in ten
    re-rolled for the bar."""
    hits = []
    eighth = PPQ // 2
    for beat, kind in enumerate(beats):
        if rng.random() < 0.1:
            kind = str(rng.choice(["8", "16", "trip", "32"]))
        start = beat * PPQ
        hits.append(Hit(start, g.CLOSED_HAT, 56 if kind == "off" else 92))
        if kind == "8":
            hits.append(Hit(start + eighth, g.CLOSED_HAT, 56))
        elif kind == "16":
            hits += [Hit(start + k * PPQ // 4, g.CLOSED_HAT, 50 if k != 2 else 60) for k in range(1, 4)]
        elif kind == "off":
            hits.append(Hit(start + eighth, g.CLOSED_HAT, 96))
        elif kind == "trip":
            hits += [Hit(start + k * PPQ // 3, g.CLOSED_HAT, 54) for k in range(1, 3)]
        else:  # a 32nd roll on the second half of the beat, rising
            hits += [Hit(start + eighth + k * PPQ // 8, g.CLOSED_HAT, 44 + 6 * k) for k in range(4)]
    return hits
