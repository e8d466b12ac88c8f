"""A local causal language model (GPT-2 class) for lyric lines: the folder check, loading, seeded sampling.

The folder is a Hugging Face model folder: ``config.json`` of a causal LM (``GPT2LMHeadModel`` or any
``...ForCausalLM``), its weights (``model.safetensors``, ``pytorch_model.bin`` or a sharded index) and its
tokenizer (``tokenizer.json``, or GPT-2's ``vocab.json`` + ``merges.txt``). It is read with
``local_files_only``: nothing is ever downloaded. ``mage-bridge train-lyrics`` writes such a folder.

Sampling draws from a ``torch.Generator`` the caller seeds, not from torch's global generator, so the same
seed gives the same lines and nothing else in the process shifts them. A prompt is run once and its
key/value cache repeated for the batch of candidates.
"""

from __future__ import annotations

import inspect
import json
import threading
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mage_bridge.errors import BackendUnavailableError, ConfigError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")
TOKENIZER_FILE = "tokenizer.json"
BPE_FILES = ("vocab.json", "merges.txt")
#: Sampling temperature and how many of the likeliest tokens each step may pick from.
TEMPERATURE = 0.95
TOP_K = 40
#: The torch devices ``lyrics.device`` may name, besides ``"auto"``.
TORCH_DEVICES = ("cuda", "mps", "cpu")


def why_folder_unusable(folder: Path) -> str | None:
    """``None`` when ``folder`` holds a causal LM this module can load, else every file it lacks, by name."""
    if not folder.is_dir():
        return (f"no lyric model folder {str(folder)!r}: put a GPT-2-class causal language model there "
                f"(config.json, model.safetensors, tokenizer.json), or make one with "
                f"`mage-bridge train-lyrics CORPUS --out {folder}`")
    missing = []
    if not (folder / "config.json").is_file():
        missing.append("config.json")
    if not any((folder / w).is_file() for w in WEIGHT_FILES):
        missing.append(f"{WEIGHT_FILES[0]} (or {WEIGHT_FILES[1]})")
    if not (folder / TOKENIZER_FILE).is_file():
        absent = [f for f in BPE_FILES if not (folder / f).is_file()]
        if absent:
            missing.append(f"{TOKENIZER_FILE} (or {' + '.join(BPE_FILES)}: {' and '.join(absent)} absent)")
    if missing:
        return f"{str(folder)!r} lacks {'; '.join(missing)}"
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"cannot read {str(folder / 'config.json')!r}: {e}"
    if not isinstance(config, dict):
        return f"{str(folder / 'config.json')!r} is not a model config (a JSON object)"
    architectures = config.get("architectures") or []
    if architectures and not any(str(a).endswith(("LMHeadModel", "ForCausalLM")) for a in architectures):
        return (f"{str(folder / 'config.json')!r} describes {', '.join(map(str, architectures))}, not a causal "
                "language model (e.g. GPT2LMHeadModel)")
    return None


def check_device(name: str) -> None:
    """Refuse a ``lyrics.device`` that is neither ``"auto"`` nor a torch device, naming the key."""
    if name != "auto" and name not in TORCH_DEVICES:
        raise ConfigError(f"lyrics.device must be auto or one of {', '.join(TORCH_DEVICES)}, got {name!r}")


def pick_device(name: str) -> str:
    """The torch device for ``name`` (``"auto"``: CUDA when torch sees one, else the CPU)."""
    check_device(name)
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _unsingable(ch: str) -> bool:
    """A bracket (a line holding one would read as a section tag), a control character, or the replacement
    character of a byte sequence cut in the middle."""
    return ch in "[]<>{}\ufffd" or unicodedata.category(ch).startswith("C")


def clean_sample(text: str) -> str | None:
    """A sampled line up to its first unsingable character, whitespace collapsed; ``None`` when that leaves
    no letter."""
    end = next((i for i, ch in enumerate(text) if _unsingable(ch) and not ch.isspace()), len(text))
    line = " ".join(text[:end].split()).strip(" -–—,;:")
    return line if any(ch.isalpha() for ch in line) else None


class CausalLM:
    """A loaded causal LM and its tokenizer: seeded line sampling and the log-probability of line endings."""

    def __init__(self, folder: Path, *, device: str = "auto") -> None:
        self.folder = Path(folder)
        reason = why_folder_unusable(self.folder)
        if reason is not None:
            raise BackendUnavailableError(f"lyrics backend 'transformers' is unavailable: {reason}")
        self.device = pick_device(device)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as e:
            raise BackendUnavailableError("the transformers lyric writer needs transformers and torch "
                                          "(pip install 'mage-bridge[transformers]')") from e
        hf_logging.disable_progress_bar()
        self.tokenizer: Any
        self.model: Any
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder), local_files_only=True)
            self.model = AutoModelForCausalLM.from_pretrained(str(self.folder), local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise BackendUnavailableError(f"cannot load the lyric model in {str(self.folder)!r}: {e}") from e
        self.model.to(self.device).eval()
        self._torch = torch
        self.lock = threading.Lock()
        params = inspect.signature(self.model.forward).parameters
        #: transformers 5 calls the key/value cache ``cache``; 4.x ``past_key_values``.
        self._cache_name = "cache" if "cache" in params else "past_key_values"
        config = self.model.config
        self.max_positions = int(getattr(config, "n_positions", 0) or getattr(config, "max_position_embeddings", 0)
                                 or 1024)
        self.eos_id = self.tokenizer.eos_token_id
        vocab = int(self.model.get_output_embeddings().weight.shape[0])
        known = len(self.tokenizer)
        pieces = self.tokenizer.batch_decode([[i] for i in range(min(vocab, known))])
        special = set(self.tokenizer.all_special_ids)
        self._stops = torch.zeros(vocab, dtype=torch.bool)
        self._banned = torch.zeros(vocab, dtype=torch.bool)
        self._banned[known:] = True  # rows of a padded embedding that no token uses
        for i, piece in enumerate(pieces):
            if "\n" in piece or i == self.eos_id:
                self._stops[i] = True
            elif i in special or any(_unsingable(ch) and ch != "\ufffd" for ch in piece):
                self._banned[i] = True

    @property
    def parameters(self) -> int:
        """The model's parameter count."""
        return int(sum(p.numel() for p in self.model.parameters()))

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def prompt_ids(self, prompt: str, *, room: int) -> list[int]:
        """``prompt`` as token ids, its start cut so ``room`` more tokens fit the model's positions."""
        ids = ([self.eos_id] if self.eos_id is not None else []) + self.encode(prompt)
        keep = max(1, self.max_positions - room)
        return ids[-keep:]

    def _expanded(self, ids: list[int], n: int) -> tuple[Any, Any]:
        """The cache of ``ids`` repeated for ``n`` rows, and the next-token logits ``(n, vocab)``."""
        torch = self._torch
        out = self.model(input_ids=torch.tensor([ids], device=self.device), use_cache=True)
        cache = getattr(out, self._cache_name)
        if hasattr(cache, "batch_repeat_interleave"):
            cache.batch_repeat_interleave(n)
            return cache, out.logits[:, -1, :].float().expand(n, -1)
        out = self.model(input_ids=torch.tensor([ids] * n, device=self.device), use_cache=True)
        return getattr(out, self._cache_name), out.logits[:, -1, :].float()

    def sample_lines(self, prompt: str, *, n: int, max_new_tokens: int, generator: Any,
                     enough: Callable[[str], bool] | None = None) -> list[str]:
        """``n`` continuations of ``prompt`` up to the first line break, ``max_new_tokens`` tokens, or (a row at a
        time) the first text ``enough`` accepts, as text.

        ``generator`` is a CPU ``torch.Generator``: the draws come from it alone.
        """
        torch = self._torch
        with torch.no_grad():
            cache, logits = self._expanded(self.prompt_ids(prompt, room=max_new_tokens), n)
            stops, banned = self._stops.to(self.device), self._banned.to(self.device)
            tokens: list[list[int]] = [[] for _ in range(n)]
            done = [False] * n
            for _ in range(max_new_tokens):
                scores = logits.masked_fill(banned, float("-inf")) / TEMPERATURE
                top, index = scores.topk(min(TOP_K, scores.shape[-1]), dim=-1)
                draw = torch.multinomial(torch.softmax(top, dim=-1).cpu(), 1, generator=generator)
                picked = index.gather(1, draw.to(self.device))
                ended = stops[picked[:, 0]].tolist()
                for row, (token, stop) in enumerate(zip(picked[:, 0].tolist(), ended)):
                    if not done[row]:
                        done[row] = stop
                        if not stop:
                            tokens[row].append(token)
                            done[row] = enough is not None and enough(self.tokenizer.decode(tokens[row]))
                if all(done):
                    break
                out = self.model(input_ids=picked, use_cache=True, **{self._cache_name: cache})
                cache, logits = getattr(out, self._cache_name), out.logits[:, -1, :].float()
        return [str(self.tokenizer.decode(t, skip_special_tokens=True)).split("\n")[0] for t in tokens]

    def ending_logprobs(self, prompt: str, endings: Sequence[str]) -> list[float]:
        """The log-probability of each of ``endings`` right after ``prompt`` (a line begun, without its end word).

        One-token endings are read off the prompt's own next-token distribution; only the longer ones need
        the prompt's cache repeated and a pass over their tokens.
        """
        torch = self._torch
        pieces = [self.encode(e) or [self.eos_id or 0] for e in endings]
        longer = [i for i, p in enumerate(pieces) if len(p) > 1]
        with torch.no_grad():
            ids = self.prompt_ids(prompt, room=max(len(p) for p in pieces))
            cache, first = self._expanded(ids, max(1, len(longer)))
            first_logp = torch.log_softmax(first[0], dim=-1).cpu()
            scores = [float(first_logp[p[0]]) for p in pieces]
            if longer:
                rows = [pieces[i] for i in longer]
                width = max(len(r) for r in rows)
                padded = torch.tensor([r + [r[-1]] * (width - len(r)) for r in rows], device=self.device)
                out = self.model(input_ids=padded[:, :-1], use_cache=True, **{self._cache_name: cache})
                logp = torch.log_softmax(out.logits.float(), dim=-1).gather(2, padded[:, 1:, None])[:, :, 0].cpu()
                for k, i in enumerate(longer):
                    scores[i] += float(logp[k, :len(pieces[i]) - 1].sum())
        return scores
