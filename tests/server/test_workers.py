"""How a job's options reach the work function: keywords, ``options``, output targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mage_bridge.errors import InvalidInputError
from mage_bridge.server.workers import _output_target, _split_options, describe_exit


def _with_options(audio_path: Any, out_dir: Any, *, backend: str = "auto", options: Any = None,
                  config: Any = None, progress: Any = None, job_id: Any = None) -> None: ...


def _keywords_only(audio_path: Any, out_path: Any, *, lufs: float = -14.0, preset: Any = None,
                   config: Any = None, progress: Any = None) -> None: ...


def test_options_that_name_a_keyword_become_that_keyword() -> None:
    assert _split_options(_with_options, {"backend": "dsp", "n_fft": 2048}) == {
        "backend": "dsp", "options": {"n_fft": 2048}}
    assert _split_options(_keywords_only, {"lufs": -16.0}) == {"lufs": -16.0}
    with pytest.raises(InvalidInputError, match="unknown option.*bogus.*known: lufs, preset"):
        _split_options(_keywords_only, {"bogus": 1})
    with pytest.raises(InvalidInputError):
        _split_options(_keywords_only, {"config": "sneaky"})  # reserved names never pass through


def test_output_targets(tmp_path: Path) -> None:
    job = tmp_path / "jobs" / "abc"
    assert _output_target("dir", "x.wav", job, {}) == job
    assert _output_target("enhance", "/a/manifest.json", job, {}) == job
    opts = {"format": "flac"}
    assert _output_target("file", "/a/song.wav", job, opts) == job / "song-master.flac" and opts == {}
    assert _output_target("enhance", "/a/vox.wav", job, {}) == job / "vox-enhanced.wav"
    with pytest.raises(InvalidInputError):
        _output_target("file", "/a/song.wav", job, {"format": "exe"})


def test_describe_exit() -> None:
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL)"
    assert describe_exit(3) == "exit code 3"
