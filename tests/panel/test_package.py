"""The page's files ship inside the package: every file under ``static/`` is package data, none comes from a CDN."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from mage_bridge.panel.app import STATIC_DIR

REPO = Path(__file__).resolve().parents[2]


def test_every_static_file_is_package_data():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["mage_bridge.panel"]
    package = STATIC_DIR.parent
    files = [p for p in STATIC_DIR.rglob("*") if p.is_file()]
    assert files
    left_out = [str(p.relative_to(package)) for p in files
                if not any(p.relative_to(package).match(pattern) for pattern in patterns)]
    assert not left_out, f"add these to [tool.setuptools.package-data] in pyproject.toml: {left_out}"


def test_the_page_loads_nothing_from_elsewhere():
    for path in STATIC_DIR.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), path
            assert not re.search(r"""(import|from)\s*\(?\s*["']https?://""", text), path
