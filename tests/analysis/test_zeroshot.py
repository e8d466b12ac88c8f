"""The optional zero-shot backend: clear reasons when its model is missing; runs with a tiny random NLI model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mage_bridge.analysis import REGISTRY, create_analyzer
from mage_bridge.analysis.embedding import default_model_dir
from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError


def test_missing_folder_is_named(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path, models_dir=tmp_path / "models")
    reason = REGISTRY.why_unavailable("transformers", config)
    assert reason is not None and str(tmp_path / "models" / "analysis") in reason
    with pytest.raises(BackendUnavailableError, match="transformers"):
        create_analyzer("transformers", config)


def test_missing_files_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "analysis"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"label2id": {"ENTAILMENT": 0}}))
    reason = REGISTRY.why_unavailable("transformers", Config(data_dir=tmp_path, models_dir=tmp_path / "models"))
    assert reason is not None and "model.safetensors" in reason and "tokenizer" in reason


def test_not_an_nli_model_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "analysis"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"label2id": {"POSITIVE": 0, "NEGATIVE": 1}}))
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "tokenizer.json").write_text("{}")
    reason = REGISTRY.why_unavailable("transformers", Config(data_dir=tmp_path, models_dir=tmp_path / "models"))
    assert reason is not None and "entailment" in reason


def test_runs_with_a_tiny_random_nli_model(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    folder = tmp_path / "models" / "analysis"
    folder.mkdir(parents=True)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(default_model_dir() / name, folder / name)
    cfg = transformers.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=64, id2label={0: "entailment", 1: "neutral", 2: "contradiction"},
                                  label2id={"entailment": 0, "neutral": 1, "contradiction": 2})
    transformers.BertForSequenceClassification(cfg).save_pretrained(folder)
    config = Config(data_dir=tmp_path, models_dir=tmp_path / "models")
    assert REGISTRY.resolve("auto", config) == "transformers"
    analyzer = create_analyzer("auto", config)
    r = analyzer.analyze("music for a rainy night drive at 90 bpm")
    from mage_bridge.genres import BY_NAME

    assert r.backend == "transformers" and r.genre in BY_NAME and r.sources["genre"] == "model"
    assert r.bpm == 90.0 and r.sources["bpm"] == "prompt"
    explicit = analyzer.analyze("sad deep house in G minor")
    assert explicit.genre == "deep house" and explicit.sources["genre"] == "prompt"
