"""What a JACK client hears: its input ports connected to another client's outputs, every frame kept."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class Capture:
    """Records ``seconds`` of the stereo output of the JACK client whose ports start with ``source``
    (PortAudio's client is ``PortAudio``). Frames are kept where JACK's frame clock puts them, so a
    cycle this client missed (an xrun on a loaded machine) is a gap, not a shift of what follows."""

    def __init__(self, source: str = "PortAudio", *, seconds: float = 20.0, timeout_s: float = 10.0) -> None:
        import jack

        self.client = jack.Client("mage-capture", no_start_server=True)
        self.rate = int(self.client.samplerate)
        self.data = np.zeros((int(seconds * self.rate), 2), dtype=np.float32)
        self.frames = 0
        self._first: int | None = None
        self.ports = [self.client.inports.register(f"in_{i}") for i in range(2)]
        self.client.set_process_callback(self._process)
        self.client.activate()
        self.source = source
        self.connect(timeout_s)

    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect to the source's output ports (again: a player that reopened its output has new ones)."""
        deadline = time.monotonic() + timeout_s
        outs: list[Any] = []
        while time.monotonic() < deadline:
            outs = [p for p in self.client.get_ports(is_audio=True, is_output=True) if p.name.startswith(self.source)]
            if len(outs) >= 2:
                break
            time.sleep(0.05)
        assert len(outs) >= 2, f"no output ports of {self.source!r}: {self.client.get_ports()}"
        for out, port in zip(outs[:2], self.ports):
            if out not in self.client.get_all_connections(port):
                self.client.connect(out, port)

    def _process(self, frames: int) -> None:
        now = self.client.last_frame_time
        if self._first is None:
            self._first = now
        start = (now - self._first) & 0xFFFFFFFF
        end = min(start + frames, self.data.shape[0])
        if end > start:
            for c, port in enumerate(self.ports):
                self.data[start:end, c] = port.get_array()[:end - start]
        self.frames = start + frames

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` more of audio arrive (by JACK's clock, not the test's)."""
        target = self.frames + int(seconds * self.rate)
        deadline = time.monotonic() + seconds * 4 + 5
        while self.frames < target and time.monotonic() < deadline:
            time.sleep(0.01)

    def heard(self) -> np.ndarray:
        return self.data[:min(self.frames, self.data.shape[0])]

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
