from __future__ import annotations

import os
import shutil
import tempfile

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
