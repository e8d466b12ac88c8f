"""The daemon's OSC door: the UDP socket, the sender checks, dispatch to handlers, replies and job events.

Every datagram passes the allowlist, then (from a remote sender) the address proof of
:mod:`.handshake`; each message in it is checked against its address's :class:`~.osc.Spec` and
handed to the method that declared it with :func:`~.osc.handles`. Replies go to the sender; job
events (:mod:`.events`, which the web panel hears too) go to the job's client, its DAW and every
subscriber. The requests about the connection
itself (ping, subscriptions, the address proof) are answered here; job requests are in
:mod:`.requests`, a DAW's in :mod:`.daw_door`. The contract is ``docs/osc.md``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, Any

from mage_bridge import __version__
from mage_bridge.config import Config
from mage_bridge.errors import MageError, failure_code, failure_message
from mage_bridge.server import daw, osc
from mage_bridge.server.daw import DawClients
from mage_bridge.server.events import JobEvent, JobEvents
from mage_bridge.server.handshake import AddressCheck, fits
from mage_bridge.server.jobs import Job
from mage_bridge.server.osc import Addr, Arg, Request, RequestError, Route, Spec
from mage_bridge.server.security import ClientAllowlist, is_loopback_host
from mage_bridge.server.subscribers import MAX_SUBSCRIBERS, Subscribers

log = logging.getLogger("mage_bridge.server")

#: The receive buffer asked for, so a burst of requests waits in the kernel rather than being dropped.
RECEIVE_BUFFER_BYTES = 4 << 20
#: Datagrams read per wake-up, so one flood cannot starve the workers' pipes.
MAX_DATAGRAMS_PER_READ = 256

_PORT = Arg("port", "i")


class OscDoor:
    """The UDP socket and what comes in and goes out of it; mixed into the daemon, which provides the
    attributes below."""

    config: Config
    port: int | None
    allowlist: ClientAllowlist
    handshake: AddressCheck
    daw_clients: DawClients
    job_events: JobEvents
    _subscribers: Subscribers
    _sock: socket.socket | None
    _loop: asyncio.AbstractEventLoop | None
    _routes: dict[str, Route]
    _specs: dict[str, Spec]
    _dropped: dict[str, int]

    if TYPE_CHECKING:  # provided by the daemon
        def _job_request(self, route: Route, req: Request, addr: Addr) -> None: ...

    def _open_socket(self) -> None:
        sc = self.config.server
        family = socket.AF_INET6 if ":" in sc.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            sock.bind((sc.host, sc.port))
        except OSError as e:
            sock.close()
            raise MageError(f"cannot listen on {sc.host}:{sc.port}: {e.strerror or e}") from e
        sock.setblocking(False)
        self._sock = sock
        self.port = sock.getsockname()[1]
        assert self._loop is not None
        self._loop.add_reader(sock.fileno(), self._readable)

    def _close_socket(self) -> None:
        if self._sock is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._sock.fileno())
            self._sock.close()

    # -- in ----------------------------------------------------------------------------------------
    def _readable(self) -> None:
        assert self._sock is not None
        for _ in range(MAX_DATAGRAMS_PER_READ):
            try:
                data, addr = self._sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # on Windows also an ICMP "port unreachable" of an earlier send
                log.debug("recvfrom: %s", e)
                continue
            self.datagram(data, (addr[0], addr[1]))

    def datagram(self, data: bytes, addr: Addr) -> None:
        """Handle one datagram from ``addr``: every message in it gets its reply."""
        if not self.allowlist.allows(addr[0]):
            n = self._dropped[addr[0]] = self._dropped.get(addr[0], 0) + 1
            if n == 1 or n % 1000 == 0:
                log.warning("dropped %d datagram(s) from %s: not in server.allow_clients", n, addr[0])
            return
        if not is_loopback_host(addr[0]):
            if not self.handshake.verified(addr):
                self._unverified(data, addr)
                return
            self.handshake.heard(addr)
        try:
            messages = osc.decode(data)
        except RequestError as e:
            self._send(addr, osc.error(e.req_id, e.code, str(e)))
            return
        for msg in messages:
            self._message(msg.address, msg.params, addr)

    def _unverified(self, data: bytes, addr: Addr) -> None:
        """A remote sender that has not proven its address: only ``/mage/verify`` is acted on, and
        no reply is larger than ``data`` (``handshake.py``), so a forged source gains nothing."""
        def reply(out: bytes) -> None:
            if fits(out, data):
                self._send(addr, out)

        try:
            messages = osc.decode(data)
        except RequestError as e:
            reply(osc.error("", e.code, str(e)))
            return
        for msg in messages:
            params = msg.params
            if msg.address != "/mage/verify" or len(params) != 1 or not isinstance(params[0], str):
                req_id = params[0] if params and isinstance(params[0], str) else ""
                reply(osc.error(req_id[:osc.MAX_ID_CHARS], "unverified", "send /mage/verify first"))
            elif self.handshake.verify(addr, params[0]):
                log.info("%s:%d proved its address", *addr)
                reply(osc.encode("/mage/verified", int(self.handshake.ttl_s)))
                return  # the next datagram is served; the rest of this one was sent unproven
            else:
                reply(osc.encode("/mage/cookie", self.handshake.cookie(addr)))

    def _message(self, address: str, params: list[Any], addr: Addr) -> None:
        if address in osc.REPLY_ADDRESSES:
            log.debug("ignored reply-address message %s from %s:%d", address[:100], *addr)
            return
        req_id = ""
        try:
            req = osc.check(address, params, self._specs)
            req_id = req.req_id
            route = self._routes[req.address]
            if route.spec.job:
                self._job_request(route, req, addr)
            else:
                route.handler(req, addr)
        except RequestError as e:
            self._send(addr, osc.error(e.req_id or req_id, e.code, str(e)))
        except MageError as e:
            self._send(addr, osc.error(req_id, e.code, str(e)))
        except Exception as e:  # a full disk or a bug here must cost one reply, not the daemon
            log.exception("request %s from %s:%d failed", address[:100], *addr)
            code = failure_code(e)
            text = ("internal error; the daemon's log has the details" if code == "internal"
                    else failure_message(e, name_file=False))
            self._send(addr, osc.error(req_id, code, text))

    # -- out ---------------------------------------------------------------------------------------
    def _send(self, addr: Addr, data: bytes) -> None:
        if self._sock is None:
            return
        try:
            self._sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            log.debug("send buffer full; a reply to %s:%d was dropped", *addr)
        except OSError as e:
            log.debug("cannot send to %s:%d: %s", addr[0], addr[1], e)

    def _event(self, job: Job, address: str, *args: str | int | float, extra: Addr | None = None,
               placement: dict[str, Any] | None = None) -> None:
        """Tell a job event to every door that listens (:attr:`job_events`): this one sends it over OSC."""
        self.job_events.emit(JobEvent(job, address, args, extra, placement))

    def _send_job_event(self, event: JobEvent) -> None:
        """Send a job event to its client, its DAW, the subscribers and ``extra`` (each once).

        A DAW-tagged job's ``done`` event carries a third argument: its placement as JSON.
        """
        job, address, args = event.job, event.address, event.args
        tag = job.params.get("daw") if isinstance(job.params.get("daw"), dict) else None
        if tag is not None and address == "/mage/job/done":
            args = (*args, daw.placement_json(tag, event.placement))
        data = osc.encode(address, *args)
        targets: dict[Addr, None] = {}
        if job.client is not None:
            targets[job.client] = None
        if event.extra is not None:
            targets[event.extra] = None
        if tag is not None:
            known = self.daw_clients.get(str(tag.get("client_id")))
            if known is not None and known.addr is not None:
                targets[known.addr] = None
        targets.update(dict.fromkeys(self._subscribers))
        for addr in targets:
            self._send(addr, data)

    # -- requests about the connection -------------------------------------------------------------
    @osc.handles("/mage/ping", osc.REQ_ID, answer="/mage/pong s:req_id s:version")
    def _ping(self, req: Request, addr: Addr) -> None:
        self._send(addr, osc.encode("/mage/pong", req.req_id, __version__))

    @osc.handles("/mage/subscribe", _PORT, id_arg=None, answer="/mage/subscribed i:port i:lease_s")
    def _subscribe(self, req: Request, addr: Addr) -> None:
        port = req.args["port"]
        if not 1 <= port <= 65535:
            raise RequestError("bad_arguments", f"port must be from 1 to 65535, got {port}")
        target = (addr[0], port)
        if port == self.port and is_loopback_host(addr[0]):
            raise RequestError("bad_arguments", f"port {port} is the daemon's own port")
        if not self._subscribers.add(target):
            raise RequestError("too_many_subscribers", f"already {MAX_SUBSCRIBERS} subscribers; unsubscribe one")
        self._send(addr, osc.encode("/mage/subscribed", port, int(self._subscribers.lease_s)))

    @osc.handles("/mage/unsubscribe", _PORT, id_arg=None, answer="/mage/unsubscribed i:port")
    def _unsubscribe(self, req: Request, addr: Addr) -> None:
        port = req.args["port"]
        self._subscribers.remove((addr[0], port))
        self._send(addr, osc.encode("/mage/unsubscribed", port))

    @osc.handles("/mage/verify", Arg("cookie", "s"), id_arg=None, answer="/mage/cookie s:cookie")
    def _verify(self, req: Request, addr: Addr) -> None:
        """A verified or local sender asking again: a new cookie, or a renewal with the right one."""
        if is_loopback_host(addr[0]) or self.handshake.verify(addr, req.args["cookie"]):
            self._send(addr, osc.encode("/mage/verified", int(self.handshake.ttl_s)))
        else:
            self._send(addr, osc.encode("/mage/cookie", self.handshake.cookie(addr)))
