// Auditioning one result: a row per stem (its waveform from the server's peaks, mute, solo), play/stop
// for all stems together. open(stemsUrl) takes the JSON of /api/jobs/<id>/stems (or any view's
// equivalent: {sample_rate, duration_s, stems: [{name, audio, peaks}]}), so other views reuse it.

import { get } from "./api.js";
import { Player } from "./player.js";
import { drawPeaks, loadPeaks } from "./waveform.js";

const COLORS = { drums: "#ff8a65", bass: "#ba68c8", other: "#4fc3f7", vocals: "#aed581", mix: "#e0e0e0" };

export class Audition {
  constructor(root) {
    this.root = root;
    this.root.classList.add("audition");
    this.root.innerHTML = `
      <div class="transport">
        <button type="button" class="play" disabled>Play</button>
        <span class="clock" aria-live="off">stopped</span>
        <span class="facts"></span>
      </div>
      <div class="stems"></div>`;
    this.playButton = root.querySelector(".play");
    this.clock = root.querySelector(".clock");
    this.facts = root.querySelector(".facts");
    this.rows = root.querySelector(".stems");
    this.player = new Player(root);
    this.peaks = new Map();
    this.url = null;
    this.playButton.addEventListener("click", () => this.toggle());
    this.player.onChange = (state) => this.showState(state);
    this.player.onTick = (position) => this.showPosition(position);
  }

  showState(state) {
    this.playButton.disabled = !(state === "ready" || state === "playing");
    this.playButton.textContent = state === "playing" ? "Stop" : "Play";
    this.playButton.setAttribute("aria-pressed", String(state === "playing"));
    if (state === "playing") this.clock.textContent = "playing";
    else if (state === "loading") this.clock.textContent = "loading…";
    else this.clock.textContent = "stopped";
    if (state !== "playing") this.drawAll(null);
  }

  showPosition(position) {
    const duration = this.player.duration || 1;
    this.clock.textContent = `playing ${formatTime(position)} / ${formatTime(duration)}`;
    this.drawAll(Math.min(1, position / duration));
  }

  drawAll(fraction) {
    for (const row of this.rows.children) {
      const peaks = this.peaks.get(row.dataset.stem);
      if (peaks) drawPeaks(row.querySelector("canvas"), peaks, { color: COLORS[row.dataset.stem], position: fraction });
    }
  }

  /** Show and load the stems of stemsUrl; resolves when all are decoded and drawn. */
  async open(stemsUrl) {
    if (this.url === stemsUrl) return;
    this.url = stemsUrl;
    this.player.stop();
    this.root.dataset.loaded = "false";
    const info = await get(stemsUrl);
    if (this.url !== stemsUrl) return;
    const facts = [info.bpm && `${info.bpm} BPM`, info.key && `${info.key} ${info.mode || ""}`.trim(),
      info.time_signature && info.time_signature.join("/"), info.bars && `${info.bars} bars`,
      info.duration_s && formatTime(info.duration_s)].filter(Boolean);
    this.facts.textContent = info.stems.length ? facts.join(" · ") : "this result has no audio";
    this.peaks.clear();
    this.rows.replaceChildren(...info.stems.map((stem) => this.row(stem)));
    await Promise.all([
      this.player.load(info.stems, info.sample_rate),
      ...info.stems.map(async (stem) => {
        const row = this.rows.querySelector(`[data-stem="${stem.name}"]`);
        const peaks = await loadPeaks(stem.peaks, row.querySelector("canvas"));
        this.peaks.set(stem.name, peaks);
        drawPeaks(row.querySelector("canvas"), peaks, { color: COLORS[stem.name] });
      }),
    ]);
    if (this.url === stemsUrl) {
      // the mix is the stems' sum: heard alone (solo), not on top of them
      const mix = this.rows.querySelector('[data-stem="mix"]');
      if (mix && info.stems.length > 1) {
        this.player.mute("mix", true);
        mix.dataset.mute = "true";
        mix.querySelector(".mute").setAttribute("aria-pressed", "true");
      }
      this.showAudible();
      this.root.dataset.loaded = "true";
    }
  }

  row(stem) {
    const row = document.createElement("div");
    row.className = "stem";
    row.dataset.stem = stem.name;
    row.innerHTML = `
      <span class="name"></span>
      <button type="button" class="mute" aria-pressed="false" title="mute">M</button>
      <button type="button" class="solo" aria-pressed="false" title="solo">S</button>
      <canvas class="wave" height="48"></canvas>`;
    row.querySelector(".name").textContent = stem.name;
    for (const kind of ["mute", "solo"]) {
      const button = row.querySelector(`.${kind}`);
      button.addEventListener("click", () => {
        const on = button.getAttribute("aria-pressed") !== "true";
        button.setAttribute("aria-pressed", String(on));
        this.player[kind](stem.name, on);
        row.dataset[kind] = String(on);
        this.showAudible();
      });
    }
    row.querySelector("canvas").addEventListener("click", (event) => {
      const box = event.currentTarget.getBoundingClientRect();
      const at = ((event.clientX - box.left) / box.width) * (this.player.duration || 0);
      this.player.play(at);
    });
    return row;
  }

  /** Each row's data-audible: whether its stem is heard now, after every mute and solo. */
  showAudible() {
    for (const row of this.rows.children) row.dataset.audible = String(this.player.audible(row.dataset.stem));
  }

  toggle() {
    if (this.player.state === "ready" || this.player.state === "playing") this.player.toggle();
  }

  clear() {
    this.url = null;
    this.player.stop();
    this.rows.replaceChildren();
    this.facts.textContent = "";
    this.root.dataset.loaded = "false";
  }
}

export function formatTime(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}
