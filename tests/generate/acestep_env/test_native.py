"""The native route against an emulation of the ``acestep`` package (``fake_acestep/``; see its docstring).

The real package cannot be installed here (it pins transformers<4.58 and a CUDA torch). The emulation follows
its documented API field for field, records the calls it gets and every download it is asked for.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from mage_bridge.config import AceStepConfig, Config
from mage_bridge.errors import BackendUnavailableError, CancelledError, MageError, OutOfMemoryError
from mage_bridge.generate.acestep import native
from mage_bridge.generate.acestep.models import find_model
from mage_bridge.generate.acestep.native import NativeRoute

from .layouts import make_native

pytest.importorskip("torch")
FAKE_PACKAGE = Path(__file__).parent / "fake_acestep" / "acestep"
RATE = 48_000


@dataclass(frozen=True)
class Call:
    """The fields of ``AceStepCall`` the route reads (the route is duck-typed on them)."""

    caption: str
    lyrics: str
    duration_s: float
    bpm: int | None = 120
    keyscale: str | None = "F# minor"
    timesignature: str | None = "4"
    seed: int = 7
    steps: int = 4
    guidance: float = 1.0
    shift: float = 3.0
    task_type: str = "text2music"
    track_name: str | None = None
    src_audio: np.ndarray | None = None
    repainting_start: float | None = None
    repainting_end: float | None = None
    audio_cover_strength: float = 1.0
    vocal_language: str = "en"


@dataclass
class Package:
    root: Path
    handler: ModuleType
    inference: ModuleType
    downloader: ModuleType


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Package]:
    """The emulated package installed in a fresh project folder (its checkpoints/ beside it)."""
    root = tmp_path / "ACE-Step-1.5"
    shutil.copytree(FAKE_PACKAGE, root / "acestep")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("ACESTEP_CHECKPOINTS_DIR", raising=False)
    native.WARM.drop()
    yield Package(root, importlib.import_module("acestep.handler"), importlib.import_module("acestep.inference"),
                  importlib.import_module("acestep.model_downloader"))
    native.WARM.drop()
    for name in [m for m in sys.modules if m == "acestep" or m.startswith("acestep.")]:
        del sys.modules[name]


def config_for(tmp_path: Path, **acestep: Any) -> Config:
    return Config(data_dir=tmp_path / "data", models_dir=tmp_path / "models",
                  acestep=AceStepConfig(route="native", device="cpu", **acestep))


def route_for(tmp_path: Path, package: Package, **acestep: Any) -> NativeRoute:
    config = config_for(tmp_path, **acestep)
    return NativeRoute(find_model(config), config)


def test_text2music_maps_every_field_and_trims_to_the_duration(tmp_path: Path, package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    steps: list[tuple[int, int]] = []
    call = Call(caption="dark synthwave", lyrics="[verse]\nneon rain", duration_s=3.5, guidance=7.0)
    audio = route.run(call, on_step=lambda done, total: steps.append((done, total)))
    assert audio.dtype == np.float32 and audio.shape == (2, int(3.5 * RATE))  # the package gives 3.52 s
    params, config, save_dir = package.inference.CALLS[-1]
    assert (params.caption, params.lyrics, params.duration, params.seed, params.bpm, params.keyscale,
            params.timesignature) == ("dark synthwave", "[verse]\nneon rain", 3.5, 7, 120, "F# minor", "4")
    assert (params.inference_steps, params.guidance_scale, params.shift, params.task_type) == (4, 7.0, 3.0,
                                                                                              "text2music")
    assert params.instruction == "Fill the audio semantic mask based on the given conditions:"
    assert (params.thinking, params.use_cot_metas, params.use_cot_caption, params.instrumental) == (False, False,
                                                                                                   False, False)
    assert params.src_audio is None and params.vocal_language == "en"
    assert (config.batch_size, config.use_random_seed, config.seeds, config.audio_format) == (1, False, [7], "wav")
    assert save_dir is None
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert package.downloader.DOWNLOADS == []
    init = package.handler.INIT_CALLS[-1]
    assert (init["config_path"], init["device"], init["project_root"]) == ("acestep-v15-turbo", "cpu",
                                                                           str(package.root))


def test_the_seed_decides_the_audio(tmp_path: Path, package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    a = route.run(Call("house", "", 2.0, seed=3), on_step=lambda d, t: None)
    b = route.run(Call("house", "", 2.0, seed=3), on_step=lambda d, t: None)
    c = route.run(Call("house", "", 2.0, seed=4), on_step=lambda d, t: None)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    params = package.inference.CALLS[-1][0]
    assert params.instrumental is True


def test_the_model_stays_loaded_between_calls(tmp_path: Path, package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    route.run(Call("jazz", "", 1.0), on_step=lambda d, t: None)
    first = route.details()
    route.run(Call("jazz", "", 1.0), on_step=lambda d, t: None)
    second = route.details()
    assert len(package.handler.INIT_CALLS) == 1
    assert (first["warm"], second["warm"], second["load_s"]) == (False, True, 0.0)
    assert {k: first[k] for k in ("route", "dit", "variant", "device", "dtype")} == {
        "route": "native", "dit": "acestep-v15-turbo", "variant": "turbo", "device": "cpu", "dtype": "float32"}


def test_an_idle_model_is_released(tmp_path: Path, package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package, idle_release_s=1)
    route.run(Call("jazz", "", 1.0), on_step=lambda d, t: None)
    assert native.WARM.handler is not None
    deadline = time.monotonic() + 10
    while native.WARM.handler is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert native.WARM.handler is None
    route.run(Call("jazz", "", 1.0), on_step=lambda d, t: None)
    assert route.details()["warm"] is False and len(package.handler.INIT_CALLS) == 2


def test_a_checkpoint_gone_before_loading_is_refused_without_initialising(tmp_path: Path,
                                                                          package: Package) -> None:
    checkpoints = make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    shutil.rmtree(checkpoints / "vae")
    with pytest.raises(BackendUnavailableError, match=r"vae/ \(the whole subfolder\)"):
        route.run(Call("rock", "", 1.0), on_step=lambda d, t: None)
    assert package.handler.INIT_CALLS == [] and package.downloader.DOWNLOADS == []


def test_the_emulated_package_would_download_what_is_missing(tmp_path: Path, package: Package) -> None:
    """Guards the emulation itself: without MAGE's check, initialize_service asks for the download."""
    make_native(package.root / "checkpoints", lm=False)
    message, ok = package.handler.AceStepHandler().initialize_service(str(package.root), "acestep-v15-turbo")
    assert not ok and "Failed to download main model" in message
    assert package.downloader.DOWNLOADS == [("ACE-Step/Ace-Step1.5", str(package.root / "checkpoints"))]


def test_a_failed_initialisation_is_unavailable_with_the_package_message(
        tmp_path: Path, package: Package, monkeypatch: pytest.MonkeyPatch) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    monkeypatch.setattr(package.handler.AceStepHandler, "initialize_service",
                        lambda self, *a, **k: ("❌ Error initializing model: safetensors header too large", False))
    with pytest.raises(BackendUnavailableError, match="safetensors header too large"):
        route.run(Call("rock", "", 1.0), on_step=lambda d, t: None)


def test_out_of_memory_while_loading_says_so(tmp_path: Path, package: Package,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    monkeypatch.setattr(package.handler.AceStepHandler, "initialize_service", lambda self, *a, **k: (
        "❌ Error initializing model: CUDA out of memory. Tried to allocate 1.50 GiB", False))
    with pytest.raises(OutOfMemoryError, match="while loading the model: set acestep.cpu_offload = true"):
        route.run(Call("rock", "", 1.0), on_step=lambda d, t: None)


def test_checkpoints_elsewhere_are_named_to_the_package_and_the_env_restored(tmp_path: Path,
                                                                            package: Package) -> None:
    checkpoints = make_native(tmp_path / "store" / "checkpoints", dits=("acestep-v15-turbo", "acestep-v15-base"))
    route = route_for(tmp_path, package, checkpoints_dir=checkpoints / "acestep-v15-base")
    route.run(Call("drums", "", 1.0, task_type="text2music"), on_step=lambda d, t: None)
    init = package.handler.INIT_CALLS[-1]
    assert (init["project_root"], init["config_path"]) == (str(tmp_path / "store"), "acestep-v15-base")
    assert "ACESTEP_CHECKPOINTS_DIR" not in os.environ
    assert route.details()["variant"] == "base"


def test_repaint_writes_the_source_to_a_wav_and_passes_the_window(tmp_path: Path, package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    t = np.arange(4 * RATE) / RATE
    source = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)]).astype(np.float32) * 0.5
    call = Call("piano", "", 4.0, task_type="repaint", src_audio=source, repainting_start=1.0, repainting_end=2.5)
    audio = route.run(call, on_step=lambda d, t: None)
    assert audio.shape == (2, 4 * RATE)
    params = package.inference.CALLS[-1][0]
    assert (params.repainting_start, params.repainting_end) == (1.0, 2.5)
    assert params.instruction == "Repaint the mask area based on the given conditions:"
    assert params.src_audio.endswith(".wav") and not Path(params.src_audio).exists()  # read, then cleaned up


def test_extend_repaints_to_the_end(tmp_path: Path, package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    source = np.zeros((2, 2 * RATE), np.float32)
    call = Call("piano", "", 3.0, task_type="repaint", src_audio=source, repainting_start=2.0, repainting_end=None)
    assert route.run(call, on_step=lambda d, t: None).shape == (2, 3 * RATE)
    params = package.inference.CALLS[-1][0]
    assert (params.repainting_start, params.repainting_end) == (2.0, -1.0)


def test_lego_names_the_track_in_the_instruction(tmp_path: Path, package: Package) -> None:
    checkpoints = make_native(package.root / "checkpoints", dits=("acestep-v15-turbo", "acestep-v15-base"))
    route = route_for(tmp_path, package, checkpoints_dir=checkpoints / "acestep-v15-base")
    source = np.zeros((2, RATE), np.float32)
    route.run(Call("funk", "", 1.0, task_type="lego", track_name="drums", src_audio=source, repainting_start=0.0,
                   repainting_end=1.0), on_step=lambda d, t: None)
    assert package.inference.CALLS[-1][0].instruction == "Generate the DRUMS track based on the audio context:"


def test_out_of_memory_inside_the_package_is_advice(tmp_path: Path, package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    with pytest.raises(OutOfMemoryError) as caught:
        route.run(Call("[emulate-oom] epic", "", 30.0), on_step=lambda d, t: None)
    assert caught.value.code == "out_of_memory" and "acestep.cpu_offload = true" in str(caught.value)


def test_a_failed_generation_carries_the_package_error(tmp_path: Path, package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    route.run(Call("a", "", 1.0), on_step=lambda d, t: None)
    native.WARM.handler.model = None  # the package reports an unloaded model as a failed result
    with pytest.raises(MageError, match="Model not initialized") as caught:
        route.run(Call("a", "", 1.0), on_step=lambda d, t: None)
    assert not isinstance(caught.value, OutOfMemoryError)


def test_a_cancel_from_on_step_is_raised_although_the_package_swallows_it(tmp_path: Path,
                                                                         package: Package) -> None:
    make_native(package.root / "checkpoints")
    route = route_for(tmp_path, package)
    seen: list[int] = []

    def on_step(done: int, total: int) -> None:
        seen.append(done)
        if done >= 2:
            raise CancelledError("job cancelled")

    with pytest.raises(CancelledError, match="job cancelled"):
        route.run(Call("metal", "", 2.0, steps=8), on_step=on_step)
    assert seen == [1, 2]  # nothing relayed after the cancel
    audio = route.run(Call("metal", "", 2.0, steps=8), on_step=lambda d, t: None)  # the worker carries on
    assert audio.shape == (2, 2 * RATE) and route.details()["warm"] is True


def test_the_timer_estimates_of_older_releases_map_onto_steps() -> None:
    """f30aee4 reports 0.51 while preparing, timer estimates over the diffusion span, 0.8 when decoding."""
    seen: list[tuple[int, int]] = []
    relay = native.StepRelay(lambda done, total: seen.append((done, total)), 8)
    for value in (0.51, 0.6, 0.6, 0.55, 0.7, 0.8, 0.99):
        relay(value, desc="Generating music...")
    relay.finish()
    assert seen == [(2, 8), (5, 8), (8, 8)]


def test_a_release_that_ignores_the_setting_is_refused_for_checkpoints_elsewhere(tmp_path: Path,
                                                                                package: Package) -> None:
    handler_py = package.root / "acestep" / "handler.py"
    text = handler_py.read_text(encoding="utf-8")
    text = text.replace('os.environ.get("ACESTEP_CHECKPOINTS_DIR")', "None").replace("ACESTEP_CHECKPOINTS_DIR", "")
    handler_py.write_text(text, encoding="utf-8")  # as f30aee4: only the checkpoints/ beside the package
    checkpoints = make_native(tmp_path / "store" / "checkpoints")
    route = route_for(tmp_path, package, checkpoints_dir=checkpoints)
    with pytest.raises(BackendUnavailableError, match="reads its checkpoints only from"):
        route.run(Call("a", "", 1.0), on_step=lambda d, t: None)
    assert package.handler.INIT_CALLS == [] and package.downloader.DOWNLOADS == []
