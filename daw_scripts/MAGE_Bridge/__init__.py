"""MAGE Bridge control surface for Ableton Live (install: daw_scripts/README.md)."""

from __future__ import annotations

from .surface import MageBridge


def create_instance(c_instance):  # type: ignore[no-untyped-def]
    """Live calls this once when the control surface is chosen in Preferences."""
    return MageBridge(c_instance)
