// The Write view: prompt and lyrics in, the analysis shown as it is typed (and editable), bars, seed,
// backend, where the clip goes; Enter generates. A field the user changed (or the DAW filled in) is
// "pinned": it is sent as an option and wins over the prompt; the analysis no longer overwrites it.

import { ApiError, get, post, requestId } from "../api.js";
import { progressLine } from "../progress.js";

const ANALYZE_DELAY_MS = 300;
const DAW_REFRESH_MS = 5000;
const TAGS = ["intro", "verse", "pre-chorus", "chorus", "bridge", "outro"];
const KEYS = ["C", "C#", "Db", "D", "D#", "Eb", "E", "F", "F#", "Gb", "G", "G#", "Ab", "A", "A#", "Bb", "B"];
const METRES = ["4/4", "3/4", "6/8", "2/4", "5/4", "7/8", "12/8"];

const TEMPLATE = `
<form class="write" autocomplete="off" novalidate>
  <label class="wide">Prompt
    <textarea name="prompt" id="prompt" rows="2" maxlength="2000" required
      placeholder="deep house groove at 122 BPM in G minor"></textarea>
  </label>
  <div class="wide lyrics">
    <label for="lyrics">Lyrics <small>(optional; Ctrl+Enter generates)</small></label>
    <div class="tags" role="group" aria-label="structure tags"></div>
    <textarea name="lyrics" id="lyrics" rows="5" maxlength="20000"
      placeholder="[verse]&#10;Your own words, one line per phrase&#10;[chorus]&#10;..."></textarea>
  </div>
  <fieldset class="analysis wide" id="analysis" data-state="empty">
    <legend>Analysis <small class="analysis-state" aria-live="polite"></small></legend>
    <label>Genre <input name="genre" data-field="genre"></label>
    <label>BPM <input name="bpm" data-field="bpm" type="number" min="40" max="240" step="0.1"></label>
    <label>Key <select name="key" data-field="key">${KEYS.map((k) => `<option>${k}</option>`).join("")}</select></label>
    <label>Mode <select name="mode" data-field="mode"><option>major</option><option>minor</option></select></label>
    <label>Metre <select name="time_signature" data-field="time_signature">${
      METRES.map((m) => `<option>${m}</option>`).join("")}</select></label>
    <label>Mood <input name="mood" data-field="mood" placeholder="calm, dreamy"></label>
    <label>Vocals <select name="vocals" data-field="vocals"><option value="false">instrumental</option>
      <option value="true">sung</option></select></label>
  </fieldset>
  <fieldset class="clip wide">
    <legend>Clip</legend>
    <label>Bars <input name="bars" id="bars" type="number" min="1" max="256" value="8"></label>
    <label>Seed <span class="seed"><input name="seed" id="seed" type="number" min="0" max="4294967295"
      placeholder="random"><button type="button" class="dice" title="a new seed">⚄</button></span></label>
    <label>Backend <select name="backend" id="backend"><option value="auto">auto</option></select></label>
    <div class="send" role="radiogroup" aria-label="send to">
      <span>Send to</span>
      <label><input type="radio" name="send_to" value="library" checked> library only</label>
      <span class="daws"></span>
    </div>
  </fieldset>
  <div class="actions wide">
    <button type="submit" id="generate" class="primary">Generate</button>
    <span class="last-job" id="last-job" aria-live="polite"></span>
  </div>
</form>`;

export function mount(root, panel) {
  root.innerHTML = TEMPLATE;
  const form = root.querySelector("form");
  const prompt = form.elements.prompt;
  const lyrics = form.elements.lyrics;
  const box = root.querySelector("#analysis");
  const boxState = root.querySelector(".analysis-state");
  const fields = Array.from(root.querySelectorAll("[data-field]"));
  const lastJob = root.querySelector("#last-job");
  const pinned = new Map(); // field -> "you" | "DAW"
  let analysis = null;
  let timer = null;
  let inFlight = null;
  let lastJobId = null;
  let dawClients = [];
  let sendToChosen = false;

  for (const tag of TAGS) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = `[${tag}]`;
    b.addEventListener("click", () => insertTag(lyrics, tag));
    root.querySelector(".tags").append(b);
  }

  // -- the analysis, as it is typed ------------------------------------------------------------------
  function fieldValue(name, a) {
    if (name === "time_signature") return `${a.time_signature[0]}/${a.time_signature[1]}`;
    if (name === "mood") return (a.mood || []).join(", ");
    if (name === "vocals") return String(Boolean(a.vocals));
    return String(a[name] ?? "");
  }

  function ensureOption(select, value) {
    if (select.tagName === "SELECT" && !Array.from(select.options).some((o) => o.value === value)) {
      select.append(new Option(value, value));
    }
  }

  function showSource(input, source) {
    const label = input.closest("label");
    label.dataset.source = source || "";
    label.classList.toggle("pinned", pinned.has(input.dataset.field));
    label.title = source ? `from ${source}` : "";
  }

  function render() {
    for (const input of fields) {
      const name = input.dataset.field;
      if (pinned.has(name)) {
        showSource(input, pinned.get(name));
        continue;
      }
      if (!analysis) continue;
      const value = fieldValue(name, analysis);
      ensureOption(input, value);
      input.value = value;
      showSource(input, (analysis.sources || {})[name === "time_signature" ? "time_signature" : name] || "analysis");
    }
  }

  async function analyze() {
    const text = prompt.value.trim();
    if (!text) {
      box.dataset.state = "empty";
      boxState.textContent = "";
      return;
    }
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    box.dataset.state = "busy";
    boxState.textContent = "reading…";
    try {
      const data = await post("/api/analyze", { prompt: text, lyrics: lyrics.value }, { signal: controller.signal });
      if (controller !== inFlight) return;
      analysis = data.analysis;
      box.dataset.state = "ready";
      box.dataset.prompt = text;
      boxState.textContent = (analysis.warnings || []).join("; ");
      render();
    } catch (error) {
      if (error.name === "AbortError") return;
      box.dataset.state = "error";
      boxState.textContent = error.message;
    } finally {
      if (controller === inFlight) inFlight = null;
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(analyze, ANALYZE_DELAY_MS);
  }

  prompt.addEventListener("input", schedule);
  lyrics.addEventListener("input", schedule);
  for (const input of fields) {
    input.addEventListener("change", () => {
      pinned.set(input.dataset.field, "you");
      showSource(input, "you");
    });
    input.closest("label").addEventListener("dblclick", () => {
      pinned.delete(input.dataset.field);
      render();
    });
  }
  root.querySelector(".dice").addEventListener("click", () => {
    form.elements.seed.value = String(Math.floor(Math.random() * 2 ** 31));
  });

  // -- where it goes: the DAWs that reported, their tempo and metre ----------------------------------
  function prefillFrom(client) {
    if (!client) return;
    for (const [name, value] of [["bpm", String(client.bpm)], ["time_signature", `${client.numerator}/${client.denominator}`],
      ["key", client.key]]) {
      if (value === undefined || value === null || pinned.get(name) === "you") continue;
      const input = form.elements[name];
      ensureOption(input, value);
      input.value = value;
      pinned.set(name, "DAW");
      showSource(input, "DAW");
    }
  }

  async function refreshDaws() {
    let data;
    try {
      data = await get("/api/daw");
    } catch {
      return;
    }
    const first = dawClients.length === 0;
    dawClients = data.clients;
    const holder = root.querySelector(".daws");
    const chosen = form.elements.send_to.value;
    holder.replaceChildren(...dawClients.map((c) => {
      const label = document.createElement("label");
      label.title = `${c.bpm} BPM, ${c.numerator}/${c.denominator}; reported ${c.age_s} s ago`;
      label.innerHTML = `<input type="radio" name="send_to"> <span></span>`;
      label.querySelector("input").value = c.client_id;
      label.querySelector("span").textContent = `${c.name} (next bar)`;
      return label;
    }));
    const still = dawClients.some((c) => c.client_id === chosen);
    if (first && dawClients.length && !sendToChosen) {
      form.elements.send_to.value = dawClients[0].client_id;
      prefillFrom(dawClients[0]);
    } else {
      form.elements.send_to.value = still ? chosen : "library";
    }
    root.dataset.daws = String(dawClients.length);
  }

  form.addEventListener("change", (event) => {
    if (event.target.name !== "send_to") return;
    sendToChosen = true; // the user's choice: a DAW that appears later does not take it over
    prefillFrom(dawClients.find((c) => c.client_id === event.target.value));
  });

  async function loadBackends() {
    try {
      const data = await get("/api/backends");
      const select = form.elements.backend;
      select.options[0].textContent = `auto (config: ${data.configured})`;
      for (const b of data.backends) {
        const option = new Option(b.name + (b.available ? "" : " (not available)"), b.name);
        option.disabled = !b.available;
        option.title = b.available ? b.summary : b.reason;
        select.append(option);
      }
    } catch (error) {
      panel.say(`Backends unknown: ${error.message}`, "error");
    }
  }

  // -- generate --------------------------------------------------------------------------------------
  function options() {
    const out = {};
    for (const [name] of pinned) {
      const raw = form.elements[name].value;
      if (name === "bpm") out.bpm = Number(raw);
      else if (name === "time_signature") out.time_signature = raw;
      else if (name === "mood") out.mood = raw.split(",").map((m) => m.trim()).filter(Boolean);
      else if (name === "vocals") out.vocals = raw === "true";
      else out[name] = raw;
    }
    const bars = form.elements.bars.value;
    if (bars) out.bars = Number(bars);
    return out;
  }

  async function generate() {
    const text = prompt.value.trim();
    if (!text) {
      panel.say("Write a prompt first.", "error");
      prompt.focus();
      return;
    }
    const seed = form.elements.seed.value;
    const body = {
      req_id: requestId(), prompt: text, lyrics: lyrics.value, options: options(),
      seed: seed === "" ? null : Number(seed), backend: form.elements.backend.value,
      send_to: form.elements.send_to.value,
    };
    const button = form.elements.generate;
    button.disabled = true;
    try {
      const data = await post("/api/generate", body);
      lastJobId = data.job.id;
      panel.jobs.put(data.job);
      root.dataset.lastJob = lastJobId;
      panel.say(`Job ${lastJobId} queued.`);
    } catch (error) {
      const words = error instanceof ApiError ? `${error.message}` : `The daemon did not answer: ${error.message}`;
      panel.say(words, "error");
      lastJob.textContent = words;
      lastJob.dataset.state = "refused";
    } finally {
      button.disabled = false;
    }
  }

  panel.jobs.onChange((job) => {
    const current = lastJobId && panel.jobs.get(lastJobId);
    if (!current || (job && job.id !== lastJobId)) return;
    lastJob.dataset.state = current.state;
    lastJob.replaceChildren(progressLine(current));
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    generate();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    const inLyrics = event.target === lyrics;
    if ((inLyrics && (event.ctrlKey || event.metaKey)) || (!inLyrics && !event.shiftKey && event.target.tagName !== "BUTTON")) {
      event.preventDefault();
      generate();
    }
  });

  loadBackends();
  refreshDaws();
  setInterval(refreshDaws, DAW_REFRESH_MS);

  return {
    show({ focus }) {
      if (focus) prompt.focus();
    },
    onKey() {
      return false;
    },
  };
}

function insertTag(textarea, tag) {
  const start = textarea.selectionStart;
  const before = textarea.value.slice(0, start);
  const text = `${before && !before.endsWith("\n") ? "\n" : ""}[${tag}]\n`;
  textarea.setRangeText(text, start, textarea.selectionEnd, "end");
  textarea.focus();
  textarea.dispatchEvent(new Event("input"));
}
