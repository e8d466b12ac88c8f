"""Synthesised drums and 808 sub, measured as a producer would: pitch sweeps, spectra, onsets, stereo, bytes."""

from __future__ import annotations

import numpy as np
import pytest

from mage_bridge.generate import electronic
from mage_bridge.generate.metre import PPQ, Metre
from mage_bridge.generate.score import Note, Part, Score

RATE = 48_000


def score_of(*parts: Part, bpm: float = 120.0, bars: int = 4, style: str = "trap") -> Score:
    frames = int(round(bars * 4 * 60.0 / bpm * RATE))
    return Score(bpm=bpm, metre=Metre(4, 4), sample_rate=RATE, total_frames=frames, lead_in_bars=0, body_bars=bars,
                 tonic_pc=1, mode="minor", drum_style=style, swing=0.0, progression=(), parts=parts)


def drums(*notes: Note) -> Part:
    return Part(name="drums", role="drums", stem="drums", channel=9, bank=128, program=25, notes=notes, volume=127)


def bass(*notes: Note) -> Part:
    return Part(name="808", role="bass", stem="bass", channel=0, bank=0, program=38, notes=notes, volume=127)


def cycle_hz(x: np.ndarray, at_s: float) -> float:
    """The frequency of the cycle around ``at_s``, from the rising zero crossings either side of it."""
    rising = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
    i = int(np.searchsorted(rising, at_s * RATE))
    return RATE / float(rising[i] - rising[i - 1])


def test_808_kick_falls_from_above_120_hz_to_about_50_hz_within_100_ms() -> None:
    kick = electronic.one_shot("tr808", 36, RATE).astype(np.float64)
    assert cycle_hz(kick, 0.008) > 120.0
    assert 44.0 < cycle_hz(kick, 0.11) < 56.0
    assert 44.0 < cycle_hz(kick, 0.3) < 52.0
    decay_s = np.nonzero(np.abs(kick) > 0.1 * np.abs(kick).max())[0][-1] / RATE
    assert decay_s > 0.6  # the 808's long boom
    nine = electronic.one_shot("tr909", 36, RATE).astype(np.float64)
    assert cycle_hz(nine, 0.006) > 150.0 and np.nonzero(np.abs(nine) > 0.1 * np.abs(nine).max())[0][-1] / RATE < 0.5


@pytest.mark.parametrize("engine", ["tr808", "tr909"])
@pytest.mark.parametrize("key", [42, 44, 46])
def test_hats_live_above_6_khz(engine: str, key: int) -> None:
    hat = electronic.one_shot(engine, key, RATE).astype(np.float64)
    power = np.abs(np.fft.rfft(hat)) ** 2
    freqs = np.fft.rfftfreq(len(hat), 1 / RATE)
    assert power[freqs > 6000].sum() / power.sum() > 0.9


def test_snare_and_clap_have_their_body_where_a_snare_and_a_clap_do() -> None:
    for key, low, high in ((38, 150.0, 10000.0), (39, 700.0, 3000.0)):
        x = electronic.one_shot("tr808", key, RATE).astype(np.float64)
        power = np.abs(np.fft.rfft(x)) ** 2
        freqs = np.fft.rfftfreq(len(x), 1 / RATE)
        assert power[(freqs > low) & (freqs < high)].sum() / power.sum() > 0.7, key


def first_sound(x: np.ndarray, after: int = 0) -> int:
    y = np.abs(x[after:])
    return after + int(np.argmax(y > 1e-3 * y.max()))


@pytest.mark.parametrize("key", [36, 39, 38, 42])
def test_hits_land_on_the_frame_of_their_note(key: int) -> None:
    ticks = (PPQ * 3 + 37, PPQ * 9 + 101)  # off the grid on purpose
    score = score_of(drums(*(Note(t, PPQ // 4, key, 127) for t in ticks)))
    x = electronic.render_drums(score.parts, score, engine="tr808")[0]
    first = first_sound(x)
    assert abs(first - score.frame(ticks[0])) <= RATE // 1000
    second = first_sound(x - electronic.render_drums((drums(Note(ticks[0], PPQ // 4, key, 127)),), score,
                                                     engine="tr808")[0])
    assert abs(second - score.frame(ticks[1])) <= RATE // 1000


def test_velocity_sets_the_level_and_the_part_volume_scales_it() -> None:
    loud = score_of(drums(Note(0, PPQ, 38, 127)))
    soft = score_of(drums(Note(0, PPQ, 38, 64)))
    a = np.abs(electronic.render_drums(loud.parts, loud, engine="tr909")).max()
    b = np.abs(electronic.render_drums(soft.parts, soft, engine="tr909")).max()
    assert 20 * np.log10(b / a) == pytest.approx(20 * np.log10(electronic.velocity_gain(64)), abs=0.01)
    assert -10.0 < 20 * np.log10(b / a) < -7.0


def test_stereo_image_kick_centred_hats_apart_by_level_never_in_anti_phase() -> None:
    score = score_of(drums(Note(0, PPQ, 36, 120), Note(PPQ, PPQ, 42, 100), Note(2 * PPQ, PPQ, 46, 100)))
    x = electronic.render_drums(score.parts, score, engine="tr808").astype(np.float64)
    kick = x[:, : score.frame(PPQ)]
    assert np.array_equal(kick[0], kick[1])
    hats = x[:, score.frame(PPQ):]
    assert not np.array_equal(hats[0], hats[1])
    corr = float(np.sum(hats[0] * hats[1]) / np.sqrt(np.sum(hats[0] ** 2) * np.sum(hats[1] ** 2)))
    assert corr > 0.99


def test_a_closed_hat_chokes_the_open_hat() -> None:
    open_only = score_of(drums(Note(0, PPQ, 46, 110)))
    choked = score_of(drums(Note(0, PPQ, 46, 110), Note(PPQ // 2, PPQ // 4, 42, 1)))
    a = electronic.render_drums(open_only.parts, open_only, engine="tr909")[0]
    b = electronic.render_drums(choked.parts, choked, engine="tr909")[0]
    after = choked.frame(PPQ // 2) + int(0.05 * RATE)
    assert np.abs(a[after:after + 4800]).max() > 0.01
    assert np.abs(b[after:after + 4800]).max() < 0.2 * np.abs(a[after:after + 4800]).max()


def dominant_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[np.argmax(spectrum)])


def test_the_sub_plays_the_bass_notes_fundamental_not_the_kick() -> None:
    # G#1 (51.9 Hz) then C#2 (69.3 Hz), two bars apart; the kick plays every beat.
    line = bass(Note(0, PPQ * 4, 32, 120), Note(PPQ * 8, PPQ * 4, 37, 120))
    score = score_of(drums(*(Note(PPQ * b, PPQ // 2, 36, 127) for b in range(16))), line)
    assert electronic.sub_octaves(line.notes) == 0
    sub = electronic.render_sub((line,), score).astype(np.float64)
    assert np.array_equal(sub[0], sub[1])
    first = sub[0, score.frame(PPQ // 2):score.frame(PPQ * 4)]
    second = sub[0, score.frame(PPQ * 8 + PPQ // 2):score.frame(PPQ * 12)]
    assert dominant_hz(first) == pytest.approx(51.91, abs=1.5)
    assert dominant_hz(second) == pytest.approx(69.30, abs=1.5)
    # Silent between the notes although the kick plays there: the sub follows the bass, not the drums.
    gap = sub[0, score.frame(PPQ * 5):score.frame(PPQ * 8)]
    assert np.abs(gap).max() < 1e-6
    assert abs(first_sound(sub[0], score.frame(PPQ * 6)) - score.frame(PPQ * 8)) <= RATE // 1000


def test_a_high_bass_line_drops_by_octaves_and_tied_notes_glide() -> None:
    line = bass(Note(0, PPQ * 2, 49, 120), Note(PPQ * 2, PPQ * 2, 44, 120))  # C#3, G#2: median 113 Hz
    assert electronic.sub_octaves(line.notes) == 1
    score = score_of(line)
    sub = electronic.render_sub((line,), score)[0].astype(np.float64)
    assert dominant_hz(sub[score.frame(PPQ // 2):score.frame(PPQ * 2)]) == pytest.approx(69.30, abs=1.5)
    tie = score.frame(PPQ * 2)
    assert cycle_hz(sub, (tie + 0.01 * RATE) / RATE) > 57.0  # still gliding down from the first note
    assert dominant_hz(sub[tie + RATE // 10: score.frame(PPQ * 4)]) == pytest.approx(51.91, abs=1.5)
    apart = bass(Note(0, PPQ * 3 // 2, 49, 120), Note(PPQ * 2, PPQ * 2, 44, 120))  # not tied: no glide
    sub = electronic.render_sub((apart,), score_of(apart))[0].astype(np.float64)
    assert cycle_hz(sub, (tie + 0.01 * RATE) / RATE) < 57.0


def test_same_score_same_bytes_and_cached_one_shots_are_read_only() -> None:
    score = score_of(drums(*(Note(PPQ * i // 2, PPQ // 4, k, 90 + i) for i, k in enumerate([36, 42, 39, 42, 36, 46]))))
    a = electronic.render_drums(score.parts, score, engine="tr808")
    electronic.one_shot.cache_clear()
    b = electronic.render_drums(score.parts, score, engine="tr808")
    assert a.dtype == np.float32 and a.shape == (2, score.total_frames)
    assert a.tobytes() == b.tobytes()
    with pytest.raises(ValueError):
        electronic.one_shot("tr808", 36, RATE)[0] = 1.0
    with pytest.raises(ValueError, match="no voice"):
        electronic.one_shot("tr909", 56, RATE)
