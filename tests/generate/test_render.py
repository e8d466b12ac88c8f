"""Rendering: seeded determinism, registry, clear errors when FluidSynth or a SoundFont is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.config import load_config
from mage_bridge.errors import BackendUnavailableError, InvalidInputError
from mage_bridge.generate import REGISTRY, create_generator, fluidsynth
from mage_bridge.generate.base import GenerateRequest
from mage_bridge.generate.procedural import ProceduralGenerator

BOOM_BAP = PromptAnalysis(prompt="boom bap in D minor", genre="boom bap", bpm=90.0, key="D", mode="minor",
                          time_signature=(4, 4))


def _render(seed: int, *, parallel: bool = True) -> dict[str, np.ndarray]:
    clip = ProceduralGenerator(parallel=parallel).generate(
        GenerateRequest(analysis=BOOM_BAP, seed=seed, duration_s=12.0))
    return {k: v.samples for k, v in clip.stems.items()}


def test_same_seed_identical_other_seed_differs() -> None:
    a, b, c = _render(7), _render(7), _render(8)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_threads_render_what_one_thread_renders() -> None:
    a, b = _render(5), _render(5, parallel=False)
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_details_say_how_to_re_render() -> None:
    clip = ProceduralGenerator().generate(GenerateRequest(analysis=BOOM_BAP, seed=3, duration_s=12.0))
    d = clip.details
    for key in ("backend_version", "seed", "soundfont", "soundfont_name", "lead_in_s", "body_bars",
                "lead_out_s", "bar_s", "progression", "parts"):
        assert key in d
    assert d["seed"] == 3 and d["progression"][0] == "i" and d["progression"][-1] == "i"
    assert abs(d["bar_s"] - 4 * 60 / 90) < 1e-6
    assert d["lead_in_s"] + d["body_bars"] * d["bar_s"] + d["lead_out_s"] == pytest.approx(12.0, abs=1e-4)
    assert {p["stem"] for p in d["parts"]} == {"drums", "bass", "other"}


def test_registry_prefers_acestep_then_falls_back() -> None:
    config = load_config()
    assert REGISTRY.names()[:2] == ["acestep", "procedural"]
    reason = REGISTRY.why_unavailable("acestep", config)
    assert reason is not None and ("mage-bridge[acestep]" in reason or "ace-step" in reason)
    assert create_generator("auto", config).name == "procedural"
    with pytest.raises(BackendUnavailableError):
        create_generator("acestep", config)


def test_missing_soundfont_names_the_fix(tmp_path) -> None:
    config = load_config(soundfont=str(tmp_path / "nope.sf2"))
    reason = ProceduralGenerator.unavailable_reason(config)
    assert reason is not None and "fluid-soundfont-gm" in reason and "MAGE_SOUNDFONT" in reason
    with pytest.raises(BackendUnavailableError, match="fluid-soundfont-gm"):
        create_generator("procedural", config)


def test_missing_libfluidsynth_names_the_fix(monkeypatch) -> None:
    monkeypatch.setattr(fluidsynth, "_lib", None)
    monkeypatch.setattr(fluidsynth, "_load_error", None)
    monkeypatch.setattr(fluidsynth, "_LIB_NAMES", ("libfluidsynth-not-here.so.9",))
    monkeypatch.setattr(fluidsynth.ctypes.util, "find_library", lambda name: None)
    monkeypatch.delenv("MAGE_FLUIDSYNTH_LIB", raising=False)
    with pytest.raises(BackendUnavailableError, match="apt-get install libfluidsynth3"):
        fluidsynth.load_library()
    assert "libfluidsynth3" in (ProceduralGenerator.unavailable_reason(load_config()) or "")


def test_soundfont_name_is_read_from_the_file() -> None:
    sf = load_config().resolved_soundfont()
    assert sf is not None
    assert fluidsynth.soundfont_name(sf) not in ("", None)


# -- loaded SoundFonts lent to fresh synths -----------------------------------------------------
def _one_stem(soundfont: object, *, seed: int = 3) -> np.ndarray:
    """The ``other`` stem of a jazz score rendered on a synth holding ``soundfont`` (a path or a loaded font)."""
    from mage_bridge.generate.compose import compose
    from mage_bridge.generate.render import events

    analysis = PromptAnalysis(prompt="jazz", genre="jazz", bpm=140.0, key="Bb", mode="major", time_signature=(4, 4))
    score = compose(analysis, seed=seed, duration_s=8.0, lead_in_bars=1)
    parts = score.stems()["other"]
    out = np.zeros((2, score.total_frames), dtype=np.float32)
    with fluidsynth.Synth(soundfont, sample_rate=score.sample_rate) as synth:  # type: ignore[arg-type]
        for part in parts:
            synth.program_select(part.channel, bank=part.bank, program=part.program)
            synth.cc(part.channel, 91, part.reverb)
            synth.cc(part.channel, 93, 40)
        pos = 0
        for frame, kind, channel, d1, d2 in events(parts, score).tolist():
            synth.write(out, pos, frame - pos)
            pos = frame
            if kind == 2:
                synth.noteon(channel, d1, d2)
            elif kind == 0:
                synth.noteoff(channel, d1)
            else:
                synth.cc(channel, d1, d2)
        synth.write(out, pos, score.total_frames - pos)
    return out


def test_a_synth_on_the_shared_font_renders_what_a_synth_loading_its_own_renders() -> None:
    path = load_config().resolved_soundfont()
    assert path is not None
    own = _one_stem(path)
    shared = fluidsynth.loaded_soundfont(path)
    assert fluidsynth.loaded_soundfont(path) is shared  # loaded once per process
    assert np.abs(own).max() > 0.01
    for _ in range(2):  # the font lent again after a first use: still bit for bit
        assert _one_stem(shared).tobytes() == own.tobytes()
    assert shared.borrowers == 0


def test_synths_sharing_a_font_on_many_threads_render_what_one_renders() -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = load_config().resolved_soundfont()
    assert path is not None
    font = fluidsynth.loaded_soundfont(path)
    expected = {seed: _one_stem(font, seed=seed) for seed in (1, 2)}
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda seed: (seed, _one_stem(font, seed=seed)), [1, 2] * 4))
    assert all(out.tobytes() == expected[seed].tobytes() for seed, out in results)
    assert font.borrowers == 0


def test_the_loaded_fonts_are_bounded_and_a_font_in_use_is_kept(monkeypatch) -> None:
    kits = sorted(Path("/usr/share/sounds/sf2").glob("*_LV2.sf2"))
    gm = load_config().resolved_soundfont()
    if len(kits) < 2 or gm is None:
        pytest.skip("needs the two AVL kit fonts and a GM font")
    monkeypatch.setattr(fluidsynth, "MAX_LOADED_FONTS", 1)
    monkeypatch.setattr(fluidsynth, "_fonts", {})
    first = fluidsynth.loaded_soundfont(kits[0])
    with fluidsynth.Synth(first) as holder:
        second = fluidsynth.loaded_soundfont(kits[1])
        assert first.handle is not None and set(fluidsynth._fonts) == {kits[0], kits[1]}  # in use: kept
        assert holder.program_select(9, bank=0, program=0)
    third = fluidsynth.loaded_soundfont(gm)
    assert first.handle is None and second.handle is None and list(fluidsynth._fonts) == [Path(gm).resolve()]
    third.close()
    with pytest.raises(InvalidInputError, match="closed"):
        fluidsynth.Synth(third)
