"""The daemon as the panel sees it: what the panel reads and asks of it, and nothing else.

The panel is a door of the daemon like the OSC door: it queues jobs through the same checks
(:meth:`submit_generate`; a library clip's edits and gap fills by :meth:`submit_audio` on the clip's
manifest; songs by :meth:`submit_song_render`), cancels and retries them as the user's own CLI may
(the panel's token proves the user), deletes a clip's files only where the path ``guard`` allows, reads
the queue, the DAW context and the live player's status, and hears the job events the OSC door sends.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mage_bridge.config import Config
from mage_bridge.server.daw import DawClients
from mage_bridge.server.events import JobEvents
from mage_bridge.server.jobs import Job, JobStore
from mage_bridge.server.osc import Addr
from mage_bridge.server.security import PathGuard

if TYPE_CHECKING:
    from mage_bridge.live.player import Player


class PanelHost(Protocol):
    """What :class:`mage_bridge.server.daemon.Daemon` offers the panel."""

    config: Config
    state_dir: Path
    jobs_dir: Path
    panel_token: str
    job_events: JobEvents
    daw_clients: DawClients
    daw_context: dict[str, float] | None
    guard: PathGuard
    #: The live player (``None``: this daemon runs none) and what it found to play on when it started.
    live: Player | None
    live_output: str

    @property
    def store(self) -> JobStore: ...

    def progress_of(self, job_id: str) -> tuple[str, float] | None: ...

    def earlier_request(self, key: str, req_id: str) -> Job | None: ...

    def submit_generate(self, prompt: str, lyrics: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                        *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job: ...

    def submit_audio(self, kind: str, path_text: str, options: dict[str, Any], req_id: str, addr: Addr | None,
                     *, client: str, source: str = "osc", daw_tag: dict[str, Any] | None = None) -> Job: ...

    def submit_song_render(self, text: str, options: dict[str, Any], req_id: str, addr: Addr | None, *,
                           client: str, source: str = "osc") -> Job: ...

    def cancel(self, job_id: str, addr: Addr | None) -> Job: ...

    def resubmit(self, job_id: str, req_id: str, *, client: str, source: str) -> Job: ...
