"""The per-genre mix: presets chosen by genre and style, drive, sidechain, reverb send, bus glue, PLR."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mage_bridge import api
from mage_bridge import audio as audio_io
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.audio import mix
from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.mix import CEILING_DBTP, TARGET_LUFS, mix_stems
from mage_bridge.generate.mixchain import kick_frames, process_stem, reverb_return
from mage_bridge.generate.mixpresets import (
    DEFAULT,
    PRESETS,
    STYLE_PRESETS,
    MixPreset,
    ReverbSettings,
    preset_for,
)
from mage_bridge.generate.procedural import ProceduralGenerator
from mage_bridge.genres import GENRES

RATE = 48_000
#: No drive, EQ, compressor, trim, send or duck on any stem: the plain chain.
PLAIN = MixPreset("plain")


def _residual_db(error: np.ndarray, reference: np.ndarray) -> float:
    return 10.0 * math.log10(float(np.sum(error ** 2)) / float(np.sum(reference ** 2)))


def _centroid_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x.mean(axis=0).astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1.0 / RATE)
    return float(np.sum(freqs * spectrum) / np.sum(spectrum))


def _analysis(genre: str, bpm: float) -> PromptAnalysis:
    return PromptAnalysis(prompt=genre, genre=genre, bpm=bpm, key="A", mode="minor", time_signature=(4, 4))


def _kick_drums(seconds: float, every_s: float) -> tuple[np.ndarray, list[int]]:
    """Kick-like bursts (a 55 Hz sine with a 120 ms decay) every ``every_s``, plus their frames."""
    n = int(seconds * RATE)
    x = np.zeros(n)
    t = np.arange(int(0.25 * RATE)) / RATE
    burst = 0.8 * np.sin(2 * np.pi * 55.0 * t) * np.exp(-t / 0.12)
    starts = list(range(int(0.5 * RATE), n - burst.size, int(every_s * RATE)))
    for s in starts:
        x[s: s + burst.size] += burst
    return np.stack([x, x]).astype(np.float32), starts


@pytest.mark.parametrize("genre, style, expected", [
    ("deep house", "four_on_floor", "club"), ("techno", "four_on_floor", "club"), ("metal", "rock", "metal"),
    ("jazz", "swing_ride", "jazz"), ("trap", "trap", "trap"), ("ambient", "none", "ambient"),
    (None, "four_on_floor", "club"), ("no such genre", "", "default"), (None, "", "default"),
], ids=lambda v: str(v))
def test_preset_is_chosen_by_genre_then_style(genre: str | None, style: str, expected: str) -> None:
    assert preset_for(genre, style).name == expected


def test_every_genre_and_style_has_a_preset() -> None:
    for genre in GENRES:
        assert preset_for(genre.name, genre.drum_style).name in PRESETS
    assert set(STYLE_PRESETS.values()) <= set(PRESETS)
    assert preset_for("metal").chain("other").drive is not None
    assert preset_for("house").chain("bass").duck_db > 0.0
    assert (preset_for("ambient").chain("other").reverb_send_db or -99) > (preset_for("trap").chain("other")
                                                                             .reverb_send_db or -99)


def test_reverb_return_is_linear_so_returns_sum_to_a_bus_reverb(rng: np.random.Generator) -> None:
    a = (0.1 * rng.standard_normal((2, 2 * RATE))).astype(np.float32)
    b = np.zeros((2, 2 * RATE), dtype=np.float32)
    b[:, RATE // 2] = 0.9
    settings = ReverbSettings(room_size=0.8)
    bus = reverb_return(a + b, settings, sample_rate=RATE)
    summed = reverb_return(a, settings, sample_rate=RATE) + reverb_return(b, settings, sample_rate=RATE)
    assert _residual_db(summed - bus, bus) < -60.0


def test_reverb_send_adds_a_tail() -> None:
    n = 3 * RATE
    x = np.zeros((2, n), dtype=np.float32)
    t = np.arange(int(0.05 * RATE)) / RATE
    x[:, RATE // 2: RATE // 2 + t.size] = 0.5 * np.sin(2 * np.pi * 1000.0 * t)  # a 50 ms tone burst, then silence
    wet, report = mix_stems({"other": x}, sample_rate=RATE, genre="ambient")
    dry, _ = mix_stems({"other": x}, sample_rate=RATE, preset=PLAIN)
    assert report.preset.name == "ambient"

    def tail_db(y: np.ndarray) -> float:
        burst = float(np.mean(y[:, RATE // 2: RATE // 2 + t.size] ** 2))
        after = float(np.mean(y[:, int(0.8 * RATE): int(1.5 * RATE)] ** 2))
        return 10.0 * math.log10(max(after, 1e-30) / burst)

    assert tail_db(wet["other"].samples) > -40.0  # the room rings on 250-1000 ms after the burst
    assert tail_db(dry["other"].samples) < -80.0


def test_sidechain_ducks_the_bass_after_each_kick_in_house() -> None:
    seconds, every = 8.0, 0.5  # four on the floor at 120 BPM
    drums, starts = _kick_drums(seconds, every)
    n = drums.shape[1]
    bass_tone = 0.2 * np.sin(2 * np.pi * 110.0 * np.arange(n) / RATE)
    bass = np.stack([bass_tone, bass_tone]).astype(np.float32)
    found = kick_frames(drums, sample_rate=RATE)
    assert len(found) == len(starts)
    assert np.max(np.abs(found - np.asarray(starts))) < 0.01 * RATE

    def dip_db(genre: str, style: str) -> tuple[float, object]:
        stems, report = mix_stems({"drums": drums, "bass": bass}, sample_rate=RATE, genre=genre, style=style)
        # The bass relative to the drums: the bus gain curves (glue, limiter) act on both alike.
        y = stems["bass"].samples[0].astype(np.float64)
        right_after = [float(np.sqrt(np.mean(y[s + int(0.005 * RATE): s + int(0.03 * RATE)] ** 2)))
                       for s in starts[2:-2]]
        before_next = [float(np.sqrt(np.mean(y[s + int(0.4 * RATE): s + int(0.49 * RATE)] ** 2)))
                       for s in starts[2:-2]]
        return 20.0 * math.log10(float(np.median(before_next)) / float(np.median(right_after))), report

    house, report = dip_db("house", "four_on_floor")
    jazz, _ = dip_db("jazz", "swing_ride")
    assert report.kicks == len(starts)  # type: ignore[attr-defined]
    assert house > 3.0
    assert house > jazz + 3.0  # the dip is the sidechain, not the bus glue both share


@pytest.fixture(scope="module")
def metal_render() -> dict[str, np.ndarray]:
    from mage_bridge.generate.compose import compose
    from mage_bridge.generate.render import render_stems

    generator = ProceduralGenerator()
    score = compose(_analysis("metal", 150.0), seed=0, duration_s=12.0, lead_in_bars=1, sample_rate=RATE)
    return render_stems(score, soundfont=generator.soundfont, parallel=True)


def test_metal_guitars_are_driven_brighter_than_the_plain_chain(metal_render: dict[str, np.ndarray]) -> None:
    metal, report = mix_stems(metal_render, sample_rate=RATE, genre="metal", style="rock")
    plain, _ = mix_stems(metal_render, sample_rate=RATE, preset=PLAIN)
    assert report.details()["chains"]["other"]["drive"]["drive_db"] > 10.0
    assert _centroid_hz(metal["other"].samples) > 1.3 * _centroid_hz(plain["other"].samples)


def test_mix_stage_is_deterministic(metal_render: dict[str, np.ndarray]) -> None:
    first, _ = mix_stems(metal_render, sample_rate=RATE, genre="metal", style="rock")
    second, _ = mix_stems(metal_render, sample_rate=RATE, genre="metal", style="rock")
    for name in first:
        assert first[name].samples.tobytes() == second[name].samples.tobytes()


@pytest.mark.parametrize("genre, bpm", [("house", 124.0), ("trap", 140.0), ("metal", 150.0), ("jazz", 120.0),
                                        ("ambient", 80.0)])
def test_plr_is_a_records_at_the_target_loudness(genre: str, bpm: float) -> None:
    clip = ProceduralGenerator().generate(GenerateRequest(analysis=_analysis(genre, bpm), seed=0, duration_s=16.0))
    m = mix(clip.stems)
    loudness, peak = integrated_loudness(m), true_peak_dbtp(m)
    assert abs(loudness - TARGET_LUFS) <= 0.5
    assert peak <= CEILING_DBTP
    assert 8.0 <= peak - loudness <= 13.0
    assert clip.details["mix"]["preset"] == preset_for(genre).name


@pytest.mark.parametrize("genre", ["house", "metal"])
def test_written_stems_sum_to_the_written_mix_through_the_full_chain(tmp_path, genre: str) -> None:
    manifest = api.generate(f"{genre} track", tmp_path / "clip", seed=5, backend="procedural",
                            options={"genre": genre, "bpm": 124, "key": "E", "mode": "minor", "duration_s": 8})
    data = json.loads(manifest.read_text())
    folder = manifest.parent
    stems = [audio_io.load(folder / name).samples.astype(np.float64) for name in data["stems"].values()]
    written = audio_io.load(folder / data["mix"]).samples.astype(np.float64)
    assert _residual_db(np.sum(stems, axis=0) - written, written) < -60.0
    details = data["backend"]["mix"]
    assert details["preset"] == preset_for(genre).name
    assert set(details["chains"]) >= {"drums", "bass", "other"}
    assert details["reverb"]["room_size"] == preset_for(genre).reverb.room_size
    if genre == "house":
        assert details["sidechain"]["kicks"] >= 4 and details["chains"]["bass"]["duck_db"] > 0
    else:
        assert details["chains"]["other"]["drive"]["drive_db"] > 0


def test_default_preset_names_every_stem() -> None:
    assert set(DEFAULT.stems) == {"drums", "bass", "other", "vocals"}


def test_drive_and_compressor_leave_no_dc_on_an_asymmetric_808() -> None:
    n = 8 * RATE
    t = np.arange(n) / RATE
    wave = np.sin(2 * np.pi * 45.0 * t) + 0.6 * np.sin(2 * np.pi * 90.0 * t + np.pi / 2)  # peaks one way
    notes = np.exp(-(t % 0.5) / 0.25)  # a note every 500 ms, decaying: the compressor's gain moves
    bass = np.stack([0.3 * wave * notes] * 2).astype(np.float32)
    bass -= bass.mean(axis=1, keepdims=True)
    chain = preset_for("trap").chain("bass")
    assert chain.drive is not None and chain.compressor_threshold_rms_db is not None
    y, _ = process_stem(bass, chain, sample_rate=RATE)
    ratio = abs(float(y.mean(dtype=np.float64))) / float(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
    assert ratio < 1e-3  # a mean under 0.1 % of the RMS: the DC blocks after drive and compressor


def test_a_drumless_piano_ballad_keeps_a_readable_tempo() -> None:
    from mage_bridge.measure import measure_tempo

    analysis = PromptAnalysis(prompt="ballad with piano, cello, no drums", genre="ballad", bpm=76.0, key="C",
                              mode="minor", time_signature=(4, 4), instruments=("piano", "cello"),
                              exclude_instruments=("drums",))
    clip = ProceduralGenerator().generate(GenerateRequest(analysis=analysis, seed=0, duration_s=32.0))
    assert "drums" not in clip.stems and clip.details["mix"]["preset"] == "ballad"
    tempo = measure_tempo(mix(clip.stems), time_signature=analysis.time_signature)
    assert abs(tempo.bpm - analysis.bpm) <= 0.02 * analysis.bpm  # the ambient wash read 209 BPM
