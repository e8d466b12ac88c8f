"""The body's arrangement: named sections fitted to its bars, each saying what plays and how hard.

A listener hears form as change: the drums drop out or thin to hats, the bass
waits, the tune climbs for the chorus, everything lands together on the drop.
Each genre family has a form (pop and rock: intro, verse, pre, chorus; club
music: intro, build, drop, breakdown, drop; hip hop: intro, verse, hook; jazz:
head, solo, head; ambient: A and a swelling B; classical ensembles: A, B, A'),
written at its preferred length in bars. :func:`plan_sections` fits it to the
body: a long body repeats the form's core, a short one drops the sections that
matter least and shrinks the rest, so a three-bar clip still goes somewhere and
a one-bar clip is one section.

A :class:`SectionPlan` is what the part writers read for each body bar
(:meth:`~mage_bridge.generate.context.ClipContext.plan_of`): the drum level,
whether the bass and the tune play, how far the tune's register lifts, and a
velocity offset for every part.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mage_bridge.generate.score import Note

#: Drum levels, quietest first: nothing; cymbals and hand percussion only; kick and cymbals; the
#: groove without its open hats, ghost notes and percussion; a rising kick-and-snare build; everything.
DRUM_LEVELS = ("none", "hats", "kick", "light", "build", "full")


@dataclass(frozen=True)
class SectionPlan:
    """One body section: ``start`` and ``bars`` count body bars (0 = the first bar after the lead-in)."""

    name: str
    start: int
    bars: int
    #: One of :data:`DRUM_LEVELS`.
    drums: str = "full"
    bass: bool = True
    lead: bool = True
    #: Semitones the tune's register moves up (a chorus sings higher than its verse).
    lift: int = 0
    #: Added to every note's velocity in the section (quieter intros, a louder drop).
    velocity: int = 0

    @property
    def end(self) -> int:
        return self.start + self.bars


@dataclass(frozen=True)
class _Slot:
    """A section of a form at its preferred length; ``keep`` ranks what stays when bars run short."""

    plan: SectionPlan
    bars: int
    keep: int


def _slot(name: str, bars: int, keep: int, *, drums: str = "full", bass: bool = True, lead: bool = True,
          lift: int = 0, velocity: int = 0) -> _Slot:
    plan = SectionPlan(name, 0, bars, drums=drums, bass=bass, lead=lead, lift=lift, velocity=velocity)
    return _Slot(plan, bars, keep)


def _band() -> tuple[list[_Slot], list[_Slot]]:
    intro = _slot("intro", 2, 1, drums="hats", bass=False, lead=False, velocity=-12)
    verse = _slot("verse", 4, 4, drums="light", velocity=-6)
    pre = _slot("pre", 2, 2, drums="light", lift=2, velocity=-2)
    chorus = _slot("chorus", 4, 5, drums="full", lift=5, velocity=6)
    return [intro, verse, pre, chorus], [replace(verse, keep=3), replace(chorus, keep=3)]


def _club() -> tuple[list[_Slot], list[_Slot]]:
    intro = _slot("intro", 2, 2, drums="kick", bass=False, lead=False, velocity=-10)
    build = _slot("build", 2, 3, drums="build", bass=False, lead=False, velocity=-4)
    drop = _slot("drop", 4, 5, drums="full", lift=5, velocity=6)
    breakdown = _slot("breakdown", 2, 1, drums="hats", bass=False, velocity=-8)
    return [intro, build, drop, breakdown, replace(drop, keep=2)], [replace(build, keep=2), replace(drop, keep=2)]


def _hip_hop() -> tuple[list[_Slot], list[_Slot]]:
    intro = _slot("intro", 2, 2, drums="hats", bass=False, velocity=-10)
    verse = _slot("verse", 4, 4, drums="full", lead=False, velocity=-4)  # the beat rides under the verse
    hook = _slot("hook", 4, 5, drums="full", lift=5, velocity=6)
    return [intro, verse, hook], [replace(verse, keep=3), replace(hook, keep=3)]


def _jazz() -> tuple[list[_Slot], list[_Slot]]:
    head = _slot("head", 4, 4, drums="light", velocity=-4)
    solo = _slot("solo", 4, 5, drums="full", lift=5, velocity=6)
    return [head, solo, replace(head, keep=3)], [replace(solo, keep=2), replace(head, keep=2)]


def _swells() -> tuple[list[_Slot], list[_Slot]]:
    a = _slot("A", 4, 4, drums="hats", bass=False, lead=False, velocity=-14)
    b = _slot("B", 4, 5, drums="full", lift=5, velocity=6)
    return [a, b], [_slot("A", 4, 3, drums="light", bass=False, velocity=-8), replace(b, keep=2)]


def _ternary() -> tuple[list[_Slot], list[_Slot]]:
    a = _slot("A", 4, 4, drums="light", velocity=-6)
    b = _slot("B", 4, 5, drums="full", lift=5, velocity=6)
    return [a, b, _slot("A'", 4, 3, drums="light", velocity=-2)], []


#: Drum styles -> form family (the rest play the band form).
_FAMILY_OF_STYLE = {
    "four_on_floor": "club", "dnb": "club", "halftime": "club", "trap": "hip hop", "boom_bap": "hip hop",
    "swing_ride": "jazz",
}
_FORMS = {"band": _band, "club": _club, "hip hop": _hip_hop, "jazz": _jazz, "swells": _swells,
          "ternary": _ternary}
#: Genre words that make a drumless clip swell (A, B) rather than play a three-part form (A, B, A').
_SWELL_WORDS = ("ambient", "drone", "chill", "new age", "meditation", "cinematic", "film", "soundtrack", "lofi")


def form_family(base_style: str, genre_name: str) -> str:
    """The form a clip of ``base_style`` (the genre's drum style) and genre follows."""
    if base_style == "none":
        text = genre_name.lower()
        return "swells" if any(w in text for w in _SWELL_WORDS) else "ternary"
    return _FAMILY_OF_STYLE.get(base_style, "band")


def plan_sections(family: str, body_bars: int) -> tuple[SectionPlan, ...]:
    """The form of ``family`` fitted to exactly ``body_bars`` bars, in play order, covering all of them.

    The form plays at its preferred lengths, its core repeated while a whole
    repeat fits; bars left over go two at a time to the sections that matter most
    (the chorus, the drop). When the form does not fit at half its lengths, the sections that
    matter least drop out; what stays gets at least half its length and the bars
    left are handed out by rank. Two sections that still do not fit share the
    bars (the one that matters less takes the smaller half); one bar is one section.
    """
    if body_bars < 1:
        raise ValueError(f"body_bars must be at least 1, got {body_bars!r}")
    form, repeat = _FORMS[family]()
    slots = list(form)
    while repeat and sum(s.bars for s in slots) + sum(s.bars for s in repeat) <= body_bars:
        slots += repeat
    while len(slots) > 2 and sum(max(1, s.bars // 2) for s in slots) > body_bars:
        slots.remove(min(slots, key=lambda s: (s.keep, -slots.index(s))))
    if sum(s.bars for s in slots) <= body_bars:
        lengths = [s.bars for s in slots]
        growing = [i for i in range(len(slots)) if slots[i].keep >= 3] or list(range(len(slots)))
        while sum(lengths) < body_bars:  # two bars at a time to the sections that matter most
            for i in sorted(growing, key=lambda i: (-slots[i].keep, i)):
                lengths[i] += min(2, body_bars - sum(lengths))
    elif sum(max(1, s.bars // 2) for s in slots) <= body_bars:
        lengths = [max(1, s.bars // 2) for s in slots]
        for i in sorted(range(len(slots)), key=lambda i: (-slots[i].keep, i)):
            lengths[i] += min(slots[i].bars - lengths[i], body_bars - sum(lengths))
    elif body_bars >= 2:  # two sections left: the one that matters less gets the smaller half
        low = min(range(2), key=lambda i: slots[i].keep)
        lengths = [0, 0]
        lengths[low], lengths[1 - low] = body_bars // 2, body_bars - body_bars // 2
    else:
        slots, lengths = [max(slots, key=lambda s: s.keep)], [body_bars]
    out: list[SectionPlan] = []
    start = 0
    for slot, bars in zip(slots, lengths):
        out.append(replace(slot.plan, start=start, bars=bars))
        start += bars
    return tuple(out)


def with_dynamics(notes: tuple[Note, ...], plans: tuple[SectionPlan, ...], *, body_start: int,
                  bar_ticks: int) -> tuple[Note, ...]:
    """``notes`` with each section's velocity offset added to the notes that start in it (1..127).

    Notes before the body (the count-in, the swell) and after it (the final
    chord) keep their velocities: the lead-in and lead-out are the same in every
    clip. The body's last bar is not made louder either: what it strikes still
    rings when the lead-out starts, and the clip must fall silent before its end.
    """
    out = []
    last = max((p.end for p in plans), default=0) - 1
    for n in notes:
        bar = (n.start - body_start) // bar_ticks
        plan = next((p for p in plans if p.start <= bar < p.end), None) if n.start >= body_start else None
        if plan is None or plan.velocity == 0 or (bar == last and plan.velocity > 0):
            out.append(n)
        else:
            out.append(Note(n.start, n.length, n.pitch, min(127, max(1, n.velocity + plan.velocity))))
    return tuple(out)
