"""Decoding and checking requests without a socket."""

from __future__ import annotations

import struct

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from mage_bridge.server import osc
from mage_bridge.server.osc import RequestError


def test_check_names_arguments_and_accepts_optional_ones() -> None:
    req = osc.check("/mage/generate", ["r", "a prompt"])
    assert (req.req_id, req.args) == ("r", {"req_id": "r", "prompt": "a prompt"})
    req = osc.check("/mage/generate", ["r", "p", "la la", "{}"])
    assert req.args["lyrics"] == "la la" and req.args["options_json"] == "{}"
    assert osc.check("/mage/daw/context", [120, 4, 4, 0]).args["bpm"] == 120.0


@pytest.mark.parametrize("address,params,code", [
    ("/mage/nope", ["r"], "unknown_address"),
    ("/mage/ping", [], "bad_arguments"),
    ("/mage/ping", ["r", "x"], "bad_arguments"),
    ("/mage/ping", [True], "bad_arguments"),
    ("/mage/ping", [""], "bad_arguments"),
    ("/mage/trigger", [1.0], "bad_arguments"),
    ("/mage/live/next", ["r"], "not_available"),
], ids=["unknown", "missing", "extra", "bool", "empty-id", "float-for-int", "reserved"])
def test_check_refuses(address: str, params: list, code: str) -> None:
    with pytest.raises(RequestError) as e:
        osc.check(address, params)
    assert e.value.code == code


def test_test_address_only_with_test_specs() -> None:
    with pytest.raises(RequestError):
        osc.check("/mage/test/job", ["r", "sleep"])
    assert osc.check("/mage/test/job", ["r", "sleep"], {**osc.SPECS, **osc.TEST_SPECS}).args["kind"] == "sleep"


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
