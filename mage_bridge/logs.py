"""The daemon's log: stderr plus a rotating file the user can send with a bug report.

The file rotates at :data:`MAX_BYTES` and keeps :data:`BACKUPS` old files, so a
daemon left running for months never fills the disk.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_NAME = "mage-bridge.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3

_FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"

#: The handlers :func:`setup_logging` added, so that calling it again replaces them instead of doubling lines.
_installed: list[logging.Handler] = []


def setup_logging(log_dir: Path, *, verbose: bool = False, quiet: bool = False) -> Path:
    """Log ``mage_bridge.*`` to stderr and to ``<log_dir>/mage-bridge.log``; returns the file's path.

    ``verbose`` logs debug lines too; ``quiet`` keeps stderr to warnings and errors (the file has everything).
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    root = logging.getLogger("mage_bridge")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    while _installed:
        old = _installed.pop()
        root.removeHandler(old)
        old.close()
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                        encoding="utf-8")
    console = logging.StreamHandler(sys.stderr)
    if quiet:
        console.setLevel(logging.WARNING)
    handlers: list[logging.Handler] = [console, file_handler]
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        _installed.append(handler)
    return path
