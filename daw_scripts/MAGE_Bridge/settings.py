"""The script's settings: daemon port, Session or Arrangement, MIDI parts and section locators on or off.

A Live started from the Finder, the Dock or the Start menu sees no environment variables of a shell, so the
settings live in a small JSON file::

    {"port": 9137, "view": "arrangement", "insert_midi": false, "insert_locators": true}

The first file that exists is read:

1. ``settings.json`` in the script's own folder (``Remote Scripts/MAGE_Bridge/settings.json``);
2. the per-user file ``mage-bridge/live.json`` in the user's configuration folder:
   macOS ``~/Library/Application Support``, Windows ``%APPDATA%``, elsewhere ``$XDG_CONFIG_HOME`` or
   ``~/.config``.

Without a file, the environment variables ``MAGE_PORT`` and ``MAGE_LIVE_VIEW`` are used where Live happens to
see them (a Live started from a terminal), else the defaults. A bad value is reported and its default used; a
missing key takes its default. Pure Python, no Live import: it runs under Live's embedded Python and under tests.
"""

from __future__ import annotations

import json
import os
import sys

DEFAULT_PORT = 9137
VIEWS = ("arrangement", "session")
DEFAULTS = {"port": DEFAULT_PORT, "view": "arrangement", "insert_midi": False, "insert_locators": True}
SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
MAX_FILE_BYTES = 64 * 1024


class Settings:
    """What the script runs with, where it came from, and what was wrong with the file (if anything)."""

    def __init__(self, port: int = DEFAULT_PORT, view: str = "arrangement", insert_midi: bool = False,
                 source: str = "defaults", problems: tuple = (), insert_locators: bool = True) -> None:
        self.port = port
        self.view = view
        self.insert_midi = insert_midi
        self.insert_locators = insert_locators
        self.source = source
        self.problems = problems

    def __repr__(self) -> str:
        return ("Settings(port=%r, view=%r, insert_midi=%r, insert_locators=%r, source=%r, problems=%r)"
                % (self.port, self.view, self.insert_midi, self.insert_locators, self.source, self.problems))


def user_config_dir(platform: str | None = None, environ: dict | None = None) -> str:
    """The per-user configuration folder of this platform (not created)."""
    platform = sys.platform if platform is None else platform
    environ = os.environ if environ is None else environ
    home = environ.get("HOME") or environ.get("USERPROFILE") or os.path.expanduser("~")
    if platform == "darwin":
        return os.path.join(home, "Library", "Application Support")
    if platform.startswith("win"):
        return environ.get("APPDATA") or os.path.join(home, "AppData", "Roaming")
    return environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")


def candidate_paths(script_dir: str = SCRIPT_DIR, platform: str | None = None, environ: dict | None = None) -> list:
    """Where settings are looked for, first match wins."""
    return [os.path.join(script_dir, "settings.json"),
            os.path.join(user_config_dir(platform, environ), "mage-bridge", "live.json")]


def check(data: object, source: str) -> Settings:
    """Validate a parsed settings object; every bad value is named in ``problems`` and replaced by its default."""
    values = dict(DEFAULTS)
    problems = []
    if not isinstance(data, dict):
        problems.append("the file must hold a JSON object like "
                        '{"port": 9137, "view": "arrangement", "insert_midi": false}, got %s'
                        % type(data).__name__)
        data = {}
    for key in sorted(data):
        if key not in DEFAULTS:
            problems.append("unknown setting %r (known: %s)" % (key, ", ".join(sorted(DEFAULTS))))
    if "port" in data:
        port = data["port"]
        if isinstance(port, str) and port.strip().isdigit():
            port = int(port.strip())
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            problems.append("port must be a whole number from 1 to 65535, got %r; using %d"
                            % (data["port"], DEFAULT_PORT))
        else:
            values["port"] = port
    if "view" in data:
        view = data["view"]
        if isinstance(view, str) and view.strip().lower() in VIEWS:
            values["view"] = view.strip().lower()
        else:
            problems.append('view must be "arrangement" or "session", got %r; using "arrangement"' % (view,))
    for key in ("insert_midi", "insert_locators"):
        if key in data:
            if isinstance(data[key], bool):
                values[key] = data[key]
            else:
                problems.append("%s must be true or false, got %r; using %s"
                                % (key, data[key], "true" if DEFAULTS[key] else "false"))
    return Settings(values["port"], values["view"], values["insert_midi"], source, tuple(problems),
                    values["insert_locators"])


def from_environment(environ: dict) -> Settings:
    """``MAGE_PORT`` / ``MAGE_LIVE_VIEW``, for a Live started from a shell that set them."""
    data: dict = {}
    if environ.get("MAGE_PORT"):
        data["port"] = environ["MAGE_PORT"]
    if environ.get("MAGE_LIVE_VIEW"):
        data["view"] = environ["MAGE_LIVE_VIEW"]
    if not data:
        return Settings()
    return check(data, "environment (MAGE_PORT / MAGE_LIVE_VIEW)")


def load(script_dir: str = SCRIPT_DIR, platform: str | None = None, environ: dict | None = None) -> Settings:
    """The settings from the first file found, else the environment, else the defaults. Never raises."""
    environ = os.environ if environ is None else environ
    for path in candidate_paths(script_dir, platform, environ):
        if not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_FILE_BYTES + 1)
            if len(raw) > MAX_FILE_BYTES:
                raise ValueError("larger than %d bytes" % MAX_FILE_BYTES)
            data = json.loads(raw.decode("utf-8-sig"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            return Settings(source=path, problems=("cannot read it (%s); using the defaults" % e,))
        return check(data, path)
    return from_environment(environ)
