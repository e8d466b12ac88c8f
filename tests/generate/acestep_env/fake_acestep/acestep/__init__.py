"""An EMULATION of ACE-Step 1.5's ``acestep`` package, for MAGE's tests of its native route. Not the real thing.

The real package cannot be installed beside MAGE's test environment (it pins ``transformers<4.58`` and a CUDA
torch). This one follows the real public API to the letter, as read from the stored sources of
``ace-step/ACE-Step-1.5`` (snapshot f30aee4, and ``acestep/inference.py`` at 14c9d01; check with
``fetch github:ace-step/ACE-Step-1.5`` or ``read_file``):

- ``acestep.handler.AceStepHandler()`` (no arguments) and ``initialize_service(project_root, config_path,
  device="auto", use_flash_attention=False, compile_model=False, offload_to_cpu=False, offload_dit_to_cpu=False,
  quantization=None, prefer_source=None) -> (status_msg, ok)``, which downloads missing checkpoints through
  ``acestep.model_downloader`` (here: recorded in ``model_downloader.DOWNLOADS`` and refused) and returns
  ``(message, False)`` instead of raising;
- ``acestep.inference.GenerationParams`` / ``GenerationConfig`` / ``GenerationResult`` with the real fields and
  defaults, and ``generate_music(dit_handler, llm_handler, params, config, save_dir=None, progress=None)``, which
  catches every exception into ``success=False, error=str``, swallows exceptions raised by ``progress``, and
  returns ``audios`` as dicts with ``"tensor"`` (torch float32 ``[channels, samples]``) and ``"sample_rate"``.

Instead of a diffusion model it renders a seeded tone whose pitch follows the seed, ``ceil(duration * 25)``
latent frames of 1920 samples long, so tests can check seeds, lengths and trimming.
"""
