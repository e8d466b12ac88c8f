"""Who hears every job event: the ``/mage/subscribe``-d addresses, each until its lease runs out.

A subscription is a lease: ``/mage/subscribe`` again before it ends renews it,
and one not renewed goes, so a program that went away (or an address that never
asked) does not receive events forever. The leases are kept in the state folder,
so subscribers still hear how the jobs interrupted by a restart end.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mage_bridge.files import write_json_atomic
from mage_bridge.server.osc import Addr

log = logging.getLogger("mage_bridge.server")


#: Subscribers at most.
MAX_SUBSCRIBERS = 32


class Subscribers:
    """Subscribed addresses and when each lease ends (wall-clock seconds, so they survive a restart)."""

    def __init__(self, path: Path, *, lease_s: float, allows: Callable[[str], bool] = lambda host: True) -> None:
        self.path = path
        self.lease_s = lease_s
        self._allows = allows
        self._until: dict[Addr, float] = {}
        self._saved: list[list[Any]] | None = None

    def __iter__(self) -> Iterator[Addr]:
        return iter(list(self._until))

    def __len__(self) -> int:
        return len(self._until)

    def __contains__(self, addr: object) -> bool:
        return addr in self._until

    def add(self, addr: Addr, now: float | None = None) -> bool:
        """Subscribe or renew ``addr`` for one lease; False if it is new and the list is full."""
        if addr not in self._until and len(self._until) >= MAX_SUBSCRIBERS:
            return False
        self._until[addr] = (time.time() if now is None else now) + self.lease_s
        return True

    def remove(self, addr: Addr) -> None:
        self._until.pop(addr, None)

    def expire(self, now: float | None = None) -> list[Addr]:
        """Drop the leases that ended; returns their addresses."""
        now = time.time() if now is None else now
        gone = [addr for addr, until in self._until.items() if until <= now]
        for addr in gone:
            del self._until[addr]
        return gone

    def load(self) -> None:
        """Read the leases a stopped daemon kept; entries that are broken, ended or no longer allowed are dropped."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            data = []
        except (OSError, ValueError) as e:
            log.warning("cannot read the subscribers file %s (%s): no subscribers restored", self.path, e)
            data = []
        now = time.time()
        for item in data if isinstance(data, list) else []:
            if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str) and type(item[1]) is int
                    and 1 <= item[1] <= 65535 and isinstance(item[2], (int, float)) and self._allows(item[0])):
                continue
            if now < item[2] <= now + self.lease_s and len(self._until) < MAX_SUBSCRIBERS:
                self._until[(item[0], item[1])] = float(item[2])
        self._saved = self._entries()
        if self._until:
            log.info("%d subscriber(s) kept from before the restart", len(self._until))

    def save(self) -> None:
        """Write the leases if they changed since the last save (atomically; raises OSError on a full disk)."""
        current = self._entries()
        if current != self._saved:
            write_json_atomic(self.path, current)
            self._saved = current

    def _entries(self) -> list[list[Any]]:
        return [[host, port, round(until, 3)] for (host, port), until in self._until.items()]
