"""The arrangement document: a song as clips placed around a focus clip, as versioned JSON.

A song is the focus clip with an optional Intro before everything, any number of Previous clips
between the Intro and the focus, any number of Next clips after it and an optional Outro at the
end, each slot naming a clip by id. Between two neighbours is a junction: a crossfade
(``fade_s``, default 2 s) of a kind (``"equal-power"`` for unrelated material, ``"constant-gain"``
for beat-matched material, or ``"auto"`` to let the renderer choose). The song's tempo, metre and
key default to the focus clip's (``null``). Schema ``mage-bridge/arrangement@1``::

    {"schema": "mage-bridge/arrangement@1", "name": "night drive",
     "bpm": 124.0, "time_signature": [4, 4], "key": "A", "mode": "minor", "conform_key": false,
     "junction": {"fade_s": 2.0, "kind": "auto"},
     "slots": [{"role": "intro", "clip": "c01"}, {"role": "focus", "clip": "c02"},
               {"role": "next", "clip": "c03", "gain_db": -1.5, "junction": {"kind": "equal-power"}}]}

A slot may carry ``gain_db``, ``conform_tempo`` (``false`` plays it at its own tempo) and a
``junction`` that overrides the song's for its junction on the focus clip's side: the one after an
Intro or a Previous clip, the one before a Next clip or the Outro (the focus slot has none of its
own: its neighbours' settle both of its junctions). This module reads and
writes the document only (no numpy, nothing heavy): every check happens in :func:`parse`, which
names the field and the value it got.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mage_bridge.errors import InvalidInputError
from mage_bridge.music import pitch_class

SCHEMA = "mage-bridge/arrangement@1"
#: The slot roles in the order a song plays them.
ROLES: tuple[str, ...] = ("intro", "previous", "focus", "next", "outro")
#: Junction kinds: ``auto`` lets the renderer choose between the other two.
FADE_KINDS: tuple[str, ...] = ("equal-power", "constant-gain")
AUTO = "auto"
DEFAULT_FADE_S = 2.0
MIN_FADE_S, MAX_FADE_S = 0.01, 30.0
MIN_BPM, MAX_BPM = 40.0, 240.0
MAX_SLOTS = 32
MAX_GAIN_DB = 24.0
MAX_NAME_CHARS = 200
#: Largest document read (bytes of JSON): a song of :data:`MAX_SLOTS` slots is a few KiB.
MAX_DOCUMENT_BYTES = 256 * 1024
#: A clip id or a song id: what a folder or a library may use as a name, never a path.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_id(what: str, value: object) -> str:
    """A clip or song id: 1–128 of ``A-Z a-z 0-9 . _ -``, starting with a letter or digit, no ``..``.

    A non-negative int (a library row id) is accepted and written as its digits.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value) or ".." in value:
        shown = value[:60] if isinstance(value, str) else value
        raise InvalidInputError(f"{what} must be 1-128 of A-Z a-z 0-9 . _ - (starting with a letter or digit), "
                                f"got {shown!r}")
    return value


@dataclass(frozen=True)
class JunctionSettings:
    """A crossfade's length and kind; ``None`` fields fall back to the song's settings."""

    fade_s: float | None = None
    kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("fade_s", self.fade_s), ("kind", self.kind)) if v is not None}


@dataclass(frozen=True)
class Slot:
    """One place in the song: its role, the clip it plays, and how."""

    role: str
    clip: str
    gain_db: float = 0.0
    conform_tempo: bool = True
    #: Overrides the song's junction settings for this slot's crossfade on the focus clip's side.
    junction: JunctionSettings = field(default_factory=JunctionSettings)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "clip": self.clip}
        if self.gain_db:
            out["gain_db"] = self.gain_db
        if not self.conform_tempo:
            out["conform_tempo"] = False
        if self.junction.to_dict():
            out["junction"] = self.junction.to_dict()
        return out


@dataclass(frozen=True)
class Arrangement:
    """A song: its slots in play order and its settings (``None``: the focus clip's)."""

    slots: tuple[Slot, ...]
    name: str = ""
    bpm: float | None = None
    time_signature: tuple[int, int] | None = None
    key: str | None = None
    mode: str | None = None
    conform_key: bool = False
    junction: JunctionSettings = field(default_factory=lambda: JunctionSettings(DEFAULT_FADE_S, AUTO))

    @property
    def focus(self) -> Slot:
        return next(s for s in self.slots if s.role == "focus")

    def labels(self) -> list[str]:
        """Each slot's name in messages: ``intro``, ``previous 1``, ``focus``, ``next 2``, ``outro``."""
        counts: dict[str, int] = {}
        labels = []
        for slot in self.slots:
            counts[slot.role] = counts.get(slot.role, 0) + 1
            labels.append(f"{slot.role} {counts[slot.role]}" if slot.role in ("previous", "next") else slot.role)
        return labels

    def junction_at(self, index: int) -> JunctionSettings:
        """The settings of the junction between slots ``index - 1`` and ``index``: those of whichever of the
        two lies further from the focus (it faces the focus across this junction), over the song's."""
        before = self.slots[index - 1]
        own = before.junction if before.role in ("intro", "previous") else self.slots[index].junction
        return JunctionSettings(own.fade_s if own.fade_s is not None else self.junction.fade_s,
                                own.kind if own.kind is not None else self.junction.kind)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "name": self.name, "bpm": self.bpm,
                "time_signature": list(self.time_signature) if self.time_signature else None,
                "key": self.key, "mode": self.mode, "conform_key": self.conform_key,
                "junction": self.junction.to_dict(), "slots": [s.to_dict() for s in self.slots]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def with_slot(self, role: str, clip: str, *, replace_existing: bool = False, **settings: Any) -> Arrangement:
        """A copy with a clip added in ``role``: a Previous goes first of the Previous clips (furthest from
        the focus), a Next last of the Next clips; an Intro or Outro is refused where there is one,
        unless ``replace_existing``. ``settings`` are :class:`Slot` fields."""
        if role not in ROLES or role == "focus":
            raise InvalidInputError(f"role must be one of intro, previous, next, outro, got {role!r}")
        slot = _slot({"role": role, "clip": clip, **{k: v for k, v in settings.items() if v is not None}}, "new slot")
        slots = list(self.slots)
        if role in ("intro", "outro"):
            existing = [i for i, s in enumerate(slots) if s.role == role]
            if existing and not replace_existing:
                raise InvalidInputError(f"the song already has an {role} (clip {slots[existing[0]].clip!r}); "
                                        "replace it explicitly (--replace)")
            if existing:
                slots[existing[0]] = slot
            else:
                slots.insert(0 if role == "intro" else len(slots), slot)
        elif role == "previous":
            slots.insert(1 if slots[0].role == "intro" else 0, slot)
        else:
            slots.insert(len(slots) - (1 if slots[-1].role == "outro" else 0), slot)
        return _checked(replace(self, slots=tuple(slots)))


def new(focus_clip: str, *, name: str = "", bpm: float | None = None, time_signature: Sequence[int] | str | None = None,
        key: str | None = None, mode: str | None = None, conform_key: bool = False,
        fade_s: float = DEFAULT_FADE_S, fade_kind: str = AUTO) -> Arrangement:
    """A song of one clip, the focus, with its settings checked; ``key`` may be ``"A minor"``."""
    key, mode = split_key(key, mode)
    return parse({"schema": SCHEMA, "name": name, "bpm": bpm, "time_signature": time_signature, "key": key,
                  "mode": mode, "conform_key": conform_key, "junction": {"fade_s": fade_s, "kind": fade_kind},
                  "slots": [{"role": "focus", "clip": focus_clip}]})


def split_key(key: str | None, mode: str | None = None) -> tuple[str | None, str | None]:
    """``"A minor"`` -> ``("A", "minor")``; ``("A", "minor")`` as given; ``(None, None)`` for neither."""
    if key is not None and mode is None and isinstance(key, str) and " " in key.strip():
        key, _, mode = key.strip().partition(" ")
        mode = mode.strip().lower()
    return key, mode


def loads(text: str | bytes, *, where: str = "the arrangement") -> Arrangement:
    """Parse a JSON document; a broken one is an :class:`InvalidInputError` saying where it breaks."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise InvalidInputError(f"{where} is {len(text)} bytes; an arrangement may hold at most "
                                f"{MAX_DOCUMENT_BYTES} bytes")
    try:
        data = json.loads(text)
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"{where} is not UTF-8 text: {e.reason}") from None
    except (ValueError, RecursionError) as e:
        raise InvalidInputError(f"{where} is not valid JSON: {e}") from None
    return parse(data, where=where)


def parse(data: object, *, where: str = "the arrangement") -> Arrangement:
    """An :class:`Arrangement` from the document's dict, every field checked."""
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{where} must be a JSON object, got {type(data).__name__}")
    schema = data.get("schema")
    if schema != SCHEMA:
        raise InvalidInputError(f"{where} has schema {schema!r}; this version reads {SCHEMA!r}")
    _only(data, ("schema", "name", "bpm", "time_signature", "key", "mode", "conform_key", "junction", "slots"), where)
    slots = data.get("slots")
    if not isinstance(slots, list) or not slots:
        raise InvalidInputError(f"{where}: slots must be a non-empty list, got {slots!r}"[:300])
    if len(slots) > MAX_SLOTS:
        raise InvalidInputError(f"{where}: at most {MAX_SLOTS} slots, got {len(slots)}")
    name = data.get("name") or ""
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS:
        raise InvalidInputError(f"{where}: name must be text of at most {MAX_NAME_CHARS} characters")
    key, mode = data.get("key"), data.get("mode")
    if key is not None:
        if not isinstance(key, str):
            raise InvalidInputError(f"{where}: key must be a note name such as 'A' or 'F#', got {key!r}")
        pitch_class(key)
    if mode is not None and mode not in ("major", "minor"):
        raise InvalidInputError(f"{where}: mode must be 'major' or 'minor', got {mode!r}")
    if (key is None) != (mode is None):
        raise InvalidInputError(f"{where}: give key and mode together (or neither: the focus clip's), "
                                f"got key={key!r}, mode={mode!r}")
    conform_key = data.get("conform_key", False)
    if not isinstance(conform_key, bool):
        raise InvalidInputError(f"{where}: conform_key must be true or false, got {conform_key!r}")
    junction = _junction(data.get("junction") or {}, f"{where}: junction")
    song = Arrangement(
        slots=tuple(_slot(s, f"{where}: slot {i + 1}") for i, s in enumerate(slots)), name=name,
        bpm=None if data.get("bpm") is None else _number(data["bpm"], f"{where}: bpm", MIN_BPM, MAX_BPM),
        time_signature=None if data.get("time_signature") is None else
        parse_time_signature(data["time_signature"], f"{where}: time_signature"),
        key=key, mode=mode, conform_key=conform_key,
        junction=JunctionSettings(DEFAULT_FADE_S if junction.fade_s is None else junction.fade_s,
                                  junction.kind or AUTO),
    )
    return _checked(song, where)


def parse_time_signature(value: object, what: str = "time_signature") -> tuple[int, int]:
    """``[6, 8]``, ``(6, 8)`` or ``"6/8"`` as ``(6, 8)``: 1-16 beats of a 2nd, 4th, 8th or 16th."""
    parts = value.split("/", 1) if isinstance(value, str) else value
    num = den = 0
    if isinstance(parts, (list, tuple)) and len(parts) == 2:
        try:
            num, den = int(parts[0]), int(parts[1])
        except (TypeError, ValueError):
            num = den = 0
    if not 1 <= num <= 16 or den not in (2, 4, 8, 16):
        raise InvalidInputError(f"{what} must look like '6/8' or [6, 8] (1-16 over 2, 4, 8 or 16), got {value!r}")
    return num, den


def _checked(song: Arrangement, where: str = "the arrangement") -> Arrangement:
    """The roles in play order: at most one intro first, previous clips, exactly one focus, next clips,
    at most one outro last."""
    roles = [s.role for s in song.slots]
    if roles.count("focus") != 1:
        raise InvalidInputError(f"{where} must have exactly one focus slot, got {roles.count('focus')}")
    if song.focus.junction.to_dict():
        raise InvalidInputError(f"{where}: the focus slot takes no junction of its own; set it on the slot "
                                "before or after it (or the song's)")
    for once in ("intro", "outro"):
        if roles.count(once) > 1:
            raise InvalidInputError(f"{where} may have one {once}, got {roles.count(once)}")
    order = [ROLES.index(r) for r in roles]
    if order != sorted(order):
        raise InvalidInputError(f"{where}: slots must play intro, previous..., focus, next..., outro; "
                                f"got {', '.join(roles)}")
    return song


def _slot(value: object, where: str) -> Slot:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where} must be an object with role and clip, got {value!r}"[:300])
    _only(value, ("role", "clip", "gain_db", "conform_tempo", "junction"), where)
    role = value.get("role")
    if role not in ROLES:
        raise InvalidInputError(f"{where}: role must be one of {', '.join(ROLES)}, got {role!r}")
    conform_tempo = value.get("conform_tempo", True)
    if not isinstance(conform_tempo, bool):
        raise InvalidInputError(f"{where}: conform_tempo must be true or false, got {conform_tempo!r}")
    return Slot(role=role, clip=check_id(f"{where}: clip", value.get("clip")),
                gain_db=_number(value.get("gain_db", 0.0), f"{where}: gain_db", -MAX_GAIN_DB, MAX_GAIN_DB),
                conform_tempo=conform_tempo, junction=_junction(value.get("junction") or {}, f"{where}: junction"))


def _junction(value: object, where: str) -> JunctionSettings:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where} must be an object with fade_s and kind, got {value!r}"[:300])
    _only(value, ("fade_s", "kind"), where)
    fade_s = value.get("fade_s")
    kind = value.get("kind")
    if kind is not None and kind not in (AUTO, *FADE_KINDS):
        raise InvalidInputError(f"{where}: kind must be one of {AUTO}, {', '.join(FADE_KINDS)}, got {kind!r}")
    return JunctionSettings(None if fade_s is None else _number(fade_s, f"{where}: fade_s", MIN_FADE_S, MAX_FADE_S),
                            kind)


def _number(value: object, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise InvalidInputError(f"{what} must be a number from {low:g} to {high:g}, got {value!r}"[:300])
    return float(value)


def _only(data: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise InvalidInputError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(known)}"[:400])
