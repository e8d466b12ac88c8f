"""Demucs behind the separator facade, with weights from local folders only.

Weights are looked up, in order, in

1. ``<models_dir>/demucs`` (config ``models_dir``, env ``MAGE_MODELS_DIR``):
   demucs' own ``--repo`` layout, i.e. ``<sig>-<sha256 prefix>.th`` model files
   plus, for a bag of models such as ``htdemucs``, the bag's ``<name>.yaml``
   (if the yaml is missing, the copy shipped inside the demucs package is used);
2. the torch hub cache (``torch.hub.get_dir()/checkpoints``: ``$TORCH_HOME/hub``,
   default ``$XDG_CACHE_HOME/torch/hub`` or ``~/.cache/torch/hub``) when it already
   holds the files a previous ``demucs`` run downloaded.

Finding out whether Demucs can run imports neither torch nor demucs (that costs
seconds): the packages are found with :func:`importlib.util.find_spec`, the
weights and the bag files on disk; torch loads when a separator is created.

Nothing is ever downloaded: ``demucs.pretrained.get_model`` is only called with
``repo=`` set, and the hub cache is read through a local repo, not a URL.
When the files are absent :meth:`DemucsSeparator.unavailable_reason` names them,
with their URLs, and the folder to put them in.

``apply_model`` splits its input into segments of seconds, but holds the whole
mix and all its estimates (4 × the input) in memory; the file API therefore
feeds it 40 s segments crossfaded over 2 s (:func:`mage_bridge.separate.separate_blocks`),
each normalised on its own, so memory stays bounded for inputs up to the 30-minute limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mage_bridge.audio import SAMPLE_RATE, Audio, resample
from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError, InvalidInputError, MageError
from mage_bridge.progress import STEM_NAMES, ProgressFn
from mage_bridge.separate import Separator

DEFAULT_MODEL = "htdemucs"
_DOWNLOAD_ROOT = "https://dl.fbaipublicfiles.com/demucs/"


def weights_dir(config: Config) -> Path:
    """The folder the user fills with Demucs weights: ``<models_dir>/demucs``."""
    return Path(config.models_dir).expanduser() / "demucs"


def _packaged_bags() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("demucs")
    if spec is None or spec.origin is None:
        raise BackendUnavailableError("demucs is not installed (pip install 'mage-bridge[demucs]')")
    return Path(spec.origin).parent / "remote"


def _remote_files() -> dict[str, str]:
    """Signature → download URL, from the file list shipped with demucs (read, not fetched)."""
    files: dict[str, str] = {}
    root = ""
    for line in (_packaged_bags() / "files.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("root:"):
            root = line.split(":", 1)[1].strip()
        else:
            files[line.split("-", 1)[0]] = _DOWNLOAD_ROOT + root + line
    return files


def _signatures(model: str, folder: Path) -> list[str] | None:
    """The model signatures ``model`` needs (a bag's list, or itself); None if unknown."""
    import yaml

    for bags in (folder, _packaged_bags()):
        bag = bags / f"{model}.yaml"
        if bag.is_file():
            return list(yaml.safe_load(bag.read_text())["models"])
    return None


def _present(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.stem.rsplit("-", 1)[0] if "-" in p.stem else p.stem for p in folder.glob("*.th")}


def _hub_checkpoints() -> Path:
    """The torch hub's ``checkpoints`` folder, found the way ``torch.hub.get_dir`` does, without importing torch.

    When torch is already imported its own answer is used, so a ``torch.hub.set_dir`` counts.
    """
    import sys

    if "torch" in sys.modules:
        import torch.hub

        return Path(torch.hub.get_dir()) / "checkpoints"
    import os

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    home = os.environ.get("TORCH_HOME") or os.path.join(cache, "torch")
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def find_weights(model: str, config: Config) -> tuple[Path, Path] | None:
    """``(model_folder, bag_folder)`` holding every file ``model`` needs, or None."""
    packaged = _packaged_bags()
    for folder in (weights_dir(config), _hub_checkpoints()):
        present = _present(folder)
        if model in present:
            return folder, folder
        sigs = _signatures(model, folder)
        if sigs and all(s in present for s in sigs):
            return folder, folder if (folder / f"{model}.yaml").is_file() else packaged
    return None


def missing_weights_message(model: str, config: Config) -> str:
    folder = weights_dir(config)
    sigs = _signatures(model, folder)
    if sigs is None:
        return (f"Demucs model {model!r} not found: put its .th file(s) and {model}.yaml into {str(folder)!r} "
                "(models_dir in the config, or MAGE_MODELS_DIR)")
    urls = _remote_files()
    needed = [urls.get(s, f"{s}-*.th") for s in sigs if s not in _present(folder)]
    return (f"Demucs weights for {model!r} are not in {str(folder)!r} (nor in the torch hub cache); "
            f"download {', '.join(needed)} and {model}.yaml (shipped in the demucs package at "
            f"{str(_packaged_bags() / (model + '.yaml'))!r}) into that folder; nothing is downloaded automatically")


class DemucsSeparator(Separator):
    """Demucs through ``get_model(name, repo=folder)`` and ``apply_model``.

    Options: ``model`` (default ``htdemucs``), ``shifts`` (0–10, test-time
    augmentation), ``overlap`` (0–0.9 between chunks), ``segment_s`` (chunk
    length; default the model's own), ``device`` (``"cpu"``, ``"cuda"``...).
    """

    name = "demucs"

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        return ("model", "shifts", "overlap", "segment_s", "device")

    def __init__(self, *, model_folder: Path, bag_folder: Path, model: str = DEFAULT_MODEL, shifts: int = 0,
                 overlap: float = 0.25, segment_s: float | None = None, device: str = "cpu") -> None:
        if not isinstance(shifts, int) or not 0 <= shifts <= 10:
            raise InvalidInputError(f"shifts must be an int from 0 to 10, got {shifts!r}")
        if not 0.0 <= overlap <= 0.9:
            raise InvalidInputError(f"overlap must be from 0 to 0.9, got {overlap!r}")
        if segment_s is not None and not 0.5 <= segment_s <= 60.0:
            raise InvalidInputError(f"segment_s must be from 0.5 to 60, got {segment_s!r}")
        self.model_name = model
        self.model_folder = model_folder
        self.bag_folder = bag_folder
        self.shifts = shifts
        self.overlap = float(overlap)
        self.segment_s = segment_s
        self.device = device
        self._model: Any = None

    @classmethod
    def unavailable_reason(cls, config: Config, model: str = DEFAULT_MODEL) -> str | None:
        if find_weights(model, config) is None:
            return missing_weights_message(model, config)
        return None

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> DemucsSeparator:
        model = str(options.pop("model", DEFAULT_MODEL))
        found = find_weights(model, config)
        if found is None:
            raise BackendUnavailableError(missing_weights_message(model, config))
        return cls(model_folder=found[0], bag_folder=found[1], model=model, **options)

    def details(self) -> dict[str, Any]:
        import demucs

        return {"name": self.name, "model": self.model_name, "demucs_version": demucs.__version__,
                "shifts": self.shifts, "overlap": self.overlap, "segment_s": self.segment_s,
                "weights": str(self.model_folder)}

    def load(self) -> Any:
        """Load (once) the model or bag through demucs' local-repo mechanism."""
        if self._model is not None:
            return self._model
        from demucs import pretrained
        from demucs.repo import AnyModelRepo, BagOnlyRepo, LocalRepo, ModelLoadingError

        try:
            if self.bag_folder == self.model_folder:
                model = pretrained.get_model(self.model_name, repo=self.model_folder)
            else:  # .th files here, the bag's yaml from the demucs package
                local = LocalRepo(self.model_folder)
                model = AnyModelRepo(local, BagOnlyRepo(self.bag_folder, local)).get_model(self.model_name)
                model.eval()
        except (ModelLoadingError, OSError, RuntimeError, KeyError) as e:
            raise BackendUnavailableError(
                f"cannot load Demucs model {self.model_name!r} from {str(self.model_folder)!r}: {e}"
            ) from e
        self._model = model
        return model

    def separate(self, audio: Audio, *, progress: ProgressFn | None = None) -> dict[str, Audio]:
        import torch
        from demucs.apply import apply_model

        report = progress or (lambda stage, fraction: None)
        report("load", 0.0)
        model = self.load()
        report("load", 1.0)
        out_frames = resample(Audio.silence(audio.frames, audio.sample_rate, 1), SAMPLE_RATE).frames
        source = resample(audio.to_stereo(), int(model.samplerate))
        if model.audio_channels != 2:
            raise InvalidInputError(f"Demucs model {self.model_name!r} expects {model.audio_channels} channels")
        mix = torch.from_numpy(np.array(source.samples, dtype=np.float32))
        # Normalise like the demucs CLI: zero mean, unit std of the mono reference.
        ref = mix.mean(0)
        mean, std = ref.mean(), ref.std() + 1e-8
        def callback(info: dict[str, Any]) -> None:
            report("separate", min(0.99, info.get("segment_offset", 0) / max(1, source.frames)))

        try:
            with torch.no_grad():
                estimates = apply_model(model, ((mix - mean) / std)[None], shifts=self.shifts, split=True,
                                        overlap=self.overlap, segment=self.segment_s, device=self.device,
                                        progress=False, callback=callback)[0]
        except RuntimeError as e:
            raise MageError(f"Demucs ({self.model_name}) failed on {source.frames} frames: {e}") from e
        estimates = estimates * std + mean
        stems: dict[str, Audio] = {}
        for index, source_name in enumerate(model.sources):
            if source_name not in STEM_NAMES:
                continue  # e.g. htdemucs_6s's guitar/piano are summed into "other" below
            stems[source_name] = self._to_output(estimates[index].numpy(), int(model.samplerate), out_frames)
        extra = [i for i, n in enumerate(model.sources) if n not in STEM_NAMES]
        if extra:
            summed = np.sum([estimates[i].numpy() for i in extra], axis=0)
            base = stems.get("other")
            add = self._to_output(summed, int(model.samplerate), out_frames)
            stems["other"] = Audio(add.samples + (base.samples if base is not None else 0.0), SAMPLE_RATE)
        for name in STEM_NAMES:
            stems.setdefault(name, Audio.silence(out_frames, SAMPLE_RATE))
        report("separate", 1.0)
        return {name: stems[name] for name in STEM_NAMES}

    @staticmethod
    def _to_output(samples: np.ndarray, rate: int, frames: int) -> Audio:
        out = resample(Audio(samples, rate), SAMPLE_RATE).samples
        if out.shape[1] < frames:
            out = np.pad(out, ((0, 0), (0, frames - out.shape[1])))
        return Audio(out[:, :frames], SAMPLE_RATE)
