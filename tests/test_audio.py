from __future__ import annotations

import numpy as np
import pytest

from mage_bridge import audio
from mage_bridge.audio import Audio
from mage_bridge.errors import AudioFileError, InvalidAudioError, MageError, OutputExistsError
from tests.signals import RATE, sine


@pytest.mark.parametrize(
    "samples",
    [np.zeros(10), np.zeros((3, 10)), np.zeros((2, 4, 5)), np.array([[np.nan, 0.0]])],
    ids=["1-D", "3-channels", "3-D", "nan"],
)
def test_audio_rejects_bad_shapes_and_values(samples: np.ndarray) -> None:
    with pytest.raises(InvalidAudioError):
        Audio(samples, RATE)


@pytest.mark.parametrize("rate", [0, -48000, 44100.5], ids=["zero", "negative", "float"])
def test_audio_rejects_bad_rate(rate: float) -> None:
    with pytest.raises(InvalidAudioError, match="sample_rate"):
        Audio(np.zeros((2, 10)), rate)  # type: ignore[arg-type]


def test_audio_is_float32_and_read_only() -> None:
    a = Audio(np.ones((1, 4), dtype=np.float64), RATE)
    assert a.samples.dtype == np.float32
    with pytest.raises(ValueError):
        a.samples[0, 0] = 2.0
    assert a.to_stereo().channels == 2
    np.testing.assert_array_equal(a.to_stereo().samples[0], a.to_stereo().samples[1])


def test_errors_inherit_builtins() -> None:
    assert issubclass(InvalidAudioError, ValueError) and issubclass(InvalidAudioError, MageError)
    assert issubclass(OutputExistsError, FileExistsError)


def test_silence_peak_is_minus_inf_not_nan() -> None:
    assert Audio.silence(100, RATE).peak_dbfs() == float("-inf")


@pytest.mark.parametrize("suffix,subtype,tolerance", [
    (".wav", "float", 0.0), (".wav", "pcm24", 2e-7), (".wav", "pcm16", 5e-5), (".flac", "pcm24", 2e-7),
], ids=["wav-float", "wav-24", "wav-16", "flac-24"])
def test_save_load_round_trip(tmp_path, suffix: str, subtype: str, tolerance: float) -> None:
    a = sine(440.0, 0.25)
    path = audio.save(a, tmp_path / f"x{suffix}", subtype=subtype)
    b = audio.load(path)
    assert b.sample_rate == RATE and b.samples.shape == a.samples.shape
    assert np.max(np.abs(a.samples - b.samples)) <= tolerance


def test_save_never_overwrites_unless_asked(tmp_path) -> None:
    path = audio.save(sine(440.0, 0.1), tmp_path / "x.wav")
    with pytest.raises(OutputExistsError):
        audio.save(sine(220.0, 0.1), path)
    audio.save(sine(220.0, 0.1), path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.wav"]  # no temp files left


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00\x00\x00WAVEfmt garbage", b"\x00" * 1000],
                         ids=["empty", "corrupt-header", "zeros"])
def test_load_corrupt_files_give_clear_errors(tmp_path, content: bytes) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(MageError, match="bad.wav"):
        audio.load(path)


def test_load_truncated_wav_reads_what_is_there_or_fails_cleanly(tmp_path) -> None:
    path = audio.save(sine(440.0, 0.5), tmp_path / "x.wav", subtype="pcm16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    try:
        b = audio.load(path)
    except MageError:
        return
    assert 0 < b.frames <= int(0.5 * RATE)


def test_load_missing_file(tmp_path) -> None:
    with pytest.raises(AudioFileError, match="not found"):
        audio.load(tmp_path / "nope.wav")


def test_mix_sums_and_refuses_mismatched_rates() -> None:
    a, b = sine(440.0, 0.1), sine(660.0, 0.1)
    m = audio.mix({"a": a, "b": b})
    np.testing.assert_allclose(m.samples, a.samples + b.samples, atol=1e-7)
    with pytest.raises(InvalidAudioError, match="44100"):
        audio.mix({"a": a, "b": sine(440.0, 0.1, rate=44100)})


def test_time_helpers_round_trip() -> None:
    assert audio.seconds_to_frames(1.5, RATE) == 72000
    assert audio.frames_to_seconds(72000, RATE) == 1.5
