"""The registry's 'auto' choice and its reasons, with backends defined here (not mocks of our engines)."""

from __future__ import annotations

import sys
import types

import pytest

from mage_bridge.backends import Registry
from mage_bridge.config import Config
from mage_bridge.errors import BackendUnavailableError, InvalidInputError


class Heavy:
    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        return f"weights missing from {config.models_dir / 'heavy'}"

    @classmethod
    def from_config(cls, config: Config, **options):
        return cls()


class Light:
    options: dict[str, object] = {}

    @classmethod
    def unavailable_reason(cls, config: Config) -> str | None:
        return None

    @classmethod
    def from_config(cls, config: Config, **options):
        obj = cls()
        obj.options = options
        return obj


@pytest.fixture
def registry(monkeypatch) -> Registry:
    module = types.SimpleNamespace(Heavy=Heavy, Light=Light)  # importlib.import_module finds it in sys.modules
    monkeypatch.setitem(sys.modules, "_mage_test_backends", module)
    r = Registry("teststage")
    r.register("heavy", "_mage_test_backends:Heavy")
    r.register("needs-pkg", "_mage_test_backends:Heavy", requires=("no_such_package_xyz",), extra="xyz")
    r.register("light", "_mage_test_backends:Light")
    return r


def test_auto_skips_unavailable_and_picks_first_usable(registry: Registry) -> None:
    assert registry.resolve("auto", Config()) == "light"
    assert isinstance(registry.create("auto", Config(), x=1), Light)


def test_reasons_name_what_is_missing(registry: Registry) -> None:
    status = {s.name: s for s in registry.status(Config())}
    assert "weights missing" in (status["heavy"].reason or "")
    assert "no_such_package_xyz" in (status["needs-pkg"].reason or "")
    assert "mage-bridge[xyz]" in (status["needs-pkg"].reason or "")
    assert status["light"].available and status["light"].reason is None


def test_named_unavailable_backend_says_why(registry: Registry) -> None:
    with pytest.raises(BackendUnavailableError, match="weights missing"):
        registry.resolve("heavy", Config())


def test_auto_with_nothing_usable_lists_every_attempt(registry: Registry) -> None:
    r = Registry("empty")
    r.register("heavy", "_mage_test_backends:Heavy")
    with pytest.raises(BackendUnavailableError, match="heavy: weights missing"):
        r.resolve("auto", Config())


def test_unknown_and_reserved_names(registry: Registry) -> None:
    with pytest.raises(InvalidInputError, match="unknown teststage backend 'nope'"):
        registry.resolve("nope", Config())
    with pytest.raises(InvalidInputError):
        registry.register("auto", "x:y")


def test_none_means_the_configs_choice_for_the_stage(monkeypatch) -> None:
    from mage_bridge.config import BackendChoice

    monkeypatch.setitem(sys.modules, "_mage_test_backends", types.SimpleNamespace(Heavy=Heavy, Light=Light))
    r = Registry("generate")
    r.register("heavy", "_mage_test_backends:Heavy")
    r.register("light", "_mage_test_backends:Light")
    assert r.resolve(None, Config()) == "light"  # the config says "auto"
    assert r.resolve(None, Config(backends=BackendChoice(generate="light"))) == "light"
    # A configured backend that cannot run says why; it is not silently replaced by "auto"'s choice.
    with pytest.raises(BackendUnavailableError, match="'heavy' is unavailable: weights missing"):
        r.create(None, Config(backends=BackendChoice(generate="heavy")))
    # A name given by the caller overrides the config.
    assert r.resolve("light", Config(backends=BackendChoice(generate="heavy"))) == "light"


def test_a_stage_the_config_does_not_name_is_auto(registry: Registry) -> None:
    assert registry.configured(None, Config()) == "auto"
    assert registry.resolve(None, Config()) == "light"
