"""The edit tasks through the API: every option checked before anything loads, a backend without the task
refused with a message naming who can, and the result written as a clip folder with its lineage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mage_bridge import api
from mage_bridge import audio as audio_io
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.api.clips import tempo_warning
from mage_bridge.backends import BackendSpec
from mage_bridge.errors import InvalidInputError, NotSupportedError
from mage_bridge.generate import REGISTRY, backends_for_task
from tests.signals import clicks


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-bar procedural clip at 90 BPM (its manifest's path)."""
    out = tmp_path_factory.mktemp("source") / "clip"
    return api.generate("lo-fi hip hop at 90 bpm in A minor", out, seed=3, backend="procedural",
                        options={"bars": 4})


@pytest.fixture
def keeper(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The ``keeper`` test generator (every task, keeps the source) registered for one test."""
    monkeypatch.setitem(REGISTRY._specs, "keeper", BackendSpec("keeper", "tests.api_edit.keeper:KeeperGenerator"))
    yield "keeper"


def _record(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def test_generate_records_the_measured_tempo_beside_the_requested(clip: Path) -> None:
    m = _record(clip)
    assert m["requested"]["bpm"] == 90.0
    off = abs(m["measured"]["bpm"] - 90.0) > 1.8
    assert m["measured"]["tempo_off"] is off
    assert any("off the requested 90 BPM" in w for w in m["warnings"]) is off


def test_a_result_off_the_requested_tempo_is_flagged(clip: Path, keeper: str, tmp_path: Path) -> None:
    """A source whose manifest asks for 45 BPM while it plays at 90: the kept audio measures double time."""
    import shutil

    folder = tmp_path / "halved"
    shutil.copytree(clip.parent, folder)
    record = _record(clip)
    record["analysis"]["bpm"] = 45.0
    (folder / "manifest.json").write_text(json.dumps(record))
    m = _record(api.repaint(folder / "manifest.json", tmp_path / "out", start_s=0.0, backend=keeper))
    assert m["requested"]["bpm"] == 45.0 and m["measured"]["bpm"] == pytest.approx(90.0, rel=0.02)
    assert m["measured"]["tempo_off"] is True
    assert any("off the requested 45 BPM (it feels double time)" in w for w in m["warnings"]), m["warnings"]


@pytest.mark.parametrize(("requested", "measured", "words"), [
    pytest.param(90.0, 91.7, None, id="within-2%"),
    pytest.param(90.0, 92.0, "2.2 % off", id="just-over"),
    pytest.param(120.0, 60.0, "half time", id="half-time"),
    pytest.param(80.0, 160.0, "double time", id="double-time"),
])
def test_tempo_warning(requested: float, measured: float, words: str | None) -> None:
    text = tempo_warning(requested, measured)
    assert (text is None) if words is None else (text is not None and words in text)


def test_a_backend_without_the_task_is_refused_naming_who_can(clip: Path, keeper: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(NotSupportedError, match=r"'procedural' generator cannot repaint; the .*'keeper'"):
        api.repaint(clip, out, start_s=1.0, end_s=2.0, backend="procedural")
    assert not out.exists() and not list(tmp_path.iterdir())  # refused before anything was written


def test_not_supported_names_the_registered_backends_that_can(clip: Path, tmp_path: Path) -> None:
    can = [n for n in backends_for_task("lego") if n != "procedural"]
    with pytest.raises(NotSupportedError) as e:
        api.lego(clip, tmp_path / "out", track="drums", backend="procedural")
    assert all(f"'{n}'" in str(e.value) for n in can) if can else "no backend here can" in str(e.value)


@pytest.mark.parametrize(("call", "words"), [
    pytest.param(lambda s, o: api.repaint(s, o, start_s=1.0, end_s=99.0), "past the end", id="end-past-source"),
    pytest.param(lambda s, o: api.repaint(s, o, start_s=20.0), "must be before", id="start-past-source"),
    pytest.param(lambda s, o: api.repaint(s, o, start_s=2.0, end_s=1.0), "end_s must be after", id="end-before"),
    pytest.param(lambda s, o: api.repaint(s, o, start_s=-1.0), "start_s must be", id="negative-start"),
    pytest.param(lambda s, o: api.repaint(s, o, start_s=1.0, crossfade_s=1.5), "crossfade_s", id="crossfade"),
    pytest.param(lambda s, o: api.repaint(s, o, start_s=1.0, seed=-1), "seed", id="seed"),
    pytest.param(lambda s, o: api.repaint(s, o, start_s=1.0, backend="nope"), "unknown generate backend",
                 id="backend"),
    pytest.param(lambda s, o: api.lego(s, o, track="kazoo"), "one of woodwinds", id="lego-track"),
    pytest.param(lambda s, o: api.extract(s, o, track="other"), "one of woodwinds", id="extract-track"),
    pytest.param(lambda s, o: api.extend(s, o, side="left"), "side must be", id="side"),
    pytest.param(lambda s, o: api.extend(s, o, bars=100), "an extension runs", id="extend-too-long"),
    pytest.param(lambda s, o: api.extend(s, o, bars=1), "an extension runs", id="extend-too-short"),
    pytest.param(lambda s, o: api.extend(s, o, bars=2, duration_s=8.0), "not both", id="bars-and-duration"),
    pytest.param(lambda s, o: api.extend(s, o, duration_s=500.0), "duration_s must be", id="extend-duration"),
    pytest.param(lambda s, o: api.cover(s, o, prompt=" "), "prompt is empty", id="cover-empty-prompt"),
    pytest.param(lambda s, o: api.cover(s, o, prompt="jazz", strength=2.0), "strength", id="strength"),
])
def test_options_are_checked_before_anything_loads(clip: Path, keeper: str, tmp_path: Path, call: Any,
                                                   words: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(InvalidInputError, match=words):
        call(clip, out)
    assert not list(tmp_path.iterdir())


def test_a_source_that_is_not_a_clip_is_refused(tmp_path: Path, keeper: str) -> None:
    sep = tmp_path / "sep"
    sep.mkdir()
    (sep / "manifest.json").write_text(json.dumps({"schema": "mage-bridge/manifest@1", "kind": "separate",
                                                   "stems": {}}))
    with pytest.raises(InvalidInputError, match="'separate' manifest, not a clip's"):
        api.repaint(sep / "manifest.json", tmp_path / "out", start_s=0.0, backend=keeper)
    audio_io.save(clicks(120.0, 2.0), tmp_path / "beat.wav")
    with pytest.raises(InvalidInputError, match="retake renders a generated clip's request again.* an audio file"):
        api.retake(tmp_path / "beat.wav", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beat.wav", "sep"]


def test_a_manifest_naming_a_file_outside_its_folder_is_refused(clip: Path, keeper: str, tmp_path: Path) -> None:
    m = _record(clip)
    m["mix"] = "../../etc/passwd"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(InvalidInputError, match="not a file in its own folder"):
        api.repaint(bad / "manifest.json", tmp_path / "out", start_s=0.0, backend=keeper)


def test_repaint_writes_a_clip_folder_with_its_lineage(clip: Path, keeper: str, tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    path = api.repaint(clip, tmp_path / "out", start_s=1.0, end_s=3.5, crossfade_s=0.1, seed=7, backend=keeper,
                       progress=lambda s, f: seen.append((s, f)))
    m, source = _record(path), _record(clip)
    assert m["kind"] == "repaint"
    assert m["lineage"] == {"parent": str(clip), "parent_job": source["job_id"], "task": "repaint",
                            "range": [1.0, 3.5]}
    assert m["request"]["options"] == {"start_s": 1.0, "end_s": 3.5, "crossfade_s": 0.1}
    assert m["requested"] == source["requested"] and m["bars"] == source["bars"]
    assert m["backend"]["name"] == "keeper" and m["backend"]["seed"] == 7 and m["backend"]["task"] == "repaint"
    assert isinstance(m["measured"]["tempo_off"], bool) and isinstance(m["warnings"], list)
    for name, file in source["stems"].items():  # the keeper keeps: each stem comes back sample for sample
        assert np.array_equal(audio_io.load(path.parent / m["stems"][name]).samples,
                              audio_io.load(clip.parent / file).samples)
    assert ("load", 1.0) in seen and seen[-1] == ("write", 1.0)


def test_repaint_to_the_end_when_end_s_is_left_out(clip: Path, keeper: str, tmp_path: Path) -> None:
    m = _record(api.repaint(clip, tmp_path / "out", start_s=2.0, backend=keeper))
    assert m["lineage"]["range"] == [2.0, _record(clip)["duration_s"]]


def test_extend_is_whole_bars_of_the_source_tempo(clip: Path, keeper: str, tmp_path: Path) -> None:
    m = _record(api.extend(clip, tmp_path / "out", side="before", duration_s=7.0, backend=keeper))
    bar_s = 4 * 60.0 / 90.0
    assert m["kind"] == "extend" and m["lineage"]["side"] == "before"
    assert m["bars"] == 3 and m["duration_s"] == pytest.approx(3 * bar_s, abs=1e-4)  # 7 s is nearest 3 bars


def test_a_plain_audio_file_is_measured_and_resampled(keeper: str, tmp_path: Path) -> None:
    beat = clicks(120.0, 12.0)
    mono = audio_io.resample(audio_io.Audio(beat.samples[:1], beat.sample_rate), 44_100)
    audio_io.save(mono, tmp_path / "beat.wav")
    m = _record(api.lego(tmp_path / "beat.wav", tmp_path / "out", track="bass", prompt="funk", backend=keeper))
    assert m["kind"] == "lego" and m["lineage"] == {"parent": str(tmp_path / "beat.wav"), "parent_job": None,
                                                    "task": "lego", "track": "bass"}
    assert m["analysis"]["sources"]["bpm"] == "measured"
    assert m["requested"]["bpm"] == pytest.approx(120.0, rel=0.02)
    assert m["sample_rate"] == 48_000 and m["channels"] == 2
    assert any("resampled from 44100 Hz" in w for w in m["warnings"])
    assert any("mono input duplicated" in w for w in m["warnings"])


def test_retake_renders_the_request_again_with_a_new_seed(clip: Path, tmp_path: Path) -> None:
    path = api.retake(clip, tmp_path / "out")
    m, source = _record(path), _record(clip)
    assert m["kind"] == "retake"
    assert m["lineage"] == {"parent": str(clip), "parent_job": source["job_id"], "task": "retake"}
    assert m["request"]["prompt"] == source["request"]["prompt"]
    assert m["request"]["options"] == source["request"]["options"]
    assert m["request"]["seed"] != source["request"]["seed"]
    assert m["duration_s"] == source["duration_s"]


def test_analysis_round_trips_through_a_manifest(clip: Path) -> None:
    raw = _record(clip)["analysis"]
    analysis = PromptAnalysis.from_dict(raw)
    assert analysis.to_dict() == raw
    with pytest.raises(InvalidInputError, match="lacks bpm"):
        PromptAnalysis.from_dict({k: v for k, v in raw.items() if k != "bpm"})
