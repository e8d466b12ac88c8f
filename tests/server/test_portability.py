"""The daemon where POSIX-only pieces are missing (Windows, some macOS set-ups), faked on Linux.

What is faked is only what the platform lacks (``fcntl``, a loop's signal handlers, a loop's pipe
readers); the locks, signals, sockets and worker processes are real.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.config import Config
from mage_bridge.errors import MageError
from mage_bridge.server import locks, security, workers
from mage_bridge.server.daemon import STOP_SIGNALS, on_stop_signals
from mage_bridge.server.midi import MidiDoor, MidiMap, MidiUnavailableError
from mage_bridge.server.workers import WorkerHandle, WorkerPool, describe_exit
from tests.server.conftest import REPO, DaemonProc, submit, wait_end


def _python(code: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60, **kw)


def test_the_daemon_imports_where_there_is_no_fcntl_and_without_heavy_modules() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['fcntl'] = None  # as on Windows: `import fcntl` raises ImportError\n"
        "import mage_bridge.server.daemon, mage_bridge.server.workers, mage_bridge.server.locks\n"
        "heavy = sorted(m for m in ('torch', 'numpy', 'scipy', 'soundfile', 'filelock', 'mido', 'rtmidi')\n"
        "               if m in sys.modules)\n"
        "print('imported', heavy)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported []"


def test_a_second_daemon_on_the_same_state_folder_is_refused(daemon: DaemonProc) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update({"MAGE_CONFIG": str(daemon.root / "config.toml"), "PYTHONPATH": str(REPO)})
    second = subprocess.run([sys.executable, "-m", "mage_bridge.cli", "serve", "--port", "0",
                             "--state-dir", str(daemon.state_dir)], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    assert second.returncode != 0
    assert f"another mage-bridge daemon is using the state folder {str(daemon.state_dir)!r}" in second.stderr
    with pytest.raises(MageError, match="another mage-bridge daemon"):
        locks.take_daemon_lock(daemon.state_dir)
    with daemon.client() as c:
        c.ping()  # the first one serves on
    daemon.stop()
    locks.take_daemon_lock(daemon.state_dir).release()  # a stopped daemon's lock is free


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_a_worker_lock_is_held_while_its_process_lives_and_free_when_it_is_gone(tmp_path: Path, how: str) -> None:
    folder = tmp_path / locks.WORKER_LOCKS_DIR
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pathlib import Path\n"
         "from mage_bridge.server.locks import hold_worker_lock\n"
         f"lock = hold_worker_lock(Path({str(folder)!r}), 3)\n"
         "print('held' if lock is not None else 'not held', flush=True)\n"
         "sys.stdin.readline()\n"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        assert locks.wait_for_orphans(folder, timeout_s=0.2) == [folder / "worker-3.lock"]
        if how == "kill":
            holder.kill()  # no clean-up runs: the system drops the lock
        else:
            holder.stdin.write("\n")
            holder.stdin.flush()
        holder.wait(timeout=10)
        started = time.monotonic()
        assert locks.wait_for_orphans(folder, timeout_s=5.0) == []
        assert time.monotonic() - started < 1.0
    finally:
        holder.kill()
        holder.wait(timeout=10)


@pytest.fixture
def restore_stop_signals() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize("loop_handles_signals", [True, False], ids=["posix-loop", "windows-loop"])
def test_a_stop_signal_reaches_the_loop(restore_stop_signals: None, monkeypatch: pytest.MonkeyPatch,
                                        loop_handles_signals: bool) -> None:
    loop = asyncio.SelectorEventLoop()
    try:
        if not loop_handles_signals:
            def unsupported(*args: Any) -> None:
                raise NotImplementedError  # what a Windows event loop raises

            monkeypatch.setattr(loop, "add_signal_handler", unsupported)
        got: list[int] = []
        on_stop_signals(loop, got.append)
        signal.raise_signal(signal.SIGTERM)
        loop.run_until_complete(asyncio.sleep(0.05))
        assert got == [signal.SIGTERM]
    finally:
        if loop_handles_signals:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
        loop.close()


def test_workers_run_and_their_deaths_are_seen_when_the_loop_cannot_watch_pipes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One thread per worker waits on its pipe and sentinel (Windows); messages come before the exit."""
    monkeypatch.setenv("MAGE_TEST_JOBS", "1")
    monkeypatch.setattr(workers, "loop_watches_pipes", lambda: False)  # as on Windows
    events: list[tuple[str, Any]] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()

        def no_pipe_readers(*args: Any) -> None:
            raise NotImplementedError  # Windows' loops watch sockets at most, never pipes or processes

        monkeypatch.setattr(loop, "add_reader", no_pipe_readers)
        exited = asyncio.Event()
        ready = asyncio.Event()

        def on_message(handle: WorkerHandle, msg: tuple[Any, ...]) -> None:
            events.append(("message", msg[0]))
            if msg[0] in ("done", "failed"):
                handle.job_id = None

        def on_exit(handle: WorkerHandle, code: int | None) -> None:
            events.append(("exit", describe_exit(code)))
            exited.set()

        pool = WorkerPool(size=1, config=Config(data_dir=tmp_path), loop=loop, on_message=on_message,
                          on_exit=on_exit, on_ready=ready.set, lock_dir=tmp_path / locks.WORKER_LOCKS_DIR)
        pool.start()
        try:
            await _until(lambda: pool.idle() is not None)
            handle = pool.idle()
            assert handle is not None
            pool.assign(handle, {"id": "j1", "kind": "sleep", "params": {"options": {"seconds": 0.2, "steps": 2}},
                                 "out_dir": str(tmp_path / "jobs" / "j1"), "roots": [str(tmp_path)]})
            await _until(lambda: ("message", "done") in events)
            assert json.loads((tmp_path / "jobs" / "j1" / "manifest.json").read_text())["kind"] == "sleep"
            assert locks.held_worker_locks(tmp_path / locks.WORKER_LOCKS_DIR) == [
                tmp_path / locks.WORKER_LOCKS_DIR / "worker-0.lock"]
            handle.process.kill()
            await asyncio.wait_for(exited.wait(), 10)
            await asyncio.wait_for(ready.wait(), 10)  # a fresh worker takes its place
            await _until(lambda: pool.idle() is not None)
        finally:
            await pool.close()

    asyncio.run(run())
    messages = [what for kind, what in events if kind == "message"]
    assert messages[0] == "progress" and messages[-1] == "done"
    assert ("exit", "killed by signal 9 (SIGKILL)") in events


async def _until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_workers_lower_their_priority_with_nice_or_the_windows_priority_class(
        monkeypatch: pytest.MonkeyPatch) -> None:
    niced: list[int] = []
    monkeypatch.setattr(os, "nice", niced.append)
    workers._lower_priority()
    assert niced == [workers.WORKER_NICE]

    classes: list[int] = []

    class Kernel32:  # the two calls of Windows' kernel32 a worker makes
        def GetCurrentProcess(self) -> int:
            return -1

        def SetPriorityClass(self, process: int, priority_class: int) -> int:
            classes.append(priority_class)
            return 1

    monkeypatch.delattr(os, "nice")  # as on Windows
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "WinDLL", lambda name: Kernel32(), raising=False)
    workers._lower_priority()
    assert classes == [0x4000]  # BELOW_NORMAL_PRIORITY_CLASS
    monkeypatch.setattr(sys, "platform", "emscripten")  # neither: the worker runs at the daemon's priority
    workers._lower_priority()
    assert classes == [0x4000] and niced == [workers.WORKER_NICE]


@pytest.mark.parametrize("sep,path_like", [("/", False), ("\\", True)], ids=["posix", "windows"])
def test_a_plugin_preset_named_with_this_platforms_separator_is_a_path(monkeypatch: pytest.MonkeyPatch, sep: str,
                                                                       path_like: bool) -> None:
    monkeypatch.setattr(os, "sep", sep)
    assert security._names_a_file("presets\\vocal") is path_like
    assert security._names_a_file("presets/vocal") and security._names_a_file("vocal.json")
    assert not security._names_a_file("vocal")


def test_a_virtual_midi_port_on_windows_is_refused_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    class MidiIn:  # python-rtmidi's, as its Windows MultiMedia API behaves
        def __init__(self, rtapi: int, name: str) -> None: ...

        def open_virtual_port(self, name: str) -> None:
            raise RuntimeError("MidiInWinMM::openVirtualPort: cannot be implemented in Windows MM MIDI API!")

        def delete(self) -> None: ...

    rtmidi = types.SimpleNamespace(API_LINUX_ALSA=2, API_UNIX_JACK=3, API_WINDOWS_MM=4, API_RTMIDI_DUMMY=5,
                                   get_compiled_api=lambda: [4], get_api_display_name=lambda api: "Windows MM",
                                   MidiIn=MidiIn)
    monkeypatch.setitem(sys.modules, "rtmidi", rtmidi)
    door = MidiDoor(MidiMap(input_port="virtual"), lambda action: None)
    with pytest.raises(MidiUnavailableError, match=r"Windows MM: Windows has no virtual MIDI ports: .*loopMIDI"):
        door.open()


#: Runs the CLI with the loop of a Windows daemon: no signal handlers in the loop, no pipe readers.
WINDOWS_LIKE_LOOP = (
    "import asyncio, runpy\n"
    "from mage_bridge.server import workers\n"
    "def no_signal_handlers(self, *args):\n"
    "    raise NotImplementedError\n"
    "asyncio.SelectorEventLoop.add_signal_handler = no_signal_handlers\n"
    "workers.loop_watches_pipes = lambda: False\n"
    "runpy.run_module('mage_bridge.cli', run_name='__main__', alter_sys=True)\n"
)


def test_a_daemon_without_loop_signal_handlers_or_pipe_readers_serves_jobs_and_stops_on_sigterm(
        make_daemon: Callable[..., DaemonProc]) -> None:
    d = make_daemon(launcher=("-c", WINDOWS_LIKE_LOOP))
    with d.client() as c:
        job = submit(c, "/mage/test/job", "w1", "sleep", json.dumps({"seconds": 0.2, "steps": 2}))
        addr, reply = wait_end(c, job, 30.0)
    assert addr == "/mage/job/done", reply
    d.signal(signal.SIGTERM)
    assert d.wait() == 0
    assert "SIGTERM received: stopping" in d.log()
    assert not (d.state_dir / "daemon.json").exists()
