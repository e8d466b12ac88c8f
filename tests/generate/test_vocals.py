"""The embedded default's sung vocal, measured on the clip folder a producer gets: the ``vocals`` stem's pitch by
librosa's pYIN against the notes in the manifest, its onsets (Praat's tracker) against the timing markers, its
loudness against the mix, and its melody in the clip's MIDI."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import mido
import numpy as np
import pytest
import soundfile as sf

from mage_bridge.api import generate
from mage_bridge.audio import Audio
from mage_bridge.effects.loudness import integrated_loudness
from mage_bridge.generate.procedural import VOCAL_WINDOW_LU
from mage_bridge.lyrics.timing import SyllableTime
from tests.lyrics.vocal_measures import onset_rate, pitch_rate, pyin_track

#: (prompt, lyrics, seed, voice): a written pop lyric for the default female voice, and the user's own words
#: (unicode, blank lines, a word no dictionary has) for a baritone.
CASES = (
    ("pop song about summer love, female vocals", None, 3, "female"),
    ("slow soul ballad with a baritone singer", "[verse]\nCafé lights on the avenue\n\nI hold the "
     "flömbrix close to you\n[chorus]\nStay, stay, the night is new\nSing it back, the sky is blue\n", 5, "baritone"),
)
IDS = [c[3] for c in CASES]


@cache
def _clip(case: int, root: str) -> tuple[dict[str, Any], Path]:
    prompt, lyrics, seed, _ = CASES[case]
    folder = Path(root) / f"clip{case}"
    manifest = generate(prompt, folder, lyrics=lyrics, seed=seed, backend="procedural")
    return json.loads(manifest.read_text(encoding="utf-8")), folder


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("vocals"))


def _vocal(folder: Path, syllables: list[dict[str, Any]]) -> tuple[list[SyllableTime], Audio]:
    samples, rate = sf.read(folder / "vocals.wav", dtype="float32", always_2d=True)
    times = [SyllableTime(s["text"], s["start"], s["end"], s["note"], s["line"], s["section"], s["word"])
             for s in syllables]
    return times, Audio(np.ascontiguousarray(samples.T), rate)


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_the_vocal_sings_the_manifests_notes_on_the_timing_markers(case: int, clips: str) -> None:
    manifest, folder = _clip(case, clips)
    syllables = manifest["lyrics"]["syllables"]
    assert manifest["stems"]["vocals"] == "vocals.wav"
    assert manifest["backend"]["vocal"]["voice"] == CASES[case][3]
    assert all(isinstance(s["note"], int) for s in syllables)
    times, audio = _vocal(folder, syllables)
    on_pitch, voiced = pitch_rate(times, audio, track=pyin_track)
    on_time, measured = onset_rate(times, audio)
    print(f"\n{IDS[case]}: {len(times)} notes; {on_pitch:.1%} of {voiced} voiced notes within 50 cents (pYIN); "
          f"{on_time:.1%} of {measured} measurable onsets within 30 ms (Praat)")
    assert voiced >= 0.8 * len(times)
    assert on_pitch >= 0.9
    assert measured >= 0.5 * len(times)
    assert on_time >= 0.9


@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_the_vocal_sits_in_the_mix_and_its_melody_is_in_the_midi(case: int, clips: str) -> None:
    manifest, folder = _clip(case, clips)
    vocal, rate = sf.read(folder / "vocals.wav", dtype="float32", always_2d=True)
    mix, _ = sf.read(folder / "mix.wav", dtype="float32", always_2d=True)
    vocal_lufs = integrated_loudness(Audio(np.ascontiguousarray(vocal.T), rate))
    mix_lufs = integrated_loudness(Audio(np.ascontiguousarray(mix.T), rate))
    low, high = VOCAL_WINDOW_LU
    print(f"\n{IDS[case]}: vocal {vocal_lufs:.1f} LUFS, mix {mix_lufs:.1f} LUFS, "
          f"peaks {np.max(np.abs(vocal)):.2f} / {np.max(np.abs(mix)):.2f}")
    assert low <= vocal_lufs - mix_lufs <= high
    assert np.max(np.abs(vocal)) < 1.0 and np.max(np.abs(mix)) < 1.0
    sung = [s["note"] for s in manifest["lyrics"]["syllables"]]
    midi = mido.MidiFile(folder / manifest["midi"]["file"])
    tracks = {track.name: [m.note for m in track if m.type == "note_on" and m.velocity] for track in midi.tracks}
    assert tracks["vocals"] == sung
    part = next(p for p in manifest["midi"]["parts"] if p["stem"] == "vocals")
    alone = mido.MidiFile(folder / part["file"])
    assert [m.note for track in alone.tracks for m in track if m.type == "note_on" and m.velocity] == sung


def test_an_instrumental_prompt_gets_no_vocal(tmp_path: Path) -> None:
    manifest = json.loads(generate("instrumental lo-fi hip hop beat", tmp_path / "clip", seed=1,
                                   backend="procedural").read_text(encoding="utf-8"))
    assert "vocals" not in manifest["stems"] and manifest["lyrics"] is None
    assert not (tmp_path / "clip" / "vocals.wav").exists()
    assert all(p["stem"] != "vocals" for p in manifest["midi"]["parts"])
