"""Lyrics in a generated clip and from ``api.lyrics``: real folders, real LRC files, the generator's own grid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mage_bridge import api, manifest
from mage_bridge.api.clips import ENHANCED_LRC_FILE, LRC_FILE, LYRICS_TEXT_FILE
from mage_bridge.errors import InvalidInputError
from mage_bridge.generate.base import GenerateRequest
from tests.api_lyrics.lrc import read_enhanced_lrc, read_lrc

VOCAL = "indie pop with female vocals at 110 BPM in A minor"
USER = "[verse]\nÜber den Wolken, ça va\n\nthe glimmerlight is calling me\n\n[chorus]\nOh oh, 1,000 nights"


def _inside_body(syllables: list[dict[str, Any]], lead_in_s: float, end_s: float) -> None:
    assert syllables
    for s in syllables:
        assert lead_in_s - 1e-6 <= s["start"] < s["end"] <= end_s + 1e-6, s
    assert [s["start"] for s in syllables] == sorted(s["start"] for s in syllables)


@pytest.fixture
def sung_requests(monkeypatch: pytest.MonkeyPatch) -> list[GenerateRequest]:
    """The requests the procedural generator receives (what a vocal backend would be asked to sing)."""
    from mage_bridge.generate.procedural import ProceduralGenerator

    seen: list[GenerateRequest] = []
    real = ProceduralGenerator.generate

    def spy(self: ProceduralGenerator, request: GenerateRequest, **kw: Any) -> Any:
        seen.append(request)
        return real(self, request, **kw)

    monkeypatch.setattr(ProceduralGenerator, "generate", spy)
    return seen


def test_a_vocal_prompt_gets_lyrics_timed_on_the_generators_grid(tmp_path: Path,
                                                                 sung_requests: list[GenerateRequest]) -> None:
    path = api.generate(VOCAL, tmp_path / "clip", seed=11, backend="procedural", options={"duration_s": 20.0})
    m = manifest.read(path)
    lyr = m["lyrics"]
    assert lyr["mode"] == "generate" and lyr["seed"] == 11 and "[verse]" in lyr["text"]
    # the grid the syllables sit on is the one the composer laid the clip on
    assert lyr["grid"]["lead_in_s"] == pytest.approx(m["backend"]["lead_in_s"], abs=1e-4)
    assert lyr["grid"]["lead_out_s"] == pytest.approx(m["backend"]["lead_out_s"], abs=1e-4)
    _inside_body(lyr["syllables"], m["backend"]["lead_in_s"], m["duration_s"] - m["backend"]["lead_out_s"])
    folder = path.parent
    assert (lyr["lrc"], lyr["elrc"], lyr["file"]) == (LRC_FILE, ENHANCED_LRC_FILE, LYRICS_TEXT_FILE)
    assert (folder / LYRICS_TEXT_FILE).read_text(encoding="utf-8").strip() == lyr["text"]
    lines = [t for t in read_lrc(folder / LRC_FILE) if t[1]]
    sung_lines = [ln for ln in lyr["text"].splitlines() if ln and not ln.startswith("[")]
    assert [t for _, t in lines] == sung_lines
    assert lines[0][0] == pytest.approx(lyr["syllables"][0]["start"], abs=0.006)
    words = read_enhanced_lrc(folder / ENHANCED_LRC_FILE)
    assert [w[2] for w in words] == sung_lines
    assert all(m["backend"]["lead_in_s"] - 0.006 <= s <= m["duration_s"] for w in words for s in w[1])
    # what the generator is asked to sing is the written text
    assert sung_requests[-1].lyrics == lyr["text"]
    assert m["request"]["lyrics"] is None
    # same seed, same words (the lyrics are part of what re-renders the clip)
    again = api.generate(VOCAL, tmp_path / "again", seed=11, backend="procedural", options={"duration_s": 20.0})
    assert manifest.read(again)["lyrics"]["syllables"] == lyr["syllables"]


def test_an_instrumental_clip_has_no_lyrics(tmp_path: Path, sung_requests: list[GenerateRequest]) -> None:
    path = api.generate("instrumental lo-fi hip hop beat", tmp_path / "clip", seed=2, backend="procedural",
                        options={"duration_s": 10.0, "lyrics_mode": "generate"})
    m = manifest.read(path)
    assert m["lyrics"] is None and m["analysis"]["vocals"] is False
    assert not any(p.name.startswith("lyrics") for p in path.parent.iterdir())
    assert sung_requests[-1].lyrics is None
    assert any("lyrics_mode is ignored" in w for w in m["warnings"])


def test_user_lyrics_are_sung_verbatim(tmp_path: Path, sung_requests: list[GenerateRequest]) -> None:
    path = api.generate("acoustic ballad at 90 BPM", tmp_path / "clip", lyrics=USER, seed=5, backend="procedural",
                        options={"duration_s": 40.0})
    m = manifest.read(path)
    lyr = m["lyrics"]
    assert lyr["mode"] == "replace" and m["request"]["lyrics"] == USER
    user_lines = [ln for ln in USER.splitlines() if ln.strip() and not ln.startswith("[")]
    assert [ln for ln in lyr["text"].splitlines() if ln and not ln.startswith("[")] == user_lines
    assert [t for _, t in read_lrc(path.parent / LRC_FILE) if t] == user_lines
    assert sung_requests[-1].lyrics == lyr["text"]
    _inside_body(lyr["syllables"], m["backend"]["lead_in_s"], m["duration_s"] - m["backend"]["lead_out_s"])
    # append keeps the user's lines first and writes more after them
    path = api.generate("acoustic ballad at 90 BPM", tmp_path / "append", lyrics=USER, seed=5,
                        backend="procedural", options={"duration_s": 60.0, "lyrics_mode": "append"})
    text = manifest.read(path)["lyrics"]["text"]
    sung = [ln for ln in text.splitlines() if ln and not ln.startswith("[")]
    assert sung[:len(user_lines)] == user_lines and len(sung) > len(user_lines)


@pytest.mark.parametrize("lyrics, options, message", [
    (None, {"lyrics_mode": "sing"}, "lyrics_mode must be one of generate, replace, append"),
    (None, {"lyrics_mode": "replace"}, "needs the user's lyrics"),
    ("la la la", {"lyrics_mode": "generate"}, "use mode 'replace' or 'append'"),
    ("\n".join(f"line number {i} of a very long song" for i in range(200)), {"duration_s": 12.0},
     "do not fit the clip"),
], ids=["bad-mode", "replace-without-lyrics", "generate-with-lyrics", "too-long"])
def test_lyrics_that_cannot_be_sung_are_refused_before_anything_is_written(
        tmp_path: Path, lyrics: str | None, options: dict[str, Any], message: str) -> None:
    for call in (lambda out: api.generate("soul with male vocals", out, lyrics=lyrics, seed=1,
                                          backend="procedural", options=options),
                 lambda out: api.lyrics("soul with male vocals", out, lyrics=lyrics, seed=1,
                                        options={k: v for k, v in options.items() if k != "lyrics_mode"},
                                        lyrics_mode=options.get("lyrics_mode"))):
        out = tmp_path / "out"
        with pytest.raises(InvalidInputError, match=message):
            call(out)
        assert list(tmp_path.iterdir()) == []  # no folder, no staging left behind


def test_a_too_long_text_says_how_many_lines_fit(tmp_path: Path) -> None:
    text = "\n".join(f"line {i} goes on and on" for i in range(60))
    with pytest.raises(InvalidInputError, match=r"at most \d+ of these lines fit"):
        api.lyrics("pop ballad", tmp_path / "x", lyrics=text, options={"bars": 12, "bpm": 120})


def test_api_lyrics_writes_the_folder_a_clip_of_the_same_request_would_hold(tmp_path: Path) -> None:
    opts = {"duration_s": 20.0}
    path = api.lyrics(VOCAL, tmp_path / "words", seed=11, options=opts)
    m = manifest.read(path)
    assert m["kind"] == "lyrics" and m["schema"] == manifest.SCHEMA and m["request"]["lyrics_mode"] == "generate"
    assert m["analysis"]["bpm"] == 110 and m["duration_s"] == 20.0
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        ["manifest.json", LYRICS_TEXT_FILE, LRC_FILE, ENHANCED_LRC_FILE])
    lyr = m["lyrics"]
    _inside_body(lyr["syllables"], lyr["grid"]["lead_in_s"], 20.0 - lyr["grid"]["lead_out_s"])
    read_enhanced_lrc(path.parent / ENHANCED_LRC_FILE)
    json.dumps(m, allow_nan=False)
    clip = manifest.read(api.generate(VOCAL, tmp_path / "clip", seed=11, backend="procedural", options=opts))
    assert clip["lyrics"]["text"] == lyr["text"]
    # the same syllables on the same grid; the clip's also carry the notes its generator sang them on
    untimed = [{k: v for k, v in s.items() if k != "note"} for s in clip["lyrics"]["syllables"]]
    assert untimed == [{k: v for k, v in s.items() if k != "note"} for s in lyr["syllables"]]
    assert all(s["note"] is None for s in lyr["syllables"])
    assert all(isinstance(s["note"], int) for s in clip["lyrics"]["syllables"])
    with pytest.raises(InvalidInputError, match="unknown lyrics option"):
        api.lyrics(VOCAL, tmp_path / "bad", options={"master": True})
    # the clip options are checked as generate checks them
    with pytest.raises(InvalidInputError, match="bpm must be a number"):
        api.lyrics(VOCAL, tmp_path / "bad", options={"bpm": 900})
    assert not (tmp_path / "bad").exists()
