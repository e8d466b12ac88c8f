"""The web panel: a local page, served by the daemon, to write prompts, watch jobs, audition results, browse the
clip library and arrange songs.

``mage-bridge serve`` prints its URL (with the token that opens it); ``mage-bridge panel`` opens it
in the browser. It listens on 127.0.0.1 only and refuses any request without the token, with a
foreign ``Origin`` or with a ``Host`` other than its own (:mod:`.guard`). Each view is one module
(:data:`.app.VIEW_MODULES`) with its API and an ES module under ``static/js/views/``; job events
reach the page over one event stream (:mod:`.events`), from the source the OSC door sends from.
The page's files ship in the package: the panel works offline. See ``docs/panel.md``.
"""

from __future__ import annotations

from mage_bridge.panel.app import Panel

__all__ = ["Panel"]
