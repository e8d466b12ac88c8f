"""The ``mood`` and ``vocals`` options win over the prompt, as ``bpm`` or ``genre`` do (the panel sends them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mage_bridge import api
from mage_bridge.analysis import analyze
from mage_bridge.api.generate import apply_overrides, check_generate_options
from mage_bridge.errors import InvalidInputError


@pytest.mark.parametrize("given,checked", [(["Dark", " dreamy"], ("dark", "dreamy")), ("calm, sad", ("calm", "sad")),
                                           ([], ())], ids=["list", "comma-text", "none"])
def test_mood_is_a_list_of_names(given: object, checked: tuple[str, ...]):
    assert check_generate_options({"mood": given})["mood"] == checked


@pytest.mark.parametrize("options", [{"mood": 3}, {"mood": ["x"] * 9}, {"mood": [""]}, {"mood": ["a" * 65]},
                                     {"vocals": "yes"}, {"vocals": 1}],
                         ids=["number", "too-many", "empty-name", "long-name", "text", "int"])
def test_bad_mood_or_vocals_are_refused_by_name(options: dict[str, object]):
    with pytest.raises(InvalidInputError, match=next(iter(options))):
        check_generate_options(options)


def test_the_options_replace_what_the_prompt_said():
    said = analyze("happy pop song with female vocals", backend="rules")
    assert said.vocals and "happy" in said.mood
    changed = apply_overrides(said, check_generate_options({"mood": ["dark"], "vocals": False}))
    assert changed.mood == ("dark",) and changed.vocals is False
    assert changed.sources["mood"] == changed.sources["vocals"] == "option"


def test_an_instrumental_option_makes_a_vocal_prompt_instrumental(tmp_path: Path):
    manifest = api.generate("deep house at 122 BPM in G minor with female vocals", tmp_path / "clip", seed=3,
                            backend="procedural", options={"bars": 4, "vocals": False})
    data = json.loads(manifest.read_text())
    assert data["lyrics"] is None and "vocals" not in data["stems"]
    assert data["analysis"]["vocals"] is False and data["analysis"]["sources"]["vocals"] == "option"
