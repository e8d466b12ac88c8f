"""``train-lyrics``: train (or fine-tune) the lyric model the ``transformers`` lyric backend loads."""

from __future__ import annotations

import argparse
import sys

from mage_bridge.cli.common import add_command, config_of

TRAIN_EXAMPLES = """
  mage-bridge train-lyrics songs.txt --out ~/.local/share/mage-bridge/models/lyrics     # from scratch
  mage-bridge train-lyrics songs.txt --out lyrics-model --epochs 5 --seed 3
  mage-bridge train-lyrics songs.txt --out lyrics-model --base ~/models/gpt2 --max-steps 2000   # fine-tune
"""


def register(sub: argparse._SubParsersAction) -> None:
    t = add_command(sub, "train-lyrics", help="train a small GPT-2 (or fine-tune one) on a lyric corpus",
                    examples=TRAIN_EXAMPLES,
                    description="Train the lyric model the transformers lyric backend uses, on CORPUS: one UTF-8 "
                                "text file, one lyric line per line, a blank line between songs. Without --base a "
                                "small GPT-2 and a byte-level BPE tokenizer are trained from scratch; with it the "
                                "causal language model in that folder is fine-tuned. Progress goes to stderr; the "
                                "folder is written whole at the end (put it at <models_dir>/lyrics).")
    t.add_argument("corpus", metavar="CORPUS", help="UTF-8 text: one lyric line per line, blank lines between songs")
    t.add_argument("--out", "-o", required=True, metavar="DIR", help="new or empty folder for the model")
    t.add_argument("--epochs", type=int, default=3, metavar="N", help="passes over the corpus (default 3)")
    t.add_argument("--base", metavar="DIR", help="a causal LM folder (e.g. GPT-2's) to fine-tune instead")
    t.add_argument("--max-steps", type=int, metavar="N", help="stop after N optimiser steps")
    t.add_argument("--seed", type=int, default=0, metavar="N", help="same seed and corpus, same model (default 0)")
    t.add_argument("--overwrite", action="store_true", help="replace a folder that already holds files")
    t.set_defaults(func=_cmd_train_lyrics)


def _cmd_train_lyrics(args: argparse.Namespace) -> int:
    from mage_bridge.api.training import train_lyrics

    config_of(args)  # a broken config file is reported as for every command
    quiet = getattr(args, "quiet", False)

    def report(line: str) -> None:
        if not quiet:
            print(f"mage-bridge: {line}", file=sys.stderr, flush=True)

    folder, result = train_lyrics(args.corpus, args.out, epochs=args.epochs, base=args.base,
                                  max_steps=args.max_steps, seed=args.seed, overwrite=args.overwrite, report=report)
    report(f"trained {result.steps} steps, loss {result.first_loss:.3f} -> {result.final_loss:.3f}; "
           f"the transformers lyric backend loads {folder} as is")
    print(folder)
    return 0
