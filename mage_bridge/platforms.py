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
#: Well-known General MIDI SoundFonts, preferred in this order when a folder holds several (name prefixes).
PREFERRED_SOUNDFONTS = ("FluidR3_GM.", "MuseScore_General.", "GeneralUser", "TimGM6mb.", "default-GM.", "default.")
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


def _fonts_in(folder: Path) -> list[Path]:
    """The SoundFont files in ``folder``, well-known GM fonts first, then by name."""
    try:
        files = [p for p in folder.iterdir() if p.suffix.lower() in SOUNDFONT_SUFFIXES and p.is_file()]
    except OSError:
        return []

    def rank(path: Path) -> tuple[int, str]:
        for i, prefix in enumerate(PREFERRED_SOUNDFONTS):
            if path.name.lower().startswith(prefix.lower()):
                return i, path.name.lower()
        return len(PREFERRED_SOUNDFONTS), path.name.lower()

    return sorted(files, key=rank)


def find_soundfont(data_dir: Path | None = None) -> Path | None:
    """The first SoundFont in :func:`soundfont_folders` (``.sf2`` or ``.sf3``), or None."""
    for folder in soundfont_folders(data_dir):
        fonts = _fonts_in(folder)
        if fonts:
            return fonts[0]
    return None


def soundfont_hint(data_dir: Path | None = None) -> str:
    """How to get a General MIDI SoundFont on this platform, naming every folder searched."""
    folders = soundfont_folders(data_dir)
    user = folders[0]
    config_file = os.environ.get("MAGE_CONFIG") or str(user_folders().config_file)
    kind = platform_name()
    if kind == "linux":
        install = ("install one (Debian/Ubuntu: apt-get install fluid-soundfont-gm; Fedora: dnf install "
                   "fluid-soundfont-gm; Arch: pacman -S soundfont-fluid), or put ")
    else:
        install = "put "
    return (f"{install}a General MIDI .sf2/.sf3 file (e.g. FluidR3_GM.sf2 or GeneralUser GS) into "
            f"\"{user}\", or set `soundfont` in \"{config_file}\" (env MAGE_SOUNDFONT); "
            f"searched: {', '.join(str(f) for f in folders)}")
