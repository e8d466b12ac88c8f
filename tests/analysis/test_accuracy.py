"""Per-field accuracy over the hand-labelled prompts; the table is printed (pytest -s) and in failures."""

from __future__ import annotations

import pytest

from mage_bridge.analysis import create_analyzer
from mage_bridge.config import Config
from tests.analysis import labelled_prompts as labelled
from tests.analysis.accuracy import score, table

EXPLICIT_FIELDS = ("bpm", "key", "mode", "metre")


def test_there_are_enough_varied_prompts() -> None:
    assert len(labelled.ALL) >= 80
    assert len(labelled.INDIRECT) >= 20
    assert len({p["prompt"] for p in labelled.ALL}) == len(labelled.ALL)


def test_rules_accuracy_on_explicit_prompts() -> None:
    scores, misses = score(create_analyzer("rules"), labelled.EXPLICIT)
    report = table(scores, f"rules backend, {len(labelled.EXPLICIT)} explicit prompts") + "\n" + "\n".join(misses)
    print("\n" + report)
    for name in EXPLICIT_FIELDS:
        right, total = scores[name]
        assert right / total >= 0.95, report
    right, total = scores["genre"]
    assert right / total >= 0.90, report


def test_embedding_accuracy_on_all_prompts(tmp_path) -> None:
    analyzer = create_analyzer("embedding", Config(data_dir=tmp_path, models_dir=tmp_path / "models"))
    scores, misses = score(analyzer, labelled.ALL)
    indirect, _ = score(analyzer, labelled.INDIRECT)
    report = (table(scores, f"embedding backend, all {len(labelled.ALL)} prompts") + "\n"
              + table(indirect, f"embedding backend, {len(labelled.INDIRECT)} indirect prompts only") + "\n"
              + "\n".join(misses))
    print("\n" + report)
    for name in EXPLICIT_FIELDS:
        right, total = scores[name]
        assert right / total >= 0.95, report
    right, total = scores["genre"]
    assert right / total >= 0.90, report
    right, total = indirect["genre"]
    assert right / total >= 0.75, report


@pytest.mark.parametrize("prompt", [p["prompt"] for p in labelled.INDIRECT[:5]], ids=lambda p: p[:30])
def test_rules_alone_fall_back_to_pop_on_indirect_prompts(prompt: str) -> None:
    result = create_analyzer("rules").analyze(prompt)
    assert result.genre == "pop" and result.sources["genre"] == "default"
    assert any("no genre" in w for w in result.warnings)


def test_rules_read_every_ensemble_and_length_stated() -> None:
    """Who plays and how long are facts the prompt states: the rules get all of them right."""
    scores, misses = score(create_analyzer("rules"), labelled.OBEY)
    report = table(scores, f"rules backend, {len(labelled.OBEY)} ensemble and length prompts")
    report += "\n" + "\n".join(misses)
    assert not misses, report


@pytest.mark.parametrize("prompt, genres", [(p["prompt"], p["genre"]) for p in labelled.BAND_IMPLIES_GENRE],
                         ids=lambda v: str(v)[:30])
def test_rules_infer_the_genre_from_the_band_and_the_picture(prompt: str, genres: str | tuple[str, ...]) -> None:
    """No genre named: what plays and what it is for decide, before any embedding guess."""
    result = create_analyzer("rules").analyze(prompt)
    assert result.genre in ((genres,) if isinstance(genres, str) else genres)
    assert result.sources["genre"] == "instruments"
