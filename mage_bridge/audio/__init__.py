"""Audio in MAGE Bridge: the :class:`Audio` value type and audio file I/O.

This package is the only code that touches audio files. Everything inside the
pipeline is an :class:`Audio`: float32 samples shaped ``(channels, frames)``
with the sample rate carried beside them. Time inside the code is integer
frames; :func:`seconds_to_frames` and :func:`frames_to_seconds` are the edges.

Import from here (``from mage_bridge.audio import Audio, load, save``); the
modules behind it are one concept each:

* :mod:`~mage_bridge.audio.buffer` - :class:`Audio`, the time base, :func:`mix`;
* :mod:`~mage_bridge.audio.resampling` - sample-rate conversion, whole or streamed;
* :mod:`~mage_bridge.audio.reading` - :func:`load`, :func:`probe`, block reading, the ffmpeg fallback;
* :mod:`~mage_bridge.audio.writing` - :func:`save`, :func:`save_mp3`, :class:`BlockWriter`;
* :mod:`~mage_bridge.audio.blocks` - :func:`map_blocks` and the block stores of streaming stages.
"""

from __future__ import annotations

from mage_bridge.audio.blocks import BlockStore, FileBlockStore, map_blocks
from mage_bridge.audio.buffer import BLOCK_FRAMES, SAMPLE_RATE, Audio, frames_to_seconds, mix, seconds_to_frames
from mage_bridge.audio.reading import AudioInfo, blocks_48k_stereo, decode_to_wav, load, probe, read_blocks
from mage_bridge.audio.resampling import resample, resample_blocks
from mage_bridge.audio.writing import (
    MP3_QUALITIES,
    BlockWriter,
    raise_write_error,
    save,
    save_mp3,
    write_blocks,
)

__all__ = [
    "BLOCK_FRAMES", "MP3_QUALITIES", "SAMPLE_RATE", "Audio", "AudioInfo", "BlockStore", "BlockWriter",
    "FileBlockStore", "blocks_48k_stereo", "decode_to_wav", "frames_to_seconds", "load", "map_blocks", "mix",
    "probe", "raise_write_error", "read_blocks", "resample", "resample_blocks", "save", "save_mp3",
    "seconds_to_frames", "write_blocks",
]
