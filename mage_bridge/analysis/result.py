"""The result of prompt analysis: what the music should be."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mage_bridge.errors import InvalidInputError
from mage_bridge.genres import Mode


@dataclass(frozen=True)
class PromptAnalysis:
    """Everything a generator needs to know from the prompt.

    ``bpm`` is quarter-note BPM (the DAW convention) whatever the metre.
    ``key`` is the tonic spelled as in the prompt where given (``"F#"``,
    ``"Bb"``), else the genre's or analyser's choice. ``sources`` tells, per
    field, where the value came from: ``"prompt"`` (stated), ``"genre"``
    (a genre default), ``"embedding"`` (inferred from an indirect prompt),
    ``"mood"`` (mode implied by a mood word such as "sad"), ``"instruments"``
    (a genre implied by the band or the use when none is named: a film cue is
    cinematic, a solo cello classical), ``"lyrics"`` (vocals because lyrics were
    given) or ``"default"`` (nothing said anything). ``sources`` holds
    ``"duration_s"`` and ``"exclusive"`` only when the prompt states them.
    """

    prompt: str
    genre: str
    bpm: float
    key: str
    mode: Mode
    time_signature: tuple[int, int]
    genres: tuple[str, ...] = ()
    swing: float = 0.0
    mood: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    exclude_instruments: tuple[str, ...] = ()
    vocals: bool = False
    sources: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    backend: str = ""
    #: Groove feel stated in the prompt: ``"halftime"``, ``"doubletime"`` or ``""``.
    #: The BPM stays the grid tempo; only the drums' feel changes.
    feel: str = ""
    #: The scale by name: ``"major"``, ``"minor"`` (natural), or a church mode ``"dorian"``, ``"phrygian"``,
    #: ``"lydian"``, ``"mixolydian"``, ``"locrian"`` (see :data:`mage_bridge.music.SCALES`). ``mode`` stays the
    #: major/minor family a DAW's key field takes (dorian, phrygian, locrian: minor; lydian, mixolydian: major).
    #: ``""`` means the plain scale of ``mode``.
    scale: str = ""
    #: A length the prompt states ("a 45 second lo-fi beat"), in seconds; generators round it to whole bars.
    duration_s: float | None = None
    #: The prompt names the whole ensemble ("solo piano", "string quartet only", "just guitar and voice"):
    #: nothing beyond ``instruments`` plays, no drums or bass unless named.
    exclusive: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["time_signature"] = list(self.time_signature)
        for key in ("genres", "mood", "instruments", "exclude_instruments", "warnings"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PromptAnalysis:
        """The analysis :meth:`to_dict` wrote (a manifest's ``analysis``); keys it does not know are ignored.

        Raises :class:`InvalidInputError` naming what is missing or malformed.
        """
        if not isinstance(data, dict):
            raise InvalidInputError(f"an analysis must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        missing = [name for name in ("prompt", "genre", "bpm", "key", "mode", "time_signature") if name not in values]
        if missing:
            raise InvalidInputError(f"the analysis lacks {', '.join(missing)}")
        try:
            values["bpm"] = float(values["bpm"])
            num, den = values["time_signature"]
            values["time_signature"] = (int(num), int(den))
            for key in ("genres", "mood", "instruments", "exclude_instruments", "warnings"):
                if key in values:
                    values[key] = tuple(str(v) for v in values[key])
            values["sources"] = dict(values.get("sources") or {})
            if values.get("duration_s") is not None:
                values["duration_s"] = float(values["duration_s"])
        except (TypeError, ValueError) as e:
            raise InvalidInputError(f"the analysis is malformed: {e}") from None
        if values["mode"] not in ("major", "minor"):
            raise InvalidInputError(f"the analysis's mode must be 'major' or 'minor', got {values['mode']!r}")
        return cls(**values)
