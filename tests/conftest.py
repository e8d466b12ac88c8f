from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

#: The user folders (config, data, cache, state) every test and every process it starts sees: a fresh
#: one per session, so no test reads the machine's own config or writes into the real home folder.
_XDG = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")
_home: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _home
    _home = tempfile.mkdtemp(prefix="mage-bridge-tests-")
    for var in _XDG:
        os.environ[var] = os.path.join(_home, var.lower())
    for var in ("MAGE_CONFIG", "MAGE_DATA_DIR", "MAGE_STATE_DIR", "MAGE_LOG_DIR", "MAGE_MODELS_DIR"):
        os.environ.pop(var, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _home is not None:
        shutil.rmtree(_home, ignore_errors=True)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261124)


def _jack_answers() -> bool:
    """Whether the server named by ``JACK_DEFAULT_SERVER`` takes a client (JACK-Client, else python-rtmidi)."""
    try:
        import jack
    except (ImportError, OSError):
        import rtmidi

        probe = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="probe")
        probe.delete()
        return True
    try:
        client = jack.Client("probe", no_start_server=True)
    except jack.JackOpenError:
        return False
    client.close()
    return True


@pytest.fixture
def jack_server(tmp_path: Path) -> Iterator[str]:
    """A private JACK server on the dummy driver (no sound card needed: real audio and MIDI ports, played by
    its clock); yields its name, which is also ``JACK_DEFAULT_SERVER`` for the test and what it starts."""
    if shutil.which("jackd") is None:
        pytest.skip("jackd is not installed (Debian: jackd2; setup.sh installs it): no real audio or MIDI ports")
    name = f"mage-test-{os.getpid()}-{tmp_path.name[-12:]}"
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    log = (tmp_path / "jackd.log").open("w")
    proc = subprocess.Popen(["jackd", "-n", name, "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "256"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    os.environ["JACK_DEFAULT_SERVER"] = name
    try:
        deadline = time.monotonic() + 15.0
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jackd exited with {proc.returncode}: {(tmp_path / 'jackd.log').read_text()}")
            try:
                if _jack_answers():
                    break
            except Exception:
                pass
            if time.monotonic() > deadline:
                pytest.fail("jackd did not come up within 15 s")
            time.sleep(0.1)
        yield name
    finally:
        os.environ.pop("JACK_DEFAULT_SERVER", None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
