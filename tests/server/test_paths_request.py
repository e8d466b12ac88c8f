"""Every path a request names is confined, on every door: options, plugin presets and the VST3s they list.

Real daemons (tests/server/conftest.py), real files, a real FIFO, /dev/zero, symlinks out of the allowed folders
and a real VST3 (MageTestGain, built by tests/effects' ``gain_vst3`` fixture).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mage_bridge import audio as audio_io
from mage_bridge.config import Config, ServerConfig
from mage_bridge.errors import InvalidInputError, PathNotAllowedError
from mage_bridge.server.jobs import JobStore
from mage_bridge.server.security import NotAllowedError, RequestPolicy
from tests.effects.conftest import gain_vst3  # noqa: F401 - the session fixture that builds the real VST3
from tests.server.conftest import DaemonProc, submit, wait_end
from tests.signals import sine

FAST_S = 2.0  # a refusal is an answer at once: a FIFO or /dev/zero must not be read


def _preset(path: Path, bundle: Path | str, *, stem: str = "all", gain_db: float = -6.0) -> Path:
    path.write_text(json.dumps({stem: [{"path": str(bundle), "parameters": {"gain_db": gain_db}}]}))
    return path


def _request(c: Any, address: str, *args: str) -> tuple[str, list[Any], float]:
    started = time.monotonic()
    addr, reply = c.request(address, *args, timeout_s=5.0)
    return addr, reply, time.monotonic() - started


def _jobs(d: DaemonProc) -> list[Any]:
    store = JobStore(d.state_dir / "jobs.sqlite3")
    try:
        return store.list()
    finally:
        store.close()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def _stem(d: DaemonProc, name: str = "vocals.wav") -> Path:
    d.data_dir.mkdir(parents=True, exist_ok=True)
    audio_io.save(sine(440.0, 1.0, amplitude=0.25), d.data_dir / name, subtype="float")
    return d.data_dir / name


# -- the OSC door ---------------------------------------------------------------------------------
def test_a_plugin_preset_naming_a_vst3_outside_the_plugin_folders_is_refused_and_nothing_loads(
        make_daemon: Any, outside: Path, gain_vst3: Path) -> None:  # noqa: F811
    bundle = outside / gain_vst3.name
    shutil.copytree(gain_vst3, bundle)
    d: DaemonProc = make_daemon(start=False, server={"allow_request_plugins": True, "plugin_dirs": []})
    _stem(d)
    _preset(d.data_dir / "plugins.json", bundle)
    d.start()
    with d.client() as c:
        addr, reply, _ = _request(c, "/mage/enhance", "e1", "vocals.wav", '{"plugins": "plugins.json"}')
    assert (addr, reply[1]) == ("/mage/error", "path_not_allowed"), reply
    assert str(bundle) in reply[2] and str(d.root) not in reply[2].replace(str(bundle), ""), reply[2]
    assert _jobs(d) == []


def test_a_plugin_preset_outside_the_allowed_folders_is_refused_at_the_door(make_daemon: Any, outside: Path,
                                                                           gain_vst3: Path) -> None:  # noqa: F811
    preset = _preset(outside / "evil.json", gain_vst3)
    d: DaemonProc = make_daemon(start=False, server={"allow_request_plugins": True,
                                                     "plugin_dirs": [str(gain_vst3.parent)]})
    _stem(d)
    (d.data_dir / "link.json").symlink_to(preset)
    d.start()
    with d.client() as c:
        for i, value in enumerate([str(preset), "link.json", "../../outside/evil.json"]):
            addr, reply, took = _request(c, "/mage/enhance", f"o{i}", "vocals.wav", json.dumps({"plugins": value}))
            assert (addr, reply[1]) == ("/mage/error", "path_not_allowed"), (value, reply)
            assert reply[2] == f"path {value!r} is outside the folders this daemon may read (see its log)"
            assert took < FAST_S
    assert _jobs(d) == []
    log = d.log()
    assert f"refused path 'link.json': it resolves to {str(preset)!r}" in log and str(d.data_dir) in log


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "link-to-dev-zero", "folder"])
def test_only_regular_files_are_read_and_a_fifo_or_dev_zero_is_refused_at_once(make_daemon: Any, kind: str) -> None:
    d: DaemonProc = make_daemon(start=False, server={"allow_request_plugins": True})
    _stem(d)
    d.data_dir.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(d.data_dir / "plugins.json")
        value = "plugins.json"
    elif kind == "dev-zero":
        value = "/dev/zero"
    elif kind == "link-to-dev-zero":
        (d.data_dir / "zero.json").symlink_to("/dev/zero")
        value = "zero.json"
    else:
        (d.data_dir / "presets.json").mkdir()
        value = "presets.json"
    d.start()
    with d.client() as c:
        addr, reply, took = _request(c, "/mage/enhance", "z", "vocals.wav", json.dumps({"plugins": value}))
        assert (addr, reply[1]) == ("/mage/error", "path_not_allowed"), reply
        assert took < FAST_S
        assert c.ping()
    assert _jobs(d) == []


def test_without_the_switch_a_request_may_only_name_the_users_own_presets(make_daemon: Any, tmp_path: Path,
                                                                         gain_vst3: Path) -> None:  # noqa: F811
    presets = tmp_path / "my-presets"
    presets.mkdir()
    _preset(presets / "quiet.json", gain_vst3, gain_db=-12.0)
    d: DaemonProc = make_daemon(start=False, server={"plugin_preset_dirs": [str(presets)],
                                                     "plugin_dirs": [str(gain_vst3.parent)]})
    stem = _stem(d)
    _preset(d.data_dir / "mine.json", gain_vst3)
    d.start()
    with d.client() as c:
        addr, reply, _ = _request(c, "/mage/enhance", "n1", "vocals.wav", '{"plugins": "mine.json"}')
        assert (addr, reply[1]) == ("/mage/error", "not_allowed"), reply
        assert "'mine.json'" in reply[2] and "server.allow_request_plugins = true" in reply[2]
        assert str(presets) not in reply[2]
        plain = submit(c, "/mage/enhance", "p0", "vocals.wav", "")
        assert wait_end(c, plain, 60.0)[0] == "/mage/job/done"
        job = submit(c, "/mage/enhance", "p1", "vocals.wav", '{"plugins": "quiet"}')  # by name, in my folder
        addr, reply = wait_end(c, job, 60.0)
    assert addr == "/mage/job/done", reply
    before = audio_io.load(d.state_dir / "jobs" / plain / f"{stem.stem}-enhanced.wav").samples.astype(np.float64)
    after = audio_io.load(Path(reply[1]).with_suffix("")).samples.astype(np.float64)
    change_db = 20 * np.log10(np.sqrt(np.mean(after**2)) / np.sqrt(np.mean(before**2)))
    assert change_db == pytest.approx(-12.0, abs=0.1)  # the preset's VST3 ran


def test_the_worker_checks_again_and_never_waits_on_a_fifo_swapped_in_after_the_door(
        make_daemon: Any, gain_vst3: Path) -> None:  # noqa: F811
    d: DaemonProc = make_daemon(start=False, server={"allow_request_plugins": True,
                                                     "plugin_dirs": [str(gain_vst3.parent)]})
    _stem(d)
    preset = _preset(d.data_dir / "plugins.json", gain_vst3)
    d.start()
    with d.client() as c:
        busy = submit(c, "/mage/test/job", "busy", "sleep", '{"seconds": 1.0}')
        job = submit(c, "/mage/enhance", "swap", "vocals.wav", '{"plugins": "plugins.json"}')
        preset.unlink()
        os.mkfifo(preset)
        assert wait_end(c, busy, 20.0)[0] == "/mage/job/done"
        addr, reply = wait_end(c, job, 20.0)
    assert (addr, reply[1]) == ("/mage/job/failed", "path_not_allowed"), reply
    assert "not a regular file (a FIFO)" in reply[2]


def test_an_option_naming_a_file_or_a_model_by_path_is_confined(make_daemon: Any, outside: Path) -> None:
    d: DaemonProc = make_daemon(start=False)
    _stem(d)
    secret = outside / "secret.json"
    secret.write_text("{}")
    d.start()
    with d.client() as c:
        for i, options in enumerate([{"model": "../../outside/htdemucs"}, {"model": "/tmp/evil"},
                                     {"weights_path": str(secret)}, {"out_dir": "/tmp"}]):
            addr, reply, _ = _request(c, "/mage/separate", f"m{i}", "vocals.wav", json.dumps(options))
            assert (addr, reply[1]) == ("/mage/error", "path_not_allowed"), (options, reply)
        addr, reply, _ = _request(c, "/mage/master", "f", "vocals.wav", '{"format": "../../x"}')
        assert (addr, reply[1]) == ("/mage/error", "invalid_input"), reply
        assert "format must be one of wav, flac, mp3, got '../../x'" in reply[2]
    assert _jobs(d) == []


# -- the spool and MIDI preset doors --------------------------------------------------------------
def test_the_spool_door_refuses_a_plugin_preset_outside_the_folders(make_daemon: Any, outside: Path) -> None:
    d: DaemonProc = make_daemon(start=False, server={"allow_request_plugins": True})
    _stem(d)
    d.start()
    spool = d.state_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    (spool / "bad.json").write_text(json.dumps({"kind": "enhance", "req_id": "s1", "client_id": "reaper",
                                                "audio_path": "vocals.wav", "options": {"plugins": "/dev/zero"}}))
    error = spool / "rejected" / "bad.json.error.json"
    deadline = time.monotonic() + 10.0
    while not error.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(error.read_text())["code"] == "path_not_allowed"
    assert _jobs(d) == []


def test_a_mapping_file_preset_gets_the_same_guard(make_daemon: Any, tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text('[presets.1]\nprompt = "house"\n[presets.1.options]\nplugins = "/dev/zero"\n'
                       '[presets.2]\nprompt = "house"\n[presets.2.options]\nsoundfont_file = "/etc/passwd"\n')
    d: DaemonProc = make_daemon(server={"midi_map": str(mapping)})
    with d.client() as c:
        for slot in (1, 2):
            c.send("/mage/trigger", slot)
            addr, reply = c.wait_for(lambda a, p: p[:1] == [f"trigger:{slot}"], 5.0)  # noqa: B023
            assert (addr, reply[1]) == ("/mage/error", "path_not_allowed"), (slot, reply)
    assert _jobs(d) == []


# -- the policy itself ---------------------------------------------------------------------------
def test_a_bundle_that_links_out_of_the_plugin_folders_is_refused(tmp_path: Path) -> None:
    plugins, outside, data = tmp_path / "vst3", tmp_path / "outside", tmp_path / "data"
    for folder in (plugins, outside, data):
        folder.mkdir()
    (outside / "evil.so").write_bytes(b"\x7fELF")
    binary = plugins / "Fake.vst3" / "Contents" / "x86_64-linux"
    binary.mkdir(parents=True)
    (binary / "Fake.so").symlink_to(outside / "evil.so")
    (data / "p.json").write_text(json.dumps({"all": [{"path": str(plugins / "Fake.vst3")}]}))
    config = Config(data_dir=data, server=ServerConfig(allow_request_plugins=True, plugin_dirs=(plugins,)))
    policy = RequestPolicy.from_config(config, [data])
    with pytest.raises(PathNotAllowedError, match="links out of"):
        policy.check_options({"plugins": "p.json"})
    (binary / "Fake.so").unlink()
    (binary / "Fake.so").write_bytes(b"\x7fELF")
    assert policy.check_options({"plugins": "p.json"})["plugins"] == {"all": [{"path": str(plugins / "Fake.vst3")}]}
    (data / "q.json").write_text(json.dumps({"all": [{"path": "/usr/lib/libc.so.6"}]}))
    with pytest.raises(InvalidInputError, match="must name a .vst3 bundle"):
        policy.check_options({"plugins": "q.json"})
    off = RequestPolicy.from_config(Config(data_dir=data, server=ServerConfig(plugin_dirs=(plugins,))), [data])
    with pytest.raises(NotAllowedError):
        off.check_options({"plugins": "p.json"})


def test_a_separation_manifest_cannot_point_enhance_at_stems_outside(tmp_path: Path) -> None:
    data, outside = tmp_path / "data", tmp_path / "outside"
    for folder in (data / "sep", outside):
        folder.mkdir(parents=True)
    (outside / "vocals.wav").write_bytes(b"RIFF")
    (data / "sep" / "manifest.json").write_text(json.dumps({"stems": {"vocals": str(outside / "vocals.wav")}}))
    policy = RequestPolicy.from_config(Config(data_dir=data), [data])
    with pytest.raises(PathNotAllowedError, match="outside the folders this daemon may read"):
        policy.check_request({"audio_path": str(data / "sep" / "manifest.json"), "options": {}})


def test_a_mapping_file_naming_a_file_with_something_else_fails_at_load() -> None:
    from mage_bridge.errors import ConfigError
    from mage_bridge.server.midi import MidiMap

    with pytest.raises(ConfigError, match=r"presets\.1\.options\.plugins must be a path .*got 3"):
        MidiMap.from_dict({"presets": {"1": {"prompt": "house", "options": {"plugins": 3}}}})
