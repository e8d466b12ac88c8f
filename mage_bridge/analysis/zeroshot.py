"""Rules + a zero-shot NLI classifier from ``<models_dir>/analysis`` (optional, heavy).

Put any Hugging Face sequence-classification model trained on NLI (for example a
BART-large-MNLI or DeBERTa-v3 MNLI checkpoint) in ``<models_dir>/analysis``:
``config.json`` whose labels include ``entailment``, the tokenizer files and
``model.safetensors`` (or ``pytorch_model.bin``). Nothing is ever downloaded. Like
the embedding backend it only guesses what the rules could not read (genre,
then mood); explicit fields always come from the rules.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from mage_bridge import genres as genre_table
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.analysis.rules import MOODS, assemble, check_prompt, read_prompt
from mage_bridge.errors import BackendUnavailableError, InvalidInputError

_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_TOKENIZER = ("tokenizer.json", "vocab.txt", "spm.model", "vocab.json", "sentencepiece.bpe.model")
GENRE_HYPOTHESIS = "This music is {}."
MOOD_HYPOTHESIS = "This music feels {}."
#: Moods whose entailment probability (multi-label) reaches this count as inferred.
MOOD_MIN_SCORE = 0.5


def model_folder(config: Any) -> Path:
    return Path(config.models_dir) / "analysis"


def why_folder_unusable(folder: Path) -> str | None:
    """``None`` when ``folder`` holds an NLI model we can load, else what is missing."""
    if not folder.is_dir():
        return (f"no zero-shot model folder {str(folder)!r}: put an NLI sequence-classification model there "
                "(config.json, tokenizer files, model.safetensors)")
    missing = []
    if not (folder / "config.json").is_file():
        missing.append("config.json")
    if not any((folder / w).is_file() for w in _WEIGHTS):
        missing.append(" or ".join(_WEIGHTS))
    if not any((folder / t).is_file() for t in _TOKENIZER):
        missing.append("tokenizer files (" + ", ".join(_TOKENIZER[:2]) + ", ...)")
    if missing:
        return f"{str(folder)!r} lacks {'; '.join(missing)}"
    try:
        labels = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("label2id", {})
    except (OSError, ValueError) as e:
        return f"cannot read {str(folder / 'config.json')!r}: {e}"
    if not any(str(k).lower().startswith("entail") for k in labels):
        return f"{str(folder / 'config.json')!r} has no 'entailment' label: not an NLI model"
    return None


class ZeroShotAnalyzer:
    """The rules, plus zero-shot genre/mood classification for prompts that name none."""

    name = "transformers"

    def __init__(self, *, model_dir: Path) -> None:
        self.model_dir = Path(model_dir)
        self._pipeline: Any = None
        self._lock = threading.Lock()

    @classmethod
    def unavailable_reason(cls, config: Any) -> str | None:
        return why_folder_unusable(model_folder(config))

    @classmethod
    def from_config(cls, config: Any, *, model_dir: Path | None = None, **options: Any) -> ZeroShotAnalyzer:
        if options:
            raise InvalidInputError(f"unknown transformers analyser option(s): {sorted(options)}")
        folder = Path(model_dir) if model_dir is not None else model_folder(config)
        reason = why_folder_unusable(folder)
        if reason is not None:
            raise BackendUnavailableError(f"analysis backend 'transformers' is unavailable: {reason}")
        return cls(model_dir=folder)

    def _classifier(self) -> Any:
        with self._lock:
            if self._pipeline is None:
                try:
                    from transformers import pipeline
                except ImportError as e:
                    raise BackendUnavailableError(
                        "the transformers analyser needs transformers and torch (pip install transformers torch)"
                    ) from e
                self._pipeline = pipeline("zero-shot-classification", model=str(self.model_dir),
                                          tokenizer=str(self.model_dir), device=-1)
            return self._pipeline

    def analyze(self, prompt: str, *, lyrics: str | None = None) -> PromptAnalysis:
        text = check_prompt(prompt, lyrics)
        reading = read_prompt(text)
        if reading.genre is not None and reading.moods:
            return assemble(reading, backend=self.name, lyrics=lyrics)
        genre = None
        moods = None
        if reading.genre is None:
            names = [g.name for g in genre_table.GENRES]
            out = self._classifier()(text, candidate_labels=names, hypothesis_template=GENRE_HYPOTHESIS)
            genre = str(out["labels"][0])
        if not reading.moods:
            out = self._classifier()(text, candidate_labels=list(MOODS), hypothesis_template=MOOD_HYPOTHESIS,
                                     multi_label=True)
            picked = [str(label) for label, score in zip(out["labels"], out["scores"]) if score >= MOOD_MIN_SCORE]
            moods = tuple(picked[:2]) or None
        return assemble(reading, backend=self.name, lyrics=lyrics, genre=genre, genre_source="model",
                        genres=(genre,) if genre else None, moods=moods, mood_source="model")
