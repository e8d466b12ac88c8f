"""The Live view: the live player's status as ``/mage/live/status`` reports it, read-only.

The page asks ``GET /api/live`` every 500 ms while the view is shown (the player's position and its
callback figures change every buffer, and the live door sends no events the panel's stream carries):
the state, the clip playing and the one queued, tempo, bar and beat, the xruns counted since the
output opened, the audio callback's p50/p99/max against the buffer period, the device. Without an
open output it says why: no player in this daemon, or what the daemon found to play on when it
started (the output it opens on the first launch, or why there is none). Nothing here launches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from mage_bridge.panel.http import View, json_response

if TYPE_CHECKING:
    from mage_bridge.panel.app import Panel

VIEW = View(name="live", title="Live", script="views/live.js", key="v")

#: Why there is no status when the daemon runs no player.
NO_PLAYER = "the live player is not running in this daemon"


def live_json(player_status: dict[str, Any] | None, output: str) -> dict[str, Any]:
    """``{"available", "open", "reason", "status"}``: ``available`` whether the daemon runs a player,
    ``open`` whether its output is open (a device playing or ready), ``reason`` why not (``""`` when
    open), ``status`` the player's own status dict (``None`` without a player)."""
    if player_status is None:
        return {"available": False, "open": False, "reason": NO_PLAYER, "status": None}
    is_open = "device" in player_status
    reason = "" if is_open else (f"no audio output is open: {output}" if output
                                 else "no audio output is open; it opens on the first launch")
    return {"available": True, "open": is_open, "reason": reason, "status": player_status}


def routes(panel: Panel) -> list[web.RouteDef]:
    async def live(request: web.Request) -> web.Response:
        """``GET /api/live``: the live player's status, or why there is none."""
        player = panel.host.live
        return json_response(live_json(player.status() if player is not None else None, panel.host.live_output))

    return [web.get("/api/live", live)]
