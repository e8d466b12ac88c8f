"""A fake of the part of Live's Object Model the MAGE Bridge remote script uses.

Signatures follow the Live Object Model documentation: ``Song.create_audio_track(index)``,
``Song.delete_track(index)``, ``Track.create_audio_clip(file_path, position)`` (Arrangement, position in
beats), ``ClipSlot.create_audio_clip(path)`` (Session), ``Application.get_major_version()`` and friends.
:func:`configure` sets the Live version; before 12.0.5 (and 11.3.25) the ``create_audio_clip`` methods are
absent, as in those Live versions.
"""

from __future__ import annotations

from . import Application, Clip, ClipSlot, Song, Track

__all__ = ["Application", "Clip", "ClipSlot", "Song", "Track", "configure"]


def configure(version: tuple[int, int, int] = (12, 1, 0)) -> None:
    """Pretend to be this Live version: the app reports it, and the clip methods exist only where Live has them."""
    Application.VERSION = tuple(version)
    supported = version >= (12, 0, 5) or (11, 3, 25) <= version < (12, 0, 0)
    for cls, method in ((Track.Track, Track.Track._create_audio_clip),
                        (ClipSlot.ClipSlot, ClipSlot.ClipSlot._create_audio_clip)):
        if supported:
            cls.create_audio_clip = method
        elif "create_audio_clip" in cls.__dict__:
            del cls.create_audio_clip


configure()
