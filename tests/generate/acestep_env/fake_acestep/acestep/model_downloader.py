"""Emulation of ``acestep/model_downloader.py`` (f30aee4 :169-243): the checks are real, the downloads recorded.

``DOWNLOADS`` lists every download the handler asked for; MAGE's tests assert it stays empty.
"""

from __future__ import annotations

from pathlib import Path

MAIN_MODEL_REPO = "ACE-Step/Ace-Step1.5"
MAIN_MODEL_COMPONENTS = ["acestep-v15-turbo", "vae", "Qwen3-Embedding-0.6B", "acestep-5Hz-lm-1.7B"]
DEFAULT_LM_MODEL = "acestep-5Hz-lm-1.7B"

#: (what, checkpoints folder) for every download asked for.
DOWNLOADS: list[tuple[str, str]] = []


def get_project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def get_checkpoints_dir(custom_dir: str | None = None) -> Path:
    if custom_dir:
        return Path(custom_dir)
    return get_project_root() / "checkpoints"


def check_main_model_exists(checkpoints_dir: Path | None = None) -> bool:
    checkpoints_dir = checkpoints_dir or get_checkpoints_dir()
    return all((checkpoints_dir / component).exists() for component in MAIN_MODEL_COMPONENTS)


def check_model_exists(model_name: str, checkpoints_dir: Path | None = None) -> bool:
    checkpoints_dir = checkpoints_dir or get_checkpoints_dir()
    return (checkpoints_dir / model_name).exists()


def ensure_main_model(checkpoints_dir: Path | None = None, prefer_source: str | None = None) -> tuple[bool, str]:
    DOWNLOADS.append((MAIN_MODEL_REPO, str(checkpoints_dir)))
    return False, "emulation: downloads are refused"


def ensure_dit_model(model_name: str, checkpoints_dir: Path | None = None,
                     prefer_source: str | None = None) -> tuple[bool, str]:
    DOWNLOADS.append((model_name, str(checkpoints_dir)))
    return False, "emulation: downloads are refused"
