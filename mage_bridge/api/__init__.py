"""The Python API: one function per job kind, shared by the CLI and the daemon.

``generate`` (a prompt becomes a clip folder), ``lyrics`` (a prompt becomes lyrics timed
on a clip's grid, as text and LRC), ``separate`` (a mix becomes
four stems), ``enhance`` (per-stem chains), ``master`` (a loudness target under
a true-peak ceiling), ``export`` (a format conversion), and the tasks that rework
a clip into a new one: ``repaint``, ``extend``, ``cover``, ``lego``, ``extract``
(:mod:`mage_bridge.api.edit`; backends that have them) and ``retake``; ``library_import`` (the
user's own audio into the clip library); songs of clips arranged around a focus clip
(:mod:`mage_bridge.api.song`: ``song_new``, ``song_add``, ``song_render``, ``fill_gap``, ``song_fill``).
Each validates its
arguments and checks its target (exists? writable? supported extension?)
before anything heavy loads or any audio is decoded, reports
``progress(stage, fraction)``, builds its result under a hidden name beside the
target and renames it into place at the end, so a result is complete or
absent, never half-written, and returns the path of its JSON manifest
(schema ``mage-bridge/manifest@1``). Every clip made is recorded in the clip library
(:mod:`mage_bridge.library`) as the job ends.

The same names hold at every door: keyword arguments here are the keys of a
job's ``options_json`` over OSC and in spool files (``target_lufs``,
``true_peak_dbtp``, ``backend``...); an ``options`` mapping with a key its
function does not know is an :class:`InvalidInputError` that lists the known
ones. ``backend=None`` means the config's choice (``[backends]``).

Outputs are 48 kHz stereo. Inputs at other rates are resampled (polyphase
windowed sinc) and mono is duplicated, each with a note in the manifest.
Inputs longer than :data:`~mage_bridge.api.checks.MAX_INPUT_DURATION_S` are
refused before decoding. Separate, enhance and master stream their input in
blocks, so their memory does not grow with its length
(``benchmarks/memory_long.py``).
"""

from __future__ import annotations

from mage_bridge.api.edit import EDIT_KINDS, TRACK_NAMES, cover, extend, extract, lego, repaint, retake
from mage_bridge.api.enhance import ENHANCE_OPTIONS, enhance
from mage_bridge.api.export import export
from mage_bridge.api.generate import GENERATE_OPTIONS, generate, measure_mix
from mage_bridge.api.library import library_import
from mage_bridge.api.lyrics import LYRICS_OPTIONS, lyrics
from mage_bridge.api.master import master
from mage_bridge.api.separate import SEPARATE_OPTIONS, separate
from mage_bridge.api.song import fill_gap, song_add, song_fill, song_new, song_render
from mage_bridge.errors import (
    BackendUnavailableError,
    InvalidAudioError,
    InvalidInputError,
    MageError,
    OutputExistsError,
)

__all__ = [
    "generate", "lyrics", "separate", "enhance", "master", "export", "measure_mix",
    "repaint", "extend", "cover", "lego", "extract", "retake", "library_import",
    "song_new", "song_add", "song_render", "fill_gap", "song_fill",
    "GENERATE_OPTIONS", "LYRICS_OPTIONS", "SEPARATE_OPTIONS", "ENHANCE_OPTIONS", "EDIT_KINDS", "TRACK_NAMES",
    "MageError", "InvalidInputError", "InvalidAudioError", "OutputExistsError", "BackendUnavailableError",
]
