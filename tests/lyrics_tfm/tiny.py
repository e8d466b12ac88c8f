"""Tiny GPT-2 lyric model folders for tests: a real tokenizer (``tokenizers``) and a random GPT2LMHeadModel.

The tokenizer is byte-level BPE trained on lines the embedded writer wrote, its alphabet limited to the
characters of that text, so a random model's tokens are letters, spaces and the line break rather than
stray bytes. :func:`mute_model` makes a model that ends every line at once (nothing it writes can fit a
line), the case in which every line falls back to the embedded writer.
"""

from __future__ import annotations

from pathlib import Path

from mage_bridge.analysis import analyze
from mage_bridge.lyrics import write_lyrics

EOS = "<|endoftext|>"
PROMPTS = ("sad folk song about rain", "a dreamy pop ballad about summer love", "punk about the city at night",
           "soul ballad about home", "happy country song about the open road")


def corpus_lines(songs: int) -> list[str]:
    """``songs`` songs of the embedded writer, one line per line, a blank line after each song."""
    lines: list[str] = []
    for i in range(songs):
        written = write_lyrics(analyze(PROMPTS[i % len(PROMPTS)]), seed=i)
        lines += [ln.text for s in written.sections for ln in s.lines] + [""]
    return lines


def tiny_model(folder: Path, *, seed: int = 0, vocab_size: int = 400) -> Path:
    """A random 1-layer, 32-wide GPT-2 and its trained tokenizer saved in ``folder``; returns ``folder``."""
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS], initial_alphabet=[],
                                  show_progress=False)
    tokenizer.train_from_iterator(["\n".join(corpus_lines(6))], trainer=trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=EOS, eos_token=EOS)
    fast.save_pretrained(folder)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        config = transformers.GPT2Config(vocab_size=len(fast), n_positions=256, n_embd=32, n_layer=1, n_head=2,
                                         bos_token_id=fast.eos_token_id, eos_token_id=fast.eos_token_id)
        transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def mute_model(folder: Path) -> Path:
    """A tiny GPT-2 whose every next token is the line break: each hidden state is the all-ones vector and
    only the line break's (tied) embedding row is non-zero, so its logit is 32 and every other one 0."""
    import torch
    import transformers

    tiny_model(folder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = transformers.GPT2LMHeadModel.from_pretrained(str(folder), local_files_only=True)
    (newline,) = tokenizer.encode("\n", add_special_tokens=False)
    with torch.no_grad():
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.fill_(1.0)
        model.transformer.wte.weight.zero_()
        model.transformer.wte.weight[newline] = 1.0
    model.save_pretrained(folder)
    return folder
