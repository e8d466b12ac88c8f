"""The ``transformers`` lyric backend with tiny GPT-2 folders in ``tmp_path``, loaded through the real path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("torch")

from mage_bridge import api  # noqa: E402
from mage_bridge.analysis import analyze  # noqa: E402
from mage_bridge.config import Config, LyricsConfig  # noqa: E402
from mage_bridge.errors import BackendUnavailableError, InvalidInputError  # noqa: E402
from mage_bridge.lyrics import REGISTRY, Lyrics, create_lyric_writer, write_lyrics  # noqa: E402
from mage_bridge.lyrics.modelwriter import ModelLyricWriter  # noqa: E402
from mage_bridge.lyrics.syllables import rhymes  # noqa: E402
from tests.lyrics_tfm.tiny import mute_model, tiny_model  # noqa: E402

PROMPT = "a dreamy pop ballad about summer love at 100 BPM"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<root>/lyrics``: a tiny random GPT-2; ``<root>/mute/lyrics``: one that ends every line at once."""
    root = tmp_path_factory.mktemp("models")
    tiny_model(root / "lyrics")
    mute_model(root / "mute" / "lyrics")
    return root


def _config(tmp_path: Path, models_dir: Path, **lyrics: object) -> Config:
    return Config(data_dir=tmp_path, models_dir=models_dir, lyrics=LyricsConfig(**lyrics))  # type: ignore[arg-type]


def _check_against_plan(written: Lyrics, plan: Lyrics) -> None:
    """Same form as the embedded writer's plan; model lines fit their targets, rhyme with their partners and are
    never repeated outside a chorus; every other line is the plan's own."""
    assert [(s.name, s.bars, len(s.lines)) for s in written.sections] == \
        [(s.name, s.bars, len(s.lines)) for s in plan.sections]
    for section, planned in zip(written.sections, plan.sections):
        for j, (line, was) in enumerate(zip(section.lines, planned.lines)):
            assert (line.target, line.bars, line.rhyme) == (was.target, was.bars, was.rhyme)
            if line.origin == "model":
                assert abs(line.syllable_count - (line.target or 0)) <= 1, line
            else:
                assert line.text == was.text and line.origin == was.origin
            for k, other in enumerate(section.lines):
                pair = k != j and line.rhyme and other.rhyme == line.rhyme and k // 4 == j // 4
                if pair and "model" in (line.origin, other.origin):
                    assert rhymes(line.text, other.text), (line.text, other.text)
    fallbacks = [(i, j) for i, s in enumerate(written.sections) for j, ln in enumerate(s.lines)
                 if ln.origin == "embedded"]
    assert list(written.fallbacks) == fallbacks
    verses = [ln.text.lower() for s in written.sections if s.name != "chorus" for ln in s.lines]
    choruses = {ln.text.lower() for s in written.sections if s.name == "chorus" for ln in s.lines}
    assert len(verses) == len(set(verses)) and not set(verses) & choruses
    sung = [tuple(ln.text for ln in s.lines) for s in written.sections if s.name == "chorus"]
    longest = max(sung, key=len, default=())
    assert all(c == longest[:len(c)] for c in sung)  # each chorus sings the same words (or their opening)


def test_a_missing_folder_or_file_is_named_and_auto_takes_the_embedded_writer(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "models")
    reason = REGISTRY.why_unavailable("transformers", config)
    assert reason is not None and str(tmp_path / "models" / "lyrics") in reason and "train-lyrics" in reason
    assert REGISTRY.resolve("auto", config) == "embedded"
    with pytest.raises(BackendUnavailableError, match="lyrics backend 'transformers' is unavailable"):
        create_lyric_writer("transformers", config)
    folder = tmp_path / "models" / "lyrics"
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text("{}")
    reason = REGISTRY.why_unavailable("transformers", config)
    assert reason is not None
    assert "config.json" in reason and "model.safetensors" in reason and "merges.txt absent" in reason
    assert "vocab.json absent" not in reason
    (folder / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"]}))
    (folder / "model.safetensors").write_bytes(b"")
    (folder / "tokenizer.json").write_text("{}")
    reason = REGISTRY.why_unavailable("transformers", config)
    assert reason is not None and "not a causal language model" in reason


def test_lines_by_the_model_in_the_embedded_writers_form(tmp_path: Path, models: Path) -> None:
    config = _config(tmp_path, models, tries=16)
    assert REGISTRY.resolve("auto", config) == "transformers"
    analysis = analyze(PROMPT)
    written = create_lyric_writer("auto", config).write(analysis, seed=5)
    plan = write_lyrics(analysis, seed=5)
    assert written.backend == "transformers" and written.model == str(models / "lyrics")
    assert "[verse]" in written.text() and "[chorus]" in written.text() and "[bridge]" in written.text()
    _check_against_plan(written, plan)
    assert sum(ln.origin == "model" for s in written.sections for ln in s.lines) >= len(written.sections)
    assert written.to_dict()["sections"][0]["origins"] == [ln.origin for ln in written.sections[0].lines]


def test_the_same_seed_writes_the_same_lyrics(tmp_path: Path, models: Path) -> None:
    analysis = analyze("sad folk song about rain, 8 bars of verse")
    writer = ModelLyricWriter(model_dir=models / "lyrics", tries=8)
    first = writer.write(analysis, seed=11, sections=[("verse", 8), ("chorus", 8)])
    again = ModelLyricWriter(model_dir=models / "lyrics", tries=8).write(analysis, seed=11,
                                                                      sections=[("verse", 8), ("chorus", 8)])
    other = writer.write(analysis, seed=12, sections=[("verse", 8), ("chorus", 8)])
    assert first.text() == again.text() and first.fallbacks == again.fallbacks
    assert other.text() != first.text()
    _check_against_plan(other, write_lyrics(analysis, seed=12, sections=[("verse", 8), ("chorus", 8)]))


def test_a_model_that_fits_no_line_falls_back_line_by_line_and_says_so(tmp_path: Path, models: Path) -> None:
    config = _config(tmp_path, models / "mute", tries=3)
    analysis = analyze(PROMPT)
    written = create_lyric_writer("transformers", config).write(analysis, seed=2)
    plan = write_lyrics(analysis, seed=2)
    assert written.text() == plan.text() and written.backend == "transformers"
    assert len(written.fallbacks) == sum(len(s.lines) for s in written.sections)
    unique = len({ln.text for s in plan.sections for ln in s.lines})
    assert any(f"{unique} of {unique} written lines are the embedded writer's" in w and "3 tries" in w
               for w in written.warnings), written.warnings
    assert written.to_dict()["fallbacks"][0] == [0, 0]


def test_append_continues_the_users_lines_and_replace_loads_no_model(tmp_path: Path, models: Path) -> None:
    analysis = analyze("indie rock with male vocals at 120 BPM")
    user = "[verse]\nWe drove all night to find the sea\nThe radio was playing just for me"
    writer = ModelLyricWriter(model_dir=models / "lyrics", tries=8)
    kept = writer.write(analysis, mode="replace", user_lyrics=user, seed=1)
    assert writer._lm is None and kept.backend == "transformers" and kept.text() == user
    continued = writer.write(analysis, mode="append", user_lyrics=user, seed=1, duration_s=40.0)
    first = continued.sections[0]
    assert [ln.text for ln in first.lines] == user.splitlines()[1:] and {ln.origin for ln in first.lines} == {"user"}
    assert any(ln.origin == "model" for s in continued.sections[1:] for ln in s.lines)
    _check_against_plan(continued, write_lyrics(analysis, mode="append", user_lyrics=user, seed=1, duration_s=40.0))


def test_bad_arguments_are_refused_before_the_model_loads(tmp_path: Path, models: Path) -> None:
    writer = ModelLyricWriter(model_dir=models / "lyrics")
    with pytest.raises(InvalidInputError, match="mode must be one of"):
        writer.write(analyze(PROMPT), mode="sing")  # type: ignore[arg-type]
    assert writer._lm is None
    with pytest.raises(Exception, match="lyrics.tries must be an int >= 1"):
        ModelLyricWriter(model_dir=models / "lyrics", tries=0)
    with pytest.raises(Exception, match="lyrics.device must be auto or one of"):
        ModelLyricWriter(model_dir=models / "lyrics", device="tpu")


def test_the_lyrics_job_and_generate_record_the_backend(tmp_path: Path, models: Path) -> None:
    config = _config(tmp_path, models, tries=4)
    path = api.lyrics(PROMPT, tmp_path / "words", backend="transformers", seed=3, options={"duration_s": 24.0},
                      config=config)
    m = json.loads(path.read_text(encoding="utf-8"))
    assert m["request"]["backend"] == "transformers" and m["lyrics"]["backend"] == "transformers"
    assert m["lyrics"]["model"] == str(models / "lyrics") and isinstance(m["lyrics"]["fallbacks"], list)
    assert "model" in {o for s in m["lyrics"]["sections"] for o in s["origins"]}
    assert (tmp_path / "words" / "lyrics.lrc").is_file()
    with pytest.raises(InvalidInputError, match="unknown lyrics backend 'gpt9'"):
        api.lyrics(PROMPT, tmp_path / "none", backend="gpt9", config=config)
    assert not (tmp_path / "none").exists()
    # "auto" would take the model here: the option names the writer
    clip = api.generate("soul ballad with female vocals at 90 BPM", tmp_path / "clip", seed=4, config=config,
                        options={"duration_s": 12.0, "lyrics_backend": "embedded"})
    assert json.loads(clip.read_text(encoding="utf-8"))["lyrics"]["backend"] == "embedded"
    with pytest.raises(InvalidInputError, match="unknown lyrics backend"):
        api.generate("soul ballad with female vocals", tmp_path / "clip2", config=config,
                     options={"lyrics_backend": "nope"})
