"""Backend registries: one per pipeline stage, name -> ``"module:Class"``.

A backend class is cheap to import (heavy imports happen inside its methods)
and offers two classmethods the registry relies on:

* ``unavailable_reason(config) -> str | None`` – ``None`` when it can run here,
  else one sentence saying what is missing and how to get it;
* ``from_config(config, **options)`` – build an instance.

``"auto"`` walks the registry in preference order (heavy backends are
registered first) and takes the first that can run. A name of ``None`` means
the config's choice for the stage (``backends.<stage>``, env
``MAGE_<STAGE>_BACKEND``), ``"auto"`` for a stage the config does not name;
callers pass a name only to override it. Third parties register
through the entry-point group ``mage_bridge.<stage>``, e.g.
``[project.entry-points."mage_bridge.generate"] mygen = "pkg.mod:MyGenerator"``.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError, InvalidInputError


@dataclass(frozen=True)
class BackendSpec:
    """Where a backend lives and what it needs before it can be imported."""

    name: str
    target: str
    requires: tuple[str, ...] = ()
    extra: str | None = None
    summary: str = ""

    def load_class(self) -> Any:
        module_name, _, class_name = self.target.partition(":")
        return getattr(importlib.import_module(module_name), class_name)

    def missing_modules(self) -> list[str]:
        return [m for m in self.requires if importlib.util.find_spec(m) is None]

    def missing_message(self) -> str | None:
        """``None`` when every required package is installed, else which are not and the ``pip`` line."""
        missing = self.missing_modules()
        if not missing:
            return None
        how = f"pip install 'mage-bridge[{self.extra}]'" if self.extra else f"pip install {' '.join(missing)}"
        return f"Python package(s) {', '.join(missing)} not installed ({how})"


@dataclass(frozen=True)
class BackendStatus:
    name: str
    available: bool
    reason: str | None
    summary: str


class Registry:
    """The backends of one stage, in preference order for ``"auto"``."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._specs: dict[str, BackendSpec] = {}
        self._entry_points_loaded = False

    def register(
        self,
        name: str,
        target: str,
        *,
        requires: tuple[str, ...] = (),
        extra: str | None = None,
        summary: str = "",
    ) -> None:
        if name == "auto":
            raise InvalidInputError("'auto' is reserved and cannot name a backend")
        self._specs[name] = BackendSpec(name, target, tuple(requires), extra, summary)

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in metadata.entry_points(group=f"mage_bridge.{self.stage}"):
            if ep.name not in self._specs:
                self._specs[ep.name] = BackendSpec(ep.name, ep.value, summary="third-party")

    def names(self) -> list[str]:
        self._load_entry_points()
        return list(self._specs)

    def spec(self, name: str) -> BackendSpec:
        self._load_entry_points()
        try:
            return self._specs[name]
        except KeyError:
            raise InvalidInputError(
                f"unknown {self.stage} backend {name!r}; known: auto, {', '.join(self._specs)}"
            ) from None

    def configured(self, name: str | None, config: Config) -> str:
        """``name``, or for ``None`` the config's choice for this stage (``"auto"`` if it names none)."""
        if name is not None:
            return name
        return str(getattr(config.backends, self.stage, "auto"))

    def why_unavailable(self, name: str, config: Config) -> str | None:
        """``None`` when backend ``name`` can run here, else the reason in one sentence."""
        spec = self.spec(name)
        missing = spec.missing_message()
        if missing is not None:
            return missing
        try:
            cls = spec.load_class()
        except Exception as e:  # a broken plugin must not hide the others
            return f"cannot import {spec.target}: {type(e).__name__}: {e}"
        return cls.unavailable_reason(config)

    def status(self, config: Config) -> list[BackendStatus]:
        out = []
        for name in self.names():
            reason = self.why_unavailable(name, config)
            out.append(BackendStatus(name, reason is None, reason, self._specs[name].summary))
        return out

    def resolve(self, name: str | None, config: Config) -> str:
        """Turn ``None`` (the config's choice) and ``"auto"`` into a concrete backend name; check it can run."""
        name = self.configured(name, config)
        if name != "auto":
            reason = self.why_unavailable(name, config)
            if reason is not None:
                raise BackendUnavailableError(f"{self.stage} backend {name!r} is unavailable: {reason}")
            return name
        reasons = []
        for candidate in self.names():
            reason = self.why_unavailable(candidate, config)
            if reason is None:
                return candidate
            reasons.append(f"{candidate}: {reason}")
        raise BackendUnavailableError(
            f"no {self.stage} backend can run here; tried " + "; ".join(reasons)
        )

    def create(self, name: str | None, config: Config, **options: Any) -> Any:
        """Build the backend ``name`` (``None``: the config's choice; ``"auto"``: the first that runs)."""
        concrete = self.resolve(name, config)
        return self.spec(concrete).load_class().from_config(config, **options)
