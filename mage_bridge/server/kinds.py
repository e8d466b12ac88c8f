"""The job-kind table: kind name -> ``"module:function"`` and the inputs it takes.

Functions are looked up by name when a job runs, inside the worker process,
so a kind whose function cannot be imported or found (a broken install, a
missing optional dependency) fails that job with ``not_available`` instead of
breaking the daemon.

Test-only kinds (``sleep``, ``burn``, ``crash``; see
:mod:`mage_bridge.server.testjobs`) exist only when the environment variable
``MAGE_TEST_JOBS=1`` is set for the daemon: the crash and kill tests use them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mage_bridge.edits import EDIT_KINDS
from mage_bridge.errors import MageError


class JobKindUnavailableError(MageError):
    """The function behind a job kind cannot be imported or found in this installation."""

    code = "not_available"


@dataclass(frozen=True)
class JobKind:
    """``target`` is called as ``f(*inputs, out_dir, **kwargs, options=, config=, progress=)``."""

    name: str
    target: str
    inputs: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    #: What the second positional argument is: ``"dir"`` (the job folder, created by the function),
    #: ``"file"`` (a file inside the job folder, named after the input) or ``"enhance"`` (the job
    #: folder for a separation result, else a file) or ``"none"`` (no output argument: the function
    #: writes where its own config says, as ``library_import`` writes into the clip library).
    output: str = "dir"

    def load(self) -> Callable[..., Any]:
        module_name, _, func_name = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise JobKindUnavailableError(f"job kind {self.name!r}: cannot import {module_name}: {e}") from e
        func = getattr(module, func_name, None)
        if not callable(func):
            raise JobKindUnavailableError(
                f"job kind {self.name!r} is not available: {self.target} does not exist"
            )
        return func


JOB_KINDS: dict[str, JobKind] = {k.name: k for k in (
    JobKind("generate", "mage_bridge.api:generate", inputs=("prompt",), keywords=("lyrics", "seed", "project")),
    JobKind("lyrics", "mage_bridge.api:lyrics", inputs=("prompt",), keywords=("lyrics", "seed")),
    JobKind("separate", "mage_bridge.api:separate", inputs=("audio_path",)),
    JobKind("enhance", "mage_bridge.api:enhance", inputs=("audio_path",), output="enhance"),
    JobKind("master", "mage_bridge.api:master", inputs=("audio_path",), output="file"),
    # The kinds that rework a clip (mage_bridge.api.edit): a clip's manifest or an audio file in, a clip
    # folder out; prompt and lyrics come out of the options into the job's parameters, as generate's.
    *(JobKind(name, f"mage_bridge.api:{name}", inputs=("audio_path",), keywords=("prompt", "lyrics", "seed"))
      for name in EDIT_KINDS),
    JobKind("library_import", "mage_bridge.api:library_import", inputs=("audio_path",), output="none"),
    # Songs (mage_bridge.api.song): an arrangement document (checked by the daemon) in, a song folder out;
    # a fill is a generate job for a clip that fits the focus clip whose manifest is its input.
    JobKind("song_render", "mage_bridge.api.song:song_render", inputs=("arrangement",)),
    JobKind("song_fill", "mage_bridge.api.song:fill_gap", inputs=("audio_path",), keywords=("seed",)),
)}

TEST_JOB_KINDS: dict[str, JobKind] = {k.name: k for k in (
    JobKind("sleep", "mage_bridge.server.testjobs:sleep"),
    JobKind("burn", "mage_bridge.server.testjobs:burn"),
    JobKind("crash", "mage_bridge.server.testjobs:crash"),
)}


def test_jobs_enabled() -> bool:
    return os.environ.get("MAGE_TEST_JOBS") == "1"


def job_kind(name: str) -> JobKind:
    """The kind called ``name``; test kinds only with ``MAGE_TEST_JOBS=1``."""
    if name in JOB_KINDS:
        return JOB_KINDS[name]
    if name in TEST_JOB_KINDS and test_jobs_enabled():
        return TEST_JOB_KINDS[name]
    raise JobKindUnavailableError(f"unknown job kind {name!r}; known: {', '.join(JOB_KINDS)}")
