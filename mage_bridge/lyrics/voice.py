"""The sung vocal: every timed syllable spoken by espeak-ng, then pitched to its note and stretched to its length.

Each word is spoken once (a whole word joins its syllables better than syllables spoken apart), at espeak-ng's
22 050 Hz. Its syllables are found in it: the voiced runs (Praat's pitch tracker), merged or split at the
quietest point (Praat's intensity) until there is one voiced nucleus per syllable. The consonants before,
between and after the nuclei keep their spoken length; each nucleus is stretched (or squeezed) so that it
starts on its syllable's start - the consonants of a word's onset come just before the beat, as a singer
places them - and lasts until the next syllable's nucleus or the note's end. Praat's overlap-add (PSOLA)
resynthesis does the pitch and the time together from one pitch tier and one duration tier per word: a flat
pitch at each note's frequency, a 40 ms glide between notes, and a vibrato (5.5 Hz, +-30 cents) that grows
in after the note's first 150 ms. The words are summed with 5 ms fades, high-passed (the formants stay, the
rumble goes), set to a peak of -6 dBFS and resampled once to the clip's rate.

The seed sets each word's vibrato phase and the noise Praat draws when it stretches unvoiced sounds: the same
syllables, voice and seed give the same samples.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from mage_bridge.audio import Audio, resample
from mage_bridge.errors import BackendUnavailableError, InvalidInputError, MageError
from mage_bridge.lyrics.melody import VOICE_ALIASES, VOICE_RANGES
from mage_bridge.lyrics.timing import SyllableTime

#: espeak-ng's output rate; the voice is built at this rate and resampled once at the end.
SPEAK_RATE = 22050
#: How to install espeak-ng, said when it is missing.
INSTALL_HINT = ("install espeak-ng: `sudo apt install espeak-ng` (Debian/Ubuntu), `brew install espeak-ng` "
                "(macOS/Homebrew), or the espeak-ng .msi from https://github.com/espeak-ng/espeak-ng/releases "
                "(Windows)")
#: The espeak-ng voice variant and its pitch (``-p``, 0-99) per voice type: the nearer the spoken pitch is
#: to the sung one, the fewer artefacts PSOLA leaves. Only variants without ``breath`` are used: espeak-ng
#: draws breath noise from a generator seeded by the clock, so those would not give the same samples twice.
#: The third figure is the speaking pitch (Hz, measured): the analysis of the spoken word looks for periods
#: within an octave of it, so that it never marks every other period (which PSOLA would sing an octave low).
ESPEAK_VOICES: dict[str, tuple[str, int, float]] = {
    "soprano": ("en-us+f1", 99, 300.0),
    "mezzo-soprano": ("en-us+f1", 92, 275.0),
    "alto": ("en-us+f4", 85, 255.0),
    "tenor": ("en-us+m3", 99, 165.0),
    "baritone": ("en-us+m1", 90, 135.0),
    "bass": ("en-us+m1", 75, 115.0),
}
SPEAK_WPM = 140           # a little slower than espeak-ng's 175: longer vowels to stretch from
VIBRATO_HZ = 5.5
VIBRATO_CENTS = 30.0
VIBRATO_DELAY_S = 0.15    # a plain tone first; then the vibrato grows in over as long again
GLIDE_S = 0.04            # portamento between two notes, centred on the second note's start
EDGE_FADE_S = 0.005       # the fade at each word's ends, so the words join without clicks
MIN_NUCLEUS_SHARE = 0.35  # a nucleus keeps at least this share of its note; the consonants give way
PEAK = 0.5                # -6 dBFS
_HIGHPASS_HZ = 90.0
_STEP_S = 0.005           # the pitch tier's grid, in output seconds
#: Praat's random generator (its overlap-add draws on it for unvoiced stretches) is one per process: a render
#: seeds it per word and holds this lock, so renders in several threads stay deterministic.
_PRAAT_RANDOM = threading.Lock()


@dataclass(frozen=True)
class Take:
    """One spoken word: its samples at :data:`SPEAK_RATE` (silence trimmed) and a nucleus per syllable.

    ``nuclei`` holds ``(start_s, end_s)`` from the take's start, in order, not overlapping.
    """

    samples: np.ndarray
    nuclei: tuple[tuple[float, float], ...]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SPEAK_RATE


def espeak_executable() -> str:
    """The path of ``espeak-ng``; raises :class:`BackendUnavailableError` saying how to install it."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise BackendUnavailableError(f"the sung vocal needs espeak-ng, which is not on PATH; {INSTALL_HINT}")
    return exe


def espeak_voice(voice: str) -> tuple[str, int, float]:
    """``(espeak-ng voice, pitch 0-99, speaking pitch Hz)`` for a voice type or alias ("female", "baritone", ...)."""
    name = voice.strip().lower()
    name = VOICE_ALIASES.get(name, name)
    if name not in VOICE_RANGES:
        raise InvalidInputError(f"voice must be one of {sorted(VOICE_RANGES) + sorted(VOICE_ALIASES)}, "
                                f"got {voice!r}")
    return ESPEAK_VOICES[name]


#: A voice type named in a prompt: "baritone", "soprano vocals", "female singer"; "alto", "tenor" and "bass"
#: only beside a word for singing (an alto sax, a tenor sax or a bass are instruments).
_VOICE_WORDS = re.compile(
    r"\b(?:(soprano|mezzo(?:-soprano)?|baritone)\b(?!\s*sax)|(alto|tenor|bass)\s+(?:vocals?|voice|singer|vocalist)\b|"
    r"(female|woman|women|girl|male|man|men|boy)(?:'s)?\s+(?:vocals?|voice|singer|vocalist)s?\b)", re.IGNORECASE)
_VOICE_OF_WORD = {"woman": "female", "women": "female", "girl": "female", "man": "male", "men": "male",
                  "boy": "male", "mezzo": "mezzo-soprano"}


def voice_for_prompt(prompt: str, *, default: str = "female") -> str:
    """The voice type ``prompt`` asks for ("baritone", "female" for "female vocals"...), else ``default``."""
    found = _VOICE_WORDS.search(prompt)
    if found is None:
        return default
    word = next(g for g in found.groups() if g).lower()
    return _VOICE_OF_WORD.get(word, word)


def speak(word: str, *, voice: tuple[str, int, float], exe: str) -> np.ndarray:
    """``word`` spoken by espeak-ng: float64 mono at :data:`SPEAK_RATE` (its leading/trailing silence kept)."""
    variant, pitch, _ = voice
    try:  # the text goes in on stdin, so a word starting with "-" is never read as an option
        done = subprocess.run([exe, "-v", variant, "-p", str(pitch), "-s", str(SPEAK_WPM), "--stdout", "--stdin"],
                              input=word.encode("utf-8"), capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise MageError(f"espeak-ng could not speak {word!r}: {e}") from e
    data = done.stdout
    if data[:4] != b"RIFF" or len(data) < 46:
        raise MageError(f"espeak-ng gave no WAV for {word!r}: {done.stderr.decode(errors='replace')[:200]}")
    # the header's sizes are placeholders when writing to a pipe: the samples are everything after it
    return np.frombuffer(data[44:len(data) - (len(data) - 44) % 2], dtype="<i2").astype(np.float64) / 32768.0


def _pitch_range(speaking_hz: float) -> tuple[float, float]:
    """The pitch floor and ceiling (Hz) that the analysis of a voice speaking at ``speaking_hz`` uses."""
    return speaking_hz / 1.9, speaking_hz * 2.0


def find_nuclei(samples: np.ndarray, count: int, *, speaking_hz: float) -> Take:
    """The take of a spoken word: silence trimmed, and ``count`` voiced nuclei located in it.

    ``speaking_hz`` is the voice's speaking pitch (the third figure of :data:`ESPEAK_VOICES`).
    """
    import parselmouth

    sound = parselmouth.Sound(samples, sampling_frequency=SPEAK_RATE)
    intensity = sound.to_intensity(minimum_pitch=100.0, time_step=0.005)
    level = intensity.values[0]
    level_t = np.asarray(intensity.xs())
    loud = np.flatnonzero(level > level.max() - 35.0)
    if loud.size == 0:
        return Take(samples, _even(len(samples) / SPEAK_RATE, count))
    t0 = max(0.0, level_t[loud[0]] - 0.02)
    t1 = min(len(samples) / SPEAK_RATE, level_t[loud[-1]] + 0.02)
    trimmed = samples[int(t0 * SPEAK_RATE):int(t1 * SPEAK_RATE)]
    length = len(trimmed) / SPEAK_RATE
    floor, ceiling = _pitch_range(speaking_hz)
    pitch = sound.to_pitch(time_step=0.01, pitch_floor=floor, pitch_ceiling=ceiling)
    voiced = pitch.selected_array["frequency"] > 0
    times = np.asarray(pitch.xs()) - t0
    runs: list[list[float]] = []
    for t, v in zip(times, voiced):
        if not v or t < 0 or t > length:
            continue
        if runs and t - runs[-1][1] <= 0.035:
            runs[-1][1] = t + 0.005
        else:
            runs.append([t - 0.005, t + 0.005])
    runs = [[max(0.0, a), min(length, b)] for a, b in runs if b - a >= 0.03]
    if not runs:
        return Take(trimmed, _even(length, count))
    while len(runs) > count:  # a voiced consonant apart from its vowel: join the two runs closest together
        gaps = [runs[i + 1][0] - runs[i][1] for i in range(len(runs) - 1)]
        i = int(np.argmin(gaps))
        runs[i:i + 2] = [[runs[i][0], runs[i + 1][1]]]
    while len(runs) < count:  # syllables sung legato ("sum-mer"): split the longest run at its quietest point
        i = int(np.argmax([b - a for a, b in runs]))
        a, b = runs[i]
        inside = (level_t - t0 > a + 0.3 * (b - a)) & (level_t - t0 < b - 0.3 * (b - a))
        cut = float(level_t[inside][np.argmin(level[inside])] - t0) if inside.any() else (a + b) / 2
        runs[i:i + 1] = [[a, cut], [cut, b]]
    return Take(trimmed, tuple((float(a), float(b)) for a, b in runs))


def _even(length: float, count: int) -> tuple[tuple[float, float], ...]:
    edges = np.linspace(0.0, length, count + 1)
    return tuple((float(edges[i]), float(edges[i + 1])) for i in range(count))


def _hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def render_word(take: Take, notes: Sequence[SyllableTime], *, end_s: float, vibrato_phase: float,
                speaking_hz: float) -> tuple[float, np.ndarray]:
    """``(start_s, samples)``: the word sung, its first nucleus starting at ``notes[0].start``.

    The last nucleus ends where its consonants after it still end by ``end_s``. ``start_s`` is the clip
    time of the returned samples' first frame (before the beat by the onset consonants' length).
    """
    import parselmouth
    from parselmouth.praat import call

    n = len(notes)
    nuclei = take.nuclei
    onset = nuclei[0][0]
    coda = take.duration_s - nuclei[-1][1]
    # output lengths of each original piece: onset, nucleus 0, gap 0, nucleus 1, ..., coda
    pieces: list[tuple[float, float, float]] = [(0.0, onset, onset)]
    for k in range(n):
        a, b = nuclei[k]
        if k < n - 1:
            span = notes[k + 1].start - notes[k].start
            gap = nuclei[k + 1][0] - b
        else:
            span = max(end_s - notes[k].start, 0.02)
            gap = coda
        length = max(span - gap, MIN_NUCLEUS_SHARE * span)
        gap_out = max(span - length, 0.0)
        pieces.append((a, b, length))
        pieces.append((b, nuclei[k + 1][0] if k < n - 1 else take.duration_s, gap_out))
    orig_edges = [0.0]
    out_edges = [0.0]
    for _, b, length in pieces:
        orig_edges.append(b)
        out_edges.append(out_edges[-1] + length)
    start_s = notes[0].start - onset
    sound = parselmouth.Sound(take.samples, sampling_frequency=SPEAK_RATE)
    manipulation = call(sound, "To Manipulation", 0.01, *_pitch_range(speaking_hz))
    durations = call("Create DurationTier", "d", 0.0, take.duration_s)
    eps = 1e-4
    for a, b, length in pieces:
        if b - a <= 4 * eps:
            continue
        ratio = float(np.clip(length / (b - a), 0.05, 40.0))
        call(durations, "Add point", a + eps, ratio)
        call(durations, "Add point", b - eps, ratio)
    call([manipulation, durations], "Replace duration tier")
    # the pitch wanted at each output instant (seconds from start_s), mapped back onto the take's time axis
    total = out_edges[-1]
    grid = np.arange(0.0, total + _STEP_S, _STEP_S)
    beats = np.array([t.start - start_s for t in notes])
    index = np.clip(np.searchsorted(beats, grid, side="right") - 1, 0, n - 1)
    semis = np.array([float(t.note) for t in notes])[index]  # type: ignore[arg-type]
    width = max(1, int(round(GLIDE_S / _STEP_S)))
    padded = np.concatenate([np.full(width, semis[0]), semis, np.full(width, semis[-1])])
    semis = np.convolve(padded, np.ones(width) / width, mode="same")[width:-width]
    since = grid - beats[index]
    depth = np.clip((since - VIBRATO_DELAY_S) / VIBRATO_DELAY_S, 0.0, 1.0) * VIBRATO_CENTS / 100.0
    semis = semis + depth * np.sin(2 * np.pi * VIBRATO_HZ * since + vibrato_phase)
    orig = np.interp(grid, out_edges, orig_edges)
    pitches = call("Create PitchTier", "p", 0.0, take.duration_s)
    last = -1.0
    for t, s in zip(orig, semis):
        if t > last + 1e-5:
            call(pitches, "Add point", float(t), _hz(float(s)))
            last = float(t)
    call([manipulation, pitches], "Replace pitch tier")
    sung = call(manipulation, "Get resynthesis (overlap-add)")
    out = np.asarray(sung.values[0], dtype=np.float64)
    fade = min(int(EDGE_FADE_S * SPEAK_RATE), len(out) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return start_s, out


def _words(times: Sequence[SyllableTime]) -> list[list[SyllableTime]]:
    """The syllables grouped by sung word (consecutive syllables with the same line and word)."""
    words: list[list[SyllableTime]] = []
    for t in times:
        if words and (words[-1][-1].line, words[-1][-1].word) == (t.line, t.word):
            words[-1].append(t)
        else:
            words.append([t])
    return words


def _spoken_text(word: list[SyllableTime]) -> str:
    text = "".join(t.text for t in word)
    kept = "".join(c for c in text if c.isalnum() or c in "'-")
    return kept.strip("-'") or text


def check_inputs(times: Sequence[SyllableTime], *, voice: str, sample_rate: int, duration_s: float) -> None:
    """Every argument of :func:`sing` checked before any work, naming the one that is wrong."""
    espeak_voice(voice)
    if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
        raise InvalidInputError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if not (isinstance(duration_s, (int, float)) and np.isfinite(duration_s) and duration_s > 0):
        raise InvalidInputError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
    for t in times:
        if t.note is None:
            raise InvalidInputError(f"the syllable {t.text!r} at {t.start:.3f} s has no note; "
                                    "write the melody with vocal_melody first")
        if not t.end > t.start:
            raise InvalidInputError(f"the syllable {t.text!r} ends ({t.end!r}) before it starts ({t.start!r})")
    if any(b.start < a.start for a, b in zip(times, times[1:])):
        raise InvalidInputError("times must be in order of their starts (as time_lyrics returns them)")


def sing(times: Sequence[SyllableTime], *, voice: str = "female", sample_rate: int = 48000,
         duration_s: float, seed: int = 0) -> Audio:
    """The vocal stem: ``times`` (each with its ``note``) sung, as stereo float32 ``(2, frames)``.

    ``frames`` is ``round(duration_s * sample_rate)``; what would fall outside the clip is cut. ``voice`` is
    a key of :data:`~mage_bridge.lyrics.melody.VOICE_RANGES` or an alias ("female", "male"). Raises
    :class:`BackendUnavailableError` when espeak-ng is missing (naming the package to install) and
    :class:`InvalidInputError` for a bad argument.
    """
    check_inputs(times, voice=voice, sample_rate=sample_rate, duration_s=duration_s)
    frames = int(round(duration_s * sample_rate))
    if not times:
        return Audio(np.zeros((2, frames), dtype=np.float32), sample_rate)
    exe = espeak_executable()
    try:
        import parselmouth
    except ImportError as e:
        raise BackendUnavailableError("the sung vocal needs praat-parselmouth: pip install "
                                      "'praat-parselmouth>=0.4.3'") from e
    chosen = espeak_voice(voice)
    words = _words(times)
    texts = sorted({_spoken_text(w) for w in words})
    with ThreadPoolExecutor(max_workers=4) as pool:  # the subprocesses run while Python waits
        spoken = dict(zip(texts, pool.map(lambda w: speak(w, voice=chosen, exe=exe), texts)))
    # one analysis per word text and syllable count: a chorus sings the same takes again
    takes = {(text, count): find_nuclei(spoken[text], count, speaking_hz=chosen[2])
             for text, count in dict.fromkeys((_spoken_text(w), len(w)) for w in words)}
    rng = np.random.default_rng(seed % 2**32)
    phases = rng.uniform(0.0, 2 * np.pi, size=len(words))
    length = int(round(duration_s * SPEAK_RATE))
    bus = np.zeros(length + SPEAK_RATE, dtype=np.float64)
    # each word starts before its beat by its onset consonants
    starts = [w[0].start - takes[(_spoken_text(w), len(w))].nuclei[0][0] for w in words]
    with _PRAAT_RANDOM:
        for i, word in enumerate(words):
            take = takes[(_spoken_text(word), len(word))]
            end_s = word[-1].end
            if i + 1 < len(words) and words[i + 1][0].line == word[0].line:
                end_s = min(end_s, starts[i + 1])
            end_s = min(end_s, duration_s)
            praat_seed = int(np.random.default_rng([seed % 2**32, i]).integers(1, 2**31 - 1))
            parselmouth.praat.run(f"random_initializeWithSeedUnsafelyButPredictably ({praat_seed})\n")
            start_s, out = render_word(take, word, end_s=end_s, vibrato_phase=float(phases[i]),
                                         speaking_hz=chosen[2])
            first = int(round(start_s * SPEAK_RATE))
            if first < 0:
                out, first = out[-first:], 0
            out = out[:max(0, len(bus) - first)]
            bus[first:first + len(out)] += out
        parselmouth.praat.run("random_initializeSafelyAndUnpredictably ()\n")
    bus = bus[:length]
    from scipy.signal import butter, sosfilt

    bus = sosfilt(butter(2, _HIGHPASS_HZ, btype="highpass", fs=SPEAK_RATE, output="sos"), bus)
    peak = float(np.max(np.abs(bus))) if bus.size else 0.0
    if peak > 0:
        bus *= PEAK / peak
    mono = Audio(bus[None, :].astype(np.float32), SPEAK_RATE)
    out48 = resample(mono, sample_rate).samples[0]
    out48 = np.pad(out48, (0, max(0, frames - len(out48))))[:frames]
    limit = float(np.max(np.abs(out48))) if out48.size else 0.0
    if limit > PEAK * 1.05:  # the resampler's overshoot, tamed
        out48 = out48 * (PEAK / limit)
    return Audio(np.stack([out48, out48]).astype(np.float32), sample_rate)


__all__ = ["ESPEAK_VOICES", "INSTALL_HINT", "SPEAK_RATE", "Take", "espeak_executable", "espeak_voice",
           "find_nuclei", "render_word", "sing", "speak", "voice_for_prompt"]
