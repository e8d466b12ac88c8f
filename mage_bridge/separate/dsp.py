"""The embedded separator: STFT soft masks that sum to one.

Per time-frequency bin of the stereo STFT (4096-point Hann, hop 1024, 48 kHz):

1. **HPSS** (Fitzgerald 2010): a median along time gives the harmonic
   magnitude H, a median along frequency the percussive P; soft masks
   M_p = P²/(H² + P²), M_h = 1 − M_p.
2. **Bass**: the harmonic part below ``bass_cutoff_hz``, faded out over one
   octave with a raised cosine: M_bass = M_h · w_low(f).
3. **Vocals** among the rest of the harmonic part, M_h·(1 − w_low):
   * REPET-SIM (Rafii & Pardo 2012): for each frame, the median of its
     ``neighbours`` most similar frames (cosine similarity, at least 1 s away)
     models the repeating accompaniment R; the non-repeating share
     1 − min(R, V)/V is a vocal cue;
   * a centre cue: lead vocals are panned centre, so bins whose inter-channel
     level difference d = (|L| − |R|)/(|L| + |R|) is near 0 score
     exp(−(d/σ)²). The cue's weight follows how stereo the mix is (none for
     mono), and it is limited to the vocal range (120 Hz – 10 kHz).
4. ``other`` is the remainder: input − vocals − drums − bass, so the four stems
   sum to the (48 kHz) input exactly, up to float32 rounding.

Its memory grows with the input (the STFT and a dozen masks of the same size,
about 27 MB per second of audio), so the file API separates inputs longer than
40 s in crossfaded 40 s segments (:func:`mage_bridge.separate.separate_blocks`):
the repetition search then looks for repeats within each segment.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mage_bridge.audio import SAMPLE_RATE, Audio, resample
from mage_bridge.errors import InvalidInputError
from mage_bridge.progress import STEM_NAMES, ProgressFn
from mage_bridge.separate import Separator

_VOCAL_LOW_HZ, _VOCAL_HIGH_HZ = 120.0, 10_000.0


class DspSeparator(Separator):
    """STFT-masking separator; options are keyword-only and validated on construction."""

    name = "dsp"

    def __init__(
        self,
        *,
        n_fft: int = 4096,
        hop: int = 1024,
        bass_cutoff_hz: float = 150.0,
        harmonic_kernel_frames: int = 17,
        percussive_kernel_bins: int = 17,
        neighbours: int = 10,
        centre_width: float = 0.04,
    ) -> None:
        if n_fft not in (1024, 2048, 4096, 8192):
            raise InvalidInputError(f"n_fft must be 1024, 2048, 4096 or 8192, got {n_fft!r}")
        if not isinstance(hop, int) or not 1 <= hop <= n_fft // 2 or n_fft % hop:
            raise InvalidInputError(f"hop must divide n_fft and be at most n_fft/2, got {hop!r}")
        if not 40.0 <= bass_cutoff_hz <= 400.0:
            raise InvalidInputError(f"bass_cutoff_hz must be from 40 to 400, got {bass_cutoff_hz!r}")
        for label, value in (("harmonic_kernel_frames", harmonic_kernel_frames),
                             ("percussive_kernel_bins", percussive_kernel_bins)):
            if not isinstance(value, int) or not 3 <= value <= 101 or value % 2 == 0:
                raise InvalidInputError(f"{label} must be an odd int from 3 to 101, got {value!r}")
        if not isinstance(neighbours, int) or not 1 <= neighbours <= 50:
            raise InvalidInputError(f"neighbours must be an int from 1 to 50, got {neighbours!r}")
        if not 0.005 <= centre_width <= 0.5:
            raise InvalidInputError(f"centre_width must be from 0.005 to 0.5, got {centre_width!r}")
        self.n_fft = n_fft
        self.hop = hop
        self.bass_cutoff_hz = float(bass_cutoff_hz)
        self.harmonic_kernel_frames = harmonic_kernel_frames
        self.percussive_kernel_bins = percussive_kernel_bins
        self.neighbours = neighbours
        self.centre_width = float(centre_width)

    def details(self) -> dict[str, Any]:
        return {
            "name": self.name, "n_fft": self.n_fft, "hop": self.hop, "bass_cutoff_hz": self.bass_cutoff_hz,
            "harmonic_kernel_frames": self.harmonic_kernel_frames,
            "percussive_kernel_bins": self.percussive_kernel_bins,
            "neighbours": self.neighbours, "centre_width": self.centre_width,
        }

    def separate(self, audio: Audio, *, progress: ProgressFn | None = None) -> dict[str, Audio]:
        from scipy import ndimage, signal

        report = progress or (lambda stage, fraction: None)
        audio = resample(audio.to_stereo(), SAMPLE_RATE)
        x = audio.samples.astype(np.float64)
        frames = x.shape[1]
        if frames == 0 or not np.any(x):
            silent = Audio.silence(frames, SAMPLE_RATE)
            return {name: silent for name in STEM_NAMES}
        report("separate", 0.05)
        original = x
        if frames < self.n_fft:  # shorter than one window: pad with silence, trim at the end
            x = np.pad(x, ((0, 0), (0, self.n_fft - frames)))
        stft = dict(fs=SAMPLE_RATE, window="hann", nperseg=self.n_fft, noverlap=self.n_fft - self.hop,
                    boundary="even", padded=True)
        freqs, _, spec = signal.stft(x, **stft)  # (2, bins, time)
        mag = np.abs(spec)
        v = mag.mean(axis=0)
        report("separate", 0.15)

        # 1. HPSS soft masks.
        harmonic = ndimage.median_filter(v, size=(1, self.harmonic_kernel_frames), mode="nearest")
        percussive = ndimage.median_filter(v, size=(self.percussive_kernel_bins, 1), mode="nearest")
        eps = 1e-12
        mask_p = percussive**2 / (harmonic**2 + percussive**2 + eps)
        mask_h = 1.0 - mask_p
        report("separate", 0.45)

        # 2. Bass: harmonic energy below the cutoff, raised-cosine fade over one octave.
        octave = np.clip(np.log2(np.maximum(freqs, 1e-3) / self.bass_cutoff_hz), 0.0, 1.0)
        w_low = (0.5 + 0.5 * np.cos(np.pi * octave))[:, None]
        mask_bass = mask_h * w_low
        upper = mask_h * (1.0 - w_low)

        # 3. Vocal cues inside the vocal band.
        band = ((freqs >= _VOCAL_LOW_HZ) & (freqs <= _VOCAL_HIGH_HZ)).astype(np.float64)[:, None]
        harmonic_mag = upper * v
        non_repeating = self._non_repeating(harmonic_mag, band[:, 0] > 0)
        report("separate", 0.75)
        level_diff = (mag[0] - mag[1]) / (mag[0] + mag[1] + eps)
        centre = np.exp(-((level_diff / self.centre_width) ** 2))
        stereo_weight = self._stereo_weight(mag)
        vocal_score = stereo_weight * centre * (0.5 + 0.5 * non_repeating) + (1 - stereo_weight) * non_repeating
        mask_vocals = upper * band * vocal_score

        def rebuild(mask: np.ndarray) -> np.ndarray:
            _, y = signal.istft(spec * mask[None], **{k: v for k, v in stft.items() if k != "padded"})
            return y[:, :frames]

        vocals = rebuild(mask_vocals)
        drums = rebuild(mask_p)
        bass = rebuild(mask_bass)
        other = original - vocals - drums - bass
        report("separate", 1.0)
        return {
            name: Audio(stem.astype(np.float32), SAMPLE_RATE)
            for name, stem in (("vocals", vocals), ("drums", drums), ("bass", bass), ("other", other))
        }

    @staticmethod
    def _stereo_weight(mag: np.ndarray) -> float:
        """0 for a (near) mono mix, rising to 1 when the channels differ by ≥ 3 % of their level."""
        diff = float(np.sum(np.abs(mag[0] - mag[1])))
        total = float(np.sum(mag[0] + mag[1])) + 1e-12
        return float(np.clip((diff / total) / 0.03, 0.0, 1.0))

    def _non_repeating(self, magnitude: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """REPET-SIM: 1 − min(R, V)/V with R the median of each frame's most similar frames."""
        v = magnitude[rows]
        frames = v.shape[1]
        out = np.zeros_like(magnitude)
        min_distance = max(1, int(round(1.0 * SAMPLE_RATE / self.hop)))
        if frames <= 2 * min_distance + self.neighbours:
            return out  # too short to find repetitions: no vocal evidence from this cue
        feats = np.log1p(v / (v.max() + 1e-12) * 1000.0)
        feats /= np.linalg.norm(feats, axis=0, keepdims=True) + 1e-12
        feats = feats.astype(np.float32)
        k = self.neighbours
        repeating = np.empty_like(v)
        index = np.arange(frames)
        for start in range(0, frames, 512):
            stop = min(frames, start + 512)
            sim = feats[:, start:stop].T @ feats  # (chunk, frames)
            near = np.abs(index[start:stop, None] - index[None, :]) < min_distance
            sim[near] = -np.inf
            best = np.argpartition(-sim, k - 1, axis=1)[:, :k]  # (chunk, k)
            repeating[:, start:stop] = np.median(v[:, best], axis=2)
        repeating = np.minimum(repeating, v)
        out[rows] = 1.0 - repeating / (v + 1e-12)
        return out
