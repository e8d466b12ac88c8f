"""The genre table the generator reads must stay valid for it."""

from __future__ import annotations

import typing

import pytest

from mage_bridge import genres, instruments
from mage_bridge.analysis.rules import PARENT
from mage_bridge.analysis.rules.assembly import _DEFAULT_TONIC
from mage_bridge.generate.harmony import parse_progression
from mage_bridge.music import pitch_class

REQUIRED = ("lofi", "drum and bass", "jungle", "boom bap", "trap", "house", "deep house", "tech house", "techno",
            "trance", "synthwave", "jazz", "blues", "rock", "metal", "punk", "pop", "r&b", "soul", "funk", "disco",
            "reggae", "country", "folk", "classical", "cinematic", "ambient", "edm", "hip hop", "dubstep", "gospel",
            "latin", "bossa nova", "waltz", "indie", "grunge")


def test_at_least_thirty_genres_including_the_required_ones() -> None:
    assert len(genres.GENRES) >= 30
    assert not set(REQUIRED) - set(genres.BY_NAME)


def test_names_and_aliases_are_unique() -> None:
    names = [a.lower() for g in genres.GENRES for a in (g.name, *g.aliases)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("genre", genres.GENRES, ids=lambda g: g.name)
def test_genre_is_valid_for_the_generator(genre: genres.Genre) -> None:
    assert genre.drum_style in typing.get_args(genres.DrumStyle)
    assert genre.mode in ("major", "minor")
    assert instruments.lookup(genre.bass)
    assert genre.instruments and all(instruments.lookup(i) for i in genre.instruments)
    lo, hi = genre.bpm_range
    assert 40 <= lo <= genre.default_bpm <= hi <= 240
    assert genre.time_signature in ((4, 4), (3, 4), (6, 8), (12, 8))
    assert 0.0 <= genre.swing <= 1.0
    assert genre.description
    modes = set()
    for text in genre.progressions:
        # the composer takes upper-case-first progressions as major, lower-case-first as minor
        mode = "minor" if text.lstrip("b#♭♯")[0].islower() else "major"
        modes.add(mode)
        assert parse_progression(text, tonic_pc=0, mode=mode)
    # an empty tuple is fine: the composer then uses its per-style defaults
    assert pitch_class(_DEFAULT_TONIC[genre.name]) >= 0


def test_family_tree_names_real_genres() -> None:
    for child, parent in PARENT.items():
        assert child in genres.BY_NAME and parent in genres.BY_NAME
