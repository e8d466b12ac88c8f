"""Writer processes for the concurrency and crash tests: ``python -m tests.library.writers MODE ROOT WORK N``.

``register``: waits for ``WORK/go``, then records ``N`` clip folders of its own (``WORK/<pid>/<i>``),
tagging and rating every fifth; prints each id. ``churn``: imports small WAVs and deletes, tags and
rates some of them, forever, until it is killed (``kill -9``).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from mage_bridge import audio as audio_io
from mage_bridge.library import Library, import_audio
from tests.library.conftest import write_clip
from tests.signals import sine


def register(root: Path, work: Path, count: int) -> None:
    mine = work / str(os.getpid())
    folders = [write_clip(mine / str(i), prompt=f"clip {i} of {os.getpid()}") for i in range(count)]
    while not (work / "go").exists():
        time.sleep(0.001)
    with Library(root) as library:
        for i, path in enumerate(folders):
            clip = library.register(path)
            assert clip is not None
            if i % 5 == 0:
                library.tag(clip.id, [f"p{os.getpid()}", "shared"])
                library.rate(clip.id, 1 + i % 5)
            print(clip.id, flush=True)


def churn(root: Path, work: Path) -> None:
    source = work / f"take-{os.getpid()}.wav"
    audio_io.save(sine(220.0, 0.5), source, overwrite=True)
    with Library(root) as library:
        made: list[str] = []
        i = 0
        while True:
            i += 1
            made.append(import_audio(library, source, tags=[f"n{i % 7}"]).id)
            if i % 3 == 0:
                library.delete(made.pop(0))
            if i % 4 == 0 and made:
                library.rate(made[-1], i % 6)


if __name__ == "__main__":
    mode, root, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if mode == "register":
        register(root, work, int(sys.argv[4]))
    else:
        churn(root, work)
