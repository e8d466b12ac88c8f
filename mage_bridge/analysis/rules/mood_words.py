"""Moods named in a prompt, and the mode they imply when the prompt states none.

A vocabulary of synonyms per canonical mood ("melancholic" is sad, "lush" is
dreamy). The embedding backend scores the same canonical moods, so this table
is the one list of moods the analysers agree on.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mage_bridge.analysis.rules.text import longest_first, mask

MOODS: dict[str, tuple[str, ...]] = {
    "happy": ("happy", "joyful", "cheerful", "joyous", "feel good", "feel-good", "fun", "sunny", "carefree"),
    "sad": ("sad", "melancholic", "melancholy", "sorrowful", "heartbroken", "heartbreak", "mournful", "tearful",
            "depressing", "depressed", "somber", "sombre", "gloomy", "grief", "lonely", "longing"),
    "bittersweet": ("bittersweet", "wistful"),
    "dark": ("dark", "sinister", "ominous", "menacing", "evil", "brooding", "gritty", "moody"),
    "chill": ("chill", "chilled", "relaxed", "relaxing", "laid back", "laid-back", "mellow", "easygoing",
              "lazy", "cozy", "cosy", "smooth"),
    "calm": ("calm", "peaceful", "serene", "tranquil", "gentle", "soothing", "quiet", "soft", "meditative"),
    "energetic": ("energetic", "high energy", "high-energy", "driving", "pumping", "hype", "hyped", "upbeat",
                  "banging", "lively", "bouncy", "punchy"),
    "aggressive": ("aggressive", "angry", "hard-hitting", "hard hitting", "brutal", "furious", "raw", "rage",
                   "fierce", "hard"),
    "epic": ("epic", "heroic", "grand", "majestic", "massive", "huge", "powerful", "anthemic"),
    "triumphant": ("triumphant", "victorious", "victory", "celebratory", "celebration"),
    "dreamy": ("dreamy", "ethereal", "floaty", "hazy", "spacey", "spacy", "airy", "atmospheric", "lush"),
    "romantic": ("romantic", "sensual", "sexy", "love", "loving", "intimate", "tender", "passionate"),
    "nostalgic": ("nostalgic", "nostalgia", "throwback"),
    "mysterious": ("mysterious", "mystical", "mystery", "enigmatic", "magical"),
    "tense": ("tense", "tension", "suspense", "suspenseful", "anxious", "nervous", "urgent"),
    "uplifting": ("uplifting", "euphoric", "hopeful", "inspiring", "inspirational", "positive", "optimistic",
                  "motivational", "empowering"),
    "spooky": ("spooky", "eerie", "creepy", "haunting", "haunted", "scary", "horror", "halloween"),
    "groovy": ("groovy", "grooving", "danceable", "swaggy"),
    "playful": ("playful", "quirky", "whimsical", "silly", "cute", "cartoon"),
    "emotional": ("emotional", "heartfelt", "moving", "touching", "sentimental"),
    "hypnotic": ("hypnotic", "trippy", "psychedelic", "repetitive"),
}
#: Moods that imply a mode when the prompt states none.
MOOD_MODE: dict[str, str] = {
    "happy": "major", "uplifting": "major", "playful": "major", "triumphant": "major",
    "sad": "minor", "dark": "minor", "spooky": "minor", "tense": "minor", "mysterious": "minor",
    "aggressive": "minor",
}


@lru_cache(maxsize=1)
def _mood_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    return longest_first((word, mood) for mood, words in MOODS.items() for word in words)


def find_moods(text: str) -> tuple[str, ...]:
    """Canonical mood names found in ``text`` (lower case), in prompt order."""
    hits: list[tuple[int, str]] = []
    for pattern, mood in _mood_patterns():
        for m in pattern.finditer(text):
            hits.append((m.start(), mood))
            text = mask(text, m.start(), m.end())
    out: list[str] = []
    for _, mood in sorted(hits):
        if mood not in out:
            out.append(mood)
    return tuple(out)


def mode_from_moods(moods: tuple[str, ...]) -> str | None:
    """The mode the moods agree on, or ``None`` (no hint, or a contradiction)."""
    votes = {MOOD_MODE[m] for m in moods if m in MOOD_MODE}
    return votes.pop() if len(votes) == 1 else None
