"""Conforming a clip to the song: its tempo by time-stretching, optionally its key by pitch-shifting.

Both run through Rubber Band (``pedalboard.time_stretch``) in one pass. Its "faster" (R2) engine
is used, not the "finer" (R3) one: on drums the R3 engine lets beats wander by up to 30 ms
against the stretched grid within a 30 s clip, while R2 keeps every beat within 2 ms of it, and
beat-matched crossfades need the grid. A clip whose tempo already is the song's and that needs
no shift passes through sample for sample.

The stretched clip has exactly ``round(frames * clip_bpm / song_bpm)`` frames (Rubber Band's own
length is within a few frames of it; the rest is trimmed or padded with silence at the end), so
a song's length is known, to the frame, before any audio is processed.

A clip's tempo is first folded by octaves towards the song's (a 64 BPM clip in a 128 BPM song
plays at 128, half time), so no clip is stretched by more than a factor of √2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mage_bridge.audio import Audio
from mage_bridge.errors import InvalidInputError
from mage_bridge.music import key_name, pitch_class

#: Minor to its relative major: the major key three semitones up holds the same notes.
_RELATIVE_MAJOR = 3


@dataclass(frozen=True)
class Conform:
    """How one clip is fitted to the song.

    ``fold`` is the power of two the clip's tempo is read at (2.0: a half-time clip heard at the
    song's tempo); ``length_ratio`` is output length / input length, ``clip_bpm * fold / song_bpm``;
    ``semitones`` the pitch shift (0 without key conforming, or when the key is unknown).
    """

    clip_bpm: float
    song_bpm: float
    fold: float
    semitones: int
    frames_in: int
    frames_out: int

    @property
    def length_ratio(self) -> float:
        return self.clip_bpm * self.fold / self.song_bpm

    @property
    def identity(self) -> bool:
        return self.frames_in == self.frames_out and self.length_ratio == 1.0 and self.semitones == 0


def tempo_fold(clip_bpm: float, song_bpm: float) -> float:
    """The power of two that brings ``clip_bpm`` nearest ``song_bpm`` (on a log scale): 64 -> 128 is 2.0."""
    return 2.0 ** round(math.log2(song_bpm / clip_bpm))


def key_shift(clip_key: str, clip_mode: str, song_key: str, song_mode: str) -> int:
    """Semitones (-6..+5) that take the clip to the nearest key with the song's notes.

    A clip in the song's mode moves to the song's tonic; a clip in the other mode moves to the
    song's relative key (a C major clip in an A minor song stays put, a D major one goes down 2 to
    C major), so its mode is kept and only its pitch moves.
    """
    target = pitch_class(song_key)
    if clip_mode != song_mode:
        target += _RELATIVE_MAJOR if song_mode == "minor" else -_RELATIVE_MAJOR
    return (target - pitch_class(clip_key) + 6) % 12 - 6


def shifted_key(key: str, mode: str, semitones: int) -> str:
    """``"A minor"`` moved by ``semitones``, spelled the conventional way."""
    return f"{key_name(pitch_class(key) + semitones, mode)} {mode}"


def plan_conform(frames: int, *, clip_bpm: float, song_bpm: float, semitones: int = 0,
                 stretch: bool = True) -> Conform:
    """The :class:`Conform` of a clip of ``frames`` frames; ``stretch=False`` keeps its own tempo."""
    if frames <= 0:
        raise InvalidInputError(f"a clip to conform must hold samples, got {frames} frames")
    if not stretch:
        return Conform(clip_bpm, clip_bpm, 1.0, semitones, frames, frames)
    fold = tempo_fold(clip_bpm, song_bpm)
    out = int(round(frames * clip_bpm * fold / song_bpm))
    return Conform(clip_bpm, song_bpm, fold, semitones, frames, max(out, 1))


def conform(audio: Audio, plan: Conform) -> Audio:
    """``audio`` stretched and shifted as ``plan`` says, exactly ``plan.frames_out`` frames long."""
    if audio.frames != plan.frames_in:
        raise InvalidInputError(f"the conform plan is for {plan.frames_in} frames, the audio has {audio.frames}")
    if plan.identity:
        return audio
    import pedalboard

    out = pedalboard.time_stretch(
        np.ascontiguousarray(audio.samples), float(audio.sample_rate), stretch_factor=1.0 / plan.length_ratio,
        pitch_shift_in_semitones=float(plan.semitones), high_quality=False,
    )
    samples = np.zeros((audio.channels, plan.frames_out), dtype=np.float32)
    n = min(plan.frames_out, out.shape[-1])
    samples[:, :n] = out[:, :n]
    return Audio(samples, audio.sample_rate)
