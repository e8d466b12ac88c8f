"""Source separation behind one facade: audio in, ``dict[str, Audio]`` out.

Every separator returns the four stems ``vocals``, ``drums``, ``bass``,
``other`` at 48 kHz stereo, the frame count of the input resampled to 48 kHz.

Backends, in ``"auto"`` preference order:

* ``demucs`` – Meta's Demucs (``pip install 'mage-bridge[demucs]'``), weights
  only from ``<models_dir>/demucs`` or an already filled torch hub cache;
  never downloaded.
* ``dsp`` – embedded: STFT soft masks (HPSS, a low band, REPET-SIM plus a
  centre-panning cue) that sum to one, so the stems sum to the input.

The config's ``backends.separate`` (env ``MAGE_SEPARATE_BACKEND``) chooses
when a caller names no backend:

>>> from mage_bridge.separate import create_separator
>>> stems = create_separator(None, config).separate(audio)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from mage_bridge.audio import Audio
from mage_bridge.backends import Registry
from mage_bridge.config import Config
from mage_bridge.progress import ProgressFn

REGISTRY = Registry("separate")
REGISTRY.register(
    "demucs", "mage_bridge.separate.demucs:DemucsSeparator", requires=("demucs", "torch"), extra="demucs",
    summary="Demucs (htdemucs by default); weights from <models_dir>/demucs or the torch hub cache",
)
REGISTRY.register(
    "dsp", "mage_bridge.separate.dsp:DspSeparator",
    summary="embedded STFT masking (HPSS, low band, REPET-SIM + centre cue); stems sum to the input",
)


class Separator:
    """Base class of separator backends.

    Subclasses set ``name`` and implement :meth:`separate`; the registry
    calls :meth:`unavailable_reason` and :meth:`from_config`.
    """

    name: str = "?"

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        return None

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> Separator:
        return cls(**options)

    def separate(self, audio: Audio, *, progress: ProgressFn | None = None) -> dict[str, Audio]:
        """Split ``audio`` (``(channels, frames)``, any rate) into the four stems at 48 kHz stereo.

        The stems are :data:`~mage_bridge.progress.STEM_NAMES`, in that order.
        """
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """What ran, for the manifest (model name, version, parameters)."""
        return {"name": self.name}

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The options :func:`create_separator` passes on: the keyword parameters of ``__init__``."""
        import inspect

        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return tuple(p.name for p in inspect.signature(cls.__init__).parameters.values()
                     if p.kind in kinds and p.name != "self")


#: Long inputs are separated in segments of this length, joined by crossfades (see :func:`separate_blocks`).
SEGMENT_S = 40.0
CROSSFADE_S = 2.0


def separate_blocks(separator: Separator, blocks: Iterable[np.ndarray], *, frames: int,
                    segment_frames: int | None = None, crossfade_frames: int | None = None,
                    progress: ProgressFn | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Separate a long 48 kHz stereo stream in overlapping segments; yield ``{stem: (2, n) float32}`` in order.

    Segment k covers frames [k·h, k·h + S) with hop h = S − C (S = ``segment_frames``,
    default 40 s; C = ``crossfade_frames``, default 2 s). Each is separated on
    its own and the overlaps are crossfaded with w_in(t) = sin²(π/2·(t + ½)/C)
    and w_out = 1 − w_in, so memory is bounded by one segment whatever the
    length, and because each segment's stems sum to that segment (Σ_s y_s = x
    for the DSP backend), the joined stems still sum to the input:
    w_out·x + w_in·x = x. An input no longer than one segment is separated in
    one call, exactly as :meth:`Separator.separate`. A backend whose analysis
    spans the whole input (the DSP separator's repetition search) sees one
    segment at a time on longer ones; Demucs already works in segments of
    seconds, so it loses nothing.
    """
    from mage_bridge.audio import SAMPLE_RATE

    report = progress or (lambda stage, fraction: None)
    segment = int(segment_frames or round(SEGMENT_S * SAMPLE_RATE))
    crossfade = int(crossfade_frames if crossfade_frames is not None else round(CROSSFADE_S * SAMPLE_RATE))
    if not 0 <= crossfade < segment:
        raise ValueError(f"crossfade_frames must be from 0 to segment_frames - 1, got {crossfade!r}")
    hop = segment - crossfade
    count = 1 if frames <= segment else -(-(frames - crossfade) // hop)
    fade_in = (np.sin(0.5 * np.pi * (np.arange(crossfade) + 0.5) / max(crossfade, 1)) ** 2).astype(np.float32)
    buffer = np.zeros((2, 0), dtype=np.float32)
    buffer_start = 0
    source = iter(blocks)
    carry: dict[str, np.ndarray] | None = None
    for k in range(count):
        start = k * hop
        stop = frames if k == count - 1 else min(start + segment, frames)
        while buffer_start + buffer.shape[1] < stop:
            block = next(source, None)
            if block is None:
                break
            buffer = np.concatenate([buffer, np.asarray(block, dtype=np.float32)], axis=1)
        piece = buffer[:, start - buffer_start: stop - buffer_start]
        inner = (lambda stage, fraction, k=k: report(stage, (k + fraction) / count)) if count > 1 else report
        stems = {name: np.array(stem.samples) for name, stem in
                 separator.separate(Audio(piece, SAMPLE_RATE), progress=inner).items()}
        if carry is not None:
            for name, samples in stems.items():
                samples[:, :crossfade] = samples[:, :crossfade] * fade_in + carry[name]
        if k < count - 1:
            carry = {name: samples[:, hop:] * (1.0 - fade_in) for name, samples in stems.items()}
            yield {name: samples[:, :hop] for name, samples in stems.items()}
            keep = start + hop
            buffer, buffer_start = buffer[:, keep - buffer_start:], keep
        else:
            yield stems


def create_separator(name: str | None = None, config: Config | None = None, **options: Any) -> Separator:
    """Build the separator ``name`` with backend ``options``.

    ``None`` means the config's ``backends.separate`` (env ``MAGE_SEPARATE_BACKEND``);
    ``"auto"`` takes Demucs when it and its default model's weights are present,
    else ``dsp``. An option the chosen backend does not take is an
    :class:`~mage_bridge.errors.InvalidInputError` naming it and the backend's
    options. A Demucs with ``model=...`` checks that model's weights, not the default's.
    """
    from mage_bridge.config import load_config
    from mage_bridge.errors import BackendUnavailableError, InvalidInputError

    config = config if config is not None else load_config()
    name = REGISTRY.configured(name, config)
    if name == "auto":
        name = REGISTRY.resolve("auto", config)
    spec = REGISTRY.spec(name)
    missing = spec.missing_message()
    if missing is not None:
        raise BackendUnavailableError(f"separate backend {name!r} is unavailable: {missing}")
    cls = spec.load_class()
    known = cls.option_names() if isinstance(cls, type) and issubclass(cls, Separator) else None
    unknown = sorted(set(options) - set(known)) if known is not None else []
    if unknown:
        raise InvalidInputError(
            f"separate backend {name!r} takes no option(s) {', '.join(unknown)}; "
            f"its options: {', '.join(known) if known else 'none'}"
        )
    if "model" not in options:
        reason = cls.unavailable_reason(config)
        if reason is not None:
            raise BackendUnavailableError(f"separate backend {name!r} is unavailable: {reason}")
    try:
        return cls.from_config(config, **options)
    except TypeError as e:
        raise InvalidInputError(f"bad option for separate backend {name!r}: {e}") from e
