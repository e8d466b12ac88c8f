"""Stem enhancement chains, VST3 hosting, mastering and the loudness meters.

Submodules are imported on use (``from mage_bridge.effects.loudness import
integrated_loudness``); importing this package does no work.
"""
