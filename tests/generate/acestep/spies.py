"""Spies on the real diffusers classes: what MAGE passed to the pipeline, how often it loaded and decoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Spy:
    loads: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)
    decodes: int = 0
    pipes: list[Any] = field(default_factory=list)


def spy_pipeline(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """Count ``from_pretrained`` and VAE decodes, record every ``__call__``'s keyword arguments and output."""
    from diffusers import AceStepPipeline, AutoencoderOobleck

    spy = Spy()
    load, call, decode = AceStepPipeline.from_pretrained, AceStepPipeline.__call__, AutoencoderOobleck.decode

    def counted_load(cls: type, *args: Any, **kwargs: Any) -> Any:
        spy.loads.append(kwargs)
        pipe = load(*args, **kwargs)
        spy.pipes.append(pipe)
        return pipe

    def recorded_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        spy.calls.append(kwargs)
        out = call(self, *args, **kwargs)
        spy.outputs.append(out)
        return out

    def counted_decode(self: Any, *args: Any, **kwargs: Any) -> Any:
        spy.decodes += 1
        return decode(self, *args, **kwargs)

    monkeypatch.setattr(AceStepPipeline, "from_pretrained", classmethod(counted_load))
    monkeypatch.setattr(AceStepPipeline, "__call__", recorded_call)
    monkeypatch.setattr(AutoencoderOobleck, "decode", counted_decode)
    return spy
