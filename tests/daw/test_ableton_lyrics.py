"""A clip with vocals in Live: the vocals clip is named after its first lyric line; the LRC is beside the stems.

Live has no lyrics view and a clip's one text is its ``name`` (get/set in the Live Object Model), so the script
names the vocals clip ``♪ <first sung line>``, cut after a whole word to 40 characters, and says in the status bar
where ``lyrics.lrc`` is. The lyrics are the real lyric writer's (``tests/daw/vocal_clip.py``); the daemon is a
bare UDP socket (``FakeDaemon``), as in ``test_ableton_placing.py``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from tests.daw.fake_live.harness import FakeDaemon, Rig, fake_daemon, live  # noqa: F401
from tests.daw.test_ableton_placing import announce, connected, placement, project_of
from tests.daw.vocal_clip import sung_lines, vocal_clip

PROMPT = "pop song about summer love with female vocals at 120 bpm"
LONG_FIRST_LINE = "Señora, the midnight carousel keeps turning round and round"


def _place(live: Rig, d: FakeDaemon, tmp_path: Path, *, view: str = "arrangement", **clip: Any
           ) -> tuple[Any, dict[str, Any], Path]:
    """Place a clip with vocals (120 BPM, one bar of lead-in) at bar 3; returns the song, manifest and folder."""
    song = live.song(tempo=120.0)
    surface, c = connected(live, d, view=view, song=song)
    path, manifest = vocal_clip(tmp_path / "job-vocal", prompt=PROMPT, **clip)
    announce(d, surface, c, "job-vocal", path, placement(project_of(c), bpm=120.0, clip_bpm=120.0))
    return c, manifest, path.parent


def _clips(song: Any, view: str) -> dict[str, Any]:
    if view == "session":
        return {t.name: t.clip_slots[0].clip for t in song.tracks}
    return {t.name: t.arrangement_clips[0] for t in song.tracks}


@pytest.mark.parametrize("view", ["arrangement", "session"])
def test_the_vocals_clip_is_named_after_the_first_lyric_line(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path,
                                                            view: str) -> None:
    c, manifest, folder = _place(live, fake_daemon, tmp_path, view=view)
    clips = _clips(c.song(), view)
    assert list(clips) == ["vocals", "drums", "bass"]
    first = sung_lines(manifest)[0].text
    assert len("♪ " + first) <= 40
    assert clips["vocals"].name == "♪ " + first
    assert clips["drums"].name == "drums" and clips["bass"].name == "bass"  # as Live names them
    where = "bar 3" if view == "arrangement" else "scene 1"
    assert c.messages[-1] == f"MAGE Bridge: placed 3 stem(s) at {where}; lyrics in {folder / 'lyrics.lrc'}"
    assert (folder / "lyrics.lrc").read_text(encoding="utf-8").splitlines()[0].endswith(first)
    assert c.song().undo_steps == ["begin", "end"]  # named inside the placement's one undo step


def test_a_long_first_line_is_cut_after_a_whole_word(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    user = f"{LONG_FIRST_LINE}\nThe lights go down on the boulevard\n\nWe hold on to the night"
    c, manifest, _ = _place(live, fake_daemon, tmp_path, lyrics=user, mode="replace")
    assert sung_lines(manifest)[0].text == LONG_FIRST_LINE
    name = _clips(c.song(), "arrangement")["vocals"].name
    assert name == "♪ Señora, the midnight carousel keeps…"
    assert len(name) <= 40


def test_a_clip_without_lyrics_keeps_live_s_names(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    c, manifest, _ = _place(live, fake_daemon, tmp_path, with_lyrics=False)
    assert manifest["lyrics"] is None
    assert [clip.name for clip in _clips(c.song(), "arrangement").values()] == ["vocals", "drums", "bass"]
    assert c.messages[-1] == "MAGE Bridge: placed 3 stem(s) at bar 3"


def test_lyrics_without_a_vocals_stem_name_no_clip(live: Rig, fake_daemon: FakeDaemon, tmp_path: Path) -> None:
    c, manifest, _ = _place(live, fake_daemon, tmp_path, stems=("drums", "bass"))
    assert manifest["lyrics"]["syllables"]
    assert [clip.name for clip in _clips(c.song(), "arrangement").values()] == ["drums", "bass"]
    assert c.messages[-1] == "MAGE Bridge: placed 2 stem(s) at bar 3"


@pytest.mark.parametrize(("line", "name"), [
    ("Hold me", "♪ Hold me"),
    ("a" * 38, "♪ " + "a" * 38),  # exactly 40
    ("a" * 39, "♪ " + "a" * 37 + "…"),
    ("Supercalifragilisticexpialidocious-and-then-some more", "♪ Supercalifragilisticexpialidocious-an…"),
    ("Oh my love, my darling, my sweet, forever and ever", "♪ Oh my love, my darling, my sweet…"),
    ("  spaced   out   words  ", "♪ spaced out words"),
], ids=["short", "exactly-the-limit", "one-over", "one-long-word", "punctuation-before-the-cut", "spaces"])
def test_clip_names_from_a_line(live: Rig, line: str, name: str) -> None:
    lyrics = importlib.import_module("MAGE_Bridge.lyrics")
    manifest = {"lyrics": {"sections": [{"name": "verse", "lines": ["", line]}],
                           "syllables": [{"text": "x", "start": 2.0, "line": 1}]}}
    assert lyrics.clip_name(manifest) == name
    assert len(name) <= lyrics.CLIP_NAME_MAX


def test_a_line_without_a_sung_syllable_is_not_the_first(live: Rig) -> None:
    lyrics = importlib.import_module("MAGE_Bridge.lyrics")
    manifest = {"lyrics": {"sections": [{"name": "intro", "lines": ["...", "Here we go"]}],
                           "syllables": [{"text": "Here", "start": 2.0, "line": 1}]}}
    assert lyrics.clip_name(manifest) == "♪ Here we go"
    assert lyrics.clip_name({"lyrics": None}) is None and lyrics.clip_name({}) is None
