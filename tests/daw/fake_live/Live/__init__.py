"""A fake of the part of Live's Object Model the MAGE Bridge remote script uses.

Signatures follow the Live Object Model documentation: ``Song.create_audio_track(index)``,
``Song.create_midi_track(index)``, ``Song.delete_track(index)``, ``Song.get_data(key, default_value)``,
``Song.set_data(key, value)``, ``Song.add_tempo_listener(listener)`` and the other listener methods,
``Track.create_audio_clip(file_path, position)`` and ``Track.create_midi_clip(start_time, length)`` (Arrangement,
positions in beats), ``ClipSlot.create_audio_clip(path)`` and ``ClipSlot.create_clip(length)`` (Session),
``Clip.add_new_notes(notes)`` with ``Clip.MidiNoteSpecification``, ``Clip.warping``, ``Song.is_playing``,
``Song.cue_points`` (``CuePoint.name`` get/set, ``CuePoint.time`` read-only), ``Song.set_or_delete_cue()``,
``Song.is_cue_point_selected()``, ``Application.get_major_version()`` and friends. No listener may change the set
(``_listeners``).

:func:`configure` sets the Live version; methods are present only in the versions that have them:
``create_audio_clip`` from 12.0.5 (and 11.3.25 in Live 11), ``Track.create_midi_clip`` from 12.2 (Live 12.2
release notes), ``Clip.add_new_notes`` and ``MidiNoteSpecification`` from 11.0.
"""

from __future__ import annotations

from . import Application, Clip, ClipSlot, Song, Track

__all__ = ["Application", "Clip", "ClipSlot", "Song", "Track", "configure"]

_MIDI_NOTE_SPECIFICATION = Clip.MidiNoteSpecification


def _gate(cls: type, name: str, method: object, present: bool) -> None:
    if present:
        setattr(cls, name, method)
    elif name in cls.__dict__:
        delattr(cls, name)


def configure(version: tuple[int, int, int] = (12, 1, 0)) -> None:
    """Pretend to be this Live version: the app reports it, and methods exist only where Live has them."""
    version = tuple(version)
    Application.VERSION = version
    audio_clips = version >= (12, 0, 5) or (11, 3, 25) <= version < (12, 0, 0)
    _gate(Track.Track, "create_audio_clip", Track.Track._create_audio_clip, audio_clips)
    _gate(ClipSlot.ClipSlot, "create_audio_clip", ClipSlot.ClipSlot._create_audio_clip, audio_clips)
    _gate(Track.Track, "create_midi_clip", Track.Track._create_midi_clip, version >= (12, 2, 0))
    notes = version >= (11, 0, 0)
    _gate(Clip.Clip, "add_new_notes", Clip.Clip._add_new_notes, notes)
    if notes:
        Clip.MidiNoteSpecification = _MIDI_NOTE_SPECIFICATION
    elif hasattr(Clip, "MidiNoteSpecification"):
        del Clip.MidiNoteSpecification


configure()
