"""The panel's helper process: prompt analysis as the user types, and which generators can run here.

Analysis may load a sentence encoder (seconds, the first time) and the generator list imports
each backend to ask it; neither may hold up the daemon's loop, which answers OSC pings within
milliseconds. So both run in one helper process, started on first use and kept (the encoder
stays loaded), ending with the daemon as workers do. The analysis is the one a generate job
runs (:func:`mage_bridge.analysis.analyze` with the daemon's config), so what the page shows is
what the job will use unless the user changes it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from mage_bridge.config import Config
from mage_bridge.errors import MageError, failure_code, failure_message

log = logging.getLogger("mage_bridge.panel")


# -- in the helper process ------------------------------------------------------------------------
def analyze_prompt(prompt: str, lyrics: str | None, config: Config) -> dict[str, Any]:
    """``{"analysis": {...}}`` (:meth:`PromptAnalysis.to_dict`), or ``{"error": {"code", "message"}}``."""
    from mage_bridge.analysis import analyze

    try:
        return {"analysis": analyze(prompt, lyrics=lyrics or None, config=config).to_dict()}
    except Exception as e:  # sent back as words: an exception may not survive the trip between processes
        return {"error": {"code": failure_code(e), "message": failure_message(e)}}


def generate_backends(config: Config) -> list[dict[str, Any]]:
    """Every generator backend: name, whether it runs here (else why not), what it is, the edit tasks it does."""
    from mage_bridge.generate import EDIT_TASKS, REGISTRY, backends_for_task

    able = {task: backends_for_task(task) for task in EDIT_TASKS}
    return [{"name": s.name, "available": s.available, "reason": s.reason, "summary": s.summary,
             "tasks": [task for task, names in able.items() if s.name in names]}
            for s in REGISTRY.status(config)]


# -- in the daemon --------------------------------------------------------------------------------
class Helper:
    """The helper process, started on first use; a crashed one is started again on the next call."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._pool: ProcessPoolExecutor | None = None
        self._backends: list[dict[str, Any]] | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            from mage_bridge.server.workers import helper_start

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=helper_start)
        return self._pool

    async def _call(self, func: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), func, *args)
        except BrokenProcessPool:
            log.warning("panel: the helper process ended unexpectedly; it is started again on the next request")
            self.close()
            raise HelperError("the panel's helper process ended unexpectedly; try again") from None

    async def analyze(self, prompt: str, lyrics: str | None) -> dict[str, Any]:
        """The analysis of ``prompt`` (and ``lyrics``) as a generate job would make it."""
        return dict(await self._call(analyze_prompt, prompt, lyrics, self.config))

    async def backends(self) -> list[dict[str, Any]]:
        """The generator backends (asked once: installing one needs a daemon restart anyway)."""
        if self._backends is None:
            self._backends = list(await self._call(generate_backends, self.config))
        return self._backends

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class HelperError(MageError):
    """The helper process could not answer."""

    code = "not_available"
