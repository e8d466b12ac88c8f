"""A fake of Live's ``_Framework`` package: only ``ControlSurface``."""
