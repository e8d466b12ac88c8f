"""The one atomic writer: whole files or none, and the permissions users expect."""

from __future__ import annotations

import json
import os
import stat

import pytest

from mage_bridge.files import write_atomic, write_json_atomic


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_files_follow_the_umask_and_secrets_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        public = write_json_atomic(tmp_path / "outbox" / "event.json", {"a": 1})
        secret = write_json_atomic(tmp_path / "daemon.json", {"token": "x"}, private=True)
    finally:
        os.umask(old)
    assert _mode(public) == 0o644  # a DAW script run as another user of the group can read results
    assert _mode(secret) == 0o600
    assert json.loads(public.read_text()) == {"a": 1}


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "state.json"
    write_json_atomic(target, {"v": 1})

    def explode(f):
        f.write(b"{half")
        raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        write_atomic(target, explode)
    assert json.loads(target.read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_nan_is_refused_not_written(tmp_path):
    with pytest.raises(ValueError):
        write_json_atomic(tmp_path / "m.json", {"lufs": float("nan")})
    assert list(tmp_path.iterdir()) == []
