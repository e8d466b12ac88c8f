// The Live view: the live player's status, read-only — what plays and what is queued, tempo, bar and beat,
// the xruns (large: a dropout is what matters on stage), the audio callback's p50/p99/max against the
// buffer period, the device; without an open output, why. Asked every 500 ms while the view is shown.

import { get } from "../api.js";

const POLL_MS = 500;

const TEMPLATE = `
<div class="live">
  <div class="xruns" id="live-xruns-box" title="buffers the audio device dropped since the output opened">
    <span class="xruns-count" id="live-xruns">–</span>
    <span class="xruns-label">xruns</span>
  </div>
  <dl class="live-facts">
    <dt>state</dt><dd id="live-state">–</dd>
    <dt>playing</dt><dd id="live-playing">–</dd>
    <dt>queued</dt><dd id="live-queued">–</dd>
    <dt>tempo</dt><dd id="live-bpm">–</dd>
    <dt>bar · beat</dt><dd id="live-position">–</dd>
    <dt>callback</dt><dd id="live-callback">–</dd>
    <dt>late callbacks</dt><dd id="live-late">–</dd>
    <dt>device</dt><dd id="live-device">–</dd>
  </dl>
  <p class="live-reason" id="live-reason" hidden></p>
</div>`;

const ms = (value) => `${Number(value).toFixed(2)} ms`;

export function mount(root, panel) {
  root.innerHTML = TEMPLATE;
  const box = root.querySelector(".live");
  const field = (id) => root.querySelector(`#live-${id}`);
  let timer = null;
  let asking = false;

  function draw(data) {
    const st = data.status;
    box.dataset.available = String(data.available);
    box.dataset.open = String(data.open);
    const reason = field("reason");
    reason.hidden = !data.reason;
    reason.textContent = data.available ? data.reason : `No player: ${data.reason}.`;
    if (!st) {
      for (const id of ["xruns", "state", "playing", "queued", "bpm", "position", "callback", "late", "device"]) {
        field(id).textContent = "–";
      }
      box.dataset.xruns = "";
      box.dataset.state = "none";
      return;
    }
    box.dataset.state = st.state;
    box.dataset.playing = st.playing;
    box.dataset.xruns = String(st.xruns);
    field("xruns").textContent = String(st.xruns);
    field("xruns-box").dataset.bad = String(st.xruns > 0);
    field("state").textContent = st.state;
    field("playing").textContent = st.playing ? `${st.playing}${st.slot ? ` (slot ${st.slot})` : ""}` : "nothing";
    field("queued").textContent = st.queued ? `${st.queued}${st.queued_bar ? ` on bar ${st.queued_bar}` : ""}` : "nothing";
    field("bpm").textContent = `${Number(st.bpm).toFixed(2)} BPM · ${st.beats_per_bar} beats a bar · ${st.clock} clock`;
    field("position").textContent = `${st.bar} · ${Number(st.beat).toFixed(2)}`;
    const cb = st.callback;
    field("callback").textContent = cb
      ? `p50 ${ms(cb.p50_ms)} · p99 ${ms(cb.p99_ms)} · max ${ms(cb.max_ms)} of ${ms(st.buffer_ms)} (${st.callbacks} callbacks)`
      : "–";
    field("callback").dataset.over = String(Boolean(cb && cb.max_ms > st.buffer_ms));
    field("late").textContent = String(st.late_callbacks);
    const d = st.device;
    field("device").textContent = d
      ? `${d.name} (${d.host_api}) · ${d.sample_rate} Hz · ${d.buffer_frames} frames · ${ms(d.latency_ms)} latency`
      : "none open";
  }

  async function ask() {
    if (asking) return;
    asking = true;
    try {
      draw(await get("/api/live"));
    } catch (error) {
      panel.say(`Live status: ${error.message}`, "error");
    } finally {
      asking = false;
    }
  }

  return {
    show() {
      if (timer === null) {
        ask();
        timer = setInterval(ask, POLL_MS);
      }
    },
    hide() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
    onKey() {
      return false;
    },
  };
}
