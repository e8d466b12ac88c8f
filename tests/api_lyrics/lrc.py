"""A strict reader of the LRC files clips and lyrics jobs write, for the tests that check them."""

from __future__ import annotations

import re
from pathlib import Path

_STAMP = r"(\d{2,}):([0-5]\d)\.(\d{2})"
_LINE = re.compile(rf"^\[{_STAMP}\](.*)$")
_WORD = re.compile(rf"<{_STAMP}>")


def seconds(m: tuple[str, str, str]) -> float:
    return int(m[0]) * 60 + int(m[1]) + int(m[2]) / 100


def read_lrc(path: Path) -> list[tuple[float, str]]:
    """``(time, text)`` per line; every line must be ``[mm:ss.xx]text`` and times must not go back."""
    out: list[tuple[float, str]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        m = _LINE.match(raw)
        assert m, f"not an LRC line: {raw!r}"
        t = seconds((m.group(1), m.group(2), m.group(3)))
        assert not out or t >= out[-1][0] - 1e-9, f"LRC time goes back at {raw!r}"
        out.append((t, m.group(4)))
    assert out, f"{path} holds no lines"
    return out


def read_enhanced_lrc(path: Path) -> list[tuple[float, list[float], str]]:
    """``(line time, word times, text without stamps)`` per line of an enhanced LRC file."""
    out = []
    for t, rest in read_lrc(path):
        stamps = [seconds(m) for m in _WORD.findall(rest)]
        assert stamps and stamps == sorted(stamps), f"word stamps out of order: {rest!r}"
        out.append((t, stamps, _WORD.sub("", rest).strip()))
    return out
