"""``Live.Application``: the running Live and its version."""

from __future__ import annotations

VERSION: tuple[int, int, int] = (12, 1, 0)


class Application:
    def get_major_version(self) -> int:
        return VERSION[0]

    def get_minor_version(self) -> int:
        return VERSION[1]

    def get_bugfix_version(self) -> int:
        return VERSION[2]


def get_application() -> Application:
    return Application()
