"""``mage-bridge lyrics`` and ``generate --lyrics``: real subprocesses, stdin, files and folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.api_lyrics.lrc import read_lrc

REPO = Path(__file__).resolve().parents[2]
SONG = "[verse]\nCafé lights on a Tuesday\n\nwe were never in a hurry\n"


def _cli(*args: str, tmp: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGE_")}
    env.update(XDG_CONFIG_HOME=str(tmp / "xdg"), MAGE_DATA_DIR=str(tmp / "data"), PYTHONPATH=str(REPO),
               PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "mage_bridge.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=300, env=env, cwd=tmp, input=stdin)


def test_lyrics_is_a_filter_from_stdin_to_stdout(tmp_path: Path) -> None:
    p = _cli("lyrics", "bossa nova with female vocals", "--lyrics", "-", "--seed", "3", tmp=tmp_path, stdin=SONG)
    assert p.returncode == 0, p.stderr
    # the user's lines verbatim; the block after the blank line keeps its [verse] tag
    assert [ln for ln in p.stdout.splitlines() if ln] == ["[verse]", "Café lights on a Tuesday",
                                                          "[verse]", "we were never in a hurry"]
    assert "replace lyrics" in p.stderr and list(tmp_path.iterdir()) == []  # nothing written
    as_json = _cli("lyrics", "bossa nova", "--lyrics-file", "-", "--mode", "append", "--seed", "3", "--json",
                   tmp=tmp_path, stdin=SONG)
    assert as_json.returncode == 0, as_json.stderr
    record = json.loads(as_json.stdout)
    assert record["mode"] == "append" and record["text"].count("\n") > SONG.count("\n")
    assert record["syllables"] and all(s["start"] >= record["grid"]["lead_in_s"] - 1e-6 for s in record["syllables"])
    same = _cli("lyrics", "bossa nova", "--lyrics-file", "-", "--mode", "append", "--seed", "3", "--json",
                tmp=tmp_path, stdin=SONG)
    assert json.loads(same.stdout) == record


def test_lyrics_out_writes_the_folder(tmp_path: Path) -> None:
    (tmp_path / "song.txt").write_text(SONG, encoding="utf-8")
    p = _cli("lyrics", "bossa nova", "--lyrics-file", "song.txt", "--bars", "12", "-o", "words", tmp=tmp_path)
    assert p.returncode == 0, p.stderr
    path = Path(p.stdout.strip())
    assert path == tmp_path / "words" / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    assert m["kind"] == "lyrics" and m["bars"] == 12 and m["lyrics"]["mode"] == "replace"
    assert [t for _, t in read_lrc(path.parent / "lyrics.lrc") if t] == ["Café lights on a Tuesday",
                                                                          "we were never in a hurry"]
    again = _cli("lyrics", "bossa nova", "-o", "words", tmp=tmp_path)  # the folder is taken
    assert again.returncode == 1 and "already holds files" in again.stderr


def test_lyrics_refusals_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "song.txt").write_text(SONG, encoding="utf-8")
    cases = [
        (["lyrics", "pop", "--mode", "sing"], 1, "lyrics_mode must be one of generate, replace, append"),
        (["lyrics", "pop", "--mode", "replace", "-o", "a"], 1, "needs the user's lyrics"),
        (["lyrics", "pop", "--lyrics", "song.txt", "-o", "b"], 1, "use --lyrics-file song.txt"),
        (["lyrics", "pop", "--lyrics-file", "missing.txt", "-o", "c"], 1, "cannot read --lyrics-file"),
        (["lyrics", "pop", "--lyrics", "-", "--duration", "8", "-o", "d"], 1, "lines fit"),
    ]
    for args, code, words in cases:
        p = _cli(*args, tmp=tmp_path, stdin="\n".join(["a long line that goes on and on"] * 80))
        assert p.returncode == code and words in p.stderr, (args, p.stderr)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["song.txt"]


def test_generate_takes_lyrics_from_stdin_and_keeps_taking_text(tmp_path: Path) -> None:
    p = _cli("generate", "soul ballad at 80 BPM", "-o", "clip", "--lyrics-file", "-", "--seed", "2",
             "--duration", "20", "--backend", "procedural", tmp=tmp_path, stdin=SONG)
    assert p.returncode == 0, p.stderr
    m = json.loads((tmp_path / "clip" / "manifest.json").read_text(encoding="utf-8"))
    assert m["request"]["lyrics"] == SONG and m["lyrics"]["mode"] == "replace"
    assert (tmp_path / "clip" / "lyrics.lrc").is_file() and (tmp_path / "clip" / "drums.wav").is_file()
    assert "syllables timed" in p.stderr
    text = _cli("generate", "soul ballad at 80 BPM", "-o", "clip2", "--lyrics", "Only one line to sing",
                "--seed", "2", "--duration", "12", "--backend", "procedural", "--json", tmp=tmp_path)
    assert text.returncode == 0, text.stderr
    assert json.loads(text.stdout)["lyrics"]["text"] == "[verse]\nOnly one line to sing"
