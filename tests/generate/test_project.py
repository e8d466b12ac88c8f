"""A clip for a DAW project (tempo, metre, whole bars) and the MIDI files of its parts."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.api import generate
from mage_bridge.errors import InvalidInputError
from mage_bridge.generate.compose import compose
from mage_bridge.generate.metre import PPQ
from mage_bridge.generate.midifile import write_score_midi
from mage_bridge.generate.project import ProjectTime, fit_to_project, fold_bpm, whole_bars

HOUSE = PromptAnalysis(prompt="deep house at 122 BPM", genre="deep house", bpm=122.0, key="G", mode="minor",
                       time_signature=(4, 4))


def test_the_project_wins_over_the_prompt_and_says_why() -> None:
    fitted, record = fit_to_project(HOUSE, {}, ProjectTime(100.0, 3, 4))
    assert (fitted.bpm, fitted.time_signature) == (100.0, (3, 4))
    assert fitted.sources["bpm"] == fitted.sources["time_signature"] == "daw_project"
    assert record["tempo_from"] == "project"
    assert record["prompt"] == {"bpm": 122.0, "time_signature": [4, 4]}
    assert record["used"] == record["project"] | {"bars": None} == {"bpm": 100.0, "time_signature": [3, 4],
                                                                     "bars": None}
    assert "100 BPM wins over the prompt's 122" in record["why"] and "3/4 wins" in record["why"]


def test_explicit_options_win_over_the_project() -> None:
    asked = HOUSE.__class__(**{**HOUSE.__dict__, "bpm": 90.0, "time_signature": (6, 8)})
    fitted, record = fit_to_project(asked, {"bpm": 90.0, "time_signature": (6, 8)}, ProjectTime(100.0, 4, 4))
    assert (fitted.bpm, fitted.time_signature) == (90.0, (6, 8))
    assert record["tempo_from"] == "option" and "request set bpm=90" in record["why"]


@pytest.mark.parametrize(("project_bpm", "used"), [(30.0, 60.0), (250.0, 125.0), (480.0, 240.0), (40.0, 40.0)])
def test_project_tempos_outside_the_range_fold_by_octaves(project_bpm: float, used: float) -> None:
    assert fold_bpm(project_bpm) == used
    fitted, record = fit_to_project(HOUSE, {}, ProjectTime(project_bpm, 4, 4))
    assert fitted.bpm == used and record["project"]["bpm"] == project_bpm


def test_a_metre_the_composer_cannot_write_keeps_the_prompts() -> None:
    fitted, record = fit_to_project(HOUSE, {}, ProjectTime(100.0, 5, 32))
    assert fitted.time_signature == (4, 4) and "5/32 cannot be composed" in record["why"]


@pytest.mark.parametrize(("duration", "bpm", "ts", "bars"), [
    (32.0, 100.0, (4, 4), 13), (32.0, 122.0, (4, 4), 16), (32.0, 90.0, (6, 8), 16), (4.0, 60.0, (4, 4), 3),
])
def test_whole_bars_nearest_the_duration(duration: float, bpm: float, ts: tuple[int, int], bars: int) -> None:
    got, seconds = whole_bars(duration, bpm, ts, min_s=4.0, max_s=120.0, min_bars=3)
    assert got == bars and seconds == pytest.approx(bars * ts[0] * 4 / ts[1] * 60 / bpm)


def test_no_whole_bars_fit_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="no whole number of 4/4 bars at 40 BPM"):
        whole_bars(10.0, 40.0, (4, 4), min_s=4.0, max_s=10.0, min_bars=3)


def test_parts_are_midi_files_at_the_clips_tempo_and_metre(tmp_path: Path) -> None:
    score = compose(HOUSE.__class__(**{**HOUSE.__dict__, "time_signature": (3, 4)}), seed=4, duration_s=12.0)
    entry = write_score_midi(score, tmp_path)
    combined = mido.MidiFile(str(tmp_path / entry["file"]))
    assert combined.type == 1 and combined.ticks_per_beat == PPQ == entry["ppq"]
    meta = {m.type: m for m in combined.tracks[0] if m.is_meta}
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(122.0, abs=1e-3)
    assert (meta["time_signature"].numerator, meta["time_signature"].denominator) == (3, 4)
    assert meta["key_signature"].key == "Gm"
    parts = [p for p in score.parts if p.notes]
    assert len(combined.tracks) == 1 + len(parts) == 1 + len(entry["parts"])
    channels = [e["channel"] for e in entry["parts"]]
    assert len(set(channels)) == len(channels) and all(1 <= c <= 16 for c in channels)
    for part, item in zip(parts, entry["parts"]):
        single = mido.MidiFile(str(tmp_path / item["file"]))
        ons = [m for m in single.tracks[1] if m.type == "note_on" and m.velocity > 0]
        assert len(ons) == len(part.notes) == item["notes"]
        assert (item["channel"] == 10) == (part.stem == "drums")
        # absolute ticks of the notes are the score's: tick 0 is frame 0 of the audio
        ticks, now = [], 0
        for m in single.tracks[1]:
            now += m.time
            if m.type == "note_on" and m.velocity > 0:
                ticks.append(now)
        assert sorted(ticks) == sorted(n.start for n in part.notes)
    # the file is as long as the audio
    assert combined.length == pytest.approx(score.total_frames / score.sample_rate, abs=0.01)


def test_generate_for_a_project_writes_whole_bars_the_midi_and_the_why(tmp_path: Path) -> None:
    manifest = json.loads(generate("deep house groove at 122 BPM in G minor", tmp_path / "clip", seed=1,
                                   options={"duration_s": 12},
                                   project={"bpm": 100, "numerator": 4, "denominator": 4}).read_text())
    assert manifest["bars"] == 5 and manifest["frames"] == 5 * 115_200
    assert manifest["daw"]["used"] == {"bpm": 100.0, "time_signature": [4, 4], "bars": 5}
    assert (tmp_path / "clip" / manifest["midi"]["file"]).is_file()
    assert all((tmp_path / "clip" / p["file"]).is_file() for p in manifest["midi"]["parts"])


def test_bars_sets_the_length_and_is_checked(tmp_path: Path) -> None:
    manifest = json.loads(generate("funk groove at 120 BPM", tmp_path / "a", seed=0, options={"bars": 6}
                                   ).read_text())
    assert manifest["bars"] == 6 and manifest["frames"] == 6 * 96_000 and manifest["daw"] is None
    with pytest.raises(InvalidInputError, match="bars=2 is too short"):
        generate("funk groove at 120 BPM", tmp_path / "b", options={"bars": 2})
    with pytest.raises(InvalidInputError, match="bars or duration_s, not both"):
        generate("funk groove", tmp_path / "c", options={"bars": 8, "duration_s": 20})


def test_a_duration_too_short_for_one_bar_is_refused_with_the_minimum(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"duration_s=6 is too short for 4/4 at 40 BPM: a clip needs at "
                                                r"least 14\.8 s"):
        generate("ambient drone at 40 BPM", tmp_path / "x", options={"duration_s": 6})
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("name", "value"), [("genre", "x" * 65), ("genre", ""), ("genre", 7),
                                             ("analysis_backend", "b" * 500)])
def test_name_options_have_a_length_limit(tmp_path: Path, name: str, value: object) -> None:
    with pytest.raises(InvalidInputError, match=f"{name} must be a name of 1 to 64 characters"):
        generate("house", tmp_path / "x", options={name: value})
