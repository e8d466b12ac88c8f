"""Auditioning a finished job: its stems by name, their waveform peaks, their audio; by job id only.

The page never names a file. It asks for ``/api/jobs/<id>/stems``; the panel reads the job's
manifest (the path the daemon recorded when the job ended, which must lie in that job's own
folder) and serves each stem the manifest lists, by its name, from that folder and nowhere
else: a manifest that points outside it (``../``, an absolute path, a symlink out) is refused.
Peaks come from :class:`~mage_bridge.panel.peaks.PeakCache`; audio as the file is, with range
requests (the browser decodes it with Web Audio and starts every stem on one clock).

:func:`stem_files` and :func:`serve_stem` take a folder and a manifest, so a view that auditions
clips by another id (the clip library's) serves them the same way; :func:`job_result` is a finished
job's manifest and folder (the arranger serves a rendered song from it).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mage_bridge.errors import MageError
from mage_bridge.panel.http import json_response
from mage_bridge.panel.peaks import column_count
from mage_bridge.server.jobs import DONE, Job

if TYPE_CHECKING:
    from mage_bridge.panel.app import Panel

STEM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
#: The mix's name beside the stems.
MIX = "mix"
AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg"}
MAX_MANIFEST_BYTES = 4 << 20


class NotServedError(MageError):
    """A job or file the panel does not serve: not done, not listed, or outside its folder."""

    code = "not_found"


def read_manifest(path: Path, folder: Path) -> dict[str, Any]:
    """The manifest at ``path``, which must be a regular file directly in ``folder`` (both resolved)."""
    resolved = Path(os.path.realpath(path))
    if resolved.parent != folder or not resolved.is_file() or resolved.stat().st_size > MAX_MANIFEST_BYTES:
        raise NotServedError("this job's manifest is not in its job folder")
    try:
        data = json.loads(resolved.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise NotServedError(f"this job's manifest cannot be read: {e}") from None
    if not isinstance(data, dict):
        raise NotServedError("this job's manifest is not a JSON object")
    return data


def stem_files(manifest: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Stem name -> resolved audio file, for each stem the manifest lists (and ``mix``) that is a regular
    audio file inside ``folder``; anything else is left out."""
    listed: dict[str, Any] = dict(manifest.get("stems") or {}) if isinstance(manifest.get("stems"), dict) else {}
    if isinstance(manifest.get("mix"), str):
        listed[MIX] = manifest["mix"]
    out: dict[str, Path] = {}
    for name, rel in listed.items():
        if not isinstance(name, str) or not STEM_NAME.fullmatch(name) or not isinstance(rel, str) or not rel:
            continue
        resolved = Path(os.path.realpath(folder / rel))
        if not resolved.is_relative_to(folder) or resolved.suffix.lower() not in AUDIO_TYPES:
            continue
        if resolved.is_file():
            out[name] = resolved
    return out


def job_result(panel: Panel, job_id: str) -> tuple[Job, dict[str, Any], Path]:
    """A finished job, its manifest and its own folder (resolved): what its results are served from."""
    job = panel.job(job_id)
    if job.state != DONE or not job.result:
        raise NotServedError(f"job {job.id} is {job.state}: it has nothing to play yet")
    folder = Path(os.path.realpath(panel.host.jobs_dir / job.id))
    return job, read_manifest(Path(job.result), folder), folder


def serve_stem(path: Path) -> web.FileResponse:
    """An audio file as it is (ranges allowed); never cached by the browser past this daemon's life."""
    return web.FileResponse(path, headers={"Content-Type": AUDIO_TYPES[path.suffix.lower()],
                                           "Cache-Control": "private, max-age=3600"})


class AuditionRoutes:
    """``/api/jobs/{id}/stems``, ``.../stems/{stem}/peaks``, ``.../stems/{stem}/audio``."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/api/jobs/{job_id}/stems", self.stems),
                web.get("/api/jobs/{job_id}/stems/{stem}/peaks", self.peaks),
                web.get("/api/jobs/{job_id}/stems/{stem}/audio", self.audio)]

    def _result(self, job_id: str) -> tuple[dict[str, Any], dict[str, Path]]:
        _, manifest, folder = job_result(self.panel, job_id)
        return manifest, stem_files(manifest, folder)

    def _stem(self, request: web.Request) -> Path:
        _, files = self._result(request.match_info["job_id"])
        name = request.match_info["stem"]
        if name not in files:
            raise NotServedError(f"job {request.match_info['job_id']} has no stem {name[:40]!r}; it has "
                                 f"{', '.join(files) or 'none'}")
        return files[name]

    async def stems(self, request: web.Request) -> web.Response:
        """The stems to play, in the manifest's order, with what the page needs to place and loop them."""
        job_id = request.match_info["job_id"]
        manifest, files = self._result(job_id)
        analysis: dict[str, Any] = manifest["analysis"] if isinstance(manifest.get("analysis"), dict) else {}
        return json_response({
            "job_id": job_id, "sample_rate": manifest.get("sample_rate"), "duration_s": manifest.get("duration_s"),
            "bars": manifest.get("bars"), "bpm": analysis.get("bpm"), "key": analysis.get("key"),
            "mode": analysis.get("mode"), "time_signature": analysis.get("time_signature"),
            "stems": [{"name": name, "audio": f"/api/jobs/{job_id}/stems/{name}/audio",
                       "peaks": f"/api/jobs/{job_id}/stems/{name}/peaks"} for name in files],
        })

    async def peaks(self, request: web.Request) -> web.Response:
        """``?columns=N``: min/max per column of one stem (computed once, then from the cache)."""
        path = self._stem(request)
        data = await self.panel.peaks.get(path, column_count(request.query.get("columns")))
        return json_response({k: v for k, v in data.items() if k != "source"})

    async def audio(self, request: web.Request) -> web.StreamResponse:
        """The stem's file, as it is."""
        return serve_stem(self._stem(request))


def routes(panel: Panel) -> list[web.RouteDef]:
    return AuditionRoutes(panel).routes()
