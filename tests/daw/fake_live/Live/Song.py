"""``Live.Song.Song``: the Live set — tracks, scenes, tempo, metre, song time, undo steps."""

from __future__ import annotations

from .Track import Track


class Scene:
    pass


class SongView:
    def __init__(self, song: Song) -> None:
        self.selected_scene = song.scenes[0]


class Song:
    def __init__(self, *, tempo: float = 120.0, numerator: int = 4, denominator: int = 4,
                 song_time_beats: float = 0.0, n_scenes: int = 8) -> None:
        self.tempo = tempo
        self.signature_numerator = numerator
        self.signature_denominator = denominator
        self.current_song_time = song_time_beats
        self.scenes = [Scene() for _ in range(n_scenes)]
        self.tracks: list[Track] = []
        self.view = SongView(self)
        self.undo_steps: list[str] = []  # "begin" / "end", in order
        self.created: list[int] = []
        self.deleted: list[int] = []

    def create_audio_track(self, index: int = -1) -> None:
        """Insert an audio track at ``index`` (-1: at the end)."""
        if index == -1:
            index = len(self.tracks)
        if not 0 <= index <= len(self.tracks):
            raise IndexError(f"track index {index} out of range")
        self.tracks.insert(index, Track(self, len(self.scenes)))
        self.created.append(index)

    def delete_track(self, index: int) -> None:
        del self.tracks[index]
        self.deleted.append(index)

    def begin_undo_step(self) -> None:
        self.undo_steps.append("begin")

    def end_undo_step(self) -> None:
        self.undo_steps.append("end")
