"""Clips for the player: ids to manifests, what a manifest gives, preparation to the live tempo, and the
player's refusals before any device is touched."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mage_bridge.config import LiveConfig, load_config
from mage_bridge.errors import ClipNotFoundError, InvalidInputError
from mage_bridge.library import Library
from mage_bridge.live.clips import FolderClipSource, LibraryFirst, clip_ids, read_clip
from mage_bridge.live.clock import PPQN, ClockFollower, TickTempo
from mage_bridge.live.player import Player
from mage_bridge.live.prepare import body_frames, prepare
from tests.live.synth import RATE, beat_frames, impulses, write_clip

BEAT = beat_frames(120.0)
BAR = 4 * BEAT


def test_folder_source_finds_ids_in_its_roots_in_order(tmp_path: Path) -> None:
    write_clip(tmp_path / "one", "a", {"drums": impulses(BAR, BAR)}, bpm=120.0)
    write_clip(tmp_path / "two", "a", {"drums": impulses(BAR, BAR)}, bpm=100.0)
    write_clip(tmp_path / "two", "b", {"drums": impulses(BAR, BAR)}, bpm=100.0)
    source = FolderClipSource(tmp_path / "one", tmp_path / "two")
    assert source.manifest_path("a") == tmp_path / "one" / "a" / "manifest.json"
    assert source.manifest_path("b").parent.parent == tmp_path / "two"
    with pytest.raises(ClipNotFoundError, match="no clip 'c'"):
        source.manifest_path("c")
    for bad in ("../a", ".hidden", "", "a/b", "x" * 129):
        with pytest.raises(InvalidInputError, match="clip id"):
            source.manifest_path(bad)


def test_library_clips_are_found_by_id_before_the_folders(tmp_path: Path) -> None:
    config = load_config(data_dir=str(tmp_path / "data"))
    made = write_clip(tmp_path / "made", "job1", {"drums": impulses(BAR, BAR)}, bpm=120.0)
    with Library.open(config) as library:
        clip = library.register(made)
        assert clip is not None
    write_clip(tmp_path / "folder", "loop", {"drums": impulses(BAR, BAR)}, bpm=120.0)
    source = LibraryFirst(config, FolderClipSource(tmp_path / "folder"))
    assert source.manifest_path(clip.id) == made and source.manifest_path(clip.id[:6]) == made
    assert source.manifest_path("loop") == tmp_path / "folder" / "loop" / "manifest.json"
    with Library.open(config) as library:
        library.delete(clip.id)
    with pytest.raises(ClipNotFoundError, match=f"no clip {clip.id!r}"):
        source.manifest_path(clip.id)


def test_the_body_is_the_whole_bars_after_the_lead_in(tmp_path: Path) -> None:
    # 1 bar of lead-in, 2 of body, 0.7 s of lead-out at 120 BPM in 3/4 (a bar is 1.5 s)
    frames = int((1.5 * 3 + 0.7) * RATE)
    path = write_clip(tmp_path, "waltz", {"bass": np.zeros((2, frames), np.float32)}, bpm=120.0, metre=(3, 4),
                      lead_in_s=1.5, lead_out_s=0.7)
    info = read_clip("waltz", path)
    assert (info.bpm, info.time_signature, info.body_start_s, info.body_beats) == (120.0, (3, 4), 1.5, 6.0)
    assert info.stems == {"bass": (tmp_path / "waltz" / "bass.wav").resolve()}


@pytest.mark.parametrize("change,match", [
    (lambda m: m.update(stems={}), "lists no stems"),
    (lambda m: m.update(stems={"drums": "../../etc/passwd"}), "leaves the clip's folder"),
    (lambda m: (m["requested"].pop("bpm"), m.pop("measured", None)), "has no tempo"),
    (lambda m: m.update(schema="something/else"), "not a MAGE manifest"),
], ids=["no-stems", "stem-escapes", "no-tempo", "schema"])
def test_a_manifest_the_player_cannot_use_is_named(tmp_path: Path, change, match: str) -> None:
    path = write_clip(tmp_path, "x", {"drums": impulses(BAR, BAR)}, bpm=120.0)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match=match):
        read_clip("x", path)


def test_preparing_stretches_the_body_to_the_live_tempo_to_the_frame(tmp_path: Path) -> None:
    path = write_clip(tmp_path, "clicks", {"drums": impulses(BAR, BEAT, amplitude=0.8)}, bpm=120.0)
    clip = prepare(read_clip("clicks", path), bpm=100.0, sample_rate=RATE, muted={"drums"})
    assert clip.frames == body_frames(4.0, 100.0, RATE) == 4 * 28800 and clip.stems[0].shape == (clip.frames, 2)
    env = np.abs(clip.stems[0][:, 0])
    onsets = [int(np.argmax(env[k * 28800 - 2000:k * 28800 + 2000])) + k * 28800 - 2000 for k in range(1, 4)]
    assert all(abs(o - k * 28800) < 600 for o, k in zip(onsets, (1, 2, 3))), onsets  # the beats moved with the tempo
    assert clip.stem_gains[0] == 0.0  # the clip's mutes come with it


def test_the_player_refuses_before_touching_a_device(tmp_path: Path) -> None:
    write_clip(tmp_path, "a", {"drums": impulses(BAR, BAR)}, bpm=120.0)
    p = Player(LiveConfig(device="no-such-device", clock="midi"), FolderClipSource(tmp_path))
    with pytest.raises(ClipNotFoundError):
        p.set_order(["a", "missing"])
    p.set_order(["a"])
    with pytest.raises(InvalidInputError, match="has stems drums; got 'vocals'"):
        p.mute("a", "vocals", True)
    with pytest.raises(InvalidInputError, match="follows incoming MIDI clock"):
        p.set_tempo(100.0)
    with pytest.raises(InvalidInputError, match="slot must be from 1 to 1"):
        p.launch_slot(2)
    with pytest.raises(InvalidInputError, match="crossfade"):
        p.set_crossfade(100.0)
    p.stop()  # nothing is open: nothing to stop, no device opened
    assert not p.is_open and p.status()["order"] == ["a"]
    with pytest.raises(InvalidInputError, match="live.clock"):
        Player(LiveConfig(clock="sundial"), FolderClipSource(tmp_path))
    assert clip_ids('["a", "b"]') == ["a", "b"]
    with pytest.raises(InvalidInputError):
        clip_ids('{"a": 1}')


class Sink:
    def __init__(self) -> None:
        self.syncs: list[tuple[float, float, float]] = []
        self.holds: list[tuple[bool, float | None]] = []

    def clock_sync(self, beat: float, when: float, bpm: float) -> None:
        self.syncs.append((beat, when, bpm))

    def clock_hold(self, hold: bool, beat: float | None = None) -> None:
        self.holds.append((hold, beat))


def test_midi_clock_ticks_give_tempo_and_beat_through_jitter(rng: np.random.Generator) -> None:
    sink = Sink()
    follower = ClockFollower(sink, bpm=90.0)
    follower.message([0xF8], 0.0)  # ticks before a start move nothing
    follower.message([0xFA], 0.0)
    tick_s = 60.0 / (128.0 * PPQN)
    for k in range(2 * PPQN):  # two beats at 128 BPM, each tick up to 2 ms late
        follower.message([0xF8], 10.0 + k * tick_s + rng.uniform(0, 0.002))
    beat, when, bpm = sink.syncs[-1]
    assert sink.holds == [(False, 0.0)] and beat == (2 * PPQN - 1) / PPQN and bpm == pytest.approx(128.0, abs=0.5)
    assert when == pytest.approx(10.0 + (2 * PPQN - 1) * tick_s + 0.001, abs=0.0015)
    follower.message([0xFC], 11.0)
    follower.message([0xF2, 16, 0], 11.0)  # song position: 16 sixteenths = bar 2
    follower.message([0xFB], 11.0)
    assert sink.holds[-2:] == [(True, None), (False, 4.0)]


def test_tick_tempo_follows_a_change_within_two_beats() -> None:
    tempo = TickTempo(bpm=120.0)
    tempo.start()
    t = 0.0
    for _ in range(4 * PPQN):
        tempo.tick(t)
        t += 60.0 / (120.0 * PPQN)
    for _ in range(2 * PPQN):
        _, _, bpm = tempo.tick(t)
        t += 60.0 / (140.0 * PPQN)
    assert bpm == pytest.approx(140.0, abs=0.5)
