"""The one progress display every long command uses: ``progress(stage, fraction)`` drawn on stderr.

On a terminal it is a bar (``rich``) with the stage, its percentage, the time
spent and the time left in that stage, cleared when the command ends. When
stderr is a file or a pipe (a log, CI, ``2>&1 | tee``) it is plain lines: one
when the stage changes and one per quarter of it, with the time left. With
``-q`` nothing is drawn; with ``-v`` lines are drawn even on a terminal, so
they interleave cleanly with the log lines ``-v`` adds. stdout stays free for
the result, so ``mage-bridge master in.wav -o out.wav > path.txt`` composes.

Nothing is drawn until the first report, so a command refused before any work
prints its error alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from types import TracebackType
from typing import Any, TextIO

#: Plain lines: one per this much of a stage (and one when the stage changes or ends).
LINE_STEP = 0.25


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM", "").lower() not in ("dumb", "unknown")
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def _eta(elapsed_s: float, fraction: float) -> str:
    """``, ~12 s left`` once a stage is far enough along to say; else nothing."""
    if not 0.05 <= fraction < 1.0 or elapsed_s < 1.0 or elapsed_s * (1.0 - fraction) < fraction:
        return ""
    left = elapsed_s * (1.0 - fraction) / fraction
    return f", ~{left:.0f} s left" if left < 120 else f", ~{left / 60:.0f} min left"


class ProgressDisplay:
    """A ``ProgressFn`` that draws on ``stream`` (stderr): ``"bar"``, ``"lines"`` or ``"off"``.

    Use it as a context manager around the work, so the bar is cleared
    however the work ends (done, an error, Ctrl-C).
    """

    def __init__(self, *, mode: str | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if mode is None:
            mode = "bar" if _is_terminal(self.stream) else "lines"
        if mode not in ("bar", "lines", "off"):
            raise ValueError(f"mode must be 'bar', 'lines' or 'off', got {mode!r}")
        self.mode = mode
        self.started = time.perf_counter()
        self.stage = ""
        self.stage_started = self.started
        self.shown = -1.0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __call__(self, stage: str, fraction: float) -> None:
        if self.mode == "off":
            return
        fraction = max(0.0, min(1.0, float(fraction)))
        now = time.perf_counter()
        changed = stage != self.stage
        if changed:
            self.stage, self.stage_started, self.shown = stage, now, -1.0
        if self.mode == "bar":
            self._draw_bar(stage, fraction, changed)
            return
        step = int(fraction / LINE_STEP + 1e-9)
        if changed or step > int(self.shown / LINE_STEP + 1e-9) or (fraction >= 1.0 > self.shown):
            self.shown = fraction
            print(f"[{now - self.started:7.2f}s] {stage:<10} {fraction:4.0%}{_eta(now - self.stage_started, fraction)}",
                  file=self.stream, flush=True)

    def _draw_bar(self, stage: str, fraction: float, changed: bool) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(SpinnerColumn(), TextColumn("{task.description:<10}"), BarColumn(),
                                 TaskProgressColumn(), TimeElapsedColumn(), TextColumn("eta"),
                                 TimeRemainingColumn(), console=Console(file=self.stream), transient=True,
                                 redirect_stdout=False, redirect_stderr=False)
            self._bar.start()
            self._task = self._bar.add_task(stage, total=100.0, completed=fraction * 100.0)
        elif changed:  # a new stage: its own percentage and its own time estimate
            self._bar.reset(self._task, total=100.0, completed=0, description=stage)
            self._bar.update(self._task, completed=fraction * 100.0)
        else:
            self._bar.update(self._task, completed=fraction * 100.0)

    def close(self) -> None:
        """Clear the bar (if one was drawn); later reports are ignored."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        self.mode = "off"


def display_for(args: argparse.Namespace) -> ProgressDisplay:
    """The display a command's ``-q`` / ``-v`` ask for (see the module's docstring)."""
    if getattr(args, "quiet", False):
        return ProgressDisplay(mode="off")
    return ProgressDisplay(mode="lines" if getattr(args, "verbose", False) else None)
