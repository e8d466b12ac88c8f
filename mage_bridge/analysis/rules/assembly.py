"""A :class:`PromptAnalysis` from a :class:`Reading`: what the prompt left out filled in, every source recorded.

What the prompt states wins; then what the genre table says for the genre;
then global defaults. A genre inferred from the band and mood (a film cue is
cinematic) has the source ``"instruments"``. Each field's ``sources`` entry says which ("prompt",
"genre", "mood", "default", or the embedding backend's guess), so a DAW and a
user can see why a clip is in the key it is in.
"""

from __future__ import annotations

from mage_bridge import genres as genre_table
from mage_bridge.analysis.result import PromptAnalysis
from mage_bridge.analysis.rules.instrument_words import VOCALS, resolve_generic
from mage_bridge.analysis.rules.mood_words import mode_from_moods
from mage_bridge.analysis.rules.reading import Reading
from mage_bridge.analysis.rules.tempo import tempo_from_word
from mage_bridge.music import key_name, pitch_class

#: Genre used when nothing in the prompt names or suggests one.
FALLBACK_GENRE = "pop"

#: The tonic each genre is most often written in, in the genre's usual mode.
_DEFAULT_TONIC: dict[str, str] = {
    "lofi": "D", "boom bap": "D", "hip hop": "C#", "trap": "C#", "drill": "F#", "phonk": "G",
    "house": "A", "deep house": "A", "tech house": "G", "techno": "F", "trance": "A", "edm": "F",
    "dubstep": "F", "drum and bass": "F", "jungle": "G", "uk garage": "G", "breakbeat": "E",
    "synthwave": "A", "disco": "A", "ambient": "D", "chillout": "E", "chiptune": "C",
    "pop": "C", "indie": "G", "rock": "E", "grunge": "E", "metal": "E", "punk": "A", "blues": "E",
    "jazz": "Bb", "r&b": "F", "soul": "F", "funk": "E", "gospel": "Ab", "reggae": "G", "reggaeton": "A",
    "latin": "A", "bossa nova": "F", "afrobeats": "G", "country": "G", "folk": "G", "waltz": "F",
    "classical": "C", "cinematic": "D", "lullaby": "C",
}


def default_key(genre: genre_table.Genre | None, mode: str) -> str:
    """A conventional tonic for ``genre`` in ``mode``: its usual key, or the relative of it."""
    if genre is None:
        return "A" if mode == "minor" else "C"
    pc = pitch_class(_DEFAULT_TONIC.get(genre.name, "A" if genre.mode == "minor" else "C"))
    if mode != genre.mode:
        pc = (pc + 3) % 12 if mode == "major" else (pc - 3) % 12
    return key_name(pc, mode)


def assemble(
    reading: Reading,
    *,
    backend: str,
    lyrics: str | None = None,
    genre: str | None = None,
    genre_source: str = "prompt",
    genres: tuple[str, ...] | None = None,
    moods: tuple[str, ...] | None = None,
    mood_source: str = "prompt",
    warnings: tuple[str, ...] = (),
) -> PromptAnalysis:
    """Fill what ``reading`` left out (genre defaults, then global ones) and record the sources.

    ``genre``/``moods`` override the reading's (the embedding backend's guesses).
    """
    sources: dict[str, str] = {}
    notes = list(reading.warnings) + list(warnings)
    name = genre if genre is not None else reading.genre
    if name is None:
        name, genre_source = FALLBACK_GENRE, "default"
        notes.append(f"no genre recognised in the prompt; using {FALLBACK_GENRE!r}")
    elif genre is None:
        genre_source = reading.genre_source
    sources["genre"] = genre_source
    g = genre_table.find(name)
    family_source = "genre" if genre_source == "prompt" else genre_source

    mood = tuple(moods) if moods is not None else reading.moods
    sources["mood"] = (mood_source if moods is not None else "prompt") if mood else "default"

    if reading.bpm is not None:
        bpm, sources["bpm"] = float(reading.bpm), "prompt"
    elif reading.tempo_word is not None and g is not None:
        bpm, sources["bpm"] = tempo_from_word(reading.tempo_word, g), "prompt"
    elif g is not None:
        bpm, sources["bpm"] = float(g.default_bpm), family_source
    else:
        bpm, sources["bpm"] = 110.0, "default"

    mood_mode = mode_from_moods(mood)
    if reading.mode is not None:
        mode, sources["mode"] = reading.mode, "prompt"
    elif mood_mode is not None:
        mode, sources["mode"] = mood_mode, "mood"
    elif g is not None:
        mode, sources["mode"] = g.mode, family_source
    else:
        mode, sources["mode"] = "major", "default"

    if reading.tonic is not None:
        key, sources["key"] = reading.tonic, "prompt"
    else:
        key, sources["key"] = default_key(g, mode), (family_source if g is not None else "default")

    if reading.time_signature is not None:
        metre, sources["time_signature"] = reading.time_signature, "prompt"
    elif g is not None:
        metre, sources["time_signature"] = g.time_signature, family_source
    else:
        metre, sources["time_signature"] = (4, 4), "default"

    if reading.swing is not None:
        swing = max(reading.swing, g.swing) if (g is not None and reading.swing > 0) else reading.swing
        sources["swing"] = "prompt"
    elif g is not None:
        swing, sources["swing"] = g.swing, family_source
    else:
        swing, sources["swing"] = 0.0, "default"

    excluded = tuple(dict.fromkeys(resolve_generic(n, g) for n in reading.excluded))
    wanted_list: list[str] = []
    for raw in reading.instruments:  # once each, unless the reading names a player twice (two violins)
        player = resolve_generic(raw, g)
        if player not in excluded and wanted_list.count(player) < max(1, reading.instruments.count(raw)):
            wanted_list.append(player)
    wanted = tuple(wanted_list)
    sources["instruments"] = "prompt" if wanted else "default"
    exclusive = reading.exclusive and bool(wanted)
    if exclusive:
        sources["exclusive"] = "prompt"
    if reading.duration_s is not None:
        sources["duration_s"] = "prompt"

    lyrics_given = bool(lyrics and lyrics.strip())
    if lyrics_given:
        vocals, sources["vocals"] = True, "lyrics"
        if reading.vocals is False:
            notes.append("the prompt asks for an instrumental but lyrics were given; the lyrics win")
            excluded = tuple(n for n in excluded if n != VOCALS)
    elif reading.vocals is not None:
        vocals, sources["vocals"] = reading.vocals, "prompt"
    else:
        vocals, sources["vocals"] = False, "default"

    all_genres = genres if genres is not None else (reading.genres or (name,))
    if name not in all_genres:
        all_genres = (name, *all_genres)
    if reading.feel:
        sources["feel"] = "prompt"
    return PromptAnalysis(
        prompt=reading.prompt, genre=name, bpm=bpm, key=key, mode=mode,  # type: ignore[arg-type]
        time_signature=metre, genres=tuple(all_genres), swing=float(swing), mood=mood,
        instruments=wanted, exclude_instruments=excluded, vocals=vocals, sources=sources,
        warnings=tuple(dict.fromkeys(notes)), backend=backend, feel=reading.feel,
        duration_s=reading.duration_s, exclusive=exclusive,
        scale=reading.scale if reading.mode == mode else "",
    )
