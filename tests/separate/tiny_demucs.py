"""A tiny, randomly initialised HTDemucs saved as a local Demucs repo, for tests and benchmarks.

Same file layout as real weights (``<sig>-<sha256 prefix>.th`` + ``<name>.yaml``),
so the adapter's whole path runs: get_model(name, repo=folder) → apply_model.
"""

from __future__ import annotations

from pathlib import Path

TINY_MODEL = "tiny_htdemucs"


def make_tiny_demucs_repo(folder: Path, *, name: str = TINY_MODEL, segment_s: float = 2.0,
                          channels: int = 8, seed: int = 0) -> Path:
    """Write a random ``HTDemucs`` (44.1 kHz, 4 sources) into ``folder``; return the folder."""
    import torch
    from demucs.htdemucs import HTDemucs
    from demucs.states import get_state, save_with_checksum

    torch.manual_seed(seed)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], channels=channels, depth=4, nfft=4096,
                     t_layers=1, t_hidden_scale=1.0, t_heads=2, bottom_channels=0, segment=segment_s,
                     samplerate=44100)
    args, kwargs = model._init_args_kwargs
    package = {"klass": HTDemucs, "args": args, "kwargs": kwargs,
               "state": get_state(model, None, half=False), "training_args": {}}
    folder.mkdir(parents=True, exist_ok=True)
    signature = "0tiny0ht"
    save_with_checksum(package, folder / f"{signature}.th")
    (folder / f"{name}.yaml").write_text(f"models: ['{signature}']\n")
    return folder
