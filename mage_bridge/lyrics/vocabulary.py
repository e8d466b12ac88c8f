"""The embedded lyric writer's words: a small hand-written grammar vocabulary per mood, theme and genre.

Written for this project (no song's lyrics are quoted). Nouns are the line ends that rhyme; every word
here is in the CMU dictionary, so rhymes and syllable counts are exact. A theme is picked by trigger words
in the prompt's topic ("about summer love" -> summer, love) or its genre; moods pick the adjectives and verbs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    """Words of one mood: adjectives, verbs without object (base form), verbs with one, third-person verbs."""

    adjectives: tuple[str, ...]
    verbs: tuple[str, ...]
    transitive: tuple[str, ...]
    third_person: tuple[str, ...]


def _w(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PALETTES: dict[str, Palette] = {
    "bright": Palette(_w("golden bright shining sunny open endless brand-new silver shimmering radiant"),
                      _w("dance shine sing laugh rise glow fly"),
                      _w("chase follow catch find hold share"),
                      _w("shines glows sings calls rises sparkles")),
    "sad": Palette(_w("empty fading broken lonely silent distant hollow colder faded weary"),
                   _w("wait cry fall fade drift break wander"),
                   _w("miss remember carry lose keep mourn"),
                   _w("fades breaks falls waits aches lingers")),
    "dark": Palette(_w("shadowed bitter cold hollow restless burning midnight heavy"),
                    _w("hide fall crawl burn run hunt"),
                    _w("fear curse haunt chase break bury"),
                    _w("burns hides calls whispers crawls howls")),
    "calm": Palette(_w("gentle quiet easy peaceful slow soft tender patient"),
                    _w("drift rest breathe float sway stay"),
                    _w("hold keep follow watch greet cradle"),
                    _w("drifts rests breathes floats sways hums")),
    "energetic": Palette(_w("electric wild burning racing restless fearless louder blazing"),
                         _w("run fly rise burn jump shout move"),
                         _w("chase grab light shake ride break"),
                         _w("runs burns flies roars races pounds")),
    "romantic": Palette(_w("tender sweet warm gentle precious velvet secret dreaming"),
                        _w("dance sway stay dream fall melt"),
                        _w("hold kiss need want keep hear"),
                        _w("calls sings glows stays waits shines")),
    "dreamy": Palette(_w("distant floating silver hazy velvet endless fading crystal"),
                      _w("drift float dream fly wander glide"),
                      _w("follow chase hear find touch reach"),
                      _w("drifts floats glows hums spins fades")),
    "epic": Palette(_w("endless mighty rising ancient thunder golden burning fearless"),
                    _w("rise stand fight march soar roar"),
                    _w("conquer claim raise carry break defend"),
                    _w("rises roars calls burns stands thunders")),
}

#: The palette for each canonical mood of the prompt analyser (mage_bridge.analysis.rules.mood_words).
MOOD_PALETTE: dict[str, str] = {
    "happy": "bright", "uplifting": "bright", "playful": "bright", "triumphant": "epic", "groovy": "energetic",
    "sad": "sad", "bittersweet": "sad", "emotional": "sad", "nostalgic": "sad",
    "dark": "dark", "spooky": "dark", "tense": "dark", "aggressive": "energetic", "mysterious": "dreamy",
    "chill": "calm", "calm": "calm", "energetic": "energetic", "epic": "epic", "dreamy": "dreamy",
    "hypnotic": "dreamy", "romantic": "romantic",
}

#: Theme nouns (line ends and images), and the topic words that call each theme.
THEMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "love": (_w("heart kiss eyes arms love touch name flame embrace smile hand door"),
             _w("love lover lovers romance heart kiss crush darling baby valentine wedding")),
    "summer": (_w("sun beach waves heat sky shore day sand light june tide breeze"),
               _w("summer sun sunshine beach holiday vacation july june august sunny")),
    "night": (_w("night moon stars light street city neon sky town glow dark"),
              _w("night nights midnight moon city neon stars late evening")),
    "road": (_w("road miles highway wheel town home line rain sky dust train way"),
             _w("road highway drive driving car journey travel trip roads train leaving")),
    "sea": (_w("sea waves tide shore sand wind storm boat coast sky deep stone"),
            _w("sea ocean waves sailing sailor boat coast island shore")),
    "winter": (_w("snow cold ice frost fire night light glow stone hill breath star"),
               _w("winter snow cold christmas december ice frost")),
    "rain": (_w("rain clouds storm thunder window street sky pane grey flood stone"),
             _w("rain rainy storm storms clouds thunder grey")),
    "dreams": (_w("dream sleep stars sky light moon mind world wings cloud space"),
               _w("dream dreams dreaming sleep space stars sky flying")),
    "freedom": (_w("wings sky road wind fire sun ground flight line sea air chain"),
                _w("freedom free escape wild rebel fly flying break")),
    "heartbreak": (_w("tears heart goodbye pieces rain door name night years pain ghost"),
                   _w("heartbreak breakup goodbye leaving lost loss tears alone lonely")),
    "dance": (_w("floor beat lights crowd night sound heat fire bass groove room"),
              _w("dance dancing party club disco floor weekend friday")),
    "home": (_w("home door town friends hearth fire street yard light road name"),
             _w("home family hometown town mother father friends childhood")),
    "nature": (_w("river hills trees field sky wind stone rain sun light ground leaves"),
               _w("nature forest river mountains hills trees spring field garden")),
}

#: Themes a genre brings when the prompt names no topic.
GENRE_THEMES: dict[str, tuple[str, ...]] = {
    "country": ("road", "home"), "folk": ("nature", "home"), "blues": ("rain", "road"), "rock": ("road", "night"),
    "metal": ("freedom", "night"), "punk": ("freedom", "night"), "hip": ("night", "road"), "rap": ("night", "road"),
    "trap": ("night",), "house": ("dance", "night"), "techno": ("dance", "night"), "edm": ("dance", "night"),
    "disco": ("dance",), "funk": ("dance",), "soul": ("love",), "r&b": ("love", "night"), "rnb": ("love", "night"),
    "jazz": ("night", "love"), "reggae": ("summer", "freedom"), "pop": ("love", "summer"),
    "ambient": ("dreams",), "lo-fi": ("rain", "dreams"), "lofi": ("rain", "dreams"), "synthwave": ("night",),
    "gospel": ("home", "freedom"), "latin": ("dance", "summer"), "ballad": ("love",),
}

#: Words every song may use, for rhymes the theme alone cannot make.
COMMON_NOUNS: tuple[str, ...] = _w(
    "light night fire sky heart rain time way day road home sea star dream eyes song soul sound ground "
    "gold line mind hand land sun run stone bone door floor sign life shore name flame game rose dawn "
    "air fall call wall hall tide side sight tune moon sound town crown rain chain pain train flight "
    "storm dust trust glow show sea key tree wave cave grave page stage wind hill will"
)

SUBJECTS: tuple[str, ...] = _w("I we you they")
POSSESSIVES: tuple[str, ...] = _w("my your our their")
PREPOSITIONS: tuple[str, ...] = ("in", "through", "beneath", "across", "beyond", "inside", "under", "into",
                                 "along", "toward", "against", "above", "around", "behind", "within")
ADVERBS: tuple[str, ...] = _w("slowly softly gently always still only together forever again")
OPENERS: tuple[str, ...] = ("oh", "and", "so", "now", "tonight", "and now", "so tonight", "every time",
                            "here and now", "one more time", "every night", "all along", "someday",
                            "hey", "yeah", "and still", "when the world is gone")
