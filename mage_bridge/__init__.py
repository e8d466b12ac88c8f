"""MAGE Bridge: AI music inside your DAW.

The public Python API lives in :mod:`mage_bridge.api`; this package root only
carries the version so that ``import mage_bridge`` stays instant.
"""

__version__ = "0.1.0"
