"""Proof of address for remote OSC senders, so the daemon cannot be used as a reflector.

UDP's source address is whatever the sender writes. With ``--allow-remote`` a
forged request could make the daemon send replies and job events to a victim,
larger than what the attacker sent. So a sender that is not on loopback must
first show that it receives datagrams at its address, the way DTLS and QUIC do
it, before the daemon acts on anything it asks:

1. It sends ``/mage/verify s:anything`` (at least :data:`COOKIE_CHARS`
   characters, so the answer is no larger) and gets ``/mage/cookie s:cookie``.
2. It sends ``/mage/verify s:cookie`` and gets ``/mage/verified i:seconds``:
   its address and port may make requests for that long after its last datagram.

Until then every other request gets a ``/mage/error … unverified`` reply only
where that reply is no larger than the request, else nothing. The cookie is an
HMAC of the address under a secret that changes with each period, so the daemon
keeps no state for senders that never answer. Loopback senders are local
programs and need none of this.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict

from mage_bridge.server.osc import Addr

#: Length of a cookie in hex characters.
COOKIE_CHARS = 32
#: A cookie is good for this period and the next; a verified address stays verified this long after its last datagram.
VERIFIED_S = 600.0
#: Verified addresses remembered at most (the least recently heard are forgotten first).
MAX_VERIFIED = 1024


class AddressCheck:
    """Cookies for remote senders and the addresses that answered with theirs."""

    def __init__(self, *, ttl_s: float = VERIFIED_S) -> None:
        self.ttl_s = ttl_s
        self._secret = secrets.token_bytes(32)
        self._verified: OrderedDict[Addr, float] = OrderedDict()
        self._now = time.monotonic

    def cookie(self, addr: Addr, period: int | None = None) -> str:
        """The cookie ``addr`` must send back: an HMAC of host, port and the period."""
        if period is None:
            period = int(self._now() // self.ttl_s)
        msg = f"{addr[0]}|{addr[1]}|{period}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:COOKIE_CHARS]

    def verify(self, addr: Addr, cookie: str) -> bool:
        """Mark ``addr`` verified if ``cookie`` is its cookie of this period or the last one."""
        period = int(self._now() // self.ttl_s)
        if not any(hmac.compare_digest(cookie, self.cookie(addr, p)) for p in (period, period - 1)):
            return False
        self.heard(addr, force=True)
        return True

    def verified(self, addr: Addr) -> bool:
        """Whether ``addr`` proved its address and has been heard from within the last ``ttl_s``."""
        until = self._verified.get(addr)
        if until is None:
            return False
        if until < self._now():
            del self._verified[addr]
            return False
        return True

    def heard(self, addr: Addr, *, force: bool = False) -> None:
        """A datagram from ``addr``: a verified address stays verified ``ttl_s`` longer."""
        if addr in self._verified or force:
            self._verified[addr] = self._now() + self.ttl_s
            self._verified.move_to_end(addr)
            while len(self._verified) > MAX_VERIFIED:
                self._verified.popitem(last=False)


def fits(reply: bytes, request: bytes) -> bool:
    """Whether ``reply`` may go to an unverified sender: never larger than what it sent."""
    return len(reply) <= len(request)
