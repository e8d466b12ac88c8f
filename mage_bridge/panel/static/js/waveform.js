// Drawing a stem from its peaks (min/max per column, from the server's cache) on a canvas: a few
// kilobytes of JSON, never the audio itself.

import { get } from "./api.js";

/** The peaks of one stem, as many columns as the canvas has device pixels (the server rounds up). */
export async function loadPeaks(url, canvas) {
  const width = Math.max(64, Math.round(canvas.clientWidth * (window.devicePixelRatio || 1)));
  return get(`${url}?columns=${width}`);
}

export function drawPeaks(canvas, peaks, { color = "#7fc4ff", position = null } = {}) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, width, height);
  const mid = height / 2;
  g.fillStyle = color;
  const n = peaks.columns;
  for (let x = 0; x < width; x++) {
    const c = Math.min(n - 1, Math.floor((x * n) / width));
    const top = mid - peaks.max[c] * mid;
    const bottom = mid - peaks.min[c] * mid;
    g.fillRect(x, top, 1, Math.max(1, bottom - top));
  }
  if (position !== null) {
    g.fillStyle = "#ffcc66";
    g.fillRect(Math.round(position * width), 0, Math.max(1, ratio), height);
  }
  canvas.dataset.drawn = "true";
  canvas.dataset.columns = String(n);
}
