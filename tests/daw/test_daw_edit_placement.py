"""The daemon's rules for placing an edit of a MAGE clip: the source's trim and play rate, a result that ends at
its anchor (an extension before its clip), the label the DAW names it by, and the spool kinds that carry them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from mage_bridge.server import daw
from mage_bridge.server.osc import RequestError

CTX = daw.DawContext(120.0, 4, 4, 0.0, time.time(), "reaper", "p", None)


def _placement(request: dict[str, Any], ctx: daw.DawContext | None = CTX) -> dict[str, Any]:
    placement = daw.requested(request["position"], ctx) if "position" in request else daw.next_bar(CTX)
    daw.add_trim(placement, request)
    return placement


def test_the_source_item_s_trim_rate_and_label_are_kept() -> None:
    placement = _placement({"position": {"seconds": 10.0}, "take_offset_s": 2, "length_s": 12.0, "play_rate": 0.5,
                            "label": "repaint 6.0-10.0 s"})
    final = daw.final_placement(placement, "repaint", {"duration_s": 24.0})
    assert (final["align"], final["start_s"], final["start_beats"]) == ("start", 10.0, 20.0)
    assert (final["take_offset_s"], final["length_s"], final["play_rate"]) == (2.0, 12.0, 0.5)
    assert final["label"] == "repaint 6.0-10.0 s"


@pytest.mark.parametrize(("request_fields", "duration_s", "start_s"), [
    ({"position": {"seconds": 20.0}}, 16.0, 4.0),
    ({"position": {"seconds": 20.0}, "play_rate": 2.0}, 16.0, 12.0),   # plays 16 s of audio in 8 s
    ({"position": {"seconds": 6.0}}, 16.0, 0.0),                        # not before the project start
    ({"position": {"beats": 40.0}}, 16.0, 4.0),                          # beat 40 at 120 BPM is 20 s
])
def test_an_extension_before_its_clip_ends_at_the_anchor(request_fields: dict[str, Any], duration_s: float,
                                                         start_s: float) -> None:
    final = daw.final_placement(_placement({**request_fields, "align": "end"}), "extend", {"duration_s": duration_s})
    assert final["align"] == "end"
    assert final["start_s"] == pytest.approx(start_s) and final["start_beats"] == pytest.approx(start_s * 2)


def test_an_end_aligned_result_without_a_length_leaves_its_start_to_the_daw() -> None:
    final = daw.final_placement(_placement({"position": {"seconds": 20.0}, "align": "end"}), "extend", None)
    assert final["align"] == "end" and final["start_s"] is None and final["seconds"] == 20.0


def test_a_generated_clip_on_the_next_bar_keeps_its_body_alignment() -> None:
    """The DAW fields of an edit do not change how a generated clip lands."""
    final = daw.final_placement(daw.next_bar(CTX), "generate", {"backend": {"lead_in_s": 2.0}})
    assert final["align"] == "body" and "play_rate" not in final and "label" not in final


@pytest.mark.parametrize(("fields", "message"), [
    ({"play_rate": 0.0}, "play_rate must be a number from 0.01 to 100"),
    ({"play_rate": True}, "play_rate must be a number"),
    ({"align": "middle"}, "align must be one of start, end"),
    ({"label": 3}, "label must be a string of at most 200 characters"),
    ({"label": "x" * 201}, "label must be a string of at most 200 characters"),
])
def test_bad_edit_fields_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(RequestError, match=message) as e:
        _placement({"position": {"seconds": 1.0}, **fields})
    assert e.value.code == "invalid_input"


def test_an_end_alignment_needs_a_position() -> None:
    with pytest.raises(RequestError, match="align 'end' needs a position to align to"):
        _placement({"align": "end"})


@pytest.mark.parametrize("kind", ["repaint", "extend", "cover", "lego", "extract", "retake"])
def test_the_spool_takes_every_edit_kind(tmp_path: Path, kind: str) -> None:
    request = daw.parse_spool(tmp_path / "r.json", {"kind": kind, "req_id": "r1", "client_id": "reaper"})
    assert request.kind == kind
