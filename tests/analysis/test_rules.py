"""The rule pieces one at a time, then whole prompts through the rules backend."""

from __future__ import annotations

import pytest

from mage_bridge.analysis.rules import (
    RulesAnalyzer,
    choose_primary,
    find_genres,
    find_instruments,
    find_moods,
    parse_bpm,
    parse_feel,
    parse_key,
    parse_swing,
    parse_tempo_word,
    parse_time_signature,
)
from mage_bridge.music import pitch_class


@pytest.mark.parametrize("text, bpm", [
    ("122 bpm", 122), ("122bpm", 122), ("122 BPM".lower(), 122), ("at 90", 90), ("tempo 140", 140),
    ("tempo of around 95", 95), ("bpm: 128", 128), ("@ 174", 174), ("120-125 bpm", 122.5), ("125 to 120 bpm", 122.5),
    ("between 128 and 132 bpm", 130), ("97.5 bpm", 97.5), ("100 beats per minute", 100), ("bpm=100", 100),
    ("~ 93 bpm", 93),
], ids=lambda v: str(v))
def test_bpm_is_read(text: str, bpm: float) -> None:
    assert parse_bpm(text)[0] == pytest.approx(bpm)


@pytest.mark.parametrize("text", [
    "90s hip hop", "808 drums", "at 3am", "at 1000 feet", "a track 3 minutes long", "at 50%", "24/7 radio",
], ids=lambda v: v)
def test_numbers_that_are_not_tempi(text: str) -> None:
    assert parse_bpm(text)[0] is None


def test_several_tempi_keep_the_first_and_warn() -> None:
    bpm, _, warnings = parse_bpm("start at 120 bpm then 140 bpm")
    assert bpm == 120 and warnings and "140" in warnings[0]


@pytest.mark.parametrize("text, word", [
    ("a slow jam", "slow"), ("very slow and dreamy", "very slow"), ("mid-tempo groove", "mid"),
    ("medium tempo", "mid"), ("fast and loud", "fast"), ("uptempo", "fast"), ("up-tempo", "fast"),
    ("nothing said", None),
], ids=lambda v: str(v))
def test_tempo_words(text: str, word: str | None) -> None:
    assert parse_tempo_word(text) == word


@pytest.mark.parametrize("text, feel", [("half-time dnb", "halftime"), ("halftime", "halftime"),
                                        ("double time", "doubletime"), ("straight", "")], ids=lambda v: str(v))
def test_feel(text: str, feel: str) -> None:
    assert parse_feel(text) == feel


@pytest.mark.parametrize("text, tonic, mode", [
    ("in C", "C", None), ("C# minor", "C#", "minor"), ("Db major", "Db", "major"), ("F# minor", "F#", "minor"),
    ("Am", "A", "minor"), ("A min", "A", "minor"), ("Gmin", "G", "minor"), ("Cmaj", "C", "major"),
    ("in the key of D", "D", None), ("Bb major", "Bb", "major"), ("E♭", "Eb", None), ("E♭ minor", "Eb", "minor"),
    ("F sharp minor", "F#", "minor"), ("B flat major", "Bb", "major"), ("E-flat major", "Eb", "major"),
    ("g minor", "G", "minor"), ("key: F#m", "F#", "minor"), ("in a minor", "A", "minor"),
    ("in the key of a minor", "A", "minor"), ("minor key", None, "minor"), ("in a minor key", None, "minor"),
    ("a sad minor ballad", None, "minor"), ("in major", None, "major"), ("Ebm", "Eb", "minor"),
    ("C#m", "C#", "minor"), ("G# Minor", "G#", "minor"), ("in Dorian", None, "minor"),
    ("I am happy", None, None), ("a major label hit", None, None), ("made in USA", None, None),
], ids=lambda v: str(v))
def test_key_and_mode(text: str, tonic: str | None, mode: str | None) -> None:
    from mage_bridge.analysis.rules.text import normalise

    got_tonic, got_mode, _, _ = parse_key(normalise(text))
    assert (got_tonic, got_mode) == (tonic, mode)


@pytest.mark.parametrize("text", ["H# major", "X minor", "Cb# major"], ids=lambda v: v)
def test_a_key_that_is_not_one_warns_and_is_ignored(text: str) -> None:
    tonic, _, _, warnings = parse_key(text)
    assert tonic is None and warnings and "not a key" in warnings[0]


def test_spelled_tonics_are_valid_pitch_classes() -> None:
    for name in ("C#", "Db", "Eb", "F#", "Gb", "Ab", "Bb", "E#"):
        assert 0 <= pitch_class(parse_key(f"{name} minor")[0] or "") < 12


@pytest.mark.parametrize("text, metre", [
    ("3/4", (3, 4)), ("in 6/8", (6, 8)), ("12/8 blues", (12, 8)), ("5/4", (5, 4)), ("7/8 groove", (7, 8)),
    ("a waltz", (3, 4)), ("in 6", (6, 8)), ("in three", (3, 4)), ("in 5", (5, 4)), ("seven-eight time", (7, 8)),
    ("triple meter", (3, 4)), ("24/7", None), ("50/50 mix", None), ("in 4 bars", None), ("in 3 minutes", None),
], ids=lambda v: str(v))
def test_time_signature(text: str, metre: tuple[int, int] | None) -> None:
    assert parse_time_signature(text)[0] == metre


@pytest.mark.parametrize("text, swing", [("swung hats", 0.6), ("shuffle", 0.6), ("straight eighths", 0.0),
                                         ("nothing", None)], ids=lambda v: str(v))
def test_swing(text: str, swing: float | None) -> None:
    assert parse_swing(text) == swing


@pytest.mark.parametrize("text, primary, others", [
    ("deep house", "deep house", ()), ("drum n bass", "drum and bass", ()), ("dnb", "drum and bass", ()),
    ("lo-fi hip hop", "lofi", ()), ("boom bap hip hop", "boom bap", ("hip hop",)),
    ("jazz and hip hop", "jazz", ("hip hop",)), ("jazzy hip hop", "hip hop", ("jazz",)),
    ("lofi house", "house", ("lofi",)), ("ambient techno", "techno", ("ambient",)),
    ("jazz-influenced boom bap", "boom bap", ("jazz",)), ("jazz waltz", "jazz", ("waltz",)),
    ("r&b", "r&b", ()), ("rnb", "r&b", ()), ("hip-hop/trap", "trap", ("hip hop",)),
    ("no genre here", None, ()),
], ids=lambda v: str(v))
def test_genres(text: str, primary: str | None, others: tuple[str, ...]) -> None:
    name, names = choose_primary(find_genres(text)[0])
    assert name == primary
    assert set(names) == ({primary, *others} if primary else set())


@pytest.mark.parametrize("text, wanted, excluded, vocals", [
    ("with rhodes and a saxophone", ["electric piano", "saxophone"], [], None),
    ("no drums", [], ["drums"], None),
    ("without vocals", [], ["vocals"], False),
    ("instrumental", [], ["vocals"], False),
    ("drumless, no bass or guitar", [], ["drums", "<bass>", "<guitar>"], None),
    ("female vocals over piano", ["piano"], [], True),
    ("violins and cellos", ["violin", "cello"], [], None),
    ("with lyrics about the sea", [], [], True),
    ("vocal chops", [], [], True),
    ("piano, no 808s", ["piano"], ["808"], None),
    ("gospel choir", ["choir"], [], True),
    ("vox over pads", ["synth pad"], [], True),
    ("funk with horns", ["brass"], [], None),
    ("a horn section and a french horn", ["brass", "french horn"], [], None),
    ("pedal steel, bodhran, bandoneon, tambourine and brushes",
     ["pedal steel", "bodhran", "bandoneon", "tambourine", "brushes"], [], None),
    ("a violin and piano duet", ["violin", "piano"], [], None),
    ("a duet", [], [], True),
], ids=lambda v: str(v))
def test_instruments_and_exclusions(text: str, wanted: list[str], excluded: list[str], vocals: bool | None) -> None:
    got_wanted, got_excluded, got_vocals, _ = find_instruments(text)
    assert (got_wanted, sorted(got_excluded), got_vocals) == (wanted, sorted(excluded), vocals)


@pytest.mark.parametrize("text, moods", [
    ("a sad and dreamy tune", ("sad", "dreamy")), ("dark, aggressive", ("dark", "aggressive")),
    ("laid-back", ("chill",)), ("nothing", ()),
], ids=lambda v: str(v))
def test_moods(text: str, moods: tuple[str, ...]) -> None:
    assert find_moods(text) == moods


# --- whole prompts ---------------------------------------------------------------------------------

def analyze(prompt: str, **kw: object):
    return RulesAnalyzer().analyze(prompt, **kw)  # type: ignore[arg-type]


def test_the_issue_example() -> None:
    r = analyze("deep house groove at 122 BPM in the key of G minor")
    assert (r.genre, r.bpm, r.key, r.mode, r.time_signature) == ("deep house", 122.0, "G", "minor", (4, 4))
    assert r.sources["bpm"] == r.sources["key"] == r.sources["mode"] == r.sources["genre"] == "prompt"
    assert r.sources["time_signature"] == "genre"
    assert r.backend == "rules"


def test_genre_defaults_fill_what_the_prompt_left_out() -> None:
    r = analyze("drum and bass")
    assert (r.bpm, r.mode, r.time_signature) == (174.0, "minor", (4, 4))
    assert r.sources["bpm"] == r.sources["mode"] == r.sources["key"] == "genre"


def test_tempo_words_scale_within_the_genre() -> None:
    assert analyze("slow house").bpm == 118 and analyze("fast house").bpm == 128
    assert analyze("mid-tempo house").bpm == 124


def test_half_time_keeps_the_grid_tempo_and_records_the_feel() -> None:
    r = analyze("half-time drum and bass")
    assert r.bpm == 174 and r.feel == "halftime"


def test_mood_sets_the_mode_when_the_prompt_does_not() -> None:
    r = analyze("a happy house tune")
    assert r.mode == "major" and r.sources["mode"] == "mood"
    assert analyze("a happy house tune in A minor").mode == "minor"


def test_key_defaults_follow_the_mode() -> None:
    r = analyze("house in major")
    assert (r.key, r.mode) == ("C", "major")  # relative major of the genre's A minor


def test_waltz_sets_three_four_even_in_another_genre() -> None:
    r = analyze("jazz waltz")
    assert r.genre == "jazz" and r.time_signature == (3, 4)


def test_lyrics_imply_vocals() -> None:
    r = analyze("pop song", lyrics="[verse]\nhello")
    assert r.vocals and r.sources["vocals"] == "lyrics"
    r = analyze("instrumental pop", lyrics="la la")
    assert r.vocals and "vocals" not in r.exclude_instruments and r.warnings


def test_generic_instruments_resolve_against_the_genre() -> None:
    assert analyze("rock with guitar").instruments == ("overdriven guitar",)
    assert analyze("folk with guitar").instruments == ("acoustic guitar",)
    assert analyze("techno without bass").exclude_instruments == ("synth bass",)


def test_to_dict_is_json_ready() -> None:
    import json

    d = analyze("trap beat at 140 bpm in C# minor, no vocals").to_dict()
    assert json.loads(json.dumps(d))["time_signature"] == [4, 4]
    assert d["exclude_instruments"] == ["vocals"] and d["vocals"] is False


@pytest.mark.parametrize("text, seconds", [
    ("a 45 second lo-fi beat", 45.0), ("45-second", 45.0), ("45s", 45.0), ("90 sec intro", 90.0),
    ("2 minute", 120.0), ("2.5 minutes", 150.0), ("1 minute 30 seconds", 90.0), ("a minute long", 60.0),
    ("1:30 long", 90.0), ("a 1:30 track", 90.0), ("thirty seconds", 30.0),
    ("90s hip hop", None), ("80s synthwave", None), ("'90s r&b", None), ("no 808s", None), ("ratio 4:3", None),
    ("at 1:30 am", None),
], ids=lambda v: str(v))
def test_stated_duration(text: str, seconds: float | None) -> None:
    from mage_bridge.analysis.rules import parse_duration

    assert parse_duration(text)[0] == seconds


@pytest.mark.parametrize("text, implied, exclusive", [
    ("solo piano ballad", (), True), ("cello solo", (), True), ("piano only", (), True),
    ("just guitar and voice", (), True), ("nothing but strings", (), True), ("a violin and piano duet", (), True),
    ("string quartet", ("violin", "violin", "viola", "cello"), True),
    ("jazz trio", ("piano", "acoustic bass", "drums"), True),
    ("a nocturne", ("piano",), True),
    ("rock song with a guitar solo", (), False), ("piano and strings", (), False), ("only the best vibes", (), False),
    ("lofi beat with piano", (), False),
], ids=lambda v: str(v))
def test_ensemble(text: str, implied: tuple[str, ...], exclusive: bool) -> None:
    from mage_bridge.analysis.rules import read_ensemble

    assert read_ensemble(text) == (implied, exclusive)
