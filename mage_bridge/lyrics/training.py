"""Training a lyric model: a small GPT-2 from scratch, or a causal LM fine-tuned, on a local text corpus.

The corpus is one UTF-8 text file, one lyric line per line, a blank line between songs. Each song is taught
as its lines joined by line breaks after an end-of-text token, which is how
:mod:`~mage_bridge.lyrics.modelwriter` prompts the model (a header line, then the lines so far). From
scratch, a byte-level BPE tokenizer (the ``tokenizers`` library) is trained on the corpus first, with every
byte in its alphabet so any text, the user's lines included, can be encoded. A plain torch loop (AdamW,
linear warm-up and decay, gradient clipping) trains on blocks of :data:`BLOCK_TOKENS` tokens. Seeded: the
model's initial weights, the order of the blocks and dropout come from the seed, inside a forked RNG, so
the caller's random state is left as it was.

The folder written holds what :class:`~mage_bridge.lyrics.lm.CausalLM` loads as is: ``config.json``,
``model.safetensors``, ``tokenizer.json`` (+ ``vocab.json``/``merges.txt`` when trained here) and
``training.json``, what it was trained on and how.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from mage_bridge.files import write_json_atomic
from mage_bridge.lyrics.lm import why_folder_unusable

EOS = "<|endoftext|>"
#: Tokens per training example (and the positions a model trained from scratch has, twice this).
BLOCK_TOKENS = 128
BATCH = 8
#: The small GPT-2 trained from scratch: layers, width, heads, and the tokenizer's vocabulary at most.
LAYERS, WIDTH, HEADS, VOCAB = 4, 256, 4, 4000
LEARNING_RATE = {"scratch": 1e-3, "fine-tune": 5e-5}
WARMUP_STEPS = 20
#: The corpus, read whole, at most this large (a bigger corpus is cut into files by the user).
MAX_CORPUS_BYTES = 1 << 30


@dataclass(frozen=True)
class Corpus:
    """The songs of a corpus file, each a tuple of its lines."""

    path: Path
    songs: tuple[tuple[str, ...], ...]

    @property
    def lines(self) -> int:
        return sum(len(s) for s in self.songs)

    def texts(self) -> list[str]:
        """Each song as the model reads it: its lines joined by line breaks, ending in one."""
        return ["\n".join(song) + "\n" for song in self.songs]


@dataclass(frozen=True)
class TrainingResult:
    """What a training run did: steps, the last and the first smoothed loss, the model's size."""

    steps: int
    epochs: int
    first_loss: float
    final_loss: float
    parameters: int
    vocab_size: int
    tokens: int
    from_scratch: bool


def read_corpus(path: str | os.PathLike[str]) -> Corpus:
    """The songs in ``path``: lines stripped of surrounding whitespace, blank lines separating songs.

    Raises :class:`InvalidInputError` naming the file for a missing file, a folder, a file that is not UTF-8
    text (or holds NUL bytes, as binary files do), and one with no lyric line.
    """
    file = Path(path).expanduser()
    if not file.exists():
        raise InvalidInputError(f"corpus {str(file)!r} does not exist")
    if not file.is_file():
        raise InvalidInputError(f"corpus {str(file)!r} is not a file: give one UTF-8 text file, one lyric line "
                                "per line, a blank line between songs")
    try:
        size = file.stat().st_size
        if size > MAX_CORPUS_BYTES:
            raise InvalidInputError(f"corpus {str(file)!r} is {size / 2**30:.1f} GiB; at most 1 GiB is read")
        data = file.read_bytes()
    except OSError as e:
        raise InvalidInputError(f"cannot read corpus {str(file)!r}: {e.strerror or e}") from e
    if b"\0" in data:
        raise InvalidInputError(f"corpus {str(file)!r} is not text: it holds NUL bytes (a binary file?)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"corpus {str(file)!r} is not UTF-8 text: byte {e.start} "
                                f"(0x{data[e.start]:02x}) cannot be decoded") from None
    songs: list[tuple[str, ...]] = []
    song: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line:
            song.append(line)
        elif song:
            songs.append(tuple(song))
            song = []
    if song:
        songs.append(tuple(song))
    if not songs:
        raise InvalidInputError(f"corpus {str(file)!r} holds no lyric lines (it is empty or blank)")
    return Corpus(file, tuple(songs))


def _train_tokenizer(corpus: Corpus) -> Any:
    """A GPT-2 tokenizer (byte-level BPE, every byte in its alphabet) trained on ``corpus``."""
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, min_frequency=2, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus.texts(), trainer=trainer)
    # GPT2TokenizerFast saves as "GPT2Tokenizer", which transformers 4 and 5 both load (5 types it as GPT2Tokenizer)
    fast = "GPT2TokenizerFast"
    return getattr(transformers, fast)(tokenizer_object=tokenizer, bos_token=EOS, eos_token=EOS, unk_token=EOS)


def _blocks(tokenizer: Any, corpus: Corpus, block: int) -> list[list[int]]:
    """The corpus as one token stream (an end-of-text token before each song) cut into ``block``-token pieces;
    one shorter piece when the whole stream is shorter than a block."""
    stream: list[int] = []
    eos = tokenizer.eos_token_id
    for ids in tokenizer(corpus.texts(), add_special_tokens=False)["input_ids"]:
        stream.extend(([eos] if eos is not None else []) + list(ids))
    if len(stream) < 2:
        raise InvalidInputError(f"corpus {str(corpus.path)!r} is too small to train on ({len(stream)} token)")
    if len(stream) <= block:
        return [stream]
    return [stream[i:i + block] for i in range(0, len(stream) - block + 1, block)]


def train_model(corpus: Corpus, folder: Path, *, epochs: int = 3, base: Path | None = None,
                max_steps: int | None = None, seed: int = 0,
                report: Callable[[str], None] = lambda line: None) -> TrainingResult:
    """Train on ``corpus`` and save the model, its tokenizer and ``training.json`` into ``folder`` (which
    exists and is empty: the caller's staging folder). ``base`` is a model folder to fine-tune; without it a
    small GPT-2 and its tokenizer are made from scratch. ``report`` receives one line per stage and about
    twenty progress lines (step, epoch, loss)."""
    try:
        import torch
        import transformers
    except ImportError as e:
        raise BackendUnavailableError("train-lyrics needs transformers and torch "
                                      "(pip install 'mage-bridge[transformers]')") from e
    transformers.utils.logging.disable_progress_bar()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model: Any
    tokenizer: Any
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if base is not None:
            reason = why_folder_unusable(base)
            if reason is not None:
                raise InvalidInputError(f"base: {reason}")
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(base), local_files_only=True)
            model = transformers.AutoModelForCausalLM.from_pretrained(str(base), local_files_only=True)
            report(f"fine-tuning {type(model).__name__} from {base}")
        else:
            tokenizer = _train_tokenizer(corpus)
            config = transformers.GPT2Config(vocab_size=len(tokenizer), n_positions=2 * BLOCK_TOKENS, n_embd=WIDTH,
                                             n_layer=LAYERS, n_head=HEADS, bos_token_id=tokenizer.eos_token_id,
                                             eos_token_id=tokenizer.eos_token_id)
            model = transformers.GPT2LMHeadModel(config)
            report(f"tokenizer: byte-level BPE, {len(tokenizer)} tokens learnt from the corpus")
        positions = int(getattr(model.config, "n_positions", 0) or getattr(model.config, "max_position_embeddings",
                                                                           0) or BLOCK_TOKENS)
        blocks = _blocks(tokenizer, corpus, min(BLOCK_TOKENS, positions))
        per_epoch = math.ceil(len(blocks) / BATCH)
        steps = per_epoch * epochs if max_steps is None else min(max_steps, per_epoch * epochs)
        parameters = int(sum(p.numel() for p in model.parameters()))
        report(f"corpus: {corpus.lines} lines in {len(corpus.songs)} songs, {sum(map(len, blocks))} tokens in "
               f"{len(blocks)} blocks; model: {parameters / 1e6:.2f} M parameters on {device}; {steps} steps")
        if getattr(model, "loss_type", "") is None:  # transformers 5 names GPT-2's loss by its class: say it
            model.loss_type = "ForCausalLM"
        model.to(device).train()
        rate = LEARNING_RATE["scratch" if base is None else "fine-tune"]
        optimiser = torch.optim.AdamW(model.parameters(), lr=rate, weight_decay=0.01)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, (s + 1) / WARMUP_STEPS) * max(0.0, 1.0 - s / max(1, steps)))
        order = torch.Generator().manual_seed(seed)
        every = max(1, steps // 20)
        step, smoothed, first = 0, math.nan, math.nan
        for epoch in range(1, epochs + 1):
            if step >= steps:
                break
            shuffled = [blocks[i] for i in torch.randperm(len(blocks), generator=order).tolist()]
            for start in range(0, len(blocks), BATCH):
                if step >= steps:
                    break
                batch = shuffled[start:start + BATCH]
                width = min(len(b) for b in batch)
                ids = torch.tensor([b[:width] for b in batch], device=device)
                loss = model(input_ids=ids, labels=ids).loss
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimiser.step()
                schedule.step()
                step += 1
                value = float(loss.detach())
                smoothed = value if math.isnan(smoothed) else 0.9 * smoothed + 0.1 * value
                first = value if math.isnan(first) else first
                if step % every == 0 or step == steps:
                    report(f"step {step}/{steps}  epoch {epoch}/{epochs}  loss {smoothed:.4f}")
        if not math.isfinite(smoothed):
            raise InvalidInputError(f"training diverged (loss {smoothed}); try fewer steps or another corpus")
        model.eval().to("cpu")
        model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        if base is None:
            tokenizer.backend_tokenizer.model.save(str(folder))  # vocab.json + merges.txt, as GPT-2 ships them
    result = TrainingResult(step, epochs, first, smoothed, parameters, len(tokenizer),
                            sum(map(len, blocks)), base is None)
    write_json_atomic(folder / "training.json", {
        "corpus": str(corpus.path), "songs": len(corpus.songs), "lines": corpus.lines, "tokens": result.tokens,
        "base": str(base) if base is not None else None, "seed": seed, "epochs": epochs, "steps": step,
        "max_steps": max_steps, "batch": BATCH, "block_tokens": min(BLOCK_TOKENS, positions),
        "learning_rate": rate, "first_loss": round(first, 6), "final_loss": round(smoothed, 6),
        "parameters": parameters, "vocab_size": len(tokenizer),
    })
    # safetensors writes through a 0600 temporary file: give every file the permissions a new file gets here
    # (those of training.json, 0666 minus the umask), so a daemon run by another user can read the model
    mode = (folder / "training.json").stat().st_mode & 0o777
    for file in folder.iterdir():
        if file.is_file():
            os.chmod(file, mode)
    return result
