"""Mix settings per genre family: the table a mix engineer would keep for the procedural generator.

A :class:`MixPreset` holds one :class:`StemChain` per stem (amp-like drive,
EQ, compressor, level trim, reverb send, sidechain depth), the shared reverb
(:class:`ReverbSettings`), the bus glue (:class:`GlueSettings`) and the
peak-to-loudness ratio the bus limiter holds. :func:`preset_for` picks one by
genre name (:mod:`mage_bridge.genres`), else by the score's drum style
(:mod:`mage_bridge.generate.grooves`), else :data:`DEFAULT`.

Levels are relative where the stems' own level is unknown in advance: a
compressor threshold is in dB against the stem's gated RMS level, the glue
threshold against the sum's. Units are in every name.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Drive:
    """Amp-like saturation: a tightening high-pass, ``tanh`` drive, a cabinet-like low-pass.

    The stem is brought to a fixed RMS before the drive (so ``drive_db`` means the
    same on every render) and back to its own RMS after; ``wet`` blends the
    driven signal with the clean one.
    """

    drive_db: float
    highpass_hz: float = 90.0
    cab_lowpass_hz: float = 6500.0
    wet: float = 1.0


@dataclass(frozen=True)
class StemChain:
    """One stem's chain, in processing order: drive, EQ, compressor, trim, ducking, reverb send."""

    drive: Drive | None = None
    low_shelf_hz: float = 120.0
    low_shelf_db: float = 0.0
    high_shelf_hz: float = 8000.0
    high_shelf_db: float = 0.0
    #: Peaking bands as (centre Hz, gain dB, Q).
    peaks: tuple[tuple[float, float, float], ...] = ()
    #: Compressor threshold in dB against the stem's gated RMS level
    #: (:func:`~mage_bridge.generate.mixchain.gated_rms_db`); ``None``: no compressor.
    compressor_threshold_rms_db: float | None = None
    compressor_ratio: float = 2.0
    compressor_attack_ms: float = 10.0
    compressor_release_ms: float = 120.0
    compressor_makeup_db: float = 0.0
    trim_db: float = 0.0
    #: Level sent to the shared reverb (dB); ``None``: no send.
    reverb_send_db: float | None = None
    #: Sidechain depth (dB) at each kick; 0: not ducked.
    duck_db: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values (the manifest's ``backend.mix.chains``)."""
        out: dict[str, Any] = {}
        if self.drive is not None:
            out["drive"] = {"drive_db": self.drive.drive_db, "highpass_hz": self.drive.highpass_hz,
                            "cab_lowpass_hz": self.drive.cab_lowpass_hz, "wet": self.drive.wet}
        out["eq"] = {"low_shelf_hz": self.low_shelf_hz, "low_shelf_db": self.low_shelf_db,
                     "high_shelf_hz": self.high_shelf_hz, "high_shelf_db": self.high_shelf_db,
                     "peaks": [{"hz": hz, "gain_db": db, "q": q} for hz, db, q in self.peaks]}
        if self.compressor_threshold_rms_db is not None:
            out["compressor"] = {"threshold_rms_db": self.compressor_threshold_rms_db, "ratio": self.compressor_ratio,
                                 "attack_ms": self.compressor_attack_ms, "release_ms": self.compressor_release_ms,
                                 "makeup_db": self.compressor_makeup_db}
        out["trim_db"] = self.trim_db
        out["reverb_send_db"] = self.reverb_send_db
        out["duck_db"] = self.duck_db
        return out


@dataclass(frozen=True)
class ReverbSettings:
    """The one reverb every stem sends to (pedalboard's ``Reverb``, fully wet), its return high-passed."""

    room_size: float = 0.45
    damping: float = 0.5
    width: float = 0.7
    return_highpass_hz: float = 250.0


@dataclass(frozen=True)
class GlueSettings:
    """The bus compressor's gain computer, run on the sum and applied to every stem alike."""

    #: Threshold in dB against the sum's gated RMS level (:func:`~mage_bridge.generate.mixchain.gated_rms_db`).
    threshold_rms_db: float = -2.0
    ratio: float = 2.0
    attack_ms: float = 20.0
    release_ms: float = 200.0


@dataclass(frozen=True)
class MixPreset:
    """A genre family's mix: per-stem chains, the shared reverb, the bus glue and the bus limiter's PLR."""

    name: str
    stems: dict[str, StemChain] = field(default_factory=dict)
    reverb: ReverbSettings = ReverbSettings()
    glue: GlueSettings = GlueSettings()
    #: Peak-to-loudness ratio (dB) the bus limiter holds at most: its ceiling is target LUFS + this.
    max_plr_db: float = 12.0
    #: Release of the sidechain duck as a share of the median kick spacing (clamped to 60–300 ms).
    duck_release_share: float = 0.45

    def chain(self, stem: str) -> StemChain:
        """The chain for ``stem``; a stem the preset does not name gets the plain chain."""
        return self.stems.get(stem, StemChain())

    def to_dict(self) -> dict[str, Any]:
        return {
            "preset": self.name,
            "chains": {name: chain.to_dict() for name, chain in self.stems.items()},
            "reverb": {"room_size": self.reverb.room_size, "damping": self.reverb.damping,
                       "width": self.reverb.width, "return_highpass_hz": self.reverb.return_highpass_hz},
            "glue": {"threshold_rms_db": self.glue.threshold_rms_db, "ratio": self.glue.ratio,
                     "attack_ms": self.glue.attack_ms, "release_ms": self.glue.release_ms},
            "max_plr_db": self.max_plr_db,
        }


def _changed(base: MixPreset, name: str, *, reverb: dict[str, Any] | None = None, glue: dict[str, Any] | None = None,
             max_plr_db: float | None = None, **stems: dict[str, Any]) -> MixPreset:
    """``base`` with some stem settings, reverb or glue fields changed, under a new name."""
    chains = dict(base.stems)
    for stem, changes in stems.items():
        chains[stem] = replace(base.chain(stem), **changes)
    return MixPreset(name, chains, replace(base.reverb, **(reverb or {})), replace(base.glue, **(glue or {})),
                     base.max_plr_db if max_plr_db is None else max_plr_db, base.duck_release_share)


# --- the table ---------------------------------------------------------------------------------------
DEFAULT = MixPreset("default", {
    "drums": StemChain(low_shelf_hz=80.0, low_shelf_db=1.5, high_shelf_db=1.5, peaks=((400.0, -1.5, 1.0),),
                       compressor_threshold_rms_db=2.0, compressor_ratio=3.0, compressor_attack_ms=15.0,
                       compressor_release_ms=120.0, compressor_makeup_db=1.0, reverb_send_db=-22.0),
    "bass": StemChain(low_shelf_hz=90.0, low_shelf_db=1.0, high_shelf_hz=3000.0, high_shelf_db=-1.0,
                      peaks=((800.0, 1.5, 1.0),), compressor_threshold_rms_db=-1.0, compressor_ratio=4.0,
                      compressor_attack_ms=20.0, compressor_release_ms=200.0, compressor_makeup_db=1.5),
    "other": StemChain(low_shelf_hz=200.0, low_shelf_db=-1.5, high_shelf_db=2.0, peaks=((3000.0, 1.0, 0.8),),
                       compressor_threshold_rms_db=0.0, compressor_ratio=2.0, compressor_attack_ms=25.0,
                       compressor_release_ms=250.0, reverb_send_db=-14.0),
    "vocals": StemChain(high_shelf_db=2.0, peaks=((3000.0, 2.0, 0.8),), compressor_threshold_rms_db=0.0,
                        compressor_ratio=3.0, compressor_attack_ms=5.0, compressor_makeup_db=1.0,
                        reverb_send_db=-14.0),
})

CLUB = _changed(DEFAULT, "club",
                drums={"low_shelf_db": 0.0, "compressor_ratio": 4.0, "compressor_attack_ms": 20.0,
                       "reverb_send_db": -30.0},
                bass={"duck_db": 6.0, "compressor_ratio": 5.0},
                other={"duck_db": 4.0, "high_shelf_db": 3.0, "reverb_send_db": -16.0},
                reverb={"room_size": 0.35}, glue={"ratio": 2.5, "release_ms": 150.0}, max_plr_db=12.0)
HIP_HOP = _changed(DEFAULT, "hip hop",
                   drums={"compressor_ratio": 4.0, "compressor_attack_ms": 25.0, "high_shelf_db": -0.5,
                          "low_shelf_db": 2.5, "reverb_send_db": -28.0},
                   bass={"trim_db": 1.0},
                   other={"high_shelf_db": -1.5, "reverb_send_db": -18.0},
                   reverb={"room_size": 0.3, "damping": 0.7}, max_plr_db=12.0)
TRAP = _changed(HIP_HOP, "trap",
                drums={"high_shelf_db": 2.0, "reverb_send_db": -32.0},
                bass={"drive": Drive(drive_db=8.0, highpass_hz=30.0, cab_lowpass_hz=5000.0, wet=0.35),
                      "trim_db": 1.5, "compressor_threshold_rms_db": -3.0, "compressor_attack_ms": 5.0},
                other={"high_shelf_db": 1.5, "reverb_send_db": -20.0},
                reverb={"room_size": 0.25}, max_plr_db=12.0)
BASS_MUSIC = _changed(CLUB, "bass music",
                      bass={"duck_db": 0.0, "drive": Drive(drive_db=10.0, highpass_hz=30.0, cab_lowpass_hz=6000.0,
                                                           wet=0.5)},
                      other={"duck_db": 0.0}, drums={"high_shelf_db": 2.5}, max_plr_db=11.5)
FUNK = _changed(HIP_HOP, "funk",  # dry and tight: the groove is in the attacks, not in a room
                drums={"high_shelf_db": 1.0, "compressor_attack_ms": 6.0, "reverb_send_db": -30.0},
                other={"reverb_send_db": None},
                reverb={"room_size": 0.2})
ROCK = _changed(DEFAULT, "rock",
                drums={"compressor_ratio": 4.0, "peaks": ((400.0, -2.5, 1.0), (4000.0, 2.0, 1.0)),
                       "reverb_send_db": -20.0},
                other={"drive": Drive(drive_db=14.0, highpass_hz=100.0, cab_lowpass_hz=6000.0, wet=0.6),
                       "peaks": ((2500.0, 2.0, 0.9),), "high_shelf_db": 2.5, "trim_db": 1.0},
                reverb={"room_size": 0.4}, max_plr_db=12.0)
METAL = _changed(ROCK, "metal",
                 drums={"peaks": ((400.0, -3.0, 1.0), (4000.0, 3.0, 1.0)), "high_shelf_db": 2.5,
                        "reverb_send_db": -26.0},
                 other={"drive": Drive(drive_db=18.0, highpass_hz=110.0, cab_lowpass_hz=7000.0, wet=0.75),
                        "peaks": ((2800.0, 3.0, 0.9), (500.0, -2.0, 1.2)), "high_shelf_db": 3.0,
                        "reverb_send_db": -22.0},
                 bass={"drive": Drive(drive_db=10.0, highpass_hz=40.0, cab_lowpass_hz=4500.0, wet=0.4)},
                 reverb={"room_size": 0.3}, max_plr_db=11.5)
POP = _changed(DEFAULT, "pop",
               other={"high_shelf_db": 2.5, "reverb_send_db": -13.0},
               vocals={"high_shelf_db": 3.0, "reverb_send_db": -12.0}, reverb={"room_size": 0.5})
JAZZ = _changed(DEFAULT, "jazz",
                drums={"compressor_ratio": 2.0, "low_shelf_db": 0.0, "high_shelf_db": 0.5, "reverb_send_db": -16.0},
                bass={"compressor_ratio": 2.5},
                other={"compressor_ratio": 1.5, "high_shelf_db": 0.5, "reverb_send_db": -10.0},
                reverb={"room_size": 0.65, "damping": 0.45}, glue={"ratio": 1.5}, max_plr_db=12.5)
# a ballad's vocal sends no more than the default's: in the long room more would blur the words' onsets
BALLAD = _changed(JAZZ, "ballad",
                  drums={"reverb_send_db": -14.0}, other={"high_shelf_db": 1.5, "reverb_send_db": -9.0},
                  vocals={"reverb_send_db": -14.0}, reverb={"room_size": 0.7}, max_plr_db=12.0)
AMBIENT = _changed(JAZZ, "ambient",
                   drums={"reverb_send_db": -12.0}, other={"reverb_send_db": -6.0, "compressor_ratio": 1.5},
                   bass={"reverb_send_db": -20.0}, vocals={"reverb_send_db": -8.0},
                   reverb={"room_size": 0.85, "damping": 0.35, "width": 0.5}, max_plr_db=12.5)
WORLD = _changed(DEFAULT, "world",
                 drums={"high_shelf_db": 2.0, "reverb_send_db": -20.0}, other={"reverb_send_db": -13.0},
                 reverb={"room_size": 0.45})
ACOUSTIC = _changed(DEFAULT, "acoustic",
                    drums={"compressor_ratio": 2.5, "reverb_send_db": -18.0},
                    other={"compressor_ratio": 1.8, "high_shelf_db": 1.5, "reverb_send_db": -12.0},
                    reverb={"room_size": 0.55}, max_plr_db=12.0)

#: Every preset by name.
PRESETS: dict[str, MixPreset] = {p.name: p for p in (DEFAULT, CLUB, HIP_HOP, TRAP, BASS_MUSIC, FUNK, ROCK, METAL, POP,
                                                     JAZZ, BALLAD, AMBIENT, WORLD, ACOUSTIC)}

#: Genre name (:mod:`mage_bridge.genres`) → preset name, where the genre's drum style alone would pick wrong.
GENRE_PRESETS: dict[str, str] = {
    "trap": "trap", "drill": "trap", "phonk": "trap",
    "dubstep": "bass music", "drum and bass": "bass music", "jungle": "bass music",
    "metal": "metal", "grunge": "metal", "punk": "metal",
    "pop": "pop", "chiptune": "pop", "synthwave": "club", "r&b": "ballad", "soul": "ballad", "gospel": "ballad",
    "jazz": "jazz", "blues": "jazz", "bossa nova": "jazz", "funk": "funk",
    "ambient": "ambient", "chillout": "ambient", "classical": "ambient", "cinematic": "ambient", "lullaby": "ambient",
    "folk": "acoustic", "country": "acoustic", "waltz": "acoustic",
    "reggae": "world", "reggaeton": "world", "latin": "world", "afrobeats": "world",
}

#: Drum style (:mod:`mage_bridge.generate.grooves`) → preset name, for genres not in :data:`GENRE_PRESETS`.
STYLE_PRESETS: dict[str, str] = {
    "four_on_floor": "club", "trap": "trap", "boom_bap": "hip hop", "dnb": "bass music", "breakbeat": "hip hop",
    "halftime": "bass music", "rock": "rock", "shuffle": "jazz", "swing_ride": "jazz", "ballad": "ballad",
    "one_drop": "world", "latin": "world", "waltz": "acoustic", "six_eight": "acoustic",
    # A drumless clip of a genre not named above (a piano ballad): a room, not the ambient wash that blurs its onsets.
    "none": "ballad",
}


def preset_for(genre: str | None, style: str = "") -> MixPreset:
    """The preset for a genre name or alias, else for the drum style (the genre's own when ``style`` is empty),
    else :data:`DEFAULT`."""
    if genre:
        from mage_bridge.genres import find

        entry = find(genre)
        if entry is not None:
            if entry.name in GENRE_PRESETS:
                return PRESETS[GENRE_PRESETS[entry.name]]
            style = style or entry.drum_style
    return PRESETS[STYLE_PRESETS.get(style, "default")]
