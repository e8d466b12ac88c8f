"""The names of the tasks that rework a clip and of their options, for every door.

Kept apart from :mod:`mage_bridge.api.edit` (which checks and runs them) so the daemon and the
command line's ``--help`` read them without importing numpy.
"""

from __future__ import annotations

#: Every edit job kind: the generator's tasks (:data:`mage_bridge.generate.base.EDIT_TASKS`) and ``retake``.
EDIT_KINDS: tuple[str, ...] = ("repaint", "extend", "cover", "lego", "extract", "retake")
#: The tracks ``lego`` adds and ``extract`` takes out (ACE-Step's names).
TRACK_NAMES: tuple[str, ...] = ("woodwinds", "brass", "fx", "synth", "strings", "percussion", "keyboard", "guitar",
                                "bass", "drums", "backing_vocals", "vocals")
#: The options each kind takes besides the common ones (the keywords of its API function).
EDIT_OPTIONS: dict[str, tuple[str, ...]] = {
    "repaint": ("start_s", "end_s", "crossfade_s"),
    "extend": ("side", "bars", "duration_s"),
    "cover": ("strength",),
    "lego": ("track",),
    "extract": ("track",),
    "retake": (),
}
#: What every kind takes besides its own options.
COMMON_OPTIONS: tuple[str, ...] = ("prompt", "lyrics", "seed", "backend")
