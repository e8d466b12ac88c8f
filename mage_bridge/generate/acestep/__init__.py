"""ACE-Step 1.5 (diffusion, with vocals): the heavy backend, preferred by ``"auto"`` when it can run.

:class:`AceStepGenerator` maps MAGE's requests to :class:`~mage_bridge.generate.acestep.call.AceStepCall`
and runs them on a :class:`~mage_bridge.generate.acestep.routes.Route` (diffusers' pipeline or the
native package). ACE-Step returns one stereo mix at 48 kHz; the stems come from the separation
facade (Demucs when its weights are present, else the embedded separator), so they sum to the mix.

Edits (:data:`~mage_bridge.generate.base.EDIT_TASKS`):

- ``repaint`` regenerates the whole clip conditioned on the source, then :mod:`.splice` keeps every
  stem bit-identical outside the window and its crossfades;
- ``extend`` pads the source's end (or start) with silence and repaints the padded part, returning
  only the new audio;
- ``cover`` re-renders the source in the caption's style;
- ``lego`` (add one track) and ``extract`` (take one track out) need the base or SFT model.

Importing this package imports no torch: ``backends`` asks :meth:`AceStepGenerator.unavailable_reason` cheaply.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from mage_bridge.audio import SAMPLE_RATE, Audio
from mage_bridge.config import Config
from mage_bridge.errors import InvalidAudioError, InvalidInputError
from mage_bridge.generate.base import EDIT_TASKS, EditRequest, GeneratedClip, GenerateRequest, Generator, ProgressFn
from mage_bridge.progress import STEM_NAMES, no_progress

if TYPE_CHECKING:
    from mage_bridge.generate.acestep.call import AceStepCall
    from mage_bridge.generate.acestep.models import ModelFolder
    from mage_bridge.generate.acestep.routes import Route

__all__ = ["CONTEXT_S", "STEM_FOR_TRACK", "AceStepGenerator"]

log = logging.getLogger(__name__)

#: How much of the source an ``extend`` lets ACE-Step hear (the source's end for "after", its start for "before").
CONTEXT_S = 30.0
#: Which MAGE stem a lego/extract track belongs to.
STEM_FOR_TRACK = {"vocals": "vocals", "backing_vocals": "vocals", "drums": "drums", "percussion": "drums",
                  "bass": "bass"}


class AceStepGenerator(Generator):
    """ACE-Step text-to-music and its edits on one checked model folder."""

    name = "acestep"
    tasks = frozenset(EDIT_TASKS)

    def __init__(self, *, config: Config, folder: ModelFolder) -> None:
        self.config = config
        self.folder = folder
        self._route: Route | None = None

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        from mage_bridge.generate.acestep.models import unavailable_reason

        return unavailable_reason(config)

    @classmethod
    def from_config(cls, config: Config, **options: Any) -> AceStepGenerator:
        from mage_bridge.generate.acestep.models import find_model

        if options:
            raise InvalidInputError(f"generate backend 'acestep' takes no option(s) {', '.join(sorted(options))}")
        return cls(config=config, folder=find_model(config))

    @property
    def route(self) -> Route:
        """The route for the folder, opened on first use (it picks the device; nothing is loaded yet)."""
        if self._route is None:
            from mage_bridge.generate.acestep.routes import open_route

            self._route = open_route(self.config, self.folder)
            warning = getattr(self._route, "warning", None)
            if warning:
                log.warning("%s", warning)
        return self._route

    # -- text2music ----------------------------------------------------------------------------------

    def generate(self, request: GenerateRequest, *, progress: ProgressFn | None = None) -> GeneratedClip:
        """Render ``request`` with ACE-Step: the mix of exactly ``duration_s``, then its four stems."""
        from mage_bridge.generate.acestep.call import call_for

        call = call_for(request.analysis, duration_s=request.duration_s, seed=request.seed,
                        is_turbo=self.folder.is_turbo, steps=self.config.acestep.steps,
                        guidance=self.config.acestep.guidance, shift=self.config.acestep.shift,
                        lyrics=request.lyrics)
        return self._render(call, progress or no_progress, task="text2music")

    # -- edits ---------------------------------------------------------------------------------------

    def edit(self, request: EditRequest, *, progress: ProgressFn | None = None) -> GeneratedClip:
        """Do ``request.task`` on ``request.source``; the result's stems are 48 kHz stereo."""
        from mage_bridge.generate.acestep.models import check_task

        if request.task not in self.tasks:
            return super().edit(request, progress=progress)
        check_task(self.folder, request.task)
        progress = progress or no_progress
        source = _stereo_48k(request.source, "source")
        if request.task == "repaint":
            return self._repaint(request, source, progress)
        if request.task == "extend":
            return self._extend(request, source, progress)
        if request.task == "cover":
            if not 0.0 <= request.strength <= 1.0:
                raise InvalidInputError(f"cover strength must be from 0 to 1, got {request.strength!r}")
            call = self._base_call(request, source.duration_s).with_source(
                source.samples, task_type="cover", audio_cover_strength=float(request.strength))
            return self._render(call, progress, task="cover")
        return self._track_task(request, source, progress)

    def _base_call(self, request: EditRequest, duration_s: float) -> AceStepCall:
        from mage_bridge.generate.acestep.call import call_for

        return call_for(request.analysis, duration_s=duration_s, seed=request.seed, is_turbo=self.folder.is_turbo,
                        steps=self.config.acestep.steps, guidance=self.config.acestep.guidance,
                        shift=self.config.acestep.shift, lyrics=request.lyrics)

    def _repaint(self, request: EditRequest, source: Audio, progress: ProgressFn) -> GeneratedClip:
        from mage_bridge.generate.acestep.call import LATENT_FRAMES, latent_time
        from mage_bridge.generate.acestep.splice import splice_stems

        frames = source.frames
        start = int(round(request.start_s * SAMPLE_RATE))
        end = frames if request.end_s is None else min(frames, int(round(request.end_s * SAMPLE_RATE)))
        if not 0 <= start < end:
            raise InvalidInputError(f"repaint range [{request.start_s:g}, {request.end_s}) s is empty or outside "
                                    f"the {source.duration_s:.2f} s source")
        if not request.crossfade_s >= 0:
            raise InvalidInputError(f"crossfade_s must be 0 or more, got {request.crossfade_s!r}")
        crossfade = int(round(request.crossfade_s * SAMPLE_RATE))
        source_stems = self._source_stems(request, source, progress)
        # ACE-Step's window, in whole latent frames, covers the crossfades too: the edit is used there.
        lo = max(0, start - crossfade) // LATENT_FRAMES * LATENT_FRAMES
        hi = -(-min(frames, end + crossfade) // LATENT_FRAMES) * LATENT_FRAMES
        call = self._base_call(request, source.duration_s).with_source(
            source.samples, task_type="repaint", repainting_start=latent_time(lo),
            repainting_end=None if hi >= frames else latent_time(hi))
        edited_mix, details, timing = self._diffuse(call, progress)
        edited = self._separate(Audio(edited_mix, SAMPLE_RATE), progress)
        stems = splice_stems(source_stems, edited, start, end, crossfade)
        details.update(task="repaint", range_s=[start / SAMPLE_RATE, end / SAMPLE_RATE],
                       crossfade_s=crossfade / SAMPLE_RATE, source_stems="given" if request.stems else "separated",
                       timing_s=timing)
        return GeneratedClip(stems=stems, details=details)

    def _extend(self, request: EditRequest, source: Audio, progress: ProgressFn) -> GeneratedClip:
        from mage_bridge.generate.acestep.call import LATENT_FRAMES, latent_time

        if request.side not in ("after", "before"):
            raise InvalidInputError(f"extend side must be 'after' or 'before', got {request.side!r}")
        if not request.duration_s > 0:
            raise InvalidInputError(f"extend needs a positive duration_s, got {request.duration_s!r}")
        new = int(round(request.duration_s * SAMPLE_RATE))
        padded = -(-new // LATENT_FRAMES) * LATENT_FRAMES
        context = min(source.frames, int(CONTEXT_S * SAMPLE_RATE)) // LATENT_FRAMES * LATENT_FRAMES
        silence = np.zeros((2, padded), dtype=np.float32)
        window: tuple[int, int | None]
        if request.side == "after":
            heard = source.samples[:, source.frames - context:]
            src, window, keep = np.concatenate([heard, silence], axis=1), (context, None), (context, context + new)
        else:
            heard = source.samples[:, :context]
            src, window, keep = np.concatenate([silence, heard], axis=1), (0, padded), (padded - new, padded)
        call = self._base_call(request, src.shape[1] / SAMPLE_RATE).with_source(
            src, task_type="repaint", repainting_start=latent_time(window[0]),
            repainting_end=None if window[1] is None else latent_time(window[1]))
        out, details, timing = self._diffuse(call, progress)
        clip = Audio(out[:, keep[0]:keep[1]], SAMPLE_RATE)
        stems = self._separate(clip, progress)
        details.update(task="extend", side=request.side, duration_s=new / SAMPLE_RATE,
                       context_s=context / SAMPLE_RATE, timing_s=timing)
        return GeneratedClip(stems=stems, details=details)

    def _track_task(self, request: EditRequest, source: Audio, progress: ProgressFn) -> GeneratedClip:
        from mage_bridge.edits import TRACK_NAMES as TRACKS

        track = (request.track or "").strip().lower()
        if track not in TRACKS:
            raise InvalidInputError(f"{request.task} needs a track, one of {', '.join(TRACKS)}; got {request.track!r}")
        stem = STEM_FOR_TRACK.get(track, "other")
        call = self._base_call(request, source.duration_s).with_source(
            source.samples, task_type=request.task, track_name=track)
        out, details, timing = self._diffuse(call, progress)
        if request.task == "lego":
            stems = dict(self._source_stems(request, source, progress))
            under = stems[stem].samples if stem in stems else np.zeros_like(out)
            stems[stem] = Audio(under + out, SAMPLE_RATE)
        else:
            stems = {name: Audio(out if name == stem else np.zeros_like(out), SAMPLE_RATE) for name in STEM_NAMES}
        details.update(task=request.task, track=track, stem=stem, timing_s=timing)
        return GeneratedClip(stems=stems, details=details)

    # -- shared steps --------------------------------------------------------------------------------

    def _render(self, call: AceStepCall, progress: ProgressFn, *, task: str) -> GeneratedClip:
        """Run ``call`` and separate its mix: a whole new clip."""
        mixed, details, timing = self._diffuse(call, progress)
        started = time.perf_counter()
        stems = self._separate(Audio(mixed, SAMPLE_RATE), progress)
        timing["separate"] = round(time.perf_counter() - started, 4)
        details.update(task=task, timing_s=timing)
        return GeneratedClip(stems=stems, details=details)

    def _diffuse(self, call: AceStepCall, progress: ProgressFn) -> tuple[np.ndarray, dict[str, Any], dict[str, float]]:
        """The route's audio for ``call``, with ``progress("diffuse", k/N)`` after each step, and its details."""
        route = self.route

        def on_step(done: int, total: int) -> None:
            progress("diffuse", done / total)

        started = time.perf_counter()
        audio = route.run(call, on_step=on_step)
        elapsed = time.perf_counter() - started
        if audio.shape != (2, call.frames):
            raise InvalidAudioError(f"the ACE-Step {route.name} route gave {audio.shape!r}, "
                                    f"expected (2, {call.frames})")
        info = route.details()
        details: dict[str, Any] = {
            "backend": self.name, **info, "steps": call.steps, "guidance": call.guidance, "shift": call.shift,
            "seed": call.seed, "caption": call.caption, "lyrics": call.lyrics, "bpm": call.bpm,
            "keyscale": call.keyscale, "timesignature": call.timesignature, "duration_s": call.duration_s,
        }
        warning = getattr(route, "warning", None)
        if warning:
            details["warnings"] = [warning]
        timing = {"load": round(float(info.get("load_s", 0.0)), 4),
                  "diffuse": round(max(0.0, elapsed - float(info.get("load_s", 0.0))), 4)}
        return audio, details, timing

    def _separate(self, mixed: Audio, progress: ProgressFn) -> dict[str, Audio]:
        from mage_bridge.separate import create_separator

        separator = create_separator(None, self.config)
        stems = separator.separate(mixed, progress=lambda _stage, fraction: progress("separate", fraction))
        return {name: stems[name] for name in STEM_NAMES}

    def _source_stems(self, request: EditRequest, source: Audio, progress: ProgressFn) -> dict[str, Audio]:
        """The source's stems as given (a MAGE clip), else separated from its mix."""
        if request.stems is None:
            return self._separate(source, progress)
        stems = {name: _stereo_48k(stem, f"stem {name!r}") for name, stem in request.stems.items()}
        for name, stem in stems.items():
            if stem.frames != source.frames:
                raise InvalidAudioError(f"stem {name!r} has {stem.frames} frames, the source mix {source.frames}")
        return stems


def _stereo_48k(audio: Audio, what: str) -> Audio:
    """``audio`` as stereo at 48 kHz (ACE-Step's rate), resampled when it is not."""
    from mage_bridge.audio import resample

    if audio.frames == 0:
        raise InvalidAudioError(f"the {what} is empty")
    audio = audio.to_stereo()
    return audio if audio.sample_rate == SAMPLE_RATE else resample(audio, SAMPLE_RATE)
