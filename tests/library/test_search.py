"""Search over a real library: tempo ranges, keys (exact and compatible), words, tags, rating, paging, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mage_bridge.errors import InvalidInputError
from mage_bridge.library import Library, Query, parse_bpm_range, parse_key, search
from tests.library.conftest import write_clip


@pytest.fixture
def clips(library: Library, tmp_path: Path) -> dict[str, str]:
    """Name -> clip id of a small library whose right answers are known."""
    made = {
        "house": dict(prompt="deep house groove", bpm=122.0, key="A", mode="minor", genre="deep house"),
        "techno": dict(prompt="techno rumble", bpm=128.0, key="D", mode="minor", genre="techno"),
        "disco": dict(prompt="disco strings", bpm=120.0, key="C", mode="major", genre="disco"),
        "trap": dict(prompt="trap beat", bpm=140.0, key="A", mode="minor", genre="trap"),
        "ballad": dict(prompt="piano ballad", bpm=120.0, key="F#", mode="major", genre="pop"),
        "drift": dict(prompt="slow drift", bpm=120.0, measured_bpm=60.0, tempo_off=True, key="A", mode="minor",
                      genre="ambient"),
        "night": dict(prompt="deep house at night", bpm=126.0, key="E", mode="minor", genre="Deep House",
                      lyrics="neon rain falls on the dancefloor"),
        "gone": dict(prompt="deep house deleted", bpm=124.0, key="A", mode="minor", genre="deep house"),
        "found": dict(prompt="found sound", bpm=None, key=None, mode=None, measured_bpm=125.0,
                      measured_key=("G", "minor"), genre="field recording"),
    }
    ids = {name: library.register(write_clip(tmp_path / "clips" / name, **kw)).id  # type: ignore[arg-type]
           for name, kw in made.items()}
    library.tag(ids["house"], ["dark", "Late Night"])
    library.tag(ids["night"], ["dark"])
    library.rate(ids["disco"], 4)
    library.rate(ids["house"], 2)
    library.delete(ids["gone"])
    return ids


def _names(clips: dict[str, str], library: Library, **query: object) -> set[str]:
    by_id = {v: k for k, v in clips.items()}
    page = search(library, Query.build(**query))  # type: ignore[arg-type]
    assert page.total == len(page.clips)
    return {by_id[c.id] for c in page.clips}


def test_bpm_range_finds_the_clips_at_that_tempo(library: Library, clips: dict[str, str]) -> None:
    # drift asked 120 but plays at 60 (tempo_off): found at 60; found has only a measured tempo (125)
    assert _names(clips, library, bpm="120-128") == {"house", "techno", "disco", "ballad", "night", "found"}
    assert _names(clips, library, bpm="55-65") == {"drift"}
    assert _names(clips, library, bpm=[121.5, 122.5]) == {"house"}
    assert _names(clips, library, bpm="122") == {"house"}  # one tempo: within 0.5 BPM
    assert _names(clips, library, bpm="128-128") == {"techno"}  # both ends count


def test_key_exact_and_compatible_on_the_camelot_wheel(library: Library, clips: dict[str, str]) -> None:
    assert _names(clips, library, key="A minor") == {"house", "trap", "drift"}
    # 8A: itself, 7A (D minor), 9A (E minor), 8B (C major)
    assert _names(clips, library, key="A minor", compatible=True) == {"house", "trap", "drift", "techno", "night",
                                                                      "disco"}
    assert _names(clips, library, key="8B") == {"disco"}
    assert _names(clips, library, key="Gb major") == {"ballad"}  # the same key as F# major
    assert _names(clips, library, key="Gm") == {"found"}  # no key asked: the measured one


def test_the_example_of_the_command_line(library: Library, clips: dict[str, str]) -> None:
    # library search --bpm 120-128 --key "A minor" --compatible
    assert _names(clips, library, bpm="120-128", key="A minor", compatible=True) == {"house", "techno", "disco",
                                                                                     "night"}


def test_words_match_title_genre_tags_and_lyrics_by_prefix(library: Library, clips: dict[str, str]) -> None:
    assert _names(clips, library, text="deep") == {"house", "night"}  # not the deleted one
    assert _names(clips, library, text="hous") == {"house", "night"}
    assert _names(clips, library, text="DEEP   house!") == {"house", "night"}
    assert _names(clips, library, text="late") == {"house"}  # a tag
    assert _names(clips, library, text="neon rain") == {"night"}  # lyrics
    assert _names(clips, library, text="recording") == {"found"}  # genre
    assert _names(clips, library, text="deep", bpm="120-124", key="A minor", compatible=True) == {"house"}
    assert _names(clips, library, text="zebra") == set()


def test_words_follow_tag_changes(library: Library, clips: dict[str, str]) -> None:
    library.tag(clips["trap"], ["wobbly"])
    assert _names(clips, library, text="wobbly") == {"trap"}
    library.tag(clips["trap"], remove=["wobbly"])
    assert _names(clips, library, text="wobbly") == set()


def test_genre_tags_rating_and_kind(library: Library, clips: dict[str, str]) -> None:
    assert _names(clips, library, genre="DEEP house") == {"house", "night"}
    assert _names(clips, library, tags=["dark"]) == {"house", "night"}
    assert _names(clips, library, tags="dark, late night") == {"house"}  # every tag given
    assert _names(clips, library, min_rating=3) == {"disco"}
    assert _names(clips, library, min_rating=1) == {"disco", "house"}
    assert _names(clips, library, kind="generate") == set(clips) - {"gone"}
    assert _names(clips, library, kind="import") == set()


def test_pages_cover_the_matches_once(library: Library, clips: dict[str, str]) -> None:
    seen: list[str] = []
    for offset in range(0, 10, 3):
        page = search(library, Query.build(limit=3, offset=offset))
        assert page.total == 8 and page.offset == offset
        seen += [c.id for c in page.clips]
    assert sorted(seen) == sorted(v for k, v in clips.items() if k != "gone")


BAD = [
    pytest.param({"bpm": "128-120"}, "bpm range", id="bpm-downwards"),
    pytest.param({"bpm": "fast"}, "120-128", id="bpm-word"),
    pytest.param({"bpm": "120-"}, "120-128", id="bpm-open"),
    pytest.param({"bpm": "0-5000"}, "bpm range", id="bpm-out-of-range"),
    pytest.param({"bpm": True}, "bpm", id="bpm-bool"),
    pytest.param({"key": "H minor"}, "unknown key 'H minor'", id="key-unknown"),
    pytest.param({"compatible": True}, "compatible needs a key", id="compatible-without-key"),
    pytest.param({"min_rating": 9}, "rating", id="rating-range"),
    pytest.param({"kind": "symphony"}, "kind must be one of", id="kind-unknown"),
    pytest.param({"text": "!!!"}, "at least one word", id="text-no-word"),
    pytest.param({"tags": ["no,commas"]}, "a tag must be", id="tag-bad"),
    pytest.param({"limit": 0}, "limit", id="limit-zero"),
    pytest.param({"offset": -1}, "offset", id="offset-negative"),
]


@pytest.mark.parametrize("query,message", BAD)
def test_bad_queries_are_refused_with_the_value(query: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Query.build(**query)  # type: ignore[arg-type]


def test_unknown_query_keys_are_named() -> None:
    with pytest.raises(InvalidInputError, match="unknown search key.*tempo"):
        Query.from_mapping({"tempo": 120})


def test_parse_bpm_range_forms() -> None:
    assert parse_bpm_range("120-128") == (120.0, 128.0)
    assert parse_bpm_range("120.5..128") == (120.5, 128.0)
    assert parse_bpm_range("120 to 128") == (120.0, 128.0)
    assert parse_bpm_range(124) == (123.5, 124.5)
    assert parse_bpm_range((90, 100)) == (90.0, 100.0)


def test_search_agrees_with_a_plain_filter_on_a_random_library(library: Library, tmp_path: Path,
                                                               rng: np.random.Generator) -> None:
    tonics = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    words = ["neon", "rain", "groove", "storm", "velvet", "echo"]
    truth = {}
    for i in range(120):
        bpm = float(rng.integers(80, 160))
        key = (tonics[rng.integers(12)], ["major", "minor"][rng.integers(2)])
        prompt = " ".join(rng.choice(words, size=2, replace=False))
        clip = library.register(write_clip(tmp_path / "r" / str(i), prompt=prompt, bpm=bpm, key=key[0], mode=key[1],
                                           stems=(), midi=False))
        assert clip is not None
        truth[clip.id] = (bpm, parse_key(" ".join(key)), set(prompt.split()))
    for _ in range(40):
        low = float(rng.integers(80, 150))
        high = low + float(rng.integers(0, 20))
        key = parse_key(f"{tonics[rng.integers(12)]} {['major', 'minor'][rng.integers(2)]}")
        compatible = bool(rng.integers(2))
        word = str(rng.choice(words))
        keys = set(key.compatible()) if compatible else {key}
        expected = {i for i, (b, k, w) in truth.items() if low <= b <= high and k in keys and word in w}
        page = search(library, Query.build(bpm=(low, high), key=key, compatible=compatible, text=word, limit=500))
        assert {c.id for c in page.clips} == expected
