"""Bad prompts fail with one clear line, or fall back as documented; never a crash."""

from __future__ import annotations

import pytest

from mage_bridge.analysis import analyze
from mage_bridge.analysis.rules import MAX_PROMPT_CHARS
from mage_bridge.errors import InvalidInputError

BACKENDS = ("rules", "embedding")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"], ids=["empty", "spaces", "whitespace"])
def test_empty_prompt_is_rejected(prompt: str, backend: str) -> None:
    with pytest.raises(InvalidInputError, match="prompt is empty") as e:
        analyze(prompt, backend=backend)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("backend", BACKENDS)
def test_overlong_prompt_is_rejected(backend: str) -> None:
    with pytest.raises(InvalidInputError, match=f"10000 characters, the limit is {MAX_PROMPT_CHARS}"):
        analyze("house " * 1666 + "abcd", backend=backend)


def test_prompt_at_the_limit_is_fine() -> None:
    assert analyze(("techno " * 400)[:MAX_PROMPT_CHARS], backend="rules").genre == "techno"


@pytest.mark.parametrize("prompt", ["house at 0 bpm", "techno 1000 BPM", "tempo 0", "tempo 300", "10-20 bpm"],
                         ids=lambda p: p)
def test_explicit_tempo_out_of_range_names_the_range(prompt: str) -> None:
    with pytest.raises(InvalidInputError, match="from 40 to 240 BPM"):
        analyze(prompt, backend="rules")


def test_not_a_string_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="prompt must be a string"):
        analyze(None, backend="rules")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="lyrics must be a string"):
        analyze("pop", lyrics=3, backend="rules")  # type: ignore[arg-type]


def test_invalid_key_is_ignored_with_a_warning() -> None:
    r = analyze("trap beat in H# major", backend="rules")
    assert r.sources["key"] == "genre" and r.key == "C#"
    assert any("'H# major' is not a key" in w for w in r.warnings)


def test_unknown_genre_falls_back_to_pop_with_a_warning() -> None:
    r = analyze("polka-step zydecore at 110 bpm", backend="rules")
    assert (r.genre, r.sources["genre"], r.bpm) == ("pop", "default", 110.0)
    assert any("no genre recognised" in w for w in r.warnings)


def test_unknown_backend_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError, match="unknown analysis backend 'nope'"):
        analyze("pop", backend="nope")


@pytest.mark.parametrize("prompt", ["🎵🎶", "123", "/////", "in in in", "Am Am Am", "bpm bpm", "no no no",
                                    "3/4 6/8 5/4", "a" * 2000], ids=lambda p: p[:12])
def test_odd_prompts_never_crash(prompt: str) -> None:
    r = analyze(prompt, backend="rules")
    assert 40 <= r.bpm <= 240 and r.mode in ("major", "minor")
