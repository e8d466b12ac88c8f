"""Decoding and checking requests without a socket."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from mage_bridge.server import osc
from mage_bridge.server.daemon import Daemon
from mage_bridge.server.osc import RequestError

REPO = Path(__file__).resolve().parents[2]


def _specs(*, test_jobs: bool = False) -> dict[str, osc.Spec]:
    """The daemon's address table, as its handlers declare it (no daemon is started)."""
    daemon = object.__new__(Daemon)  # routes() only reads the class and binds methods
    return {a: r.spec for a, r in osc.routes(daemon, test_jobs=test_jobs).items()}


SPECS = _specs()


def test_check_names_arguments_and_accepts_optional_ones() -> None:
    req = osc.check("/mage/generate", ["r", "a prompt"], SPECS)
    assert (req.req_id, req.args) == ("r", {"req_id": "r", "prompt": "a prompt"})
    req = osc.check("/mage/generate", ["r", "p", "la la", "{}"], SPECS)
    assert req.args["lyrics"] == "la la" and req.args["options_json"] == "{}"
    assert osc.check("/mage/daw/context", [120, 4, 4, 0], SPECS).args["bpm"] == 120.0


@pytest.mark.parametrize("address,params,code", [
    ("/mage/nope", ["r"], "unknown_address"),
    ("/mage/ping", [], "bad_arguments"),
    ("/mage/ping", ["r", "x"], "bad_arguments"),
    ("/mage/ping", [True], "bad_arguments"),
    ("/mage/ping", [""], "bad_arguments"),
    ("/mage/trigger", [1.0], "bad_arguments"),
    ("/mage/live/crossfade", ["r", "four"], "bad_arguments"),
], ids=["unknown", "missing", "extra", "bool", "empty-id", "float-for-int", "live-string-for-float"])
def test_check_refuses(address: str, params: list, code: str) -> None:
    with pytest.raises(RequestError) as e:
        osc.check(address, params, SPECS)
    assert e.value.code == code


def test_test_address_only_with_test_jobs() -> None:
    with pytest.raises(RequestError):
        osc.check("/mage/test/job", ["r", "sleep"], SPECS)
    assert osc.check("/mage/test/job", ["r", "sleep"], _specs(test_jobs=True)).args["kind"] == "sleep"


def _documented_requests() -> dict[str, tuple[str, str]]:
    """The table under "## Requests" in docs/osc.md: address -> (arguments, answer), backticks removed."""
    text = (REPO / "docs" / "osc.md").read_text(encoding="utf-8")
    section = text.split("\n## Requests\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`/mage/[a-z/]+`", cells[0]):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2].replace("`", ""))
    return rows


def test_every_handled_address_is_documented_with_its_arguments_and_answer() -> None:
    documented = _documented_requests()
    assert set(documented) == set(SPECS)  # the test address is documented apart, under "Test-only jobs"
    for address, spec in SPECS.items():
        arguments, answer = documented[address]
        assert spec.signature() == f"{address} {arguments}", address
        assert spec.answer and spec.answer in answer, (address, spec.answer, answer)
    test_spec = _specs(test_jobs=True)["/mage/test/job"]
    assert f"`{test_spec.signature()}`" in (REPO / "docs" / "osc.md").read_text(encoding="utf-8")


def test_an_address_with_two_handlers_is_refused() -> None:
    class Twice:
        @osc.handles("/mage/ping", osc.REQ_ID)
        def a(self, req: osc.Request, addr: osc.Addr) -> None: ...

        @osc.handles("/mage/ping", osc.REQ_ID)
        def b(self, req: osc.Request, addr: osc.Addr) -> None: ...

    with pytest.raises(TypeError, match="/mage/ping has two handlers"):
        osc.routes(Twice())


@pytest.mark.parametrize("text,code", [("", None), ('{"a": 1}', None), ("{", "bad_json"), ("3", "bad_json"),
                                       ("[" * 100_000, "bad_json")], ids=["empty", "object", "broken", "number",
                                                                          "deep"])
def test_parse_options(text: str, code: str | None) -> None:
    if code is None:
        assert isinstance(osc.parse_options(text, "r"), dict)
    else:
        with pytest.raises(RequestError) as e:
            osc.parse_options(text, "r")
        assert e.value.code == code


def test_decode_flattens_nested_bundles_and_limits_depth() -> None:
    m = OscMessageBuilder("/mage/ping")
    m.add_arg("x", "s")
    inner = OscBundleBuilder(IMMEDIATELY)
    inner.add_content(m.build())
    outer = OscBundleBuilder(IMMEDIATELY)
    outer.add_content(m.build())
    outer.add_content(inner.build())
    assert [x.address for x in osc.decode(outer.build().dgram)] == ["/mage/ping", "/mage/ping"]
    data = m.build().dgram
    for _ in range(osc.MAX_BUNDLE_DEPTH + 2):
        data = b"#bundle\x00" + struct.pack(">Q", 1) + struct.pack(">i", len(data)) + data
    with pytest.raises(RequestError) as e:
        osc.decode(data)
    assert e.value.code == "malformed"


_PING = b"/mage/ping\x00\x00,\x00\x00\x00"
_BUNDLE = b"#bundle\x00" + struct.pack(">Q", 1)


@pytest.mark.parametrize("data", [
    b"", b"\x00" * 8, b"/a\x00\x00,i\x00\x00\x00", b"#bundle\x00" + b"\x01" * 9,
    _BUNDLE + struct.pack(">i", 0),
    _BUNDLE + struct.pack(">i", 8) + b"garbage!",
    _BUNDLE + struct.pack(">i", -4) + _PING,
    _BUNDLE + struct.pack(">i", 6) + _PING,
    _BUNDLE + struct.pack(">i", len(_PING)) + _PING + b"\x00\x01",
], ids=["empty", "zeros", "truncated-int", "bad-bundle", "zero-size-element", "garbage-element",
        "element-size-minus-4", "element-size-not-multiple-of-4", "trailing-bytes"])
def test_decode_malformed(data: bytes) -> None:
    with pytest.raises(RequestError) as e:
        osc.decode(data)
    assert e.value.code == "malformed"
