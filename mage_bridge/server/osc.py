"""The OSC address space: decoding datagrams, checking arguments, encoding replies.

Pure functions over bytes, no sockets: the daemon feeds datagrams in and sends
what comes out. Each request address is declared where it is handled, by :func:`handles`
on the handler method (as python-osc's ``Dispatcher.map`` binds an address to a
function): its arguments, whether it asks for a job, and its reply as ``docs/osc.md``
shows it; :func:`routes` collects them. Messages are parsed by python-osc; bundles are walked here, strictly, and
flattened (nested ones too) up to :data:`MAX_BUNDLE_DEPTH` levels and
:data:`MAX_BUNDLE_MESSAGES` messages. The full contract is in ``docs/osc.md``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pythonosc.osc_message import OscMessage

from mage_bridge.errors import MageError

MAX_BUNDLE_DEPTH = 8
BUNDLE_PREFIX = b"#bundle\x00"
MAX_BUNDLE_MESSAGES = 64
#: Longest string argument accepted, in characters (lyrics may be long; prompts are not).
MAX_PROMPT_CHARS = 2_000
MAX_LYRICS_CHARS = 20_000
MAX_PATH_CHARS = 4_096
MAX_OPTIONS_CHARS = 16_384
MAX_ID_CHARS = 128

ERROR_ADDRESS = "/mage/error"

#: A peer's host and port.
Addr = tuple[str, int]


class RequestError(MageError):
    """A request the daemon answers with ``/mage/error s:req_id s:code s:message``."""

    def __init__(self, code: str, message: str, req_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.req_id = req_id


@dataclass(frozen=True)
class Arg:
    """One argument of a request: its name, OSC type tag and whether it may be left out."""

    name: str
    tag: str  # "s", "i" or "f"
    optional: bool = False


@dataclass(frozen=True)
class Spec:
    """A request address and its arguments, in order; optional ones come last."""

    address: str
    args: tuple[Arg, ...]
    id_arg: str | None = "req_id"  # which argument is echoed back as the request id
    #: A job request: its ``options_json`` is read and a request id its client already used is
    #: answered with that job (see ``docs/osc.md``, "One request, one job") before the handler runs.
    job: bool = False
    #: Served only with ``MAGE_TEST_JOBS=1``.
    test_only: bool = False
    #: The reply, as the request table of ``docs/osc.md`` shows it.
    answer: str = ""

    @property
    def required(self) -> int:
        return sum(1 for a in self.args if not a.optional)

    def signature(self) -> str:
        parts = [f"[{a.tag}:{a.name}]" if a.optional else f"{a.tag}:{a.name}" for a in self.args]
        return " ".join([self.address, *parts])


#: The argument most requests start with, the options of a job request, and a clip of the library or the player.
REQ_ID = Arg("req_id", "s")
OPTIONS = Arg("options_json", "s", optional=True)
CLIP_ID = Arg("clip_id", "s")
#: The reply to a job request.
ACCEPTED = "/mage/job/accepted s:req_id s:job_id"

_SPECS_ATTR = "osc_specs"
HandlerT = TypeVar("HandlerT", bound=Callable[..., None])


def handles(address: str, *args: Arg, id_arg: str | None = "req_id", job: bool = False, test_only: bool = False,
            answer: str = "") -> Callable[[HandlerT], HandlerT]:
    """Declare the method below as the handler of ``address``; stack it to serve several addresses.

    A handler is called as ``handler(request, sender)``, a job request's as ``handler(request,
    sender, options, client)`` with the parsed ``options_json`` and the client's key.
    """
    spec = Spec(address, args, id_arg, job=job, test_only=test_only, answer=answer)

    def mark(func: HandlerT) -> HandlerT:
        setattr(func, _SPECS_ATTR, (*getattr(func, _SPECS_ATTR, ()), spec))
        return func

    return mark


@dataclass(frozen=True)
class Route:
    """An address's :class:`Spec` and the bound method that handles it."""

    spec: Spec
    handler: Callable[..., None]


def routes(obj: object, *, test_jobs: bool = False) -> dict[str, Route]:
    """Every address the methods of ``obj`` handle (:func:`handles`); test-only ones with ``test_jobs``."""
    table: dict[str, Route] = {}
    cls = type(obj)
    for name in dir(cls):
        for spec in getattr(getattr(cls, name, None), _SPECS_ATTR, ()):
            if spec.test_only and not test_jobs:
                continue
            if spec.address in table:
                raise TypeError(f"{spec.address} has two handlers: {table[spec.address].handler.__name__} and {name}")
            table[spec.address] = Route(spec, getattr(obj, name))
    return table


#: What the daemon sends. Arriving at the daemon they are never answered, so two daemons (or a
#: daemon subscribed to itself) cannot bounce errors back and forth forever.
REPLY_ADDRESSES = frozenset({
    "/mage/pong", "/mage/error", "/mage/job/accepted", "/mage/job/progress", "/mage/job/done",
    "/mage/job/failed", "/mage/subscribed", "/mage/unsubscribed", "/mage/daw/context/ack", "/mage/daw/replayed",
    "/mage/daw/acked", "/mage/daw/released", "/mage/cookie", "/mage/verified",
    "/mage/library/results", "/mage/library/clip", "/mage/library/tagged", "/mage/library/rated",
    "/mage/library/deleted",
    "/mage/live/state", "/mage/live/queued", "/mage/live/playing", "/mage/live/stopped",
})

_TAG_NAMES = {"s": "a string", "i": "an int", "f": "a float"}


@dataclass(frozen=True)
class Request:
    """A checked request: its address, named arguments and the id to echo."""

    address: str
    args: dict[str, Any]
    req_id: str


def decode(data: bytes) -> list[OscMessage]:
    """The messages of one datagram, bundles flattened; :class:`RequestError` ``malformed`` if broken."""
    out: list[OscMessage] = []
    try:
        _collect(data, out, 0)
    except RequestError:
        raise
    except Exception as e:  # python-osc raises ParseError, but also struct/index/unicode errors
        raise RequestError("malformed", f"not a valid OSC datagram ({len(data)} bytes): {type(e).__name__}") from e
    return out


def _collect(data: bytes, out: list[OscMessage], depth: int) -> None:
    if data.startswith(BUNDLE_PREFIX):
        if depth > MAX_BUNDLE_DEPTH:
            raise RequestError("malformed", f"bundles nested deeper than {MAX_BUNDLE_DEPTH} levels")
        for element in _bundle_elements(data):
            _collect(element, out, depth + 1)
        return
    if not data.startswith(b"/"):
        raise RequestError("malformed", f"not an OSC message or bundle ({len(data)} bytes)")
    _append(OscMessage(data), out)


def _bundle_elements(data: bytes) -> list[bytes]:
    """The elements of one bundle, each checked for size before anything in it is parsed.

    The walk is ours rather than python-osc's: its parser skips elements it cannot identify
    (garbage, size 0) without a word and never ends on an element of size -4. Each element is
    an int32 size, a positive multiple of 4 that fits in what is left, then a message or a bundle.
    One broken element refuses the whole bundle, whose contents are meant to apply together.
    """
    if len(data) < 16:
        raise RequestError("malformed", f"bundle of {len(data)} bytes has no time tag")
    elements: list[bytes] = []
    index = 16
    while index < len(data):
        if len(data) - index < 4:
            raise RequestError("malformed", f"bundle element {len(elements) + 1}: size field cut short")
        (size,) = struct.unpack_from(">i", data, index)
        index += 4
        if size <= 0 or size % 4 or size > len(data) - index:
            raise RequestError("malformed", f"bundle element {len(elements) + 1}: size {size} is not "
                               f"a positive multiple of 4 within the {len(data) - index} bytes left")
        element = data[index:index + size]
        if not element.startswith((b"/", BUNDLE_PREFIX)):
            raise RequestError("malformed", f"bundle element {len(elements) + 1} is neither a message nor a bundle")
        elements.append(element)
        index += size
    return elements


def _append(msg: OscMessage, out: list[OscMessage]) -> None:
    if len(out) >= MAX_BUNDLE_MESSAGES:
        raise RequestError("malformed", f"more than {MAX_BUNDLE_MESSAGES} messages in one datagram")
    msg.params  # noqa: B018 - force the lazy parse so errors surface here
    out.append(msg)


def check(address: str, params: list[Any], specs: Mapping[str, Spec]) -> Request:
    """Check ``params`` against the address's :class:`Spec`; :class:`RequestError` if they do not fit."""
    guess = params[0] if params and isinstance(params[0], str) else ""
    guess = guess[:MAX_ID_CHARS]
    spec = specs.get(address)
    if spec is None:
        raise RequestError("unknown_address", f"unknown address {address[:200]!r}; see docs/osc.md", guess)
    req_id = guess if spec.id_arg is not None else ""
    n = len(params)
    if not spec.required <= n <= len(spec.args):
        want = (str(spec.required) if spec.required == len(spec.args)
                else f"{spec.required} to {len(spec.args)}")
        raise RequestError("bad_arguments", f"{address} takes {want} argument(s), got {n}: {spec.signature()}", req_id)
    values: dict[str, Any] = {}
    for arg, value in zip(spec.args, params):
        values[arg.name] = _typed(spec, arg, value, req_id)
    if spec.id_arg is not None:
        ident = values[spec.id_arg]
        if not ident or len(ident) > MAX_ID_CHARS:
            raise RequestError("bad_arguments", f"{spec.id_arg} must be 1 to {MAX_ID_CHARS} characters, "
                                                f"got {len(ident)}", ident[:MAX_ID_CHARS])
        req_id = ident
    return Request(address, values, req_id)


def _typed(spec: Spec, arg: Arg, value: Any, req_id: str) -> Any:
    if arg.tag == "s" and isinstance(value, str):
        return value
    if arg.tag == "i" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if arg.tag == "f" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)  # an int where a float is expected widens losslessly
    raise RequestError(
        "bad_arguments",
        f"{spec.address}: {arg.name} must be {_TAG_NAMES[arg.tag]}, got {_describe(value)}: {spec.signature()}",
        req_id,
    )


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if value is None:
        return "nil"
    if isinstance(value, (bytes, bytearray)):
        return f"a blob of {len(value)} bytes"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, int):
        return f"an int ({value})"
    if isinstance(value, float):
        return f"a float ({value:g})"
    return f"a {type(value).__name__}"


def parse_options(text: str | None, req_id: str) -> dict[str, Any]:
    """Decode ``options_json``: empty means ``{}``; anything but a JSON object is ``bad_json``."""
    if not text:
        return {}
    if len(text) > MAX_OPTIONS_CHARS:
        raise RequestError("bad_json", f"options_json is {len(text)} characters, more than {MAX_OPTIONS_CHARS}",
                           req_id)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise RequestError("bad_json", f"options_json is not valid JSON: {e}", req_id) from None
    if not isinstance(value, dict):
        raise RequestError("bad_json", f"options_json must be a JSON object, got {type(value).__name__}", req_id)
    return value


def check_text(name: str, value: str, limit: int, req_id: str, *, allow_empty: bool = False) -> str:
    """A string argument within its length limit (and non-blank unless ``allow_empty``)."""
    if len(value) > limit:
        raise RequestError("invalid_input", f"{name} is {len(value)} characters, more than {limit}", req_id)
    if not allow_empty and not value.strip():
        raise RequestError("invalid_input", f"{name} must not be empty", req_id)
    return value


# -- encoding --------------------------------------------------------------------------------
def _pad(b: bytes) -> bytes:
    return b + b"\x00" * (4 - len(b) % 4)


def _osc_string(text: str) -> bytes:
    return _pad(text.encode("utf-8", "replace").replace(b"\x00", b""))


def encode(address: str, *args: str | int | float) -> bytes:
    """One OSC message: ``str`` -> ``s``, ``int`` -> ``i``, ``float`` -> ``f``."""
    tags = ","
    body = []
    for a in args:
        if isinstance(a, str):
            tags += "s"
            body.append(_osc_string(a))
        elif isinstance(a, bool) or not isinstance(a, (int, float)):
            raise TypeError(f"cannot encode {a!r} as an OSC argument")
        elif isinstance(a, int):
            tags += "i"
            body.append(struct.pack(">i", a))
        else:
            tags += "f"
            body.append(struct.pack(">f", a))
    return _osc_string(address) + _osc_string(tags) + b"".join(body)


def error(req_id: str, code: str, message: str) -> bytes:
    """``/mage/error s:req_id s:code s:message``, the message cut to keep the datagram small."""
    return encode(ERROR_ADDRESS, req_id[:MAX_ID_CHARS], code, message[:1000])
