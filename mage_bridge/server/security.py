"""The daemon's guards: path confinement, client allowlist, per-client rate limit."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mage_bridge.errors import ConfigError, PathNotAllowedError


def is_loopback_host(host: str) -> bool:
    """``True`` for ``localhost``, 127.0.0.0/8 and ``::1``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _resolve_root(root: Path) -> Path:
    return Path(os.path.realpath(Path(root).expanduser()))


class PathGuard:
    """Confine paths received from clients to a set of root folders.

    A path is expanded, made absolute (relative paths are taken relative to the
    first root), and fully resolved, symlinks included, *before* it is compared
    with the resolved roots. Anything that ends up outside every root raises
    :class:`~mage_bridge.errors.PathNotAllowedError`; so does a path that does
    not exist when ``must_exist`` is set (nothing is ever created to check).
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        self.roots: tuple[Path, ...] = tuple(dict.fromkeys(_resolve_root(r) for r in roots))
        if not self.roots:
            raise ConfigError("at least one allowed root folder is needed")

    def resolve(self, path: str | os.PathLike[str], *, must_exist: bool = True) -> Path:
        """The resolved path, or :class:`PathNotAllowedError` naming the roots."""
        text = os.fspath(path)
        if not text or "\x00" in text:
            raise PathNotAllowedError(f"path must be a non-empty string without NUL bytes, got {text!r}")
        candidate = Path(text).expanduser() if text.startswith("~") else Path(text)
        if not candidate.is_absolute():
            candidate = self.roots[0] / candidate
        resolved = Path(os.path.realpath(candidate))
        if not any(resolved == root or resolved.is_relative_to(root) for root in self.roots):
            raise PathNotAllowedError(
                f"path {text!r} resolves to {str(resolved)!r}, outside the allowed roots "
                f"({', '.join(str(r) for r in self.roots)})"
            )
        if must_exist and not resolved.exists():
            raise PathNotAllowedError(f"path {text!r} does not exist")
        return resolved

    def resolve_file(self, path: str | os.PathLike[str]) -> Path:
        """Like :meth:`resolve`, and the target must be a regular file."""
        resolved = self.resolve(path, must_exist=True)
        if not resolved.is_file():
            raise PathNotAllowedError(f"path {os.fspath(path)!r} is not a regular file")
        return resolved


class ClientAllowlist:
    """Which client addresses may talk to the daemon.

    Loopback clients are always allowed. Others must match an entry of
    ``allow`` (a single address or a CIDR network such as ``192.168.1.0/24``).
    """

    def __init__(self, allow: Sequence[str] = ()) -> None:
        nets = []
        for entry in allow:
            try:
                nets.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError as e:
                raise ConfigError(f"server.allow_clients: {entry!r} is not an address or network: {e}") from e
        self.networks = tuple(nets)
        self._cache: dict[str, bool] = {}

    def allows(self, host: str) -> bool:
        hit = self._cache.get(host)
        if hit is not None:
            return hit
        try:
            addr = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            ok = False
        else:
            if addr.version == 6 and addr.ipv4_mapped is not None:
                addr = addr.ipv4_mapped
            ok = addr.is_loopback or any(addr in net for net in self.networks)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[host] = ok
        return ok


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per client host: ``burst`` at once, then ``per_minute``.

    Keyed by host, not host and port, so a flood from many source ports of one
    machine still shares one bucket.
    """

    def __init__(self, *, per_minute: int, burst: int, clock: object = time.monotonic) -> None:
        if per_minute < 1 or burst < 1:
            raise ConfigError(f"rate limit must be positive, got per_minute={per_minute!r}, burst={burst!r}")
        self.rate_per_s = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, host: str) -> bool:
        """Take one token for ``host``; ``False`` when its bucket is empty."""
        now = self._clock()  # type: ignore[operator]
        bucket = self._buckets.get(host)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._buckets.clear()
            bucket = self._buckets[host] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate_per_s)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False
