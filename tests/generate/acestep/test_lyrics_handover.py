"""The lyrics a clip gets are what ACE-Step is asked to sing (tiny random pipeline of the real classes, CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mage_bridge import api, manifest
from mage_bridge.config import Config

from .spies import spy_pipeline


def test_acestep_sings_the_written_lyrics_and_the_users_verbatim(
        config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_pipeline(monkeypatch)
    path = api.generate("soul ballad with female vocals at 120 BPM", tmp_path / "written", seed=4,
                        backend="acestep", config=config, options={"duration_s": 12.0})
    m = manifest.read(path)
    assert m["lyrics"]["mode"] == "generate" and m["lyrics"]["syllables"]
    assert spy.calls[-1]["lyrics"] == m["lyrics"]["text"] != "[Instrumental]"
    assert (path.parent / "lyrics.lrc").is_file() and (path.parent / "vocals.wav").is_file()
    mine = "[chorus]\nSing it back to me, señor"
    path = api.generate("soul ballad at 120 BPM", tmp_path / "mine", lyrics=mine, seed=4, backend="acestep",
                        config=config, options={"duration_s": 12.0})
    assert spy.calls[-1]["lyrics"] == mine == manifest.read(path)["lyrics"]["text"]
