"""``train_lyrics``: a lyric corpus becomes a model folder the ``transformers`` lyric backend loads as is.

Not a daemon job (training takes minutes to hours and wants the whole machine): ``mage-bridge train-lyrics``
calls it. Put the folder it writes at ``<models_dir>/lyrics`` (or point ``lyrics.model_dir`` at it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from mage_bridge.api.checks import check_output_dir
from mage_bridge.errors import InvalidInputError
from mage_bridge.files import staged_folder
from mage_bridge.lyrics.lm import why_folder_unusable
from mage_bridge.lyrics.training import TrainingResult, read_corpus, train_model

__all__ = ["train_lyrics"]


def _check_count(name: str, value: object, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be an int >= 1, got {value!r}")


def train_lyrics(
    corpus: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    epochs: int = 3,
    base: str | os.PathLike[str] | None = None,
    max_steps: int | None = None,
    seed: int = 0,
    overwrite: bool = False,
    report: Callable[[str], None] = lambda line: None,
) -> tuple[Path, TrainingResult]:
    """Train a lyric model on the UTF-8 text file ``corpus`` (one lyric line per line, a blank line between
    songs) and write it to the folder ``out_dir``; returns the folder and what the training did.

    Without ``base`` a small GPT-2 and a byte-level BPE tokenizer are trained from scratch; with it, the causal
    LM in that folder is fine-tuned. ``epochs`` passes over the corpus, at most ``max_steps`` optimiser steps.
    The same ``seed`` and corpus give the same model on the same machine. Everything (the corpus, ``base``,
    ``out_dir``) is checked before training; the folder is built under a hidden name beside ``out_dir`` and
    renamed into place at the end, so it is complete or absent. ``report`` gets progress lines.
    """
    _check_count("epochs", epochs)
    _check_count("max_steps", max_steps, optional=True)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise InvalidInputError(f"seed must be an int from 0 to 2**32-1, got {seed!r}")
    base_dir = Path(base).expanduser() if base is not None else None
    if base_dir is not None:
        reason = why_folder_unusable(base_dir)
        if reason is not None:
            raise InvalidInputError(f"base: {reason}")
    songs = read_corpus(corpus)
    out = check_output_dir(out_dir, overwrite=overwrite)
    with staged_folder(out, job_id=uuid.uuid4().hex[:12], overwrite=overwrite) as staging:
        result = train_model(songs, staging, epochs=epochs, base=base_dir, max_steps=max_steps, seed=seed,
                             report=report)
    return out, result
