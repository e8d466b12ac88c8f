"""The clip library at 10 000 clips: a tempo + key + words search against a full scan, in the same run.

Run: ``.venv/bin/python benchmarks/library.py [--clips 10000] [--runs 25]``.

Builds a library of ``--clips`` results in a temporary folder, each registered from its own
``manifest.json`` as a finished job registers it (prompts like "dark deep house groove at 124 BPM",
tempos 70-175 BPM, the 24 keys, a few tags), then times, median of ``--runs``:

- **search**: ``library search deep --bpm 120-128 --key "A minor" --compatible`` as the library runs it
  (the partial index on Camelot code and tempo, FTS5 for the word, the page and the count of all matches);
- **full scan, SQL**: the same question with every row read (``NOT INDEXED``, ``LIKE`` for the word);
- **full scan, Python**: every row read into a :class:`~mage_bridge.library.Clip` and filtered in Python, what
  a folder of manifests or a list in memory would do.

All three must find the same clips (checked). The goal is a search under 50 ms at 10 000 clips; the ratios
say what the indexes buy on this machine. Also timed: the word alone (a tenth of the library matches),
the newest page of ``library list``, and opening the library (what each job does to record its result).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mage_bridge import manifest  # noqa: E402
from mage_bridge.library import Library, Query, parse_key, search  # noqa: E402
from mage_bridge.library.records import clip_from_row  # noqa: E402

GOAL_MS = 50.0
GENRES = ("deep house", "techno", "disco", "trap", "ambient", "drum and bass", "boom bap", "jazz", "lo-fi hip hop")
MOODS = ("dark", "warm", "late night", "dreamy", "uplifting", "gritty", "melancholic", "playful")
TONICS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
TAGS = ("keeper", "drums", "vocal", "loop", "demo", "set-opener", "b-side")


def _manifest(i: int, rng: random.Random) -> dict[str, object]:
    genre, mood = rng.choice(GENRES), rng.choice(MOODS)
    bpm = float(rng.randint(70, 175))
    tonic, mode = rng.choice(TONICS), rng.choice(("major", "minor"))
    prompt = f"{mood} {genre} groove at {bpm:g} BPM in {tonic} {mode}"
    return {
        "schema": manifest.SCHEMA, "job_id": f"bench{i:07d}", "kind": "generate",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(1.7e9 + i * 60)),
        "request": {"prompt": prompt, "seed": i, "options": {}},
        "analysis": {"prompt": prompt, "genre": genre, "bpm": bpm, "key": tonic, "mode": mode,
                     "time_signature": [4, 4]},
        "backend": {"name": "procedural", "seed": i, "lead_in_s": 2.0, "lead_out_s": 2.9},
        "requested": {"bpm": bpm, "key": tonic, "mode": mode, "time_signature": [4, 4]},
        "measured": {"bpm": bpm + rng.uniform(-0.3, 0.3), "tempo_confidence": 0.4, "key": tonic, "mode": mode,
                     "key_confidence": 0.8, "loudness_lufs": -16.0, "true_peak_dbtp": -1.2, "tempo_off": False},
        "sample_rate": 48000, "channels": 2, "frames": 1536000, "duration_s": 32.0,
        "stems": {"drums": "drums.wav", "bass": "bass.wav", "other": "other.wav"}, "mix": "mix.wav",
        "midi": {"file": "parts.mid", "parts": []}, "lyrics": None, "lineage": {"parent": None},
    }


def build(root: Path, clips: int) -> tuple[Library, float]:
    """``clips`` results written and registered one by one; returns the library and seconds per registration."""
    rng = random.Random(0)
    paths = []
    for i in range(clips):
        folder = root / "results" / f"{i:05d}"
        folder.mkdir(parents=True)
        (folder / manifest.FILENAME).write_text(json.dumps(_manifest(i, rng)))
        paths.append(folder / manifest.FILENAME)
    library = Library(root / "library")
    start = time.perf_counter()
    for i, path in enumerate(paths):
        clip = library.register(path)
        if clip is not None and i % 9 == 0:
            library.tag(clip.id, [rng.choice(TAGS)])
    return library, (time.perf_counter() - start) / clips


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()

    word, low, high, key = "deep", 120.0, 128.0, parse_key("A minor")
    query = Query.build(text=word, bpm=(low, high), key=key, compatible=True, limit=50)
    codes = [k.camelot for k in key.compatible()]

    def indexed() -> set[str]:
        return {c.id for c in search(library, query).clips}

    def sql_scan() -> set[str]:
        rows = library.db.execute(
            "SELECT * FROM clips NOT INDEXED WHERE deleted IS NULL AND bpm BETWEEN ? AND ? AND camelot IN "
            f"({', '.join('?' for _ in codes)}) AND (title LIKE ? OR prompt LIKE ? OR genre LIKE ? OR tags LIKE ? "
            "OR lyrics LIKE ?) ORDER BY created DESC LIMIT 50",
            (low, high, *codes, *[f"%{word}%"] * 5)).fetchall()
        return {r["id"] for r in rows}

    def python_scan() -> set[str]:
        found = []
        for row in library.db.execute("SELECT * FROM clips WHERE deleted IS NULL").fetchall():
            clip = clip_from_row(row, library.root)
            text = " ".join(filter(None, (clip.title, clip.prompt, clip.genre, " ".join(clip.tags), clip.lyrics)))
            if (clip.bpm is not None and low <= clip.bpm <= high and clip.camelot in codes
                    and any(w.startswith(word) for w in text.lower().split())):
                found.append(clip)
        found.sort(key=lambda c: -c.created)
        return {c.id for c in found[:50]}

    with tempfile.TemporaryDirectory(prefix="mage-library-bench-") as tmp:
        start = time.perf_counter()
        library, per_register = build(Path(tmp), args.clips)
        built_s = time.perf_counter() - start
        with library:
            expected = indexed()
            assert expected and sql_scan() == expected == python_scan(), "the three disagree"
            matches = search(library, query).total
            search_ms = median_ms(indexed, args.runs)
            sql_ms = median_ms(sql_scan, args.runs)
            python_ms = median_ms(python_scan, max(3, args.runs // 5))
            broad = Query.build(text=word, limit=50)
            broad_matches = search(library, broad).total
            broad_ms = median_ms(lambda: search(library, broad), args.runs)
            newest_ms = median_ms(lambda: library.list(limit=50), args.runs)
            open_ms = median_ms(lambda: Library(library.root).close(), args.runs)
            size_mb = library.path.stat().st_size / 1e6

    print(f"library: {args.clips} clips ({size_mb:.1f} MB), built in {built_s:.1f} s; "
          f"one registration {1000 * per_register:.2f} ms (manifest read + one transaction)")
    print(f'query: "{word}" --bpm {low:g}-{high:g} --key "A minor" --compatible -> {matches} clips; '
          f"median of {args.runs} runs")
    verdict = "met" if search_ms < GOAL_MS else "NOT met"
    rows = [("search (FTS5 + indexes)", search_ms, f"goal < {GOAL_MS:g} ms: {verdict}"),
            ("full scan, SQL (LIKE)", sql_ms, f"search is {sql_ms / search_ms:5.1f}x as fast"),
            ("full scan, Python", python_ms, f"search is {python_ms / search_ms:5.1f}x as fast"),
            (f'the word alone ("{word}")', broad_ms, f"{broad_matches} match: count them, sort, page 50"),
            ("list, newest 50", newest_ms, ""),
            ("open the library", open_ms, "connect, WAL, schema version check")]
    for label, ms, note in rows:
        print(f"  {label:<28}{ms:8.2f} ms   {note}")

if __name__ == "__main__":
    main()
