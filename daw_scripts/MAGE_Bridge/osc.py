"""A small OSC 1.0 codec in pure Python (Live's embedded Python has no python-osc).

``encode(address, *args)`` writes ``str`` as ``s``, ``int`` as ``i`` (``h`` when it does not fit in 32 bits)
and ``float`` as ``f``. ``decode(datagram)`` returns ``[(address, [args...]), ...]``, bundles flattened,
and reads the types ``s i f d h T F N b``; anything else raises :class:`OscError`.
"""

from __future__ import annotations

import struct

MAX_BUNDLE_DEPTH = 8


class OscError(ValueError):
    """A datagram that is not valid OSC."""


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * (4 - len(data) % 4)


def _string(text: str) -> bytes:
    return _pad(text.encode("utf-8").replace(b"\x00", b""))


def encode(address: str, *args: object) -> bytes:
    """One OSC message."""
    tags, body = ",", []
    for a in args:
        if isinstance(a, bool) or a is None:
            raise TypeError("cannot encode %r as an OSC argument" % (a,))
        if isinstance(a, str):
            tags += "s"
            body.append(_string(a))
        elif isinstance(a, int):
            if -2**31 <= a < 2**31:
                tags += "i"
                body.append(struct.pack(">i", a))
            else:
                tags += "h"
                body.append(struct.pack(">q", a))
        elif isinstance(a, float):
            tags += "f"
            body.append(struct.pack(">f", a))
        else:
            raise TypeError("cannot encode %r as an OSC argument" % (a,))
    return _string(address) + _string(tags) + b"".join(body)


def _read_string(data: bytes, pos: int) -> tuple:
    end = data.find(b"\x00", pos)
    if end < 0:
        raise OscError("unterminated string at byte %d" % pos)
    text = data[pos:end].decode("utf-8", "replace")
    return text, (end // 4 + 1) * 4


def _message(data: bytes) -> tuple:
    address, pos = _read_string(data, 0)
    if not address.startswith("/"):
        raise OscError("address must start with '/', got %r" % address[:40])
    if pos >= len(data):
        return address, []
    tags, pos = _read_string(data, pos)
    if not tags.startswith(","):
        raise OscError("type tags must start with ','")
    args: list = []
    for tag in tags[1:]:
        if tag == "s":
            value, pos = _read_string(data, pos)
        elif tag in "if":
            if pos + 4 > len(data):
                raise OscError("datagram ends inside an argument")
            value = struct.unpack(">i" if tag == "i" else ">f", data[pos:pos + 4])[0]
            pos += 4
        elif tag in "dh":
            if pos + 8 > len(data):
                raise OscError("datagram ends inside an argument")
            value = struct.unpack(">d" if tag == "d" else ">q", data[pos:pos + 8])[0]
            pos += 8
        elif tag in "TFN":
            value = {"T": True, "F": False, "N": None}[tag]
        elif tag == "b":
            (size,) = struct.unpack(">i", data[pos:pos + 4])
            value = data[pos + 4:pos + 4 + size]
            pos += 4 + ((size + 3) // 4) * 4
        else:
            raise OscError("unsupported OSC type tag %r" % tag)
        args.append(value)
    return address, args


def decode(data: bytes, _depth: int = 0) -> list:
    """The messages in one datagram: ``[(address, args), ...]``."""
    if _depth > MAX_BUNDLE_DEPTH:
        raise OscError("bundles nested too deep")
    if data.startswith(b"#bundle\x00"):
        out, pos = [], 16
        while pos + 4 <= len(data):
            (size,) = struct.unpack(">i", data[pos:pos + 4])
            if size <= 0 or pos + 4 + size > len(data):
                raise OscError("bad bundle element size %d" % size)
            out.extend(decode(data[pos + 4:pos + 4 + size], _depth + 1))
            pos += 4 + size
        return out
    try:
        return [_message(data)]
    except (struct.error, UnicodeDecodeError, IndexError) as e:
        raise OscError("not a valid OSC message: %s" % e)
