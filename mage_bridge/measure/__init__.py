"""Honest measurement of tempo and key from audio (numpy + scipy only).

Neither measurer takes the requested tempo or key as a prior; the tempo
measurer takes the time signature, which only says which pulse level is the beat.
"""

from mage_bridge.measure.key import KeyEstimate, measure_key
from mage_bridge.measure.tempo import TempoEstimate, measure_tempo

__all__ = ["KeyEstimate", "TempoEstimate", "measure_key", "measure_tempo"]
