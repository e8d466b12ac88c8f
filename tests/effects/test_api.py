"""The file-level API and CLI: mastering accuracy on written files, conversions, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mage_bridge import api
from mage_bridge import audio as audio_io
from mage_bridge.api import checks
from mage_bridge.audio import Audio
from mage_bridge.cli import main
from mage_bridge.config import BackendChoice, Config
from mage_bridge.effects.loudness import integrated_loudness, true_peak_dbtp
from mage_bridge.errors import InvalidAudioError, InvalidInputError, OutputExistsError
from tests.effects.synth import song
from tests.signals import RATE, sine


@pytest.fixture(scope="module")
def music_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in")
    mix = song(10.0, np.random.default_rng(5))
    # A hot mix with inter-sample peaks, so the limiter has work at -14 LUFS.
    hot = Audio(mix.samples * np.float32(2.5), RATE)
    return audio_io.save(hot, folder / "song.wav", subtype="float")


@pytest.fixture
def config(tmp_path):
    return Config(data_dir=tmp_path / "data", models_dir=tmp_path / "models")


def _listing(folder):
    """What lies in ``folder``, less the config's data folder (where the clip library records results)."""
    return sorted(p.name for p in folder.iterdir() if p.name != "data")


@pytest.mark.parametrize(("suffix", "subtype", "tolerance_lu"), [
    (".wav", "pcm24", 0.3), (".wav", "pcm16", 0.3), (".flac", "pcm24", 0.3), (".mp3", "pcm24", 0.5),
], ids=["wav24", "wav16", "flac", "mp3"])
def test_master_written_file_meets_targets(music_file, tmp_path, config, suffix, subtype, tolerance_lu):
    out = tmp_path / f"master{suffix}"
    manifest_path = api.master(music_file, out, subtype=subtype, config=config)
    decoded = audio_io.load(out)
    assert decoded.sample_rate == 48_000 and decoded.channels == 2
    assert integrated_loudness(decoded) == pytest.approx(-14.0, abs=tolerance_lu)
    assert true_peak_dbtp(decoded) <= -1.0
    data = json.loads(manifest_path.read_text())
    assert data["kind"] == "master" and data["output"] == out.name
    assert data["measured"]["true_peak_dbtp"] <= -1.0
    assert data["backend"]["max_limiter_reduction_db"] > 0.0
    assert _listing(tmp_path) == sorted([out.name, manifest_path.name])


def test_master_a_generated_clip(tmp_path, config):
    clip = api.generate("house groove at 124 BPM", tmp_path / "clip", seed=3, options={"duration_s": 8.0},
                        config=config)
    out = tmp_path / "clip.wav"
    api.master(clip.parent / "mix.wav", out, config=config)
    decoded = audio_io.load(out)
    assert integrated_loudness(decoded) == pytest.approx(-14.0, abs=0.3)
    assert true_peak_dbtp(decoded) <= -1.0


def test_master_mono_44k_is_converted_with_notes(tmp_path, config):
    src = audio_io.save(Audio(sine(440.0, 4.0, amplitude=0.1, rate=44_100).samples[:1], 44_100), tmp_path / "m.wav")
    manifest_path = api.master(src, tmp_path / "out.wav", preset="apple", config=config)
    decoded = audio_io.load(tmp_path / "out.wav")
    assert (decoded.sample_rate, decoded.channels, decoded.frames) == (48_000, 2, 192_000)
    assert integrated_loudness(decoded) == pytest.approx(-16.0, abs=0.3)
    notes = " ".join(json.loads(manifest_path.read_text())["notes"])
    assert "44100 Hz to 48000 Hz" in notes and "mono" in notes


def test_master_silence_stays_silent(tmp_path, config):
    src = audio_io.save(Audio.silence(RATE, RATE), tmp_path / "silence.wav")
    manifest_path = api.master(src, tmp_path / "out.wav", config=config)
    assert not audio_io.load(tmp_path / "out.wav").samples.any()
    assert json.loads(manifest_path.read_text())["measured"]["loudness_lufs"] is None


def _corrupt(path):
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    return path


def _truncated(path):
    audio_io.save(sine(440.0, 2.0), path)
    data = path.read_bytes()
    path.write_bytes(data[:30])  # the header itself is cut
    return path


def _empty(path):
    path.write_bytes(b"")
    return path


def _text(path):
    path.write_text("this is not audio\n" * 100)
    return path


@pytest.mark.parametrize("make", [_corrupt, _truncated, _empty, _text], ids=["corrupt", "truncated", "empty", "text"])
@pytest.mark.parametrize("job", ["master", "separate", "export"])
def test_bad_inputs_fail_clearly_and_write_nothing(tmp_path, config, make, job):
    src = make(tmp_path / ("in.txt" if make is _text else "in.wav"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(InvalidAudioError, match="in\\."):
        if job == "separate":
            api.separate(src, out_dir / "stems", config=config)
        else:
            getattr(api, job)(src, out_dir / "x.wav", config=config)
    assert _listing(out_dir) == []


def test_truncated_data_is_read_as_far_as_it_goes(tmp_path, config):
    path = tmp_path / "cut.wav"
    audio_io.save(sine(440.0, 2.0), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # header intact, samples cut: libsndfile reads what is there
    api.export(path, tmp_path / "cut.flac", config=config)
    assert 0 < audio_io.load(tmp_path / "cut.flac").frames <= RATE * 2


def test_huge_input_is_refused_before_decoding(tmp_path, config, monkeypatch):
    src = audio_io.save(sine(440.0, 3.0), tmp_path / "long.wav")
    monkeypatch.setattr(checks, "MAX_INPUT_DURATION_S", 2.999)  # one millisecond short
    with pytest.raises(InvalidAudioError, match=r"lasts 0:03\.000; the limit is 0:02\.999"):
        api.master(src, tmp_path / "out.wav", config=config)
    assert not (tmp_path / "out.wav").exists()


def test_targets_are_checked_before_any_work(tmp_path, config, music_file):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError):
        api.separate(music_file, tmp_path / "taken", config=config)
    existing = tmp_path / "done.wav"
    existing.write_bytes(b"not yours")
    with pytest.raises(OutputExistsError):
        api.master(music_file, existing, config=config)
    assert existing.read_bytes() == b"not yours"
    with pytest.raises(InvalidInputError, match=".ogg"):
        api.export(music_file, tmp_path / "x.ogg", config=config)
    with pytest.raises(InvalidInputError, match="subtype"):
        api.export(music_file, tmp_path / "x.flac", subtype="float", config=config)
    with pytest.raises(InvalidInputError, match="lufs"):
        api.master(music_file, tmp_path / "y.wav", target_lufs=3.0, config=config)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["done.wav", "taken"]


def test_overwrite_replaces_when_asked(tmp_path, config, music_file):
    out = tmp_path / "o.wav"
    api.export(music_file, out, config=config)
    api.export(music_file, out, subtype="pcm16", overwrite=True, config=config)
    assert audio_io.probe(out).frames == 480_000


@pytest.mark.parametrize(("suffix", "subtype"), [(".wav", "float"), (".wav", "pcm16"), (".flac", "pcm24"),
                                                 (".mp3", "pcm24")], ids=["float", "pcm16", "flac", "mp3"])
def test_export_formats_are_48k_stereo(tmp_path, config, suffix, subtype):
    src = audio_io.save(Audio(sine(1000.0, 1.0, amplitude=0.5, rate=44_100).samples[:1], 44_100),
                        tmp_path / "in.wav")
    out = tmp_path / f"out{suffix}"
    api.export(src, out, subtype=subtype, config=config)
    info = audio_io.probe(out)
    assert (info.sample_rate, info.channels) == (48_000, 2)
    assert integrated_loudness(audio_io.load(out)) == pytest.approx(
        integrated_loudness(audio_io.load(src).to_stereo()), abs=0.1)


def test_separate_writes_stems_and_manifest(tmp_path, config, music_file):
    manifest_path = api.separate(music_file, tmp_path / "stems", backend="dsp", config=config)
    data = json.loads(manifest_path.read_text())
    assert data["stems"] == {n: f"{n}.wav" for n in ("vocals", "drums", "bass", "other")}
    assert data["backend"]["name"] == "dsp"
    assert _listing(tmp_path / "stems") == ["bass.wav", "drums.wav", "manifest.json", "other.wav", "vocals.wav"]
    assert _listing(tmp_path) == ["stems"]  # no staging folder left behind


def test_enhance_a_stem_folder_and_a_single_file(tmp_path, config, music_file):
    stems = api.separate(music_file, tmp_path / "stems", backend="dsp", config=config).parent
    manifest_path = api.enhance(stems, tmp_path / "enhanced", options={"genre": "house"}, config=config)
    data = json.loads(manifest_path.read_text())
    assert data["backend"]["genre_preset"] == "house" and len(data["stems"]) == 4
    single = api.enhance(stems / "vocals.wav", tmp_path / "v.wav", config=config)
    assert json.loads(single.read_text())["backend"]["stem"] == "vocals"
    with pytest.raises(InvalidInputError, match="option"):
        api.enhance(stems / "vocals.wav", tmp_path / "w.wav", options={"loudness": 1}, config=config)


def test_cli_master_and_separate(tmp_path, music_file, capsys, monkeypatch):
    monkeypatch.setenv("MAGE_MODELS_DIR", str(tmp_path / "models"))
    out = tmp_path / "cli.wav"
    assert main(["master", str(music_file), "-o", str(out), "--lufs", "-16", "--true-peak", "-1.5", "-q"]) == 0
    decoded = audio_io.load(out)
    assert integrated_loudness(decoded) == pytest.approx(-16.0, abs=0.3)
    assert true_peak_dbtp(decoded) <= -1.5
    assert main(["separate", str(music_file), "--out", str(tmp_path / "s"), "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "s").glob("*.wav")) == ["bass.wav", "drums.wav", "other.wav",
                                                                      "vocals.wav"]
    capsys.readouterr()
    assert main(["master", str(tmp_path / "nope.wav"), "-o", str(tmp_path / "x.wav")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mage-bridge: error:") and "not found" in err[0]


def _recorder():
    seen: list[tuple[str, float]] = []
    return seen, lambda stage, fraction: seen.append((stage, fraction))


def test_master_reports_movement_through_every_pass(tmp_path, config):
    """A minute of music: the gain rounds and the final render report fractions, not only their ends."""
    src = audio_io.save(song(60.0, np.random.default_rng(2)), tmp_path / "long.wav")
    seen, record = _recorder()
    api.master(src, tmp_path / "out.wav", config=config, progress=record)
    master = [f for stage, f in seen if stage == "master"]
    assert master == sorted(master) and master[0] == 0.0 and master[-1] == 1.0
    assert len([f for f in master if 0.3 < f < 1.0]) >= 8  # the chain itself says nothing between 0.3 and 1
    assert len([f for f in master if 0.8 <= f < 1.0]) >= 2  # the final render moves too
    assert [stage for stage, _ in seen if stage != "master"] == ["load", "load", "write", "write"]


def test_enhance_reports_fractions_while_it_streams(tmp_path, config):
    src = audio_io.save(song(40.0, np.random.default_rng(4)), tmp_path / "vocals.wav")
    seen, record = _recorder()
    api.enhance(src, tmp_path / "v.wav", config=config, progress=record)
    fractions = [f for stage, f in seen if stage == "enhance"]
    assert len(fractions) >= 4 and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_master_takes_the_manifest_names_and_refuses_a_preset_with_a_target(tmp_path, config, music_file):
    path = api.master(music_file, tmp_path / "a.wav", target_lufs=-16.0, true_peak_dbtp=-1.5, config=config)
    request = json.loads(path.read_text())["request"]
    assert (request["target_lufs"], request["true_peak_dbtp"]) == (-16.0, -1.5)
    for given in ({"target_lufs": -16.0}, {"true_peak_dbtp": -2.0}):
        with pytest.raises(InvalidInputError, match="preset 'apple'.*not both"):
            api.master(music_file, tmp_path / "b.wav", preset="apple", config=config, **given)
    with pytest.raises(TypeError):
        api.master(music_file, tmp_path / "b.wav", lufs=-16.0, config=config)  # the old name is gone
    assert not (tmp_path / "b.wav").exists()


@pytest.mark.parametrize("call", [
    lambda src, tmp, config: api.generate("house", tmp / "g", options={"tempo": 120}, config=config),
    lambda src, tmp, config: api.separate(src, tmp / "s", options={"modle": "x"}, config=config),
    lambda src, tmp, config: api.enhance(src, tmp / "e.wav", options={"gain": 3}, config=config),
], ids=["generate", "separate", "enhance"])
def test_unknown_options_are_refused_naming_the_known_ones(tmp_path, config, music_file, call):
    with pytest.raises(InvalidInputError, match=r"unknown \w+ option\(s\) \w+; known: .+, .+"):
        call(music_file, tmp_path, config)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_failing_prompt_analysis_is_an_error_not_the_default_preset(tmp_path, config, music_file):
    with pytest.raises(InvalidInputError, match="prompt is empty"):
        api.enhance(music_file, tmp_path / "e.wav", options={"prompt": "   "}, config=config)
    with pytest.raises(InvalidInputError, match="unknown analysis backend 'nope'"):
        api.enhance(music_file, tmp_path / "e.wav", options={"prompt": "house"},
                    config=Config(data_dir=tmp_path / "d", models_dir=tmp_path / "m",
                                  backends=BackendChoice(analysis="nope")))
    assert not (tmp_path / "e.wav").exists()


def test_backend_none_is_the_configs_choice(tmp_path, music_file):
    config = Config(data_dir=tmp_path / "d", models_dir=tmp_path / "m", backends=BackendChoice(separate="dsp"))
    data = json.loads(api.separate(music_file, tmp_path / "s", config=config).read_text())
    assert data["backend"]["name"] == "dsp" and data["request"]["backend"] is None
    wrong = Config(data_dir=tmp_path / "d", models_dir=tmp_path / "m", backends=BackendChoice(separate="nope"))
    with pytest.raises(InvalidInputError, match="unknown separate backend 'nope'"):
        api.separate(music_file, tmp_path / "t", config=wrong)


def test_one_definition_of_each_shared_helper():
    import importlib

    helpers = ("check_output_dir", "check_output_file", "check_input", "jsonable", "clock", "base_manifest")
    for module in ("generate", "separate", "enhance", "master", "export"):
        mod = importlib.import_module(f"mage_bridge.api.{module}")
        own = {name for name, value in vars(mod).items()
               if callable(value) and getattr(value, "__module__", "") == mod.__name__}
        assert not own & {*helpers, *(f"_{h}" for h in helpers)}, module
    assert api.generate.__module__ == "mage_bridge.api.generate" and callable(api.generate)
    from pathlib import Path

    from mage_bridge.api.results import jsonable

    assert jsonable({"ts": (6, 8), "plugins": Path("/x/p.json"), "n": 1}) == {"ts": [6, 8], "plugins": "/x/p.json",
                                                                             "n": 1}


def test_generate_backend_is_a_keyword_checked_before_work(tmp_path, config):
    with pytest.raises(InvalidInputError, match="backend must be a name of 1 to 64 characters"):
        api.generate("house", tmp_path / "x", backend="b" * 500, config=config)
    with pytest.raises(InvalidInputError, match="unknown generate backend 'nope'"):
        api.generate("house", tmp_path / "x", backend="nope", config=config)
    with pytest.raises(InvalidInputError, match="unknown generate option.*backend"):
        api.generate("house", tmp_path / "x", options={"backend": "procedural"}, config=config)
    assert not (tmp_path / "x").exists()
