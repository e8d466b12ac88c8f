"""The daemon: OSC server, MIDI mapping, persistent job queue, worker processes.

``mage-bridge serve`` runs :class:`mage_bridge.server.daemon.Daemon`. Nothing
is imported or started here: each door lives in its own module.

Arrows run one way: this package imports :mod:`mage_bridge.api`; nothing
below it imports this package.
"""
