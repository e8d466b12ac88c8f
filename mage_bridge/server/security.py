"""The daemon's guards: path confinement, the paths inside a request, client allowlist, per-client rate limit.

Every path a request names goes through a :class:`PathGuard`: the input file, an
option that names a file (``plugins``, any ``*_path`` / ``*_file`` / ``*_dir``), the
stems a separation manifest lists, and the VST3 bundles a plugin preset lists.
:class:`RequestPolicy` holds the rules and runs twice: in the daemon when the
request arrives (on every door: OSC, spool, MIDI presets) and in the worker right
before anything is read. Only regular files are read, never more than
:data:`MAX_PARSED_FILE_BYTES` of a file that is parsed.

Messages that go back to a client name the path as it was sent; the resolved path
and the allowed folders go to the daemon's log only.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mage_bridge.errors import ConfigError, InvalidInputError, MageError, PathNotAllowedError

log = logging.getLogger("mage_bridge.server.security")

#: Largest file the daemon or a worker parses for a request (a plugin preset, a separation manifest).
MAX_PARSED_FILE_BYTES = 1 << 20
#: Most entries looked at inside one VST3 bundle (each must stay inside the plugin folders).
MAX_BUNDLE_ENTRIES = 10_000
#: Option names whose value is a file or folder, whatever the job kind: checked by the guard.
PATH_OPTION = re.compile(r"(^|_)(path|file|dir|folder)$")
#: Options that name something looked up in a folder of the config: a plain name, never a path.
NAME_OPTIONS = ("model",)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")
#: Output formats a request may ask for (the ``format`` option).
OUTPUT_FORMATS = ("wav", "flac", "mp3")


class NotAllowedError(MageError, PermissionError):
    """The request asks for something this daemon's config does not allow (loading plugins it names)."""

    code = "not_allowed"


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

    The error's message names the path as sent, never where it resolves to nor
    the roots: those go to the log (``what`` says which folders, for both).
    """

    def __init__(self, roots: Iterable[Path], *, what: str = "the folders this daemon may read") -> None:
        self.roots: tuple[Path, ...] = tuple(dict.fromkeys(_resolve_root(r) for r in roots))
        if not self.roots:
            raise ConfigError("at least one allowed root folder is needed")
        self.what = what

    def locate(self, path: str | os.PathLike[str]) -> Path:
        """Where ``path`` resolves to (relative to the first root), checked for nothing but its form."""
        text = os.fspath(path)
        if not isinstance(text, str) or not text or "\x00" in text:
            raise PathNotAllowedError(f"path must be a non-empty string without NUL bytes, got {text!r}")
        candidate = Path(text).expanduser() if text.startswith("~") else Path(text)
        if not candidate.is_absolute():
            candidate = self.roots[0] / candidate
        return Path(os.path.realpath(candidate))

    def contains(self, resolved: Path) -> bool:
        """``True`` if the resolved path ``resolved`` is one of the roots or lies under one."""
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def resolve(self, path: str | os.PathLike[str], *, must_exist: bool = True) -> Path:
        """The resolved path, or :class:`PathNotAllowedError` naming the path as sent."""
        text = os.fspath(path)
        resolved = self.locate(text)
        if not self.contains(resolved):
            log.warning("refused path %r: it resolves to %r, outside %s (%s)", text, str(resolved), self.what,
                        ", ".join(str(r) for r in self.roots))
            raise PathNotAllowedError(f"path {text!r} is outside {self.what} (see its log)")
        if must_exist and not resolved.exists():
            log.warning("refused path %r: %r does not exist", text, str(resolved))
            raise PathNotAllowedError(f"path {text!r} does not exist")
        return resolved

    def resolve_file(self, path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Path:
        """Like :meth:`resolve`, and the target must be a regular file (of at most ``max_bytes``)."""
        resolved = self.resolve(path, must_exist=True)
        _check_regular(os.fspath(path), resolved, os.stat(resolved), max_bytes)
        return resolved

    def read_file(self, path: str | os.PathLike[str], *, max_bytes: int = MAX_PARSED_FILE_BYTES) -> tuple[Path, bytes]:
        """Resolve ``path`` and read it: a regular file under the roots, at most ``max_bytes``.

        The file is opened without blocking (a FIFO put there after the check
        cannot stall the reader) and checked again through the open descriptor,
        so what is read is what was checked.
        """
        text = os.fspath(path)
        resolved = self.resolve_file(text, max_bytes=max_bytes)
        flags = os.O_RDONLY | _OPEN_FLAGS
        try:
            fd = os.open(resolved, flags)
        except OSError as e:
            log.warning("refused path %r: cannot open %r: %s", text, str(resolved), e)
            raise PathNotAllowedError(f"path {text!r} cannot be opened: {e.strerror or e}") from None
        try:
            _check_regular(text, resolved, os.fstat(fd), max_bytes)
            opened = Path(f"/proc/self/fd/{fd}")
            if opened.exists() and not self.contains(Path(os.path.realpath(opened))):
                log.warning("refused path %r: it was replaced by a link out of %s after the check", text, self.what)
                raise PathNotAllowedError(f"path {text!r} is outside {self.what} (see its log)")
            chunks, size = [], 0
            while size <= max_bytes:
                chunk = os.read(fd, min(1 << 16, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
        if size > max_bytes:
            raise PathNotAllowedError(f"path {text!r} holds more than {max_bytes} bytes")
        return resolved, b"".join(chunks)


#: Flags for reading a checked file, each where the platform has it: no blocking on a FIFO, no
#: following a link put there after the check, no leaking the descriptor, no newline translation
#: (Windows opens in text mode unless told otherwise).
_OPEN_FLAGS: int = (getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                    | getattr(os, "O_BINARY", 0))


def _names_a_file(value: str) -> bool:
    """A plugin preset given as a path (a folder separator of this platform, or ``.json``), not a name."""
    return "/" in value or os.sep in value or value.endswith(".json")


def _check_regular(text: str, resolved: Path, st: os.stat_result, max_bytes: int | None) -> None:
    if not stat.S_ISREG(st.st_mode):
        what = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a file")
        log.warning("refused path %r: %r is %s", text, str(resolved), what)
        raise PathNotAllowedError(f"path {text!r} is not a regular file ({what})")
    if max_bytes is not None and st.st_size > max_bytes:
        log.warning("refused path %r: %r holds %d bytes, more than %d", text, str(resolved), st.st_size, max_bytes)
        raise PathNotAllowedError(f"path {text!r} holds {st.st_size} bytes, more than {max_bytes}")


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


# -- the paths inside a request ------------------------------------------------------------------
@dataclass(frozen=True)
class RequestPolicy:
    """What a job request may name, and where.

    * ``guard``: the folders a request may read (``data_dir``, ``allowed_roots``, the
      jobs folder). Options that name files are confined to these, never to a DAW
      project's folder (that one is for a DAW job's input audio only).
    * ``presets``: the user's own plugin preset folders (``server.plugin_preset_dirs``);
      a request may name a preset there, by file name or path, whatever the switch says.
    * ``plugins``: where the VST3 bundles a preset lists may be (``server.plugin_dirs``,
      plus the allowed folders when ``allow_request_plugins``).
    * ``allow_request_plugins`` (``server.allow_request_plugins``, off by default): a
      request may name a plugin preset anywhere under the allowed folders. A preset from
      the user's own mapping file (``from_config``) needs no switch either.
    """

    guard: PathGuard
    presets: PathGuard | None
    plugins: PathGuard | None
    allow_request_plugins: bool = False

    @classmethod
    def from_config(cls, config: Any, roots: Iterable[str | os.PathLike[str]]) -> RequestPolicy:
        """The policy for ``config`` (a :class:`~mage_bridge.config.Config`) with these allowed folders."""
        sc = config.server
        guard = PathGuard(Path(r) for r in roots)
        allow = bool(getattr(sc, "allow_request_plugins", False))
        preset_dirs = tuple(getattr(sc, "plugin_preset_dirs", ()))
        plugin_dirs = (*getattr(sc, "plugin_dirs", ()), *(guard.roots if allow else ()))
        return cls(
            guard=guard,
            presets=PathGuard(preset_dirs, what="the plugin preset folders (server.plugin_preset_dirs)")
            if preset_dirs else None,
            plugins=PathGuard(plugin_dirs, what="the folders plugins may be loaded from (server.plugin_dirs)")
            if plugin_dirs else None,
            allow_request_plugins=allow,
        )

    # -- checks --------------------------------------------------------------------------------
    def check_request(self, params: Mapping[str, Any]) -> None:
        """The daemon's check of a job's parameters when the request arrives (the input is already resolved).

        A separation manifest given as input has its stems checked; every option that
        names a file, format or model is checked (:meth:`check_options`).
        """
        path = params.get("audio_path")
        if isinstance(path, str) and Path(path).name == "manifest.json":
            media_root = params.get("media_root")
            self.check_input(path, PathGuard((*self.guard.roots, Path(media_root))) if media_root else None)
        options = params.get("options")
        if options:
            self.check_options(options, from_config=params.get("options_from") == "mapping file")

    def check_options(self, options: Mapping[str, Any], *, from_config: bool = False) -> dict[str, Any]:
        """Check every option that names a file, folder, format or model; return them ready to use.

        ``plugins`` comes back as the preset's content with every bundle path resolved
        (what :func:`mage_bridge.effects.chains.load_user_plugins` takes), so the
        caller never reads the preset file again; other file options come back resolved.
        """
        out = dict(options)
        for key, value in options.items():
            if key == "plugins":
                if value is None or value == "":
                    continue
                out[key] = self.plugin_preset(value, from_config=from_config)
            elif key == "format":
                fmt = value.lower().lstrip(".") if isinstance(value, str) else value
                if fmt not in OUTPUT_FORMATS:
                    raise InvalidInputError(f"format must be one of {', '.join(OUTPUT_FORMATS)}, got {value!r}")
            elif key in NAME_OPTIONS:
                if not isinstance(value, str) or not _PLAIN_NAME.fullmatch(value) or ".." in value:
                    log.warning("refused option %s=%r: not a plain name", key, value)
                    raise PathNotAllowedError(f"option {key} must be a name (letters, digits, . _ + -), not a "
                                              f"path, got {value!r}"[:300])
            elif PATH_OPTION.search(key):
                if not isinstance(value, str):
                    raise InvalidInputError(f"option {key} must be a path (a string), got {value!r}"[:300])
                resolved = self.guard.resolve(value)
                if not key.endswith(("dir", "folder")):
                    _check_regular(value, resolved, os.stat(resolved), None)
                out[key] = str(resolved)
        return out

    def check_input(self, path: str, guard: PathGuard | None = None) -> Path:
        """An input file: a regular file under the allowed folders (or ``guard``'s).

        A separation result's ``manifest.json`` (what enhance takes) is read, at most
        :data:`MAX_PARSED_FILE_BYTES`, and every stem it lists must be a regular file
        under the same folders.
        """
        guard = guard or self.guard
        resolved = guard.resolve_file(path)
        if resolved.name == "manifest.json":
            _, raw = guard.read_file(resolved)
            try:
                stems = json.loads(raw.decode("utf-8")).get("stems") or {}
            except (ValueError, AttributeError, RecursionError):
                stems = {}  # not a manifest: the job says so when it reads it
            if isinstance(stems, dict):
                for name, stem in stems.items():
                    if not isinstance(stem, str):
                        raise InvalidInputError(f"stem {name!r} of {path!r} must be a file name, got {stem!r}"[:300])
                    guard.resolve_file(resolved.parent / stem)
        return resolved

    def plugin_preset(self, value: Any, *, from_config: bool = False) -> dict[str, list[dict[str, Any]]]:
        """Find, read and check the plugin preset ``value`` names; its content with bundle paths resolved.

        ``value`` is a file name or path in the user's preset folders (a bare name
        also finds ``<name>.json`` there); anything else needs
        ``server.allow_request_plugins`` (or ``from_config``) and must lie under the
        allowed folders. Every bundle the preset lists must resolve under the plugin
        folders, and so must everything inside the bundle.
        """
        if not isinstance(value, str) or not value or "\x00" in value:
            raise InvalidInputError(f"option plugins must be the name or path of a plugin preset file, "
                                    f"got {value!r}"[:300])
        preset = self._in_presets(value)
        found: str | Path
        if preset is not None:
            guard, found = self.presets, preset
            assert guard is not None
        elif self.allow_request_plugins or from_config:
            guard, found = self.guard, value
        else:
            log.warning("refused option plugins=%r: not a preset in server.plugin_preset_dirs (%s) and "
                        "server.allow_request_plugins is off", value,
                        ", ".join(str(r) for r in self.presets.roots) if self.presets else "none set")
            raise NotAllowedError(
                f"option plugins names {value!r}, which is not one of this daemon's plugin presets "
                "(server.plugin_preset_dirs); loading plugins a request names needs "
                "server.allow_request_plugins = true in the daemon's config")
        path, raw = guard.read_file(found)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise InvalidInputError(f"plugin preset {value!r} is not UTF-8 JSON: {e}") from None
        if not isinstance(data, dict):
            raise InvalidInputError(f"plugin preset {value!r} must hold a JSON object, got {type(data).__name__}")
        out: dict[str, list[dict[str, Any]]] = {}
        for stem, entries in data.items():
            if not isinstance(entries, list):
                raise InvalidInputError(f"plugin preset {value!r}: {stem!r} must be a list, got {entries!r}"[:300])
            checked = []
            for entry in entries:
                if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                    raise InvalidInputError(f"plugin preset {value!r}: each plugin needs a 'path' string, "
                                            f"got {entry!r}"[:300])
                checked.append({**entry, "path": str(self.plugin_bundle(entry["path"], path.parent))})
            out[str(stem)] = checked
        return out

    def _in_presets(self, value: str) -> Path | None:
        if self.presets is None:
            return None
        names = [value] if _names_a_file(value) else [value + ".json", value]
        for name in names:
            try:
                resolved = self.presets.locate(name)
            except MageError:
                return None
            if self.presets.contains(resolved) and resolved.exists():
                return resolved
        return None

    def plugin_bundle(self, text: str, base: Path) -> Path:
        """A VST3 bundle a preset lists (relative to the preset's folder): under the plugin folders, whole."""
        where = Path(text).expanduser() if text.startswith("~") else Path(text)
        if not where.is_absolute():
            where = base / where
        if self.plugins is None:
            log.warning("refused plugin %r: no server.plugin_dirs are set", text)
            raise NotAllowedError(f"plugin {text!r} cannot be loaded: this daemon has no plugin folders "
                                  "(server.plugin_dirs)")
        if where.suffix.lower() != ".vst3":
            raise InvalidInputError(f"plugin path must name a .vst3 bundle, got {text!r}"[:300])
        try:
            bundle = self.plugins.resolve(where)
        except PathNotAllowedError:
            raise PathNotAllowedError(f"plugin {text!r} is outside {self.plugins.what} or missing "
                                      "(see the daemon's log)") from None
        st = os.stat(bundle)
        if stat.S_ISREG(st.st_mode):
            return bundle
        if not stat.S_ISDIR(st.st_mode):
            _check_regular(text, bundle, st, None)
        seen = 0
        for folder, dirs, files in os.walk(bundle, followlinks=False):
            for name in (*dirs, *files):
                seen += 1
                if seen > MAX_BUNDLE_ENTRIES:
                    raise PathNotAllowedError(f"plugin {text!r} holds more than {MAX_BUNDLE_ENTRIES} files")
                entry = Path(folder) / name
                if entry.is_symlink() and not self.plugins.contains(Path(os.path.realpath(entry))):
                    log.warning("refused plugin %r: %s links to %r, outside %s (%s)", text, entry,
                                os.path.realpath(entry), self.plugins.what,
                                ", ".join(str(r) for r in self.plugins.roots))
                    raise PathNotAllowedError(f"plugin {text!r} links out of {self.plugins.what} (see its log)")
        return bundle
