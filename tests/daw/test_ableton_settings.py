"""The Live script's settings come from a file (a Live started from the Finder sees no shell variables)."""

from __future__ import annotations

import fnmatch
import importlib
import os
from typing import Any

import pytest

from tests.daw.fake_live.harness import FakeDaemon, Rig, fake_daemon, live, tick_until  # noqa: F401


def settings_module(live: Rig) -> Any:
    return importlib.import_module("MAGE_Bridge.settings")


@pytest.mark.parametrize(("platform", "environ", "expected"), [
    ("darwin", {"HOME": "/Users/me"}, "/Users/me/Library/Application Support/mage-bridge/live.json"),
    ("win32", {"APPDATA": r"C:\Users\me\AppData\Roaming", "USERPROFILE": r"C:\Users\me"},
     os.path.join(r"C:\Users\me\AppData\Roaming", "mage-bridge", "live.json")),
    ("linux", {"HOME": "/home/me", "XDG_CONFIG_HOME": "/home/me/cfg"}, "/home/me/cfg/mage-bridge/live.json"),
    ("linux", {"HOME": "/home/me"}, "/home/me/.config/mage-bridge/live.json"),
], ids=["macos", "windows", "xdg", "linux-default"])
def test_the_per_user_file_is_in_the_platforms_config_folder(live: Rig, platform: str, environ: dict[str, str],
                                                               expected: str) -> None:
    s = settings_module(live)
    paths = s.candidate_paths("/scripts/MAGE_Bridge", platform, environ)
    assert paths == [os.path.join("/scripts/MAGE_Bridge", "settings.json"), expected]


def test_the_file_next_to_the_script_wins(live: Rig, fake_daemon: FakeDaemon) -> None:
    live.write_settings({"port": 1}, user=True)
    live.write_settings({"port": fake_daemon.port, "view": "session", "insert_midi": True})
    surface, c = live.start()
    tick_until(surface, lambda: bool(fake_daemon.poll()), 5.0)
    assert (surface._settings.port, surface._settings.view, surface._settings.insert_midi) == (
        fake_daemon.port, "session", True)
    assert surface._settings.source == str(live.settings_path)
    assert not any("settings" in m for m in c.messages)


def test_the_per_user_file_is_read_when_there_is_none_next_to_the_script(live: Rig, fake_daemon: FakeDaemon) -> None:
    live.write_settings({"port": fake_daemon.port, "view": "Session"}, user=True)
    surface, c = live.start()
    tick_until(surface, lambda: bool(fake_daemon.poll()), 5.0)
    assert surface._settings.view == "session" and surface._settings.source == str(live.user_settings_path)


def test_no_file_means_the_defaults(live: Rig) -> None:
    s = settings_module(live).load()
    assert (s.port, s.view, s.insert_midi, s.source, s.problems) == (9137, "arrangement", False, "defaults", ())


@pytest.mark.parametrize(("content", "said"), [
    ('{"port": "nine", "view": "arrangement"}', "port must be a whole number from 1 to 65535, got 'nine'; "
                                                "using 9137"),
    ('{"port": 70000}', "port must be a whole number from 1 to 65535, got 70000; using 9137"),
    ('{"view": "mixer"}', 'view must be "arrangement" or "session", got \'mixer\'; using "arrangement"'),
    ('{"insert_midi": "yes"}', "insert_midi must be true or false, got 'yes'; using false"),
    ('{"insert_locators": 0}', "insert_locators must be true or false, got 0; using true"),
    ('{"prot": 9000}', "unknown setting 'prot' (known: insert_locators, insert_midi, port, view)"),
    ('[9000]', 'the file must hold a JSON object like {"port": 9137, "view": "arrangement", "insert_midi": false}, '
               "got list"),
    ('{"port": 9000,}', "cannot read it (*: line 1 column *); using the defaults"),
], ids=["port-text", "port-range", "view", "insert_midi", "insert_locators", "unknown-key", "not-an-object",
        "bad-json"])
def test_a_bad_value_is_said_and_its_default_used(live: Rig, content: str, said: str) -> None:
    path = live.write_settings(content)
    surface, c = live.start()
    assert [m for m in c.messages if fnmatch.fnmatchcase(m, f"MAGE Bridge: settings {path}: {said}")]
    defaults = settings_module(live).DEFAULTS
    assert surface._settings.port == defaults["port"]
    assert surface._settings.view == defaults["view"] and surface._settings.insert_midi is False
    assert surface._settings.insert_locators is True
    assert c.messages[-1].startswith("MAGE Bridge: connecting to the daemon at 127.0.0.1:")


def test_good_values_beside_a_bad_one_are_kept(live: Rig) -> None:
    path = live.write_settings('{"port": 9200, "view": "sideways", "insert_midi": true}')
    surface, c = live.start()
    assert (surface._settings.port, surface._settings.view, surface._settings.insert_midi) == (
        9200, "arrangement", True)
    assert c.messages[0].startswith(f"MAGE Bridge: settings {path}: view must be")


def test_without_a_file_the_environment_of_a_shell_started_live_still_counts(live: Rig,
                                                                              monkeypatch: pytest.MonkeyPatch
                                                                              ) -> None:
    monkeypatch.setenv("MAGE_PORT", "9300")
    monkeypatch.setenv("MAGE_LIVE_VIEW", "session")
    s = settings_module(live).load()
    assert (s.port, s.view, s.source) == (9300, "session", "environment (MAGE_PORT / MAGE_LIVE_VIEW)")
    live.write_settings({"view": "arrangement"})
    s = settings_module(live).load()
    assert (s.port, s.view) == (9137, "arrangement")  # a file is the whole truth: no mixing with the environment
