"""reaper/index.xml: generated from the scripts' headers, valid against ReaPack's index format, pinned to tags.

The format is ReaPack's "Index Format" (ReaPack wiki; the reader is ReaPack's src/index_v1.cpp): an <index
version="1"> of <category>s of <reapack> packages, each with <version>s of <source>s whose text is the download
URL. ReaPack ignores what it does not know, so a misspelt attribute would silently drop a feature: the
checks below allow only the documented names.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.daw.conftest import REPO

_spec = importlib.util.spec_from_file_location("make_index", REPO / "reaper" / "make_index.py")
assert _spec is not None and _spec.loader is not None
make_index = importlib.util.module_from_spec(_spec)
sys.modules["make_index"] = make_index
_spec.loader.exec_module(make_index)

INDEX = make_index.INDEX_PATH
SCRIPTS = make_index.SCRIPTS_DIR

# Element -> (required attributes, optional attributes, allowed children), from ReaPack's Index Format page.
FORMAT: dict[str, tuple[set[str], set[str], set[str]]] = {
    "index": ({"version"}, {"name", "commit"}, {"category", "metadata"}),
    "category": ({"name"}, set(), {"reapack"}),
    "reapack": ({"name", "type"}, {"desc"}, {"version", "metadata"}),
    "version": ({"name"}, {"author", "time"}, {"source", "changelog"}),
    "source": (set(), {"main", "file", "platform", "type", "hash"}, set()),
    "changelog": (set(), set(), set()),
    "metadata": (set(), set(), {"description", "link"}),
    "description": (set(), set(), set()),
    "link": (set(), {"rel", "href"}, set()),
}
PACKAGE_TYPES = {"script", "extension", "effect", "data", "theme", "langpack", "webinterface", "projecttpl",
                 "tracktpl", "midinotenames", "autoitem"}
SECTIONS = {"main", "midi_editor", "midi_inline_editor", "true"}
PLATFORMS = {"all", "darwin", "darwin32", "darwin64", "darwin-arm64", "linux", "linux32", "linux64",
             "linux-armv7l", "linux-aarch64", "windows", "win32", "win64", "windows-arm64ec"}
LINK_RELS = {"website", "donation", "screenshot"}


def _index() -> ET.Element:
    return ET.parse(INDEX).getroot()


def _package(root: ET.Element) -> ET.Element:
    [category] = root.findall("category")
    [package] = category.findall("reapack")
    return package


def _newest(package: ET.Element) -> ET.Element:
    return max(package.findall("version"), key=lambda v: make_index.version_key(v.get("name")))


def _script_versions() -> set[str]:
    return {make_index.read_header(p).get("version", "") for p in SCRIPTS.glob("*.lua")
            if "noindex" not in make_index.read_header(p)}


# -- the committed index is what the generator makes --------------------------------------------------------
def test_index_xml_is_up_to_date_with_the_script_headers() -> None:
    text, _ = make_index.generate()
    assert text == INDEX.read_text(encoding="utf-8"), (
        "reaper/index.xml is out of date with the headers of reaper/MAGE_Bridge/*.lua: "
        "run .venv/bin/python reaper/make_index.py and commit the result")


def test_the_check_mode_agrees() -> None:
    out = subprocess.run([sys.executable, str(REPO / "reaper" / "make_index.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# -- the documented format ---------------------------------------------------------------------------------
def _walk(element: ET.Element, path: str = "") -> list[str]:
    """Every departure from FORMAT under ``element``, as readable lines."""
    here = f"{path}/{element.tag}"
    if element.tag not in FORMAT:
        return [f"{here}: <{element.tag}> is not an element of ReaPack's index format"]
    required, optional, children = FORMAT[element.tag]
    problems = [f"{here}: missing attribute {a!r}" for a in sorted(required - set(element.attrib))]
    problems += [f"{here}: unknown attribute {a!r}" for a in sorted(set(element.attrib) - required - optional)]
    problems += [f"{here}: empty attribute {a!r}" for a, v in element.attrib.items() if not v.strip()]
    for child in element:
        if child.tag not in children:
            problems.append(f"{here}: <{child.tag}> cannot be inside <{element.tag}>")
        problems += _walk(child, here)
    return problems


def test_index_uses_only_the_documented_elements_and_attributes() -> None:
    root = _index()
    assert _walk(root) == []
    assert root.get("version") == "1"


def test_index_values_are_ones_reapack_reads() -> None:
    root = _index()
    assert root.get("name") and not re.search(r"[/\\]", root.get("name"))
    for category in root.findall("category"):
        assert category.get("name")
        for package in category.findall("reapack"):
            name = package.get("name")
            assert name and not re.search(r"[/\\]", name), f"package name {name!r}: ReaPack refuses / and \\"
            assert package.get("type") in PACKAGE_TYPES
            versions = package.findall("version")
            assert versions, f"package {name!r} has no version"
            names = [v.get("name") for v in versions]
            for i, a in enumerate(names):
                make_index.check_version_name(a, f"package {name!r}")
                for b in names[i + 1:]:
                    assert make_index.compare_versions(a, b) != 0, f"versions {a} and {b} are the same to ReaPack"
            for version in versions:
                if version.get("time"):
                    datetime.strptime(version.get("time"), make_index.TIME_FORMAT)
                sources = version.findall("source")
                assert sources, f"{name} {version.get('name')} has no source: ReaPack would drop the version"
                targets = [s.get("file") or name for s in sources]
                assert len(set(targets)) == len(targets), f"{name} {version.get('name')} installs a file twice"
                for source in sources:
                    url = urlsplit(source.text or "")
                    assert url.scheme == "https" and url.netloc, f"source URL {source.text!r}"
                    assert " " not in (source.text or ""), f"unencoded space in {source.text!r}"
                    assert set((source.get("main") or "main").split(" ")) <= SECTIONS
                    assert (source.get("platform") or "all") in PLATFORMS
                    assert (source.get("type") or "script") in PACKAGE_TYPES
            for link in package.iter("link"):
                assert link.get("rel") in LINK_RELS and (link.get("href") or link.text)


# -- what the package installs -----------------------------------------------------------------------------
def test_every_script_is_in_the_newest_version_once() -> None:
    newest = _newest(_package(_index()))
    listed = {s.get("file"): s for s in newest.findall("source")}
    on_disk = sorted(p.name for p in SCRIPTS.glob("*.lua"))
    assert sorted(listed) == on_disk
    for name, source in listed.items():
        header = make_index.read_header(SCRIPTS / name)
        if "noindex" in header:  # the shared library: installed beside the actions, not an action itself
            assert "main" not in source.attrib, name
        else:
            assert source.get("main") == "main", f"{name} must be an action of REAPER's main section"
    assert any("noindex" in make_index.read_header(SCRIPTS / n) for n in listed), "the library is not shipped"


def test_the_newest_version_is_the_scripts_version() -> None:
    [version] = _script_versions()  # one version for the whole package
    assert _newest(_package(_index())).get("name") == version


def test_every_source_points_at_the_tag_of_its_version() -> None:
    prefix = f"https://raw.githubusercontent.com/{make_index.REPOSITORY}/"
    folder = SCRIPTS.relative_to(REPO).as_posix()
    for version in _package(_index()).findall("version"):
        tag = f"v{version.get('name')}"
        for source in version.findall("source"):
            url = source.text or ""
            assert url.startswith(prefix), f"{url} is not in {make_index.REPOSITORY}"
            ref, _, path = url[len(prefix):].partition("/")
            assert unquote(ref) == tag, f"{url} points at {unquote(ref)!r}, not at the release tag {tag}"
            assert unquote(path) == f"{folder}/{source.get('file')}", url
            assert url == make_index.source_url(version.get("name"), source.get("file"))


def test_the_newest_version_s_files_exist() -> None:
    for source in _newest(_package(_index())).findall("source"):
        assert (SCRIPTS / source.get("file")).is_file(), source.get("file")


def test_a_release_tag_that_exists_here_holds_the_files() -> None:
    """Once v<version> is tagged (and fetched), every file the index names must be in that tag."""
    for version in _package(_index()).findall("version"):
        tag = f"v{version.get('name')}"
        known = subprocess.run(["git", "rev-parse", "-q", "--verify", f"refs/tags/{tag}"], cwd=REPO,
                               capture_output=True, text=True)
        if known.returncode != 0:
            continue  # not tagged in this clone (a release commit before its tag, or a shallow CI clone)
        for source in version.findall("source"):
            spec = f"{tag}:{SCRIPTS.relative_to(REPO).as_posix()}/{source.get('file')}"
            got = subprocess.run(["git", "cat-file", "-e", spec], cwd=REPO, capture_output=True)
            assert got.returncode == 0, f"{spec} does not exist: the index names a file the tag lacks"


# -- the generator on made-up script folders ---------------------------------------------------------------
def _script(folder: Path, name: str, header: str, body: str = "local x = 1\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(header + body, encoding="utf-8")
    return path


def _folder(tmp_path: Path, version_a: str = "1.2.0", version_b: str = "1.2.0") -> Path:
    folder = tmp_path / "MAGE_Bridge"
    _script(folder, "MAGE - A.lua", f"-- @description A\n-- @author Ann\n-- @version {version_a}\n"
            "-- @changelog\n--   Faster.\n--   Fewer clicks.\n-- @about Does A\n--   and more.\n")
    _script(folder, "MAGE - B.lua", f"-- @description B\n-- @author Ann\n-- @version {version_b}\n")
    _script(folder, "lib.lua", "-- @noindex\n-- Shared code: not an action.\n")
    return folder


NOW = datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_header_values_go_on_over_indented_lines(tmp_path: Path) -> None:
    tags = make_index.read_header(_folder(tmp_path) / "MAGE - A.lua")
    assert tags == {"description": "A", "author": "Ann", "version": "1.2.0",
                    "changelog": "Faster.\nFewer clicks.", "about": "Does A\nand more."}
    assert make_index.read_header(tmp_path / "MAGE_Bridge" / "lib.lua") == {"noindex": ""}


def test_generator_makes_one_package_with_the_library_beside_the_actions(tmp_path: Path) -> None:
    text, notes = make_index.generate(_folder(tmp_path), tmp_path / "none.xml", now=NOW)
    assert notes == []
    root = ET.fromstring(text)
    assert _walk(root) == []
    [version] = _package(root).findall("version")
    assert version.attrib == {"name": "1.2.0", "author": "Ann", "time": "2027-01-02T03:04:05Z"}
    assert version.findtext("changelog") == "MAGE - A: Faster.\nFewer clicks."
    assert [(s.get("file"), s.get("main"), s.text) for s in version.findall("source")] == [
        ("MAGE - A.lua", "main", make_index.RAW_BASE + "/v1.2.0/reaper/MAGE_Bridge/MAGE%20-%20A.lua"),
        ("MAGE - B.lua", "main", make_index.RAW_BASE + "/v1.2.0/reaper/MAGE_Bridge/MAGE%20-%20B.lua"),
        ("lib.lua", None, make_index.RAW_BASE + "/v1.2.0/reaper/MAGE_Bridge/lib.lua"),
    ]
    description = _package(root).find("metadata/description").text
    assert description.startswith("{\\rtf1") and "Actions:\\par}\n{\\pard\\sa180 A\\par}" in description


def test_regenerating_keeps_the_time_and_tagged_older_versions(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "1.2.0", "1.2.0")
    index = tmp_path / "index.xml"
    index.write_text(make_index.generate(folder, index, now=NOW)[0])
    # Same version again, a day later: nothing changes, the time included.
    assert make_index.generate(folder, index, now=datetime(2027, 1, 3, tzinfo=UTC))[0] == index.read_text()
    # A new version keeps 1.2.0 (it points at its tag) and gets its own time.
    folder = _folder(tmp_path / "next", "1.3.0", "1.3.0")
    text, notes = make_index.generate(folder, index, now=datetime(2027, 2, 1, tzinfo=UTC))
    versions = _package(ET.fromstring(text)).findall("version")
    assert [(v.get("name"), v.get("time")) for v in versions] == [("1.2.0", "2027-01-02T03:04:05Z"),
                                                                   ("1.3.0", "2027-02-01T00:00:00Z")]
    assert all("/v1.2.0/" in s.text for s in versions[0].findall("source")) and notes == []


def test_a_version_on_a_branch_is_dropped_and_said(tmp_path: Path) -> None:
    index = tmp_path / "index.xml"
    index.write_text(make_index.generate(_folder(tmp_path), index, now=NOW)[0].replace("/v1.2.0/", "/main/"))
    text, notes = make_index.generate(_folder(tmp_path / "next", "1.3.0", "1.3.0"), index, now=NOW)
    assert [v.get("name") for v in _package(ET.fromstring(text)).findall("version")] == ["1.3.0"]
    assert notes == ["dropped version 1.2.0 from the index: its sources do not point at the tag v1.2.0"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: _script(f, "MAGE - B.lua", "-- @description B\n-- @version 1.1.0\n"),
     "different @version values (MAGE - A.lua: 1.2.0, MAGE - B.lua: 1.1.0)"),
    (lambda f: _script(f, "lib.lua", "-- @noindex\n-- @version 1.0\n"),
     "different @version values (MAGE - A.lua: 1.2.0, MAGE - B.lua: 1.2.0, lib.lua: 1.0)"),
    (lambda f: _script(f, "MAGE - B.lua", "-- @description B\n"),
     "MAGE - B.lua has no '-- @version ...' line in its header"),
    (lambda f: _script(f, "MAGE - B.lua", "-- @description B\n-- @version v1.2\n"),
     "version 'v1.2' is not a ReaPack version"),
    (lambda f: _script(f, "MAGE - B.lua", "-- @description B\n-- @version 1.70000\n"),
     "has a number over 65535"),
    (lambda f: _script(f, "MAGE - B.lua", "-- @description B\n-- @version 1.2.0\n-- @provides x.lua\n"),
     "@provides is not supported by reaper/make_index.py"),
    (lambda f: _script(f, "MAGE - B.lua", "-- @description B\n-- @version 1.2.0\n-- @Version 1.2.1\n"),
     "@version is given twice"),
], ids=["versions-differ", "library-differs", "no-version", "leading-letter", "segment-overflow", "provides", "twice"])
def test_header_problems_are_named(tmp_path: Path, change, message: str) -> None:
    folder = _folder(tmp_path)
    change(folder)
    with pytest.raises(make_index.ReaPackIndexError, match=re.escape(message)):
        make_index.generate(folder, tmp_path / "none.xml", now=NOW)


def test_a_version_older_than_the_index_is_refused(tmp_path: Path) -> None:
    index = tmp_path / "index.xml"
    index.write_text(make_index.generate(_folder(tmp_path), index, now=NOW)[0])
    with pytest.raises(make_index.ReaPackIndexError, match=r"@version 1\.1\.9 is not newer than version 1\.2\.0"):
        make_index.generate(_folder(tmp_path / "old", "1.1.9", "1.1.9"), index, now=NOW)


@pytest.mark.parametrize(("a", "b", "order"), [
    ("1.0", "1.0.0", 0), ("1.0beta", "1.0", -1), ("1.10", "1.9", 1), ("1.0.1", "1.0", 1), ("2", "10", -1),
    ("1.0rc1", "1.0beta2", 1),
])
def test_versions_compare_as_reapack_compares_them(a: str, b: str, order: int) -> None:
    assert make_index.compare_versions(a, b) == order
    assert make_index.compare_versions(b, a) == -order
