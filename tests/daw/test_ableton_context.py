"""Live's context (tempo, metre, song position) reaches the daemon on change, through listeners, not on a timer.

A bare UDP socket stands in for the daemon, so what the script sends is seen datagram by datagram.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.daw.fake_live.harness import FakeDaemon, Rig, fake_daemon, live, tick_for, tick_until  # noqa: F401

CONTEXT = "/mage/daw/context"
PROPERTIES = ("tempo", "signature_numerator", "signature_denominator", "current_song_time")


def contexts(d: FakeDaemon) -> list[list[Any]]:
    return [args for address, args in d.poll() if address == CONTEXT]


def started(live: Rig, d: FakeDaemon, **song: Any) -> tuple[Any, Any]:
    live.write_settings({"port": d.port})
    surface, c = live.start(**song)
    tick_until(surface, lambda: bool(contexts(d)), 5.0)
    return surface, c


def test_listeners_are_connected_and_removed_on_disconnect(live: Rig, fake_daemon: FakeDaemon) -> None:
    surface, c = started(live, fake_daemon)
    song = c.song()
    callback = surface._on_context_changed
    assert all(getattr(song, f"{p}_has_listener")(callback) for p in PROPERTIES)
    surface.disconnect()
    assert not any(getattr(song, f"{p}_has_listener")(callback) for p in PROPERTIES)


@pytest.mark.parametrize(("prop", "value", "expected"), [
    ("tempo", 90.0, [90.0, 4, 4, 2.0 * 60 / 90]),
    ("signature_numerator", 7, [120.0, 7, 4, 1.0]),
    ("signature_denominator", 8, [120.0, 4, 8, 1.0]),
    ("current_song_time", 16.0, [120.0, 4, 4, 8.0]),
], ids=["tempo", "numerator", "denominator", "song_time"])
def test_a_change_is_sent_at_once(live: Rig, fake_daemon: FakeDaemon, prop: str, value: Any,
                                  expected: list[Any]) -> None:
    surface, c = started(live, fake_daemon, song_time_beats=2.0)
    tick_for(surface, 0.1)  # the tick that sent the first context is over
    contexts(fake_daemon)
    setattr(c.song(), prop, value)  # the user turns a knob: Live notifies the listener
    [sent] = contexts(fake_daemon)  # no tick in between
    assert sent[:4] == pytest.approx(expected)
    assert sent[4] == "ableton" and len(sent[5]) == 16


def test_playback_sends_at_most_one_context_per_tick(live: Rig, fake_daemon: FakeDaemon) -> None:
    surface, c = started(live, fake_daemon)
    song = c.song()
    surface.update_display()
    from_tick = len(contexts(fake_daemon))
    total = 0
    for tick in range(10):
        for step in range(50):  # the playhead moves many times between two of Live's ticks
            song.current_song_time = tick * 2.0 + step * 0.04
        from_listener = len(contexts(fake_daemon))
        assert from_tick + from_listener <= 1  # one tick interval: what its tick sent, then the listeners
        surface.update_display()
        from_tick = len(contexts(fake_daemon))
        total += from_listener + from_tick
    assert total >= 10  # and the position does get there while it moves
    assert fake_daemon.received[-1][1][3] == pytest.approx(song.current_song_time * 60 / 120)


def test_an_unchanged_context_is_sent_again_every_few_seconds(live: Rig, fake_daemon: FakeDaemon,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live.surface_module, "CONTEXT_REFRESH_S", 0.2)
    surface, c = started(live, fake_daemon)
    tick_for(surface, 1.0)
    assert 3 <= len(contexts(fake_daemon)) <= 6
    assert live.surface_module.CONTEXT_REFRESH_S < 30.0 / 6  # the real interval: well inside the daemon's 30 s


def test_a_listener_must_not_change_the_set(live: Rig) -> None:
    """The fake enforces Live's rule, so a script that edits the set from a notification fails here."""
    song = live.song()

    def edits() -> None:
        song.create_audio_track(-1)

    song.add_tempo_listener(edits)
    with pytest.raises(RuntimeError, match="Changes cannot be triggered by notifications"):
        song.tempo = 100.0
    assert song.tracks == []
    song.remove_tempo_listener(edits)
    song.create_audio_track(-1)  # outside a notification it is allowed
    with pytest.raises(RuntimeError):
        song.remove_tempo_listener(edits)


def test_ready_only_once_the_daemon_answered(live: Rig, fake_daemon: FakeDaemon,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live.surface_module, "ANSWER_TIMEOUT_S", 0.3)
    surface, c = started(live, fake_daemon)
    assert c.messages == [f"MAGE Bridge: connecting to the daemon at 127.0.0.1:{fake_daemon.port}…"]
    tick_until(surface, lambda: "daemon not running" in c.messages[-1], 5.0)
    assert c.messages[-1] == ("MAGE Bridge: daemon not running: start `mage-bridge serve` "
                              f"(port {fake_daemon.port})")
    assert not any("ready" in m for m in c.messages)
    contexts(fake_daemon)
    fake_daemon.send("/mage/daw/context/ack", 120.0, 4, 4, 0.0)
    tick_until(surface, lambda: "ready" in c.messages[-1], 5.0)
    assert c.messages[-1] == (f"MAGE Bridge: ready (daemon at 127.0.0.1:{fake_daemon.port}; Arrangement view; "
                              "MIDI parts off)")
    replays = [args for address, args in fake_daemon.poll() if address == "/mage/daw/replay"]
    project = c.song().get_data("mage_bridge.project_id", None)
    assert replays == [["ableton", project]]  # catching up is the first thing after an answer
