"""Who may use the panel: the user who holds its token, from a page of its own origin, by its own name.

Every request, the event stream and the static files included, passes :class:`PanelGuard`:

* **Host** must be ``127.0.0.1:<port>``, ``localhost:<port>`` or ``[::1]:<port>``: a page of another
  site whose name was pointed at 127.0.0.1 (DNS rebinding) sends its own name and is refused.
* **Origin**, when the browser sends one, must be one of the panel's own origins: a page of another
  site (or of another program on another port of this machine) cannot make the browser act for it
  (CSRF), even though the browser would carry the panel's cookie.
* **The token**: ``?token=`` in the URL (as Jupyter does: ``mage-bridge serve`` prints it,
  ``mage-bridge panel`` opens it), then the cookie the panel sets from it (``HttpOnly``,
  ``SameSite=Strict``), or an ``Authorization: token ...`` header for scripts. Compared in constant
  time. A page opened with the token is redirected to the same address without it, so the token
  does not stay in the address bar or the history.
* A request that changes something (``POST``) must send JSON (``Content-Type: application/json``),
  which a form of another site cannot send without asking the panel first (and it answers no such
  question).

Refusals are ``403`` with the reason in words (JSON for the API, a short page otherwise) and are
logged with the address asked for, never the token.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

log = logging.getLogger("mage_bridge.panel")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: The loopback names the panel answers to; it listens on 127.0.0.1 only.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: What the browser may do with the panel's pages: nothing from elsewhere, no frames, no referrer.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                                "connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PanelGuard:
    """The checks of one panel: its port (the Host and Origin it answers to) and its token."""

    def __init__(self, token: str, port: int) -> None:
        if len(token) < 16:
            raise ValueError("the panel's token must be at least 16 characters")
        self.token = token
        self.port = port
        self.hosts = frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)
        self.origins = frozenset(f"http://{host}" for host in self.hosts)
        #: Per port: two daemons on one machine (two state folders) keep their cookies apart.
        self.cookie = f"mage_panel_{port}"

    def refusal(self, request: web.Request) -> tuple[str, str] | None:
        """``(code, reason)`` when ``request`` must be refused, else ``None`` (the token checked last)."""
        host = request.headers.get("Host", "")
        if host not in self.hosts:
            return "bad_host", (f"the Host header {host[:100]!r} is not this panel's address "
                                f"(127.0.0.1:{self.port}); a page of another site cannot reach the panel "
                                "through its own name")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.origins:
            return "bad_origin", (f"requests from pages of {origin[:100]!r} are refused; only the panel's "
                                  "own pages may use it")
        if request.method in _CHANGING and request.content_type != "application/json":
            return "bad_content_type", f"a {request.method} must send JSON (Content-Type: application/json)"
        if not self.token_ok(request):
            return "no_token", ("the panel's token is missing or wrong: open the panel with `mage-bridge panel` "
                                "or the URL `mage-bridge serve` printed")
        return None

    def token_ok(self, request: web.Request) -> bool:
        given = (request.query.get("token") or _header_token(request.headers.get("Authorization", ""))
                 or request.cookies.get(self.cookie) or "")
        return secrets.compare_digest(given.encode("utf-8", "replace"), self.token.encode("utf-8"))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Refuse what :meth:`refusal` refuses; a page opened with ``?token=`` gets the cookie and is sent
        to the same address without the token."""
        refused = self.refusal(request)
        if refused is not None:
            code, reason = refused
            log.warning("panel: refused %s %s from %s: %s", request.method, request.path[:200],
                        request.remote, code)
            return _refused(request, code, reason)
        if request.method == "GET" and "token" in request.query and not request.path.startswith("/api/"):
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            response = web.Response(status=303, headers={
                "Location": request.path + ("?" + urlencode(rest) if rest else ""), "Cache-Control": "no-store"})
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict", path="/")
            return response
        return await handler(request)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: :data:`SECURITY_HEADERS` on every answer, refusals and errors included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def _header_token(value: str) -> str:
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "token" else ""


def _refused(request: web.Request, code: str, reason: str) -> web.Response:
    if request.path.startswith("/api/"):
        return web.json_response({"error": {"code": code, "message": reason}}, status=403,
                                 headers={"Cache-Control": "no-store"})
    page = ("<!doctype html><meta charset=utf-8><title>MAGE Bridge panel: refused</title>"
            f"<h1>Refused</h1><p>{_escape(reason)}</p>")
    return web.Response(text=page, status=403, content_type="text/html", headers={"Cache-Control": "no-store"})


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
