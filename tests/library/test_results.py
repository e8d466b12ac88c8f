"""Real jobs record their clips: generate, then separate and master its mix, each with its lineage."""

from __future__ import annotations

from pathlib import Path

from mage_bridge import api
from mage_bridge.config import load_config
from mage_bridge.library import Library, Query, search


def test_generate_separate_and_master_are_recorded_with_their_lineage(tmp_path: Path) -> None:
    config = load_config(data_dir=str(tmp_path / "data"))
    made = api.generate("deep house groove at 124 BPM in A minor", tmp_path / "house", seed=3,
                        options={"duration_s": 8.0}, config=config)
    stems = api.separate(made.parent / "mix.wav", tmp_path / "stems", backend="dsp", config=config)
    mastered = api.master(made.parent / "mix.wav", tmp_path / "house.flac", config=config)
    with Library.open(config) as library:
        page = search(library, Query.build(bpm="120-128", key="A minor"))
        by_kind = {c.kind: c for c in page.clips}
    assert set(by_kind) == {"generate", "separate", "master"}
    clip = by_kind["generate"]
    assert clip.manifest_path == made and clip.requested_bpm == 124.0 and clip.measured_bpm is not None
    assert clip.genre == "deep house" and clip.seed == 3 and clip.backend == "procedural"
    assert all((clip.folder / f).is_file() for f in clip.files)
    assert by_kind["separate"].manifest_path == stems
    assert by_kind["separate"].lineage() == {"separated_from": clip.id}
    assert set(by_kind["separate"].stems) == {"vocals", "drums", "bass", "other"}
    assert by_kind["master"].manifest_path == mastered
    assert by_kind["master"].lineage() == {"mastered_from": clip.id}
    assert by_kind["master"].audio_path == tmp_path / "house.flac"
