"""``mage-bridge train-lyrics``: a real subprocess trains a folder the lyric backend loads; bad corpora refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("transformers")
pytest.importorskip("torch")

from mage_bridge.analysis import analyze  # noqa: E402
from mage_bridge.api.training import train_lyrics  # noqa: E402
from mage_bridge.config import Config, LyricsConfig  # noqa: E402
from mage_bridge.errors import InvalidInputError, OutputExistsError  # noqa: E402
from mage_bridge.lyrics import REGISTRY, create_lyric_writer  # noqa: E402
from mage_bridge.lyrics.training import read_corpus  # noqa: E402
from tests.lyrics_tfm.tiny import corpus_lines, tiny_model  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=300, env=env, cwd=tmp)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 300 lines in 14 songs, a blank line between songs, some unicode."""
    path = tmp_path_factory.mktemp("corpus") / "songs.txt"
    lines = corpus_lines(14)
    lines[3] = "Café lights and the río at night"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_train_lyrics_writes_a_folder_the_lyric_backend_writes_with(tmp_path: Path, corpus: Path) -> None:
    p = _cli("train-lyrics", str(corpus), "--out", "model", "--max-steps", "4", "--epochs", "2", "--seed", "3",
             tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    folder = tmp_path / "model"
    assert p.stdout.strip() == str(folder)
    assert "tokenizer: byte-level BPE" in p.stderr and "step 4/4" in p.stderr and "loss" in p.stderr
    assert {"config.json", "model.safetensors", "tokenizer.json", "vocab.json", "merges.txt",
            "training.json"} <= {f.name for f in folder.iterdir()}
    assert [f.name for f in tmp_path.iterdir()] == ["model"]  # no staging folder left beside it
    assert {f.stat().st_mode & 0o777 for f in folder.iterdir()} == {0o666 & ~_umask()}  # readable like any result
    record = json.loads((folder / "training.json").read_text(encoding="utf-8"))
    songs = read_corpus(corpus)
    assert (record["steps"], record["seed"], record["base"]) == (4, 3, None)
    assert (record["songs"], record["lines"]) == (len(songs.songs), songs.lines) and songs.lines >= 250

    config = Config(data_dir=tmp_path, models_dir=tmp_path / "none", lyrics=LyricsConfig(model_dir=folder, tries=4))
    assert REGISTRY.resolve("auto", config) == "transformers"
    written = create_lyric_writer("auto", config).write(analyze("sad folk song about rain"), seed=1,
                                                        sections=[("verse", 4), ("chorus", 4)])
    assert written.backend == "transformers" and written.model == str(folder)
    assert written.text().startswith("[verse]\n") and "\n\n[chorus]\n" in written.text()
    assert [len(s.lines) for s in written.sections] == [2, 2]
    assert all(ln.text.strip() and ln.origin in ("model", "embedded") for s in written.sections for ln in s.lines)


def test_fine_tuning_keeps_the_base_tokenizer(tmp_path: Path, corpus: Path) -> None:
    base = tiny_model(tmp_path / "base")
    lines: list[str] = []
    out, result = train_lyrics(corpus, tmp_path / "tuned", base=base, max_steps=2, seed=1, report=lines.append)
    assert result.steps == 2 and not result.from_scratch and any("fine-tuning GPT2LMHeadModel" in ln for ln in lines)
    assert (out / "tokenizer.json").read_text(encoding="utf-8") == (base / "tokenizer.json").read_text(encoding="utf-8")
    assert json.loads((out / "training.json").read_text(encoding="utf-8"))["base"] == str(base)
    again, _ = train_lyrics(corpus, tmp_path / "again", base=base, max_steps=2, seed=1)
    assert (again / "model.safetensors").read_bytes() == (out / "model.safetensors").read_bytes()  # seeded


def test_a_failure_during_training_leaves_nothing(tmp_path: Path, corpus: Path) -> None:
    def interrupt(line: str) -> None:
        if line.startswith("step 1/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_lyrics(corpus, tmp_path / "model", base=tiny_model(tmp_path / "base"), max_steps=3, report=interrupt)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["base"]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="already holds files"):
        train_lyrics(corpus, tmp_path / "full", max_steps=1)
    with pytest.raises(InvalidInputError, match="base: .*lacks config.json"):
        (tmp_path / "empty").mkdir()
        train_lyrics(corpus, tmp_path / "out", base=tmp_path / "empty")
    with pytest.raises(InvalidInputError, match="max_steps must be an int >= 1, got 0"):
        train_lyrics(corpus, tmp_path / "out", max_steps=0)
    assert not (tmp_path / "out").exists() and (tmp_path / "full" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("content,message", [
    (None, "does not exist"),
    ("folder", "is not a file"),
    (b"", "holds no lyric lines"),
    (b"\n  \n\t\n", "holds no lyric lines"),
    (b"caf\xe9 au lait\n", r"is not UTF-8 text: byte 3 \(0xe9\)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "holds NUL bytes"),
], ids=["missing", "folder", "empty", "blank", "latin-1", "binary"])
def test_a_bad_corpus_is_refused_naming_the_file(tmp_path: Path, content: bytes | str | None, message: str) -> None:
    path = tmp_path / "corpus.txt"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=message) as e:
        train_lyrics(path, tmp_path / "model")
    assert str(path) in str(e.value) and not (tmp_path / "model").exists()


def test_the_command_reports_a_bad_corpus_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "songs.txt").write_bytes(b"\xff\xfe not utf-8")
    p = _cli("train-lyrics", "songs.txt", "--out", "model", tmp=tmp_path)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [
        "mage-bridge: error: corpus 'songs.txt' is not UTF-8 text: byte 0 (0xff) cannot be decoded"]
    assert sorted(f.name for f in tmp_path.iterdir()) == ["songs.txt"]
