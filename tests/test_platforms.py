"""Folders, VST3 places and SoundFonts per platform, with the platform faked (never the machine's own files)."""

from __future__ import annotations

import os
from pathlib import Path, PureWindowsPath

import platformdirs.windows
import pytest

from mage_bridge import platforms
from mage_bridge.config import Config, default_config_path, load_config
from mage_bridge.errors import BackendUnavailableError
from mage_bridge.generate.procedural import ProceduralGenerator

ROAMING = "C:\\Users\\me\\AppData\\Roaming"
LOCAL = "C:\\Users\\me\\AppData\\Local"


def win(path: Path) -> PureWindowsPath:
    """A path built with Windows separators on this (POSIX) test machine, compared the Windows way."""
    return PureWindowsPath(str(path))


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fake home; no XDG or MAGE variables; system SoundFont folders inside tmp_path."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "MAGE_CONFIG",
                "MAGE_DATA_DIR", "MAGE_MODELS_DIR", "MAGE_STATE_DIR", "MAGE_SOUNDFONT", "MAGE_LOG_DIR",
                "CommonProgramFiles"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for kind in ("linux", "macos", "windows"):
        monkeypatch.setitem(platforms.SYSTEM_SOUNDFONT_FOLDERS, kind,
                            (str(tmp_path / "sys" / kind / "a"), str(tmp_path / "sys" / kind / "b")))
    monkeypatch.setattr(platformdirs.windows, "get_win_folder",
                        lambda csidl: {"CSIDL_APPDATA": ROAMING, "CSIDL_LOCAL_APPDATA": LOCAL}[csidl])
    return tmp_path / "home"


def font(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF\0\0\0\0sfbk")
    return path


# -- folders ------------------------------------------------------------------------------------
def test_linux_keeps_the_xdg_folders(home, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    c = load_config()
    assert default_config_path() == home / ".config" / "mage-bridge" / "config.toml"
    assert (c.data_dir, c.models_dir) == (home / ".local/share/mage-bridge", home / ".local/share/mage-bridge/models")
    assert platforms.user_folders().cache == home / ".cache" / "mage-bridge"
    assert c.resolved_state_dir == c.resolved_log_dir == home / ".local/share/mage-bridge/state"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    c = load_config()
    assert default_config_path() == tmp_path / "cfg" / "mage-bridge" / "config.toml"
    assert c.data_dir == tmp_path / "data" / "mage-bridge"
    assert platforms.user_folders().cache == tmp_path / "cache" / "mage-bridge"
    assert c.server.plugin_dirs == (Path("~/.vst3"), Path("/usr/lib/vst3"), Path("/usr/local/lib/vst3"))


def test_macos_uses_library(home, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    support = home / "Library" / "Application Support" / "mage-bridge"
    c = load_config()
    assert default_config_path() == support / "config.toml"
    assert (c.data_dir, c.resolved_state_dir) == (support, support / "state")
    assert platforms.user_folders().cache == home / "Library" / "Caches" / "mage-bridge"
    assert c.resolved_log_dir == home / "Library" / "Logs" / "mage-bridge"
    # A daemon given its own state folder keeps its log there, beside its jobs.
    assert Config(state_dir=home / "s").resolved_log_dir == home / "s"
    assert c.server.plugin_dirs == (Path("~/Library/Audio/Plug-Ins/VST3"), Path("/Library/Audio/Plug-Ins/VST3"))


def test_windows_uses_appdata_for_settings_and_localappdata_for_the_rest(home, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", LOCAL)
    c = Config()
    assert win(default_config_path()) == PureWindowsPath(ROAMING, "mage-bridge", "config.toml")
    assert win(c.data_dir) == PureWindowsPath(LOCAL, "mage-bridge")
    assert win(c.models_dir) == PureWindowsPath(LOCAL, "mage-bridge", "models")
    assert win(c.resolved_log_dir) == PureWindowsPath(LOCAL, "mage-bridge", "Logs")
    assert win(platforms.user_folders().cache) == PureWindowsPath(LOCAL, "mage-bridge", "Cache")
    assert [win(p) for p in c.server.plugin_dirs] == [PureWindowsPath("C:/Program Files/Common Files/VST3"),
                                                     PureWindowsPath(LOCAL, "Programs", "Common", "VST3")]
    monkeypatch.setenv("CommonProgramFiles", "D:\\Common")
    assert win(platforms.default_plugin_dirs()[0]) == PureWindowsPath("D:/Common/VST3")


# -- SoundFonts ----------------------------------------------------------------------------------
def test_the_configured_soundfont_comes_first(home, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    data = tmp_path / "data"
    font(data / "soundfonts" / "FluidR3_GM.sf2")
    mine = font(tmp_path / "elsewhere" / "Mine.sf2")
    assert load_config(data_dir=str(data), soundfont=str(mine)).resolved_soundfont() == mine
    monkeypatch.setenv("MAGE_SOUNDFONT", str(mine))
    assert load_config(data_dir=str(data)).resolved_soundfont() == mine


@pytest.mark.parametrize("kind,sys_platform", [("linux", "linux"), ("macos", "darwin"), ("windows", "win32")])
def test_the_data_folder_then_the_platform_folders(home, tmp_path, monkeypatch, kind, sys_platform) -> None:
    monkeypatch.setattr("sys.platform", sys_platform)
    data = tmp_path / "data"
    other_b = font(tmp_path / "sys" / kind / "b" / "zz-other.sf2")
    assert Config(data_dir=data).resolved_soundfont() == other_b
    other_a = font(tmp_path / "sys" / kind / "a" / "zz-other.sf3")  # names alike: the earlier folder wins
    assert Config(data_dir=data).resolved_soundfont() == other_a
    system_b = font(tmp_path / "sys" / kind / "b" / "FluidR3_GM.sf2")  # a well-known GM font wins in any folder
    assert Config(data_dir=data).resolved_soundfont() == system_b
    user = font(data / "soundfonts" / "Piano.sf2")
    assert Config(data_dir=data).resolved_soundfont() == user


def test_in_a_folder_well_known_gm_fonts_come_first(home, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    folder = tmp_path / "sys" / "linux" / "a"
    for name in ("aaa.sf2", "TimGM6mb.sf2", "MuseScore_General.sf3", "notes.txt"):
        font(folder / name)
    (folder / "dir.sf2").mkdir()
    assert Config(data_dir=tmp_path / "d").resolved_soundfont() == folder / "MuseScore_General.sf3"


def test_musescore_general_wins_over_fluidr3_in_another_folder(home, tmp_path, monkeypatch) -> None:
    """Debian puts FluidR3 in /usr/share/sounds/sf2 and MuseScore General in .../sf3, the later folder."""
    monkeypatch.setattr("sys.platform", "linux")
    font(tmp_path / "sys" / "linux" / "a" / "FluidR3_GM.sf2")
    full = font(tmp_path / "sys" / "linux" / "b" / "MuseScore_General_Full.sf3")
    assert Config(data_dir=tmp_path / "d").resolved_soundfont() == full
    link = font(tmp_path / "sys" / "linux" / "b" / "MuseScore_General.sf3")  # Debian's alternatives link
    assert Config(data_dir=tmp_path / "d").resolved_soundfont() == link


def test_drum_kit_fonts_are_found_as_kits_never_as_the_gm_font(home, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    data = tmp_path / "d"
    pearl = font(data / "soundfonts" / "Black_Pearl_4_LV2.sf2")
    zeppelin = font(tmp_path / "sys" / "macos" / "b" / "Red_Zeppelin_4_LV2.sf2")
    assert Config(data_dir=data).resolved_soundfont() is None
    assert platforms.find_drum_kits(data) == {"black_pearl": pearl, "red_zeppelin": zeppelin}
    gm = font(tmp_path / "sys" / "macos" / "a" / "GeneralUser GS.sf2")
    assert Config(data_dir=data).resolved_soundfont() == gm
    assert platforms.find_drum_kits(tmp_path / "elsewhere") == {"red_zeppelin": zeppelin}


def test_the_platforms_default_data_folder_is_searched_when_data_dir_is_moved(home, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    default = font(home / "Library" / "Application Support" / "mage-bridge" / "soundfonts" / "GM.sf2")
    assert Config(data_dir=tmp_path / "music").resolved_soundfont() == default


@pytest.mark.parametrize("sys_platform,needles", [
    ("linux", ["apt-get install fluid-soundfont-gm", "dnf install fluid-soundfont-gm", "pacman -S soundfont-fluid",
               "/home/.local/share/mage-bridge/soundfonts", "/home/.config/mage-bridge/config.toml"]),
    ("darwin", ["/home/Library/Application Support/mage-bridge/soundfonts",
                "/home/Library/Application Support/mage-bridge/config.toml"]),
    # (joined with "/" on this POSIX test machine, with "\\" on Windows)
    ("win32", [LOCAL + "/mage-bridge/soundfonts", ROAMING + "/mage-bridge/config.toml"]),
], ids=["linux", "macos", "windows"])
def test_no_soundfont_names_where_it_looked_and_the_fix(home, tmp_path, monkeypatch, sys_platform, needles) -> None:
    monkeypatch.setattr("sys.platform", sys_platform)
    with pytest.raises(BackendUnavailableError) as info:
        ProceduralGenerator()
    message = str(info.value)
    for needle in [*needles, "MAGE_SOUNDFONT", str(tmp_path / "sys")]:
        assert needle.replace("/home/", str(home) + "/") in message, message
    if sys_platform != "linux":
        assert "apt-get" not in message


# -- FluidSynth ----------------------------------------------------------------------------------
def test_fluidsynth_is_looked_for_where_homebrew_and_macports_put_it(monkeypatch) -> None:
    from mage_bridge.generate import fluidsynth

    monkeypatch.setattr("sys.platform", "darwin")
    monkeypatch.setattr(fluidsynth.ctypes.util, "find_library", lambda name: None)
    monkeypatch.delenv("MAGE_FLUIDSYNTH_LIB", raising=False)
    candidates = fluidsynth._candidates()
    assert candidates[0] == "/opt/homebrew/lib/libfluidsynth.3.dylib"
    assert "/usr/local/lib/libfluidsynth.dylib" in candidates and "/opt/local/lib/libfluidsynth.dylib" in candidates
    assert fluidsynth.install_hint().startswith("brew install fluid-synth")


def test_fluidsynth_dlls_on_windows_are_tried_by_full_path(tmp_path, monkeypatch) -> None:
    from mage_bridge.generate import fluidsynth

    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setattr(fluidsynth.ctypes.util, "find_library", lambda name: None)
    on_path = tmp_path / "tools" / "bin"
    winget = tmp_path / "local" / "Microsoft" / "WinGet" / "Packages" / "FluidSynth.FluidSynth_x" / "fs-2.3" / "bin"
    for folder in (on_path, winget):
        folder.mkdir(parents=True)
        (folder / "libfluidsynth-3.dll").write_bytes(b"")
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path / "empty"), str(on_path)]))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    monkeypatch.setenv("ProgramFiles", str(tmp_path / "pf"))
    monkeypatch.setenv("MAGE_FLUIDSYNTH_LIB", str(tmp_path / "mine.dll"))
    candidates = fluidsynth._candidates()
    assert candidates[:3] == [str(tmp_path / "mine.dll"), str(on_path / "libfluidsynth-3.dll"),
                              str(winget / "libfluidsynth-3.dll")]
    assert "winget install FluidSynth.FluidSynth" in fluidsynth.install_hint()
