"""Genre knowledge shared by prompt analysis and the procedural generator.

Each :class:`Genre` says what a prompt that names it implies when the prompt is
otherwise silent (tempo range, mode, metre, swing) and how the embedded
generator plays it (drum style, bass and ``other`` instruments, progressions).
BPM is always quarter-note BPM, as in DAWs and MIDI files, whatever the metre.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["major", "minor"]

#: Drum grooves the procedural composer knows.
DrumStyle = Literal[
    "four_on_floor", "breakbeat", "boom_bap", "trap", "dnb", "one_drop", "swing_ride",
    "rock", "shuffle", "waltz", "six_eight", "halftime", "latin", "ballad", "none",
]


@dataclass(frozen=True)
class Genre:
    """One genre's defaults. ``progressions`` are roman numerals; a progression fits the
    major mode when its first numeral is upper case, the minor mode when lower case."""

    name: str
    aliases: tuple[str, ...]
    bpm_range: tuple[float, float]
    default_bpm: float
    mode: Mode
    drum_style: DrumStyle
    bass: str
    instruments: tuple[str, ...]
    time_signature: tuple[int, int] = (4, 4)
    swing: float = 0.0
    progressions: tuple[str, ...] = ()
    description: str = ""


def _g(name: str, aliases: str, bpm: tuple[float, float, float], mode: Mode, drums: DrumStyle, bass: str,
       instruments: str, progressions: str = "", *, metre: tuple[int, int] = (4, 4), swing: float = 0.0,
       description: str = "") -> Genre:
    """Compact constructor: aliases/instruments/progressions as comma-separated text, bpm as (low, default, high)."""
    split = lambda text: tuple(t.strip() for t in text.split(",") if t.strip())  # noqa: E731
    low, default, high = bpm
    return Genre(name, split(aliases), (low, high), default, mode, drums, bass, split(instruments),
                 metre, swing, split(progressions), description)


# Progressions: roman numerals, one chord per bar, upper case major, lower case minor; the composer
# uses those whose first chord matches the requested mode and its own defaults otherwise.
GENRES: tuple[Genre, ...] = (
    # --- hip hop family ---------------------------------------------------------------------
    Genre("lofi", ("lo-fi", "lo fi", "lofi hip hop", "lo-fi hip hop", "lo fi hip hop", "chillhop", "lofi beats",
                   "lo-fi beats", "jazzhop", "jazz hop"), (70, 90), 80, "minor",
          "boom_bap", "electric bass", ("electric piano", "vibraphone", "synth pad"), swing=0.45,
          progressions=("Imaj7-vi7-ii7-V7", "i7-iv7-VImaj7-v7", "IVmaj7-iii7-ii7-Imaj7"),
          description=(
              "lo-fi hip hop beats to study, read and relax to: dusty vinyl crackle, mellow jazzy chords,"
              " lazy swung drums, cozy rainy day homework and late night focus music"
          )),
    Genre("boom bap", ("boombap", "boom-bap", "90s hip hop", "golden era hip hop", "east coast hip hop",
                       "old school hip hop"), (84, 96), 90, "minor",
          "boom_bap", "acoustic bass", ("piano", "strings"), swing=0.25,
          progressions=("i-iv-i-v", "i-VI-iv-v"),
          description="dusty sampled drums, hard snare on two and four, jazzy loops, 90s new york rap"),
    Genre("hip hop", ("hip-hop", "hiphop", "rap", "rap beat", "hip hop beat"), (80, 100), 92, "minor",
          "boom_bap", "electric bass", ("piano", "synth pad"), swing=0.15,
          progressions=("i-VI-III-VII", "i-iv-VI-v"),
          description="hip hop beat for rapping: punchy kick and snare, sampled loop, head-nodding groove"),
    Genre("trap", ("trap beat", "trap music"), (130, 160), 140, "minor",
          "trap", "808", ("piano", "synth pad", "synth lead"),
          progressions=("i-VI-III-VII", "i-iv-VI-V", "i-i-VI-VII"),
          description="modern trap: booming 808 bass, rapid hi-hat rolls, half-time snare, dark and hard street "
                      "energy"),
    Genre("drill", ("uk drill", "ny drill", "drill beat"), (138, 146), 142, "minor",
          "trap", "808", ("strings", "piano", "choir"),
          progressions=("i-VI-VII-v", "i-iv-VI-V"),
          description="menacing drill beat: sliding 808s, skippy hats, dark minor strings and choirs, street rap"),
    Genre("phonk", ("drift phonk", "memphis phonk"), (130, 150), 140, "minor",
          "trap", "808", ("synth lead", "bright piano"),
          progressions=("i-VI-VII-i", "i-iv-v-i"),
          description="phonk: distorted cowbell melodies, memphis vocal chops, pounding 808s, drifting cars"),
    # --- dance music ------------------------------------------------------------------------
    Genre("house", ("house music", "garage house", "chicago house", "piano house", "soulful house",
                    "progressive house", "electro house"), (118, 128), 124, "minor",
          "four_on_floor", "synth bass", ("electric piano", "synth pad"),
          progressions=("i-VII-VI-VII", "i-iv-VII-III", "I-vi-IV-V"),
          description=(
              "four on the floor club groove with warm chords and a rolling bassline; saturday night "
              "dance floor"
          )),
    Genre("deep house", ("deep-house", "deephouse"), (116, 124), 120, "minor",
          "four_on_floor", "synth bass", ("electric piano", "synth pad", "organ"),
          progressions=("i7-iv7-VImaj7-v7", "i7-VImaj7-iv7-v7", "Imaj7-vi7-ii7-V7"),
          description=(
              "deep house: smooth hypnotic club groove, warm rhodes chords, subby rolling bass, sunset "
              "terrace"
          )),
    Genre("tech house", ("tech-house", "techhouse", "minimal house"), (124, 128), 126, "minor",
          "four_on_floor", "synth bass", ("synth", "synth lead"),
          progressions=("i-i-VII-i", "i-iv-i-VII"),
          description="tech house: punchy minimal club groove, percussive plucks, tight bass stabs"),
    Genre("techno", ("techno music", "minimal techno", "berlin techno", "detroit techno", "industrial techno",
                     "acid techno", "hard techno"), (125, 140), 130, "minor",
          "four_on_floor", "synth bass", ("synth", "synth pad"),
          progressions=("i-i-i-VII", "i-iv-i-i"),
          description="relentless hypnotic warehouse techno: pounding kick, driving hats, dark repetitive synths"),
    Genre("trance", ("trance music", "uplifting trance", "progressive trance", "vocal trance", "psytrance",
                     "psy trance", "goa trance"), (130, 145), 138, "minor",
          "four_on_floor", "synth bass", ("synth lead", "synth pad", "synth"),
          progressions=("i-VI-III-VII", "i-VI-VII-i", "IV-V-vi-I"),
          description="euphoric trance: soaring supersaw leads, long emotional breakdowns, rolling offbeat bass"),
    Genre("edm", ("electronic dance music", "big room", "festival edm", "dance music", "future bass",
                  "progressive edm", "electronic dance"), (124, 132), 128, "major",
          "four_on_floor", "synth bass", ("synth lead", "synth", "synth pad"),
          progressions=("IV-V-vi-I", "I-V-vi-IV", "i-VI-III-VII"),
          description=(
              "big festival edm drop: huge supersaw leads, build-ups, euphoric energy; music for the gym,"
              " running, workouts and parties"
          )),
    Genre("dubstep", ("brostep", "riddim", "riddim dubstep", "deep dubstep", "melodic dubstep"),
          (138, 150), 140, "minor",
          "halftime", "synth bass", ("synth", "synth pad"),
          progressions=("i-VI-VII-i", "i-i-VI-v"),
          description="dubstep: half-time drums at 140, filthy wobble bass, aggressive heavy drop"),
    Genre("drum and bass", ("drum & bass", "drum n bass", "drum 'n' bass", "drum'n'bass", "drum-and-bass",
                            "drum and base", "drum n base", "dnb", "d&b", "dnb music", "liquid dnb",
                            "liquid drum and bass", "neurofunk"), (165, 178), 174, "minor",
          "dnb", "synth bass", ("synth pad", "electric piano"),
          progressions=(),  # the composer's defaults: measured unambiguous at 174 across seeds
          description="fast rolling breakbeats at 174 bpm, deep reese sub bass, energetic and dark, high speed chase"),
    Genre("jungle", ("jungle music", "ragga jungle", "oldschool jungle"), (160, 175), 165, "minor",
          "dnb", "synth bass", ("synth pad", "strings"),
          progressions=("i-VII-VI-VII", "i-iv-i-VII"),
          description="90s jungle: chopped amen breaks, deep dub sub bass, ragga samples, rave energy"),
    Genre("uk garage", ("ukg", "2-step", "2 step", "two step", "speed garage", "garage"), (128, 136), 132,
          "minor", "breakbeat", "synth bass", ("electric piano", "organ", "synth pad"), swing=0.35,
          progressions=("i7-iv7-VImaj7-v7", "IVmaj7-V7-iii7-vi7"),
          description=(
              "uk garage: skippy swung 2-step drums, chopped vocal samples, organ stabs, bouncy bass, "
              "london clubs"
          )),
    Genre("breakbeat", ("big beat", "nu skool breaks", "breakbeat music"), (125, 140), 130, "minor",
          "breakbeat", "synth bass", ("synth", "synth pad"),
          progressions=("i-VII-VI-VII", "i-iv-i-v"),
          description="breakbeat: chopped funky breaks, acid bass, rave stabs"),
    Genre("synthwave", ("retrowave", "outrun", "darksynth", "dark synth", "80s synthwave", "synth wave",
                        "retro wave", "vaporwave", "chillwave"), (80, 118), 100, "minor",
          "four_on_floor", "synth bass", ("synth", "synth lead", "synth pad"),
          progressions=("i-VI-III-VII", "i-VI-VII-i", "IV-V-vi-I"),
          description=(
              "retro 80s synthwave: neon city lights, night drive on a rainy highway, cyberpunk streets, "
              "analog arpeggios, gated reverb drums, nostalgic outrun sunset"
          )),
    Genre("disco", ("disco music", "nu disco", "nu-disco", "italo disco", "70s disco"), (110, 125), 118, "major",
          "four_on_floor", "electric bass", ("strings", "clean guitar", "electric piano"),
          progressions=("Imaj7-ii7-iii7-ii7", "IVmaj7-V7-iii7-vi7", "i7-iv7-i7-V7"),
          description="70s disco: octave bass, string stabs, funky guitar, mirror ball dance floor joy"),
    Genre("ambient", ("ambient music", "drone", "soundscape", "dark ambient", "ambient electronic"),
          (60, 90), 70, "major",
          "none", "synth bass", ("synth pad", "strings", "celesta"),
          progressions=("I-V-vi-IV", "I-IV-I-V", "i-VI-III-VII"),
          description=(
              "slow evolving pads and textures, calm and spacious, no beat: meditation, sleep, yoga, spa "
              "relaxation, floating in space"
          )),
    Genre("chillout", ("chill out", "downtempo", "trip hop", "trip-hop", "lounge",
                       "chill electronic"), (80, 105), 90, "minor",
          "breakbeat", "electric bass", ("electric piano", "synth pad", "strings"), swing=0.15,
          progressions=("i7-iv7-VImaj7-v7", "Imaj7-IVmaj7-iii7-vi7"),
          description="downtempo chillout and trip hop: smoky laid-back beats, moody keys, sunset lounge"),
    Genre("chiptune", ("8-bit", "8 bit", "8bit", "chip tune", "video game music", "retro game music",
                       "16-bit"), (120, 160), 140, "major",
          "rock", "synth bass", ("synth lead", "synth"),
          progressions=("I-V-vi-IV", "I-IV-V-I", "i-VI-VII-i"),
          description=(
              "8-bit chiptune video game music: square wave melodies, arcade level, retro console, "
              "playful and bouncy"
          )),
    # --- band and song genres ---------------------------------------------------------------
    Genre("pop", ("pop music", "pop song", "dance pop", "synth pop", "synthpop", "electropop", "k-pop",
                  "kpop", "teen pop", "power pop"), (96, 128), 116, "major",
          "rock", "synth bass", ("piano", "synth pad", "synth"),
          progressions=("I-V-vi-IV", "IV-I-V-vi", "I-vi-IV-V"),
          description=(
              "catchy radio pop song: big hook chorus, bright synths, upbeat and polished; summer road "
              "trips, birthday parties and singing along with friends"
          )),
    Genre("indie", ("indie rock", "indie pop", "indie folk", "alternative", "alt rock", "alternative rock",
                    "shoegaze", "dream pop", "bedroom pop"), (100, 140), 120, "major",
          "rock", "electric bass", ("clean guitar", "synth pad", "piano"),
          progressions=("I-V-vi-IV", "I-iii-IV-IV", "IV-I-V-vi"),
          description="indie: jangly clean guitars, heartfelt bittersweet melodies, bedroom recordings"),
    Genre("rock", ("rock music", "classic rock", "hard rock", "rock and roll", "rock n roll", "rock'n'roll",
                   "garage rock", "arena rock", "southern rock", "blues rock", "stoner rock"),
          (100, 140), 120, "major",
          "rock", "picked bass", ("overdriven guitar", "organ"),
          progressions=("I-IV-V-IV", "I-bVII-IV-I", "i-VI-VII-i"),
          description="rock band: crunchy guitars, driving drums and bass, stadium energy"),
    Genre("grunge", ("grunge rock", "seattle grunge", "post-grunge"), (90, 130), 110, "minor",
          "rock", "picked bass", ("distorted guitar", "clean guitar"),
          progressions=("i-III-iv-VI", "i-bII-i-VII"),
          description="90s seattle grunge: sludgy distorted guitars, quiet-loud dynamics, angst"),
    Genre("metal", ("heavy metal", "thrash metal", "thrash", "death metal", "black metal", "metalcore",
                    "doom metal", "power metal", "nu metal", "djent", "heavy metal music"),
          (100, 180), 140, "minor",
          "rock", "picked bass", ("distorted guitar", "organ"),
          progressions=("i-VI-VII-i",),
          description="heavy metal: crushing distorted riffs, double kick drums, aggressive and dark"),
    Genre("punk", ("punk rock", "pop punk", "pop-punk", "hardcore punk", "skate punk", "emo", "post-punk",
                   "post punk"), (150, 200), 170, "major",
          "rock", "picked bass", ("distorted guitar", "overdriven guitar"),
          progressions=("I-IV-V-IV", "I-V-vi-IV", "I-bVII-IV-I"),
          description="fast loud punk rock: power chords, snotty energy, fast drums, rebellion"),
    Genre("blues", ("blues music", "delta blues", "chicago blues", "12 bar blues", "12-bar blues",
                    "twelve bar blues", "electric blues"), (70, 110), 90, "major",
          "shuffle", "electric bass", ("overdriven guitar", "piano", "harmonica"), swing=0.66,
          progressions=("I7-IV7-I7-I7-IV7-IV7-I7-I7-V7-IV7-I7-V7", "I7-I7-I7-I7-IV7-IV7-I7-I7-V7-IV7-I7-V7",
                        "i7-iv7-i7-i7-iv7-iv7-i7-i7-V7-iv7-i7-V7"),
          description="blues shuffle: twelve bar form, bending guitar licks, smoky bar, heartache"),
    Genre("jazz", ("jazz music", "bebop", "swing jazz", "big band", "jazz trio", "smooth jazz", "cool jazz",
                   "jazz standard", "jazz ballad", "hard bop", "jazz fusion", "jazz club"),
          (90, 180), 120, "major",
          "swing_ride", "acoustic bass", ("piano", "saxophone", "jazz guitar"), swing=0.66,
          progressions=("Imaj7-Imaj7-ii7-V7", "Imaj7-vi7-ii7-V7", "i7-iv7-iiø-V7"),
          description=(
              "jazz combo: walking upright bass, ride cymbal swing, piano comping, saxophone solo; smoky "
              "late night club, cocktail bar and candlelit dinner"
          )),
    Genre("r&b", ("rnb", "r and b", "r'n'b", "rhythm and blues", "contemporary r&b", "90s r&b", "slow jam"),
          (60, 100), 80, "minor",
          "ballad", "electric bass", ("electric piano", "synth pad"), swing=0.2,
          progressions=("i7-iv7-VImaj7-v7", "Imaj7-vi7-ii7-V7", "IVmaj7-iii7-vi7-Imaj7"),
          description=(
              "smooth r&b: silky vocals, lush extended chords, slow sensual groove for a romantic night "
              "and love songs"
          )),
    Genre("soul", ("soul music", "neo soul", "neo-soul", "motown", "northern soul", "classic soul"),
          (70, 110), 92, "major",
          "ballad", "electric bass", ("electric piano", "organ", "brass"), swing=0.2,
          progressions=("Imaj7-vi7-ii7-V7", "IVmaj7-V7-iii7-vi7", "i7-iv7-VImaj7-v7"),
          description="warm soul: heartfelt singing, horns, rhodes and organ, vintage motown feel"),
    Genre("funk", ("funk music", "p-funk", "g-funk", "funky groove", "70s funk"), (95, 120), 108, "minor",
          "breakbeat", "slap bass", ("clavinet", "clean guitar", "brass"), swing=0.15,
          progressions=("i7-i7-iv7-i7", "i7-IV7-i7-IV7", "I7-IV7-I7-V7"),
          description="tight funk groove: slap bass, choppy clavinet and guitar, horn stabs, on the one"),
    Genre("gospel", ("gospel music", "church music", "praise and worship", "worship"),
          (70, 110), 88, "major",
          "ballad", "electric bass", ("organ", "piano", "choir"), swing=0.3,
          progressions=("I-IV-I-V", "IVmaj7-iii7-vi7-ii7-V7", "I-vi-ii-V"),
          description="uplifting gospel: hammond organ, choir, soaring praise, church sunday morning"),
    Genre("reggae", ("roots reggae", "reggae music", "dub", "dub reggae", "ska", "rocksteady", "dancehall"),
          (65, 90), 75, "major",
          "one_drop", "electric bass", ("organ", "clean guitar"),
          progressions=("I-IV-V-IV", "I-V-vi-IV", "i-iv-i-v"),
          description=(
              "jamaican reggae: one drop drums, offbeat skank guitar and organ, deep dub bass, caribbean "
              "sunshine on the beach"
          )),
    Genre("reggaeton", ("regueton", "dembow", "latin trap"), (88, 100), 95, "minor",
          "latin", "808", ("synth", "synth pad"),
          progressions=("i-VI-III-VII", "i-iv-VII-III"),
          description="reggaeton: dembow rhythm, latin club party, heavy bass"),
    Genre("latin", ("salsa", "samba", "latin jazz", "cumbia", "mambo", "cha cha", "latin music", "afro-cuban",
                    "merengue", "tango"), (90, 130), 110, "minor",
          "latin", "acoustic bass", ("piano", "brass", "nylon guitar"),
          progressions=("i-iv-V-i", "I-IV-V-IV", "Imaj7-Imaj7-ii7-V7"),
          description=(
              "hot latin dance: clave and congas, montuno piano, brass; salsa, samba and tropical beach "
              "parties"
          )),
    Genre("bossa nova", ("bossa", "bossanova", "bossa-nova", "brazilian jazz"), (110, 140), 125, "major",
          "latin", "acoustic bass", ("nylon guitar", "flute", "piano"),
          progressions=("Imaj7-ii7-V7-Imaj7", "Imaj7-vi7-ii7-V7", "i7-iv7-iiø-V7"),
          description="brazilian bossa nova: gentle nylon guitar, soft syncopated rhythm, seaside cafe"),
    Genre("afrobeats", ("afrobeat", "afro beats", "afropop", "afro pop", "amapiano", "afro house"),
          (98, 115), 105, "minor",
          "latin", "electric bass", ("clean guitar", "marimba", "synth pad"),
          progressions=("i-VI-III-VII", "I-V-vi-IV"),
          description="afrobeats: bouncy west african percussion, log drums, sunny dancing groove"),
    Genre("country", ("country music", "bluegrass", "americana", "country rock", "honky tonk",
                      "country pop", "outlaw country"), (90, 130), 110, "major",
          "rock", "electric bass", ("acoustic guitar", "banjo", "violin"),
          progressions=("I-IV-V-I", "I-V-vi-IV", "I-IV-I-V"),
          description=(
              "country: twangy guitars, fiddle and banjo, pickup trucks, small towns, cowboys and "
              "storytelling"
          )),
    Genre("folk", ("folk music", "acoustic folk", "folk song", "singer-songwriter", "singer songwriter",
                   "celtic", "celtic folk", "irish folk", "traditional folk"), (80, 120), 100, "major",
          "rock", "acoustic bass", ("acoustic guitar", "piano"),
          progressions=("I-IV-I-V", "I-V-vi-IV", "IV-I-V-vi"),
          description="acoustic folk: fingerpicked guitar, fireside campfire songs, rustic and earthy"),
    Genre("waltz", ("viennese waltz", "valse"), (84, 180), 150, "major",
          "waltz", "acoustic bass", ("piano", "strings"), time_signature=(3, 4),
          progressions=("I-IV-V-I", "I-vi-ii-V", "i-iv-V-i"),
          description="waltz in three: oom-pah-pah, elegant ballroom dancing"),
    Genre("classical", ("classical music", "baroque", "romantic era", "string quartet", "piano sonata",
                        "chamber music", "symphony", "concerto", "sonata", "nocturne", "minuet", "etude"),
          (60, 140), 96, "major",
          "none", "cello", ("strings", "piano", "flute"),
          progressions=("I-IV-V-I", "I-vi-IV-V", "i-iv-V-i"),
          description=(
              "classical concert music: string quartet, piano sonata, solo cello or violin recital, "
              "orchestra in a concert hall, elegant baroque and romantic era"
          )),
    Genre("cinematic", ("film score", "movie score", "soundtrack", "trailer music", "epic orchestral",
                        "orchestral", "epic music", "cinematic orchestral", "score", "film music",
                        "game soundtrack", "hybrid orchestral"), (70, 140), 100, "minor",
          "halftime", "cello", ("strings", "french horn", "choir", "timpani"),
          progressions=("i-VI-III-VII", "i-VI-iv-V", "I-V-vi-IV"),
          description=(
              "epic cinematic film score: huge orchestra and thundering drums for battle scenes, heroes "
              "and villains, chases, horror and suspense, space adventure, trailers and game soundtracks"
          )),
    Genre("lullaby", ("nursery rhyme", "childrens music", "children's song", "kids song"), (60, 90), 72, "major",
          "none", "acoustic bass", ("music box", "celesta", "harp"), time_signature=(3, 4),
          progressions=("I-IV-I-V", "I-vi-IV-V"),
          description="gentle lullaby to put a baby to sleep: music box, soft and sweet, bedtime"),
)

BY_NAME: dict[str, Genre] = {g.name: g for g in GENRES}


def find(name: str) -> Genre | None:
    """The genre called ``name`` (canonical name or alias, any case), if the table has it."""
    key = name.strip().lower()
    if key in BY_NAME:
        return BY_NAME[key]
    for genre in GENRES:
        if key in genre.aliases:
            return genre
    return None
