"""Where MAGE Bridge keeps its files on each platform, and where it looks for VST3 plugins and SoundFonts.

The user's folders come from :mod:`platformdirs`:

* config: Linux ``$XDG_CONFIG_HOME/mage-bridge`` (``~/.config/mage-bridge``);
  macOS ``~/Library/Application Support/mage-bridge``; Windows ``%APPDATA%\\mage-bridge``.
* data (models, library, job results): Linux ``$XDG_DATA_HOME/mage-bridge``
  (``~/.local/share/mage-bridge``); macOS ``~/Library/Application Support/mage-bridge``;
  Windows ``%LOCALAPPDATA%\\mage-bridge``.
* state (jobs, outbox, spool): ``<data>/state`` everywhere.
* cache: Linux ``$XDG_CACHE_HOME/mage-bridge`` (``~/.cache/mage-bridge``); macOS
  ``~/Library/Caches/mage-bridge``; Windows ``%LOCALAPPDATA%\\mage-bridge\\Cache``.
* log: Linux the state folder; macOS ``~/Library/Logs/mage-bridge``; Windows
  ``%LOCALAPPDATA%\\mage-bridge\\Logs``.

The platform is read from :data:`sys.platform` on every call (never cached at
import), so tests can fake it; anything not macOS or Windows is treated as Linux.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "mage-bridge"
#: File name endings of the SoundFonts FluidSynth 2.x reads (``.sf3`` is Ogg-compressed SF2).
SOUNDFONT_SUFFIXES = (".sf2", ".sf3")
#: Well-known General MIDI SoundFonts, preferred in this order (name prefixes): MuseScore General (recorded
#: instruments, the Debian alternative link first, then its Full file), FluidR3, GeneralUser, TimGM6mb.
PREFERRED_SOUNDFONTS = ("MuseScore_General.", "MuseScore_General_Full.", "MuseScore_General", "FluidR3_GM.",
                        "GeneralUser", "TimGM6mb.", "default-GM.", "default.")
#: Recorded acoustic drum kits (Debian avldrums.lv2-soundfont, one kit per file on bank 0 program 0), by kit
#: name; they are no General MIDI fonts, so :func:`find_soundfont` never picks them.
DRUM_KIT_SOUNDFONTS: dict[str, str] = {"black_pearl": "Black_Pearl_4", "red_zeppelin": "Red_Zeppelin_4"}
#: Where each platform's packages put SoundFonts, searched after ``<data_dir>/soundfonts`` ("~" is the home folder).
SYSTEM_SOUNDFONT_FOLDERS: dict[str, tuple[str, ...]] = {
    # Debian/Ubuntu fluid-soundfont-gm, timgm6mb-soundfont, musescore-general-soundfont (sf2 and sf3);
    # Fedora fluid-soundfont-gm and Arch soundfont-fluid (/usr/share/soundfonts).
    "linux": ("/usr/share/sounds/sf2", "/usr/share/sounds/sf3", "/usr/share/soundfonts", "/usr/local/share/soundfonts"),
    # Homebrew (Apple silicon, Intel), then the folder GarageBand and Logic read banks from.
    "macos": ("/opt/homebrew/share/soundfonts", "/usr/local/share/soundfonts", "~/Library/Audio/Sounds/Banks",
              "/Library/Audio/Sounds/Banks"),
    "windows": ("C:\\soundfonts",),
}


def platform_name() -> str:
    """``"macos"``, ``"windows"`` or ``"linux"`` (every other system) from :data:`sys.platform`."""
    if sys.platform == "darwin":
        return "macos"
    if sys.platform == "win32":
        return "windows"
    return "linux"


@dataclass(frozen=True)
class UserFolders:
    """The platform's default folders for this user (see the module docstring's table)."""

    config: Path
    data: Path
    state: Path
    cache: Path
    #: ``None`` on Linux: the daemon's log goes to the state folder there.
    log: Path | None

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"


def user_folders() -> UserFolders:
    """The default config, data, state, cache and log folders on this platform."""
    kind = platform_name()
    if kind == "windows":
        from platformdirs.windows import Windows

        roaming = Windows(APP_NAME, appauthor=False, roaming=True)  # settings follow a roaming profile
        local = Windows(APP_NAME, appauthor=False)  # models, jobs and caches stay on this machine
        data = Path(local.user_data_dir)
        return UserFolders(config=Path(roaming.user_config_dir), data=data, state=data / "state",
                           cache=Path(local.user_cache_dir), log=Path(local.user_log_dir))
    if kind == "macos":
        from platformdirs.macos import MacOS

        mac = MacOS(APP_NAME)
        data = Path(mac.user_data_dir)
        return UserFolders(config=Path(mac.user_config_dir), data=data, state=data / "state",
                           cache=Path(mac.user_cache_dir), log=Path(mac.user_log_dir))
    from platformdirs.unix import Unix

    unix = Unix(APP_NAME)
    data = Path(unix.user_data_dir)
    return UserFolders(config=Path(unix.user_config_dir), data=data, state=data / "state",
                       cache=Path(unix.user_cache_dir), log=None)


def default_plugin_dirs() -> tuple[Path, ...]:
    """The platform's VST3 folders (Steinberg's documented locations), user folder first."""
    kind = platform_name()
    if kind == "macos":
        return (Path("~/Library/Audio/Plug-Ins/VST3"), Path("/Library/Audio/Plug-Ins/VST3"))
    if kind == "windows":
        common = os.environ.get("CommonProgramFiles") or "C:\\Program Files\\Common Files"
        dirs = [Path(common + "\\VST3")]
        if os.environ.get("LOCALAPPDATA"):
            dirs.append(Path(os.environ["LOCALAPPDATA"] + "\\Programs\\Common\\VST3"))
        return tuple(dirs)
    return (Path("~/.vst3"), Path("/usr/lib/vst3"), Path("/usr/local/lib/vst3"))


def soundfont_folders(data_dir: Path | None = None) -> tuple[Path, ...]:
    """Where :func:`find_soundfont` looks, in order: ``<data_dir>/soundfonts``, then the platform's usual places."""
    default_data = user_folders().data
    places = [Path(data_dir or default_data).expanduser() / "soundfonts", default_data / "soundfonts"]
    places += [Path(p).expanduser() for p in SYSTEM_SOUNDFONT_FOLDERS[platform_name()]]
    return tuple(dict.fromkeys(places))


def _files_in(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.suffix.lower() in SOUNDFONT_SUFFIXES and p.is_file())
    except OSError:
        return []


def _is_drum_kit(path: Path) -> bool:
    return any(path.name.lower().startswith(prefix.lower()) for prefix in DRUM_KIT_SOUNDFONTS.values())


def _rank(path: Path) -> int:
    for i, prefix in enumerate(PREFERRED_SOUNDFONTS):
        if path.name.lower().startswith(prefix.lower()):
            return i
    return len(PREFERRED_SOUNDFONTS)


def _fonts_in(folder: Path) -> list[Path]:
    """The General MIDI SoundFont files in ``folder``, well-known GM fonts first, then by name."""
    return sorted((p for p in _files_in(folder) if not _is_drum_kit(p)), key=lambda p: (_rank(p), p.name.lower()))


def find_soundfont(data_dir: Path | None = None) -> Path | None:
    """The General MIDI SoundFont to use (``.sf2`` or ``.sf3``), or None.

    A font in the user's ``<data_dir>/soundfonts`` wins (the first by
    :data:`PREFERRED_SOUNDFONTS`, then name); else the best-ranked font of all
    the platform's folders together, the earlier folder on a tie. Drum-kit
    fonts (:data:`DRUM_KIT_SOUNDFONTS`) are never chosen.
    """
    folders = soundfont_folders(data_dir)
    system = [Path(p).expanduser() for p in SYSTEM_SOUNDFONT_FOLDERS[platform_name()]]
    best: tuple[int, int, Path] | None = None
    for order, folder in enumerate(folders):
        fonts = _fonts_in(folder)
        if not fonts:
            continue
        if folder not in system:
            return fonts[0]
        candidate = (_rank(fonts[0]), order, fonts[0])
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    return best[2] if best else None


def find_named_soundfont(prefix: str, data_dir: Path | None = None) -> Path | None:
    """The first SoundFont whose name starts with ``prefix`` in :func:`soundfont_folders`, or None."""
    for folder in soundfont_folders(data_dir):
        for path in _files_in(folder):
            if path.name.lower().startswith(prefix.lower()):
                return path
    return None


def find_drum_kits(data_dir: Path | None = None) -> dict[str, Path]:
    """The recorded drum-kit SoundFonts found, by kit name (:data:`DRUM_KIT_SOUNDFONTS`), first folder first.

    Searched like :func:`find_soundfont`: ``<data_dir>/soundfonts`` (where
    macOS and Windows users drop ``Black_Pearl_4_LV2.sf2`` and
    ``Red_Zeppelin_4_LV2.sf2``), then the platform's folders.
    """
    kits: dict[str, Path] = {}
    for folder in soundfont_folders(data_dir):
        for path in _files_in(folder):
            for kit, prefix in DRUM_KIT_SOUNDFONTS.items():
                if kit not in kits and path.name.lower().startswith(prefix.lower()):
                    kits[kit] = path
    return kits


def soundfont_hint(data_dir: Path | None = None) -> str:
    """How to get a General MIDI SoundFont on this platform, naming every folder searched."""
    folders = soundfont_folders(data_dir)
    user = folders[0]
    config_file = os.environ.get("MAGE_CONFIG") or str(user_folders().config_file)
    kind = platform_name()
    if kind == "linux":
        install = ("install one (Debian/Ubuntu: apt-get install fluid-soundfont-gm, or musescore-general-soundfont "
                   "for recorded instruments; Fedora: dnf install fluid-soundfont-gm; Arch: pacman -S "
                   "soundfont-fluid), or put ")
    else:
        install = "put "
    return (f"{install}a General MIDI .sf2/.sf3 file (e.g. FluidR3_GM.sf2 or GeneralUser GS) into "
            f"\"{user}\", or set `soundfont` in \"{config_file}\" (env MAGE_SOUNDFONT); "
            f"searched: {', '.join(str(f) for f in folders)}")
