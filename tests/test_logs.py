"""The daemon's log file rotates instead of growing without end."""

from __future__ import annotations

import logging

from mage_bridge import logs


def test_log_rotates_and_keeps_a_few_old_files(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    path = logs.setup_logging(tmp_path / "logs")
    log = logging.getLogger("mage_bridge.test")
    try:
        for i in range(400):
            log.info("line %d %s", i, "x" * 40)
    finally:
        for h in list(logging.getLogger("mage_bridge").handlers):
            logging.getLogger("mage_bridge").removeHandler(h)
            h.close()
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["mage-bridge.log", "mage-bridge.log.1", "mage-bridge.log.2", "mage-bridge.log.3"]
    assert all(p.stat().st_size <= 2000 for p in path.parent.iterdir())
    assert "line 399" in path.read_text()


def test_quiet_keeps_stderr_to_warnings_and_the_file_to_everything(tmp_path, capsys):
    path = logs.setup_logging(tmp_path, quiet=True)
    log = logging.getLogger("mage_bridge.test")
    try:
        log.info("listening on 127.0.0.1:9137")
        log.warning("a DAW went quiet")
    finally:
        for h in list(logging.getLogger("mage_bridge").handlers):
            logging.getLogger("mage_bridge").removeHandler(h)
            h.close()
    err = capsys.readouterr().err
    assert "a DAW went quiet" in err and "listening" not in err
    assert "listening on 127.0.0.1:9137" in path.read_text()
