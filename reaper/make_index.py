"""Write reaper/index.xml, the ReaPack index of the MAGE Bridge REAPER scripts, from the scripts' headers.

    .venv/bin/python reaper/make_index.py           # rewrite reaper/index.xml
    .venv/bin/python reaper/make_index.py --check   # exit 1 (and say why) if reaper/index.xml is out of date

The index follows ReaPack's documented format (ReaPack wiki, "Index Format"; the tags follow reapack-index's
"Packaging Documentation"). Every ``.lua`` file in ``reaper/MAGE_Bridge/`` starts with a header of
``-- @tag value`` lines (tag names case-insensitive; a value goes on over the following comment lines that are
indented further than the tag). The package **MAGE Bridge** installs them together:

* each script without ``@noindex`` is an action: a ``<source main="main">`` (REAPER's main action section);
* each ``@noindex`` file (the shared ``mage_bridge_lib.lua``) ships in the same package as a plain file;
* the version is the scripts' ``@version``, one for all of them (a ReaPack package has one version, and
  ReaPack lets only one package own a file, so the library cannot be split across per-script packages);
* every source URL points at the release tag ``v<version>``, never at a branch, so what a user installs
  as 1.1.0 is what was tagged 1.1.0. Push the tag with the commit that changes this file.

Versions already in index.xml stay (so users can roll back) when they point at their own tag; a version's
``time`` is kept from index.xml, and a new version gets the current time (UTC).
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

#: The GitHub repository (owner/name) that publishes the scripts. Forks change this one line.
REPOSITORY = "mage-bridge/mage-bridge"
RAW_BASE = f"https://raw.githubusercontent.com/{REPOSITORY}"
WEBSITE = f"https://github.com/{REPOSITORY}"

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
SCRIPTS_DIR = HERE / "MAGE_Bridge"
INDEX_PATH = HERE / "index.xml"

INDEX_NAME = "MAGE Bridge"     # ReaPack installs into Scripts/<index name>/<category>/
CATEGORY = "MAGE Bridge"
PACKAGE = "MAGE Bridge"
PACKAGE_DESC = "MAGE Bridge: text prompts to stems on tracks at the bar"
ABOUT = ("Generate music from a text prompt, separate or master the selected item with the MAGE Bridge daemon "
         "(mage-bridge serve), and get the stems back as a folder of tracks at the bar. Repaint a time selection "
         "of a MAGE clip, extend it (next/previous) or add a track to it: the result lands lined up with the "
         "clip. Turn on \"MAGE - Listener\" (a toggle action) to receive results.")
SECTION = "main"               # REAPER's main action list
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

#: reapack-index tags that would change what the package installs: refused rather than silently ignored.
REFUSED_TAGS = {"provides", "metapackage"}

_TAG = re.compile(r"^--(\s*)@([A-Za-z_]+)(?:\s+(.*?))?\s*$")
_COMMENT = re.compile(r"^--(\s*)(.*?)\s*$")
_VERSION_SEGMENT = re.compile(r"\d+|[A-Za-z]+")


class ReaPackIndexError(ValueError):
    """A script header or the existing index cannot make a valid ReaPack index."""


@dataclass(frozen=True)
class Script:
    """One ``.lua`` file of reaper/MAGE_Bridge and the tags of its header (lower-case names)."""

    path: Path
    tags: dict[str, str]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_action(self) -> bool:
        return "noindex" not in self.tags


def read_header(path: Path) -> dict[str, str]:
    """The ``-- @tag value`` lines at the top of a Lua file, as {lower-case tag: value}."""
    tags: dict[str, str] = {}
    current: str | None = None
    indent = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break  # the header is the leading comment block
        tag = _TAG.match(line)
        if tag:
            current, indent = tag.group(2).lower(), len(tag.group(1))
            if current in tags:
                raise ReaPackIndexError(f"{_rel(path)}: @{current} is given twice")
            tags[current] = tag.group(3) or ""
            continue
        comment = _COMMENT.match(line)
        if current is not None and comment and comment.group(2) and len(comment.group(1)) > indent:
            tags[current] = f"{tags[current]}\n{comment.group(2)}".strip("\n")
        else:
            current = None  # an ordinary comment ends the tag's value
    return tags


def check_version_name(name: str, where: str) -> None:
    """Raise unless ReaPack accepts ``name`` (digits and letters, starting with a number; numbers < 65536)."""
    segments = _VERSION_SEGMENT.findall(name)
    if not name or not segments or not segments[0].isdigit() or name != name.strip():
        raise ReaPackIndexError(f"{where}: version {name!r} is not a ReaPack version (e.g. 1.1.0 or 1.2beta1)")
    if any(s.isdigit() and int(s) > 65535 for s in segments):
        raise ReaPackIndexError(f"{where}: version {name!r} has a number over 65535, which ReaPack cannot read")


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ReaPack orders versions: segment by segment, numbers numerically, a missing segment is 0,
    a letter segment sorts before a number (1.0beta < 1.0 = 1.0.0 < 1.0.1)."""
    sa, sb = _VERSION_SEGMENT.findall(a), _VERSION_SEGMENT.findall(b)
    for i in range(max(len(sa), len(sb))):
        x = sa[i] if i < len(sa) else "0"
        y = sb[i] if i < len(sb) else "0"
        if x.isdigit() != y.isdigit():
            return 1 if x.isdigit() else -1
        if x.isdigit() and int(x) != int(y):
            return -1 if int(x) < int(y) else 1
        if not x.isdigit() and x != y:
            return -1 if x < y else 1
    return 0


version_key = functools.cmp_to_key(compare_versions)


def scripts(folder: Path = SCRIPTS_DIR) -> list[Script]:
    """Every ``.lua`` file in ``folder``, actions first, each group by name."""
    found = [Script(p, read_header(p)) for p in sorted(folder.glob("*.lua"))]
    if not any(s.is_action for s in found):
        raise ReaPackIndexError(f"{_rel(folder)} holds no action script (a .lua file without @noindex)")
    for s in found:
        refused = sorted(set(s.tags) & REFUSED_TAGS)
        if refused:
            raise ReaPackIndexError(f"{_rel(s.path)}: @{refused[0]} is not supported by reaper/make_index.py "
                                    "(the package ships every script of the folder: actions as main files, "
                                    "@noindex files beside them)")
        if s.is_action:
            for tag in ("version", "description"):
                if not s.tags.get(tag):
                    raise ReaPackIndexError(f"{_rel(s.path)} has no '-- @{tag} ...' line in its header")
            check_version_name(s.tags["version"], _rel(s.path))
    return sorted(found, key=lambda s: (not s.is_action, s.name))


def package_version(found: list[Script]) -> str:
    """The one version of the package: every action's @version, which must agree."""
    versions = {s.name: s.tags["version"] for s in found if s.is_action or s.tags.get("version")}
    if len(set(versions.values())) != 1:
        listed = ", ".join(f"{name}: {v}" for name, v in versions.items())
        raise ReaPackIndexError("the REAPER scripts carry different @version values "
                                f"({listed}); ReaPack installs them as one package with one version, so give "
                                "every script the same @version")
    return next(iter(versions.values()))


def source_url(version: str, file: str) -> str:
    """Where ReaPack downloads ``file`` of ``version``: the raw file at the release tag ``v<version>``."""
    path = SCRIPTS_DIR.relative_to(REPO_ROOT).as_posix() + "/" + file
    return f"{RAW_BASE}/v{quote(version, safe='')}/{quote(path)}"


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _changelog(found: list[Script]) -> str | None:
    logs = [(s.name.removesuffix(".lua"), s.tags["changelog"]) for s in found
            if s.is_action and s.tags.get("changelog")]
    if not logs:
        return None
    actions = sum(s.is_action for s in found)
    if len(logs) == actions and len({text for _, text in logs}) == 1:
        return logs[0][1]  # the same words in every script: say them once
    return "\n".join(f"{name}: {text}" for name, text in logs)


def _old_versions(index_path: Path) -> dict[str, ET.Element]:
    """The package's <version> elements in an existing index, by name ({} when there is no index yet)."""
    if not index_path.exists():
        return {}
    try:
        root = ET.parse(index_path).getroot()
    except ET.ParseError as e:
        raise ReaPackIndexError(f"{_rel(index_path)} is not well-formed XML ({e}); delete it to start afresh") from e
    out = {}
    for cat in root.findall("category"):
        for pkg in cat.findall("reapack"):
            if cat.get("name") == CATEGORY and pkg.get("name") == PACKAGE:
                out.update({v.get("name", ""): v for v in pkg.findall("version")})
    return out


def points_at_its_tag(version: ET.Element) -> bool:
    """Whether every source of a <version> downloads from the tag v<name> of REPOSITORY."""
    prefix = f"{RAW_BASE}/v{quote(version.get('name', ''), safe='')}/"
    sources = version.findall("source")
    return bool(sources) and all((s.text or "").startswith(prefix) for s in sources)


def build(found: list[Script], old: dict[str, ET.Element], now: datetime | None = None
          ) -> tuple[ET.Element, list[str]]:
    """The index for ``found``, keeping the tagged versions of ``old``; also what was dropped, and why."""
    version = package_version(found)
    notes = []
    kept = {}
    for name, element in old.items():
        if name == version:
            continue
        if compare_versions(name, version) >= 0 and points_at_its_tag(element):
            raise ReaPackIndexError(f"the scripts' @version {version} is not newer than version {name}, already "
                                    "in the index: ReaPack would never offer it; raise @version")
        if points_at_its_tag(element):
            kept[name] = element
        else:
            notes.append(f"dropped version {name} from the index: its sources do not point at the tag v{name}")

    previous = old.get(version)
    if previous is not None and previous.get("time"):
        time = previous.get("time")
    else:
        time = (now or datetime.now(UTC)).strftime(TIME_FORMAT)
    authors = list(dict.fromkeys(s.tags["author"] for s in found if s.is_action and s.tags.get("author")))

    current = ET.Element("version", {"name": version, "author": ", ".join(authors) or PACKAGE, "time": time})
    changelog = _changelog(found)
    if changelog:
        ET.SubElement(current, "changelog").text = changelog
    for s in found:
        attrs = {"main": SECTION, "file": s.name} if s.is_action else {"file": s.name}
        ET.SubElement(current, "source", attrs).text = source_url(version, s.name)
    kept[version] = current

    root = ET.Element("index", {"version": "1", "name": INDEX_NAME})
    category = ET.SubElement(root, "category", {"name": CATEGORY})
    package = ET.SubElement(category, "reapack", {"name": PACKAGE, "type": "script", "desc": PACKAGE_DESC})
    metadata = ET.SubElement(package, "metadata")
    # @description, not the longer @about: the About tab stays a summary, and the index need not be
    # regenerated for every rewording of a script's documentation.
    actions = [_one_line(s.tags["description"]) for s in found if s.is_action]
    ET.SubElement(metadata, "description").text = rtf([ABOUT, "Actions:", *actions])
    ET.SubElement(metadata, "link", {"rel": "website"}).text = WEBSITE
    for name in sorted(kept, key=version_key):
        package.append(kept[name])
    return root, notes


def _one_line(text: str) -> str:
    return " ".join(text.split())


def rtf(paragraphs: list[str]) -> str:
    """Plain paragraphs as the small RTF document ReaPack shows in a package's About tab."""
    def escape(text: str) -> str:
        out = []
        for ch in text:
            if ch in "\\{}":
                out.append("\\" + ch)
            elif ord(ch) > 127:  # RTF 1.5 \uN: a signed 16-bit code unit, then a one-character fallback
                for unit in ch.encode("utf-16-be").hex(" ", 2).split():
                    n = int(unit, 16)
                    out.append(f"\\u{n - 65536 if n > 32767 else n}?")
            else:
                out.append(ch)
        return "".join(out)

    body = "\n".join(f"{{\\pard\\sa180 {escape(p)}\\par}}" for p in paragraphs)
    return "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Helvetica;}}\\f0\\fs20\n" + body + "\n}"


def render(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def generate(folder: Path = SCRIPTS_DIR, index_path: Path = INDEX_PATH, now: datetime | None = None
             ) -> tuple[str, list[str]]:
    """The text index.xml should have for the scripts in ``folder``, and notes on dropped versions."""
    root, notes = build(scripts(folder), _old_versions(index_path), now)
    return render(root), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether reaper/index.xml is up to date")
    args = parser.parse_args(argv)
    try:
        text, notes = generate()
    except ReaPackIndexError as e:
        print(f"make_index: {e}", file=sys.stderr)
        return 2
    current = INDEX_PATH.read_text(encoding="utf-8") if INDEX_PATH.exists() else ""
    if args.check:
        if text != current:
            print(f"{_rel(INDEX_PATH)} is out of date: run .venv/bin/python reaper/make_index.py", file=sys.stderr)
            return 1
        return 0
    for note in notes:
        print(f"make_index: {note}", file=sys.stderr)
    if text != current:
        INDEX_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {_rel(INDEX_PATH)}")
    else:
        print(f"{_rel(INDEX_PATH)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
