"""``serve`` (run the daemon), ``submit`` / ``status`` (talk to a running one over OSC), ``panel`` (open its page).

``submit`` and ``status`` first ping the daemon (:func:`~mage_bridge.server.client.check_daemon`),
so a daemon that is not running is told within a second, not after a reply timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from mage_bridge.cli.common import add_command, config_of
from mage_bridge.cli.progress import display_for
from mage_bridge.edits import EDIT_KINDS
from mage_bridge.errors import InvalidInputError, MageError

SERVE_EXAMPLES = """
  mage-bridge serve                                  # 127.0.0.1:9137, jobs under the state folder
  mage-bridge serve --port 9000 --workers 2 --midi-map ~/mage-midi.toml -v
"""
SUBMIT_EXAMPLES = """
  mage-bridge submit generate "lo-fi hip hop beat" --options '{"duration_s": 16}' --wait
  mage-bridge submit lyrics "folk ballad about rain" --options '{"lyrics_mode": "generate"}' --wait
  mage-bridge submit master ~/mage/mix.wav --options '{"target_lufs": -16, "format": "flac"}'
  mage-bridge submit separate ~/mage/song.wav --options '{"backend": "dsp"}' --wait
  mage-bridge submit repaint ~/mage/clips/house/manifest.json --options '{"start_s": 8, "end_s": 12}' --wait
  mage-bridge submit song-render ~/mage/songs/night.json --options '{"format": "mp3"}' --wait
"""
PANEL_EXAMPLES = """
  mage-bridge panel                                  # the running daemon's panel, in the browser
  mage-bridge panel --print                          # only print its URL (with the token)
  mage-bridge panel --state-dir /srv/mage/state      # a daemon started with --state-dir
"""
STATUS_EXAMPLES = """
  mage-bridge status 3f2a9c81d4e0
  mage-bridge status 3f2a9c81d4e0 --json --state-dir /srv/mage/state
"""


def register(sub: argparse._SubParsersAction) -> None:
    s = add_command(sub, "serve", help="run the daemon: OSC (and MIDI) in, jobs out", examples=SERVE_EXAMPLES)
    s.add_argument("--port", type=int, help="UDP port (default: config server.port, 9137); 0 picks a free one")
    s.add_argument("--host", help="address to bind (default 127.0.0.1; others need --allow-remote + --allow-client)")
    s.add_argument("--state-dir", type=Path, help="queue, logs and job results (default: config state_dir)")
    s.add_argument("--workers", type=int, help="worker processes (default: config server.workers, 1)")
    s.add_argument("--midi-map", type=Path, help="MIDI mapping/presets TOML (see docs/midi-map.example.toml)")
    s.add_argument("--allow-remote", action="store_true", default=None,
                   help="allow binding a non-loopback address (with an allowlist)")
    s.add_argument("--allow-client", action="append", metavar="ADDR",
                   help="client address or network allowed besides loopback (repeatable)")
    s.add_argument("--panel-port", type=int,
                   help="TCP port of the web panel on 127.0.0.1 (default: config server.panel_port, 9138); 0 picks "
                        "a free one")
    s.add_argument("--no-panel", dest="panel", action="store_false", default=None, help="serve no web panel")
    s.set_defaults(func=_serve)

    w = add_command(sub, "panel", help="open the running daemon's web panel in the browser", examples=PANEL_EXAMPLES)
    w.add_argument("--print", dest="print_only", action="store_true", help="print the URL, open no browser")
    w.add_argument("--state-dir", type=Path, metavar="DIR",
                   help="the daemon's state folder, if it was started with --state-dir")
    w.set_defaults(func=_panel)

    m = add_command(sub, "submit", help="send a job to a running daemon over OSC", examples=SUBMIT_EXAMPLES)
    m.add_argument("kind", choices=("generate", "lyrics", "separate", "enhance", "master", *EDIT_KINDS,
                                    "song-render", "song-fill"))
    m.add_argument("input", help="the prompt (generate, lyrics), the audio file path, for the edits "
                                  f"({', '.join(EDIT_KINDS)}) a clip's manifest.json or an audio file, for "
                                  "song-render an arrangement .json, for song-fill the focus clip's manifest.json")
    m.add_argument("--lyrics", help="lyrics (generate, lyrics)")
    m.add_argument("--options", default="", metavar="JSON",
                   help="options as a JSON object, named as the Python API names them (docs/osc.md)")
    m.add_argument("--seed", type=int, help="random seed (generate and the edits)")
    m.add_argument("--wait", action="store_true",
                   help="stay until the job is done, showing its progress; print the manifest path")
    m.add_argument("--timeout", type=float, default=600.0, help="seconds --wait waits (default 600)")
    _client_args(m)
    m.set_defaults(func=_submit)

    t = add_command(sub, "status", help="ask a running daemon about a job", examples=STATUS_EXAMPLES)
    t.add_argument("job_id")
    t.add_argument("--json", action="store_true", help="print JSON")
    _client_args(t)
    t.set_defaults(func=_status)


def _client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="daemon address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="daemon port (default: config server.port)")
    p.add_argument("--state-dir", type=Path, metavar="DIR",
                   help="the daemon's state folder, if it was started with --state-dir (its daemon.json holds the "
                        "token that lets this command ask about any job)")


def _serve(args: argparse.Namespace) -> int:
    from mage_bridge.logs import setup_logging
    from mage_bridge.server.daemon import Daemon

    config = config_of(args, **{
        "server.port": args.port, "server.host": args.host, "state_dir": args.state_dir,
        "server.workers": args.workers, "server.midi_map": args.midi_map,
        "server.allow_remote": args.allow_remote,
        "server.allow_clients": ",".join(args.allow_client) if args.allow_client else None,
        "server.panel_port": args.panel_port, "server.panel": args.panel,
    })
    setup_logging(Path(config.resolved_log_dir).expanduser(), verbose=args.verbose, quiet=args.quiet)

    def ready(daemon: Daemon) -> None:  # the URL to open is the one thing serve prints on stdout
        if daemon.panel_url is not None:
            print(f"MAGE Bridge panel: {daemon.panel_url}", flush=True)

    return Daemon(config).run(on_ready=ready)


def _panel(args: argparse.Namespace) -> int:
    """Open the panel's URL (with its token, from the daemon's ``daemon.json``) in the browser."""
    import socket
    import webbrowser
    from urllib.parse import urlsplit

    config = config_of(args)
    state_dir = (args.state_dir or Path(config.resolved_state_dir)).expanduser()
    info = _daemon_info(state_dir)
    url = info.get("panel_url") if info is not None else None
    if not isinstance(url, str):
        why = "no daemon is running" if info is None else "the daemon runs without its panel (server.panel = false)"
        raise MageError(f"{why} with the state folder {str(state_dir)!r}: start one with `mage-bridge serve`"
                        + ("" if args.state_dir else " (or give --state-dir)"))
    where = urlsplit(url)
    try:
        socket.create_connection((where.hostname or "127.0.0.1", where.port or 80), timeout=2.0).close()
    except OSError:
        raise MageError(f"the daemon of {str(state_dir)!r} does not answer on {where.netloc}: it may have "
                        "stopped; start it with `mage-bridge serve`") from None
    if args.print_only or not webbrowser.open(url):
        print(url)
    return 0


def _submit(args: argparse.Namespace) -> int:
    from mage_bridge.server.client import OscClient, check_daemon

    config = config_of(args)
    port = args.port if args.port is not None else config.server.port
    options: dict[str, Any] = {}
    if args.options:
        try:
            options = json.loads(args.options)
        except ValueError as e:
            raise InvalidInputError(f"--options is not valid JSON: {e}") from None
        if not isinstance(options, dict):
            raise InvalidInputError(f"--options must be a JSON object, got {type(options).__name__}")
    if args.seed is not None:
        options["seed"] = args.seed
    opts = json.dumps(options) if options else ""
    req = uuid.uuid4().hex[:12]
    if args.kind in ("generate", "lyrics"):
        call: tuple[Any, ...] = (f"/mage/{args.kind}", req, args.input, args.lyrics or "", opts)
    else:
        call = (f"/mage/{args.kind.replace('-', '/')}", req, str(Path(args.input).expanduser().absolute()), opts)
    check_daemon(args.host, port)
    with OscClient(args.host, port) as client:
        address, reply = client.request(*call, timeout_s=5.0)
        if address == "/mage/error":
            raise MageError(f"{reply[1]}: {reply[2]}")
        job_id = str(reply[1])
        print(job_id, flush=True)
        if not args.wait:
            return 0
        with display_for(args) as progress:
            while True:
                address, ev = client.wait_for(lambda a, p: bool(p) and p[0] == job_id, args.timeout)
                if address == "/mage/job/progress":
                    progress(str(ev[1]), float(ev[2]))
                elif address in ("/mage/job/done", "/mage/job/failed"):
                    break
    if address == "/mage/job/done":
        print(ev[1])
        return 0
    print(f"mage-bridge: job {job_id} failed: {ev[1]}: {ev[2]}", file=sys.stderr)
    return 1


def _daemon_info(state_dir: Path) -> dict[str, Any] | None:
    """What the daemon of this state folder wrote to ``<state_dir>/daemon.json`` (readable by this user
    only): its ports, its token, its panel's URL; ``None`` when no daemon runs there."""
    from mage_bridge.server.daemon import INFO_NAME

    try:
        info = json.loads((state_dir.expanduser() / INFO_NAME).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _local_token(state_dir: Path, port: int) -> str | None:
    """The token of the daemon listening on ``port`` with this state folder, if it is that daemon.

    With it, this CLI may ask about any job, not only those it sent itself.
    """
    info = _daemon_info(state_dir)
    if info is not None and info.get("port") == port and isinstance(info.get("token"), str):
        return str(info["token"])
    return None


def _status(args: argparse.Namespace) -> int:
    from mage_bridge.server.client import OscClient, check_daemon

    config = config_of(args)
    port = args.port if args.port is not None else config.server.port
    token = _local_token(args.state_dir or Path(config.resolved_state_dir), port)
    check_daemon(args.host, port)
    with OscClient(args.host, port) as client:
        address, reply = client.request("/mage/job/status", args.job_id, *((token,) if token else ()), timeout_s=5.0)
    if address == "/mage/error":
        raise MageError(f"{reply[1]}: {reply[2]}")
    job_id, state, stage, fraction, detail = reply
    if args.json:
        print(json.dumps({"job_id": job_id, "state": state, "stage": stage, "fraction": fraction,
                          "detail": detail}))
    else:
        print(f"{job_id} {state}" + (f" ({stage} {fraction:.0%})" if stage and state == "running" else "")
              + (f": {detail}" if detail else ""))
    return 0 if state != "failed" else 1
