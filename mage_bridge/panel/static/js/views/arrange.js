// The Arrange view: a song around a focus clip (from the Library's "Arrange around this" or by id): an
// Intro, Previous clips, Next clips and an Outro, each a library clip or a clip made to fit ("fill the
// gap", a song_fill job); a crossfade length per junction; render → master → export in a format, as a
// song_render job whose progress shows here; then the song plays in the page and downloads (by job id).
// Songs are kept in the library (/api/songs) and can be opened again. Space plays/stops the song.

import { ApiError, get, post, requestId } from "../api.js";
import { Audition, formatTime } from "../audition.js";
import { progressLine } from "../progress.js";

const SCHEMA = "mage-bridge/arrangement@1";
const DEFAULT_FADE_S = 2.0;
const ROLE_NAMES = { intro: "Intro", previous: "Previous", focus: "Focus", next: "Next", outro: "Outro" };
const ORDER = ["intro", "previous", "focus", "next", "outro"];

const TEMPLATE = `
<div class="arrange-layout">
  <fieldset class="song-head">
    <legend>Song</legend>
    <label>Name <input id="song-name" maxlength="200" placeholder="night drive"></label>
    <label>Open <select id="song-open"><option value="">a new song</option></select></label>
    <label>Focus clip <span class="inline"><input id="focus-id" size="14" placeholder="library id"
      aria-label="focus clip id"><button type="button" id="focus-use">Use</button></span></label>
    <span class="song-state" id="song-state" aria-live="polite"></span>
  </fieldset>
  <ol class="slots" id="slots" aria-label="the song, in play order"></ol>
  <div class="picker" id="picker" hidden>
    <div class="picker-head">
      <span>Choose the <b class="picker-role"></b>:</span>
      <input type="search" id="picker-text" placeholder="words" aria-label="words">
      <label class="check"><input type="checkbox" id="picker-compatible" checked> key compatible with the focus</label>
      <button type="button" class="close">Close</button>
    </div>
    <ul class="picker-results" id="picker-results"></ul>
  </div>
  <fieldset class="render">
    <legend>Render</legend>
    <label>Format <select id="song-format"><option>wav</option><option>flac</option><option>mp3</option></select></label>
    <label class="check"><input type="checkbox" id="song-master" checked> master (−14 LUFS, −1 dBTP)</label>
    <button type="button" id="song-render" class="primary">Render</button>
    <span id="render-job" aria-live="polite"></span>
    <a id="song-download" hidden>Download</a>
  </fieldset>
  <div id="song-audition"></div>
</div>`;

export function mount(root, panel) {
  root.innerHTML = TEMPLATE;
  const slotsList = root.querySelector("#slots");
  const nameInput = root.querySelector("#song-name");
  const openSelect = root.querySelector("#song-open");
  const stateLine = root.querySelector("#song-state");
  const picker = root.querySelector("#picker");
  const pickerResults = root.querySelector("#picker-results");
  const renderButton = root.querySelector("#song-render");
  const renderLine = root.querySelector("#render-job");
  const download = root.querySelector("#song-download");
  const auditionRoot = root.querySelector("#song-audition");
  const audition = new Audition(auditionRoot);
  auditionRoot.hidden = true;
  // the song: its id once saved, and its slots in play order ({role, clip: row, fade_s}); the focus is one
  const song = { id: null, slots: [] };
  const fills = new Map(); // job id -> role: the gaps being filled
  let pickFor = null; // {role, index}: where a chosen clip goes (index: the slot it replaces)
  let renderJob = null;
  let visible = false;
  let pickerTimer = null;

  const focusSlot = () => song.slots.find((s) => s.role === "focus");

  // -- the slots -----------------------------------------------------------------------------------------
  function place(role, clip, index = null) {
    const slot = { role, clip, fade_s: DEFAULT_FADE_S };
    if (index !== null && song.slots[index]) {
      slot.fade_s = song.slots[index].fade_s;
      song.slots[index] = slot;
    } else if (role === "intro") song.slots.unshift(slot);
    else if (role === "outro") song.slots.push(slot);
    else if (role === "previous") song.slots.splice(song.slots[0] && song.slots[0].role === "intro" ? 1 : 0, 0, slot);
    else if (role === "next") {
      const end = song.slots.length && song.slots[song.slots.length - 1].role === "outro" ? song.slots.length - 1
        : song.slots.length;
      song.slots.splice(end, 0, slot);
    } else if (role === "focus") {
      const at = song.slots.findIndex((s) => s.role === "focus");
      if (at >= 0) song.slots[at] = slot;
      else song.slots.splice(song.slots.filter((s) => ["intro", "previous"].includes(s.role)).length, 0, slot);
    }
    changed();
  }

  function changed() {
    renderSlots();
    stateLine.textContent = song.id ? "changed since it was saved" : "not saved yet";
    root.dataset.slots = song.slots.map((s) => `${s.role}:${s.clip.id}`).join(" ");
  }

  function setFocus(clip) {
    place("focus", clip);
    root.querySelector("#focus-id").value = clip.id;
    if (!nameInput.value.trim()) nameInput.value = `around ${clip.title}`.slice(0, 200);
  }

  function clipFacts(clip) {
    return [clip.bpm && `${Math.round(clip.bpm * 10) / 10} BPM`, clip.key, clip.bars && `${clip.bars} bars`,
      clip.duration_s && formatTime(clip.duration_s)].filter(Boolean).join(" · ");
  }

  function slotItem(slot, index) {
    const li = document.createElement("li");
    li.className = "slot";
    li.dataset.role = slot.role;
    li.dataset.clipId = slot.clip.id;
    li.innerHTML = `<span class="role"></span><span class="clip"><b></b><small></small></span><span class="tools"></span>`;
    li.querySelector(".role").textContent = ROLE_NAMES[slot.role];
    li.querySelector("b").textContent = slot.clip.title;
    li.querySelector("small").textContent = `${clipFacts(slot.clip)} · ${slot.clip.id}`;
    if (slot.role !== "focus") {
      li.querySelector(".tools").append(
        button("Replace…", "replace", () => openPicker(slot.role, index)),
        button("Remove", "remove", () => {
          song.slots.splice(index, 1);
          changed();
        }));
    }
    return li;
  }

  function placeholder(role) {
    const li = document.createElement("li");
    li.className = "slot empty";
    li.dataset.role = role;
    li.dataset.empty = "true";
    li.innerHTML = `<span class="role"></span><span class="clip"><small></small></span><span class="tools"></span>`;
    const adds = role === "previous" || role === "next";
    li.querySelector(".role").textContent = `${adds ? "+ " : ""}${ROLE_NAMES[role]}`;
    const pending = Array.from(fills).filter(([, r]) => r === role).map(([id]) => panel.jobs.get(id)).filter(Boolean);
    const clip = li.querySelector(".clip small");
    clip.textContent = adds ? "add a clip" : "empty";
    for (const job of pending) {
      clip.replaceChildren("filling: ", progressLine(job));
      li.dataset.fillJob = job.id;
    }
    li.querySelector(".tools").append(
      button("Choose…", "choose", () => openPicker(role, null)),
      button("Fill the gap", "fill", () => fill(role), !focusSlot() || pending.length > 0));
    return li;
  }

  function junction(owner) {
    const li = document.createElement("li");
    li.className = "junction";
    li.dataset.owner = owner.role;
    li.innerHTML = `<label>crossfade <input type="number" min="0.01" max="30" step="0.1"> s</label>`;
    const input = li.querySelector("input");
    input.value = String(owner.fade_s);
    input.setAttribute("aria-label", `crossfade at the ${owner.role}'s junction (s)`);
    input.addEventListener("change", () => {
      const value = Number(input.value);
      if (value >= 0.01 && value <= 30) {
        owner.fade_s = value;
        changed();
      } else {
        if (input.value !== "") panel.say("A crossfade runs from 0.01 to 30 s.", "error");
        input.value = String(owner.fade_s);
      }
    });
    return li;
  }

  function renderSlots() {
    const items = [];
    const focus = focusSlot();
    const has = (role) => song.slots.some((s) => s.role === role);
    if (!focus) {
      const li = document.createElement("li");
      li.className = "slot empty focus-missing";
      li.textContent = "Choose a focus clip: \"Arrange around this\" in the Library, or its id above.";
      slotsList.replaceChildren(li);
      return;
    }
    let last = null;
    const push = (slot, index) => {
      if (last) items.push(junction(["intro", "previous"].includes(last.role) ? last : slot));
      items.push(slotItem(slot, index));
      last = slot;
    };
    if (!has("intro")) items.push(placeholder("intro"));
    song.slots.forEach((slot, index) => {
      if (slot.role === "focus") items.push(placeholder("previous"));
      push(slot, index);
      if (slot.role === "focus") items.push(placeholder("next"));
    });
    if (!has("outro")) items.push(placeholder("outro"));
    slotsList.replaceChildren(...items);
  }

  function button(text, cls, action, disabled = false) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.disabled = disabled;
    b.addEventListener("click", action);
    return b;
  }

  // -- choosing a clip from the library -------------------------------------------------------------------
  function openPicker(role, index) {
    pickFor = { role, index };
    picker.hidden = false;
    picker.dataset.role = role;
    picker.querySelector(".picker-role").textContent = ROLE_NAMES[role];
    searchPicker();
    root.querySelector("#picker-text").focus();
  }

  async function searchPicker() {
    const params = new URLSearchParams({ limit: "50" });
    const text = root.querySelector("#picker-text").value.trim();
    if (text) params.set("text", text);
    const focus = focusSlot();
    if (focus && focus.clip.key && root.querySelector("#picker-compatible").checked) {
      params.set("key", focus.clip.key);
      params.set("compatible", "1");
    }
    try {
      const data = await get(`/api/library?${params}`);
      pickerResults.replaceChildren(...data.clips.map((clip) => {
        const li = document.createElement("li");
        li.dataset.clipId = clip.id;
        li.tabIndex = 0;
        li.innerHTML = "<b></b> <small></small>";
        li.querySelector("b").textContent = clip.title;
        li.querySelector("small").textContent = `${clipFacts(clip)} · ${clip.id}`;
        const choose = () => {
          if (!pickFor) return;
          place(pickFor.role, clip, pickFor.index);
          picker.hidden = true;
          pickFor = null;
        };
        li.addEventListener("click", choose);
        li.addEventListener("keydown", (event) => {
          if (event.key === "Enter") choose();
        });
        return li;
      }));
      picker.dataset.results = String(data.clips.length);
      if (!data.clips.length) pickerResults.innerHTML = "<li class=\"hint\">No clip matches.</li>";
    } catch (error) {
      panel.say(`The library cannot be searched: ${error.message}`, "error");
    }
  }

  root.querySelector("#picker-text").addEventListener("input", () => {
    clearTimeout(pickerTimer);
    pickerTimer = setTimeout(searchPicker, 150);
  });
  root.querySelector("#picker-compatible").addEventListener("change", searchPicker);
  picker.querySelector(".close").addEventListener("click", () => {
    picker.hidden = true;
    pickFor = null;
  });

  // -- filling a gap: a clip made to fit the focus ---------------------------------------------------------
  async function fill(role) {
    const focus = focusSlot();
    if (!focus) return;
    try {
      const data = await post("/api/songs/fill", { req_id: requestId(), focus: focus.clip.id, role });
      fills.set(data.job.id, role);
      panel.jobs.put(data.job);
      panel.say(`Filling the ${role}: job ${data.job.id} queued.`);
      renderSlots();
    } catch (error) {
      panel.say(error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`, "error");
    }
  }

  async function filled(job) {
    const role = fills.get(job.id);
    fills.delete(job.id);
    if (job.state !== "done") {
      panel.say(`The ${role} could not be made: ${job.error ? job.error.words : job.state}`, "error");
      renderSlots();
      return;
    }
    try {
      const data = await get(`/api/jobs/${encodeURIComponent(job.id)}/clip`);
      place(role, data.clip);
    } catch (error) {
      panel.say(`The ${role} was made but is not in the library: ${error.message}`, "error");
      renderSlots();
    }
  }

  // -- saving and rendering --------------------------------------------------------------------------------
  function documentOf() {
    return {
      schema: SCHEMA, name: nameInput.value.trim(), bpm: null, time_signature: null, key: null, mode: null,
      conform_key: false, junction: { fade_s: DEFAULT_FADE_S, kind: "auto" },
      slots: song.slots.map((s) => (s.role === "focus" ? { role: "focus", clip: s.clip.id }
        : { role: s.role, clip: s.clip.id, junction: { fade_s: s.fade_s } })),
    };
  }

  async function save() {
    if (!song.id) {
      const slug = nameInput.value.trim().toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
      song.id = `${slug || "song"}-${requestId().slice(-6)}`;
    }
    const data = await post(`/api/songs/${encodeURIComponent(song.id)}`, { document: documentOf() });
    root.dataset.songId = song.id;
    stateLine.textContent = `saved in the library as ${data.song.id} (version ${data.song.version})`;
    loadSongs();
    return data.song;
  }

  async function render() {
    if (!focusSlot()) {
      panel.say("Choose a focus clip first.", "error");
      return;
    }
    if (!nameInput.value.trim()) nameInput.value = `around ${focusSlot().clip.title}`.slice(0, 200);
    renderButton.disabled = true;
    try {
      await save();
      const data = await post(`/api/songs/${encodeURIComponent(song.id)}/render`, {
        req_id: requestId(), format: root.querySelector("#song-format").value,
        master: root.querySelector("#song-master").checked,
      });
      renderJob = data.job.id;
      root.dataset.renderJob = renderJob;
      panel.jobs.put(data.job);
      download.hidden = true;
      auditionRoot.hidden = true;
      audition.clear();
      showRender();
    } catch (error) {
      const words = error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`;
      panel.say(words, "error");
      renderLine.textContent = words;
    } finally {
      renderButton.disabled = false;
    }
  }

  function showRender() {
    const job = renderJob && panel.jobs.get(renderJob);
    if (!job) return;
    renderLine.dataset.state = job.state;
    renderLine.replaceChildren(progressLine(job));
  }

  async function rendered(jobId) {
    const url = `/api/songs/renders/${encodeURIComponent(jobId)}`;
    try {
      const info = await get(url);
      download.href = info.download;
      download.setAttribute("download", "");
      download.textContent = `Download ${info.name || "the song"} (${info.format}, ${formatTime(info.duration_s || 0)})`;
      download.hidden = false;
      auditionRoot.hidden = false;
      await audition.open(url);
    } catch (error) {
      panel.say(`The song cannot be played: ${error.message}`, "error");
    }
  }

  renderButton.addEventListener("click", render);

  // -- songs kept in the library ---------------------------------------------------------------------------
  async function loadSongs() {
    try {
      const data = await get("/api/songs");
      const chosen = openSelect.value;
      openSelect.replaceChildren(new Option("a new song", ""), ...data.songs.map((s) =>
        new Option(`${s.name} (v${s.version}, ${s.slots} clips)`, s.id)));
      openSelect.value = song.id || chosen;
    } catch (error) {
      panel.say(`The saved songs cannot be listed: ${error.message}`, "error");
    }
  }

  openSelect.addEventListener("change", async () => {
    const id = openSelect.value;
    if (!id) {
      song.id = null;
      song.slots = [];
      nameInput.value = "";
      changed();
      return;
    }
    try {
      const data = (await get(`/api/songs/${encodeURIComponent(id)}`)).song;
      const broken = Object.values(data.clips).filter((c) => c.error);
      song.id = data.id;
      nameInput.value = data.name;
      const fade = (data.document.junction && data.document.junction.fade_s) || DEFAULT_FADE_S;
      song.slots = data.document.slots.filter((s) => !data.clips[s.clip].error).map((s) => ({
        role: s.role, clip: data.clips[s.clip], fade_s: (s.junction && s.junction.fade_s) || fade }));
      renderSlots();
      root.dataset.slots = song.slots.map((s) => `${s.role}:${s.clip.id}`).join(" ");
      stateLine.textContent = broken.length ? broken.map((c) => c.error).join("; ") : `version ${data.version}`;
    } catch (error) {
      panel.say(error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`, "error");
    }
  });

  root.querySelector("#focus-use").addEventListener("click", async () => {
    const id = root.querySelector("#focus-id").value.trim();
    if (!id) return;
    try {
      setFocus((await get(`/api/library/clips/${encodeURIComponent(id)}`)).clip);
    } catch (error) {
      panel.say(error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`, "error");
    }
  });
  root.querySelector("#focus-id").addEventListener("keydown", (event) => {
    if (event.key === "Enter") root.querySelector("#focus-use").click();
  });

  panel.events.on("arrange-focus", ({ clip }) => setFocus(clip));
  panel.jobs.onChange((job) => {
    if (!job) return;
    if (fills.has(job.id)) {
      if (job.state === "done" || job.state === "failed" || job.state === "cancelled") filled(job);
      else renderSlots();
    }
    if (job.id === renderJob) {
      showRender();
      if (job.state === "done") rendered(job.id);
    }
  });

  changed();
  stateLine.textContent = "";

  return {
    show() {
      visible = true;
      loadSongs();
    },
    hide() {
      visible = false;
      audition.player.stop();
    },
    onKey(event, { typing }) {
      if (!visible || typing || event.ctrlKey || event.metaKey || event.altKey) return false;
      if (event.key === " " && !auditionRoot.hidden) {
        audition.toggle();
        return true;
      }
      if (event.key === "Escape" && !picker.hidden) {
        picker.hidden = true;
        return true;
      }
      return false;
    },
  };
}
