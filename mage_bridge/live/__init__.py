"""The live player: clips launched on the bar from a controller, crossfaded, in time with the rig.

One module per concern:

* :mod:`~mage_bridge.live.clips` — clip ids to manifests (:class:`ClipSource`), what a clip's manifest says;
* :mod:`~mage_bridge.live.prepare` — clips loaded and time-stretched to the live tempo, in worker threads;
* :mod:`~mage_bridge.live.grid` — the bar grid in frames of the output;
* :mod:`~mage_bridge.live.ring` — lock-free hand-off to and from the audio callback;
* :mod:`~mage_bridge.live.engine` — the audio callback: launches, loops, crossfades, mutes;
* :mod:`~mage_bridge.live.device` — the output device through PortAudio (``sounddevice``);
* :mod:`~mage_bridge.live.clock`, :mod:`~mage_bridge.live.midiclock`, :mod:`~mage_bridge.live.link` —
  internal, DAW, MIDI clock and Ableton Link tempo; MIDI clock out;
* :mod:`~mage_bridge.live.player` — :class:`Player`, what the daemon's doors drive; its state in
  :mod:`~mage_bridge.live.status`.

Import from the modules (``from mage_bridge.live.player import Player``): the package itself imports
nothing, so the daemon loads NumPy and the player only when it makes one, and ``sounddevice``, ``rtmidi``
or ``aalink`` only when the player opens its output.
"""

