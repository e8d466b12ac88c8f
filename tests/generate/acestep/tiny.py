"""A tiny random ACE-Step 1.5 pipeline of the real diffusers classes, saved in the diffusers layout.

Every component is the class the real model uses (``AceStepTransformer1DModel``,
``AceStepConditionEncoder``, ``AutoencoderOobleck`` at 48 kHz with 1920 samples per latent, a Qwen3
text encoder, ``FlowMatchEulerDiscreteScheduler``, optionally the audio tokenizer and detokenizer
that cover needs) with a few thousand random weights, and the tokenizer is a byte-level BPE trained
here on a few strings, so nothing comes from the network. The folder loads through MAGE's own path
(``find_model`` and ``AceStepPipeline.from_pretrained(local_files_only=True)``) and runs the real
pipeline code on the CPU in milliseconds per step. Used by the ACE-Step tests, the daemon tests
and ``benchmarks/acestep.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Latent channels: the DiT's audio_acoustic_hidden_dim = the VAE's decoder_input_channels = the timbre input.
ACOUSTIC = 8
HIDDEN = 32
CORPUS = (
    "# Instruction\nFill the audio semantic mask based on the given conditions:\n\n# Caption\n",
    "# Metas\n- bpm: 120\n- timesignature: 4\n- keyscale: C major\n- duration: 30 seconds\n",
    "# Languages\nen\n\n# Lyric\n[verse]\nSoft notes in the morning light\n[chorus]\n[Instrumental]",
    "lofi hip hop, warm piano, vinyl crackle, female vocals, upbeat pop, rock guitar drums bass",
)


def build_tokenizer() -> Any:
    """A byte-level BPE with ``<|endoftext|>`` as end and pad (the pipeline's templates end with it)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=384, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(CORPUS), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                   model_max_length=4096)


def build_components(*, turbo: bool = True, with_audio_tokenizer: bool = True, seed: int = 0) -> dict[str, Any]:
    """The pipeline's components, tiny and random (seeded)."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler
    from diffusers.models.transformers.ace_step_transformer import AceStepTransformer1DModel
    from diffusers.pipelines.ace_step import (
        AceStepAudioTokenDetokenizer,
        AceStepAudioTokenizer,
        AceStepConditionEncoder,
    )
    from transformers import Qwen3Config, Qwen3Model

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    attention = dict(num_attention_heads=2, num_key_value_heads=1, head_dim=16, rope_theta=10000.0,
                     sliding_window=16)
    parts: dict[str, Any] = dict(
        tokenizer=tokenizer,
        text_encoder=Qwen3Model(Qwen3Config(
            vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=1,
            num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=4096,
            pad_token_id=tokenizer.pad_token_id)),
        transformer=AceStepTransformer1DModel(
            hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2, in_channels=3 * ACOUSTIC,
            audio_acoustic_hidden_dim=ACOUSTIC, patch_size=2, is_turbo=turbo,
            model_version="turbo" if turbo else "base", **attention),
        condition_encoder=AceStepConditionEncoder(
            hidden_size=HIDDEN, intermediate_size=64, text_hidden_dim=HIDDEN, timbre_hidden_dim=ACOUSTIC,
            num_lyric_encoder_hidden_layers=1, num_timbre_encoder_hidden_layers=1, **attention),
        vae=_oobleck(),
        scheduler=FlowMatchEulerDiscreteScheduler(num_train_timesteps=1, shift=1.0),
    )
    if with_audio_tokenizer:
        small = dict(hidden_size=HIDDEN, intermediate_size=64, audio_acoustic_hidden_dim=ACOUSTIC, pool_window_size=5,
                     num_attention_pooler_hidden_layers=1, **attention)
        parts["audio_tokenizer"] = AceStepAudioTokenizer(fsq_dim=HIDDEN, fsq_input_levels=[8, 5, 5], **small)
        parts["audio_token_detokenizer"] = AceStepAudioTokenDetokenizer(**small)
    return parts


def _oobleck() -> Any:
    """The 48 kHz stereo VAE with 1920 samples per latent (the real model's ratios), tiny channels."""
    import warnings

    from diffusers import AutoencoderOobleck

    with warnings.catch_warnings():  # diffusers' Oobleck still uses torch's deprecated weight_norm
        warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
        return AutoencoderOobleck(
            encoder_hidden_size=2 * ACOUSTIC, downsampling_ratios=[2, 4, 4, 6, 10], channel_multiples=[1, 1, 1, 1, 1],
            decoder_channels=4, decoder_input_channels=ACOUSTIC, audio_channels=2, sampling_rate=48_000)


def build_tiny_pipeline(folder: Path | str, *, turbo: bool = True, with_audio_tokenizer: bool = True) -> Path:
    """Save a tiny random ``AceStepPipeline`` to ``folder`` (created) in the diffusers layout; return it."""
    from diffusers import AceStepPipeline

    folder = Path(folder)
    pipe: Any = AceStepPipeline(**build_components(turbo=turbo, with_audio_tokenizer=with_audio_tokenizer))
    pipe.save_pretrained(folder)
    return folder
