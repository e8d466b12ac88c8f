// The Library view: every clip of the library, searched on the server (words, BPM range, key with its
// compatible keys, genre, tags, rating, kind) and drawn a screenful at a time (../clip-list.js); the
// selected clip's stems with their waveforms and play/stop/mute/solo (../audition.js), its title, tags,
// rating, lineage, and the jobs it can start (variation, extend, repaint a range). Clips are named by
// library id only. Space plays/stops the selected clip, ↑ ↓ move the selection.

import { ApiError, get, post, requestId } from "../api.js";
import { Audition, formatTime } from "../audition.js";
import { ClipList } from "../clip-list.js";
import { progressLine } from "../progress.js";

// the 24 keys in Camelot order: the minor key of each number, then its relative major
const CAMELOT = [["Ab minor", "B major"], ["Eb minor", "F# major"], ["Bb minor", "Db major"], ["F minor", "Ab major"],
  ["C minor", "Eb major"], ["G minor", "Bb major"], ["D minor", "F major"], ["A minor", "C major"],
  ["E minor", "G major"], ["B minor", "D major"], ["F# minor", "A major"], ["Db minor", "E major"]];
const KINDS = ["generate", "retake", "repaint", "extend", "cover", "lego", "extract", "separate", "master", "import"];
// finished jobs of these kinds record a clip: the list is asked again when one ends
const CLIP_JOBS = new Set([...KINDS, "library_import", "song_fill"]);
const FILTER_DELAY_MS = 150;
const OPEN_DELAY_MS = 120;
const RELATION = { variation_of: "variation of", extension_of: "extension of", separated_from: "stems of",
  mastered_from: "master of" };

const KEY_OPTIONS = CAMELOT.map(([minor, major], i) => [[minor, `${i + 1}A`], [major, `${i + 1}B`]]).flat()
  .map(([name, code]) => `<option value="${name}">${name} · ${code}</option>`).join("");

const TEMPLATE = `
<div class="library-layout">
  <form class="filters" id="library-filters" autocomplete="off" role="search">
    <input type="search" name="text" id="library-text" placeholder="words: title, prompt, genre, tags" aria-label="words">
    <label>BPM <input name="bpm_min" type="number" min="1" max="999" step="1" aria-label="lowest BPM"> –
      <input name="bpm_max" type="number" min="1" max="999" step="1" aria-label="highest BPM"></label>
    <label>Key <select name="key" id="library-key"><option value="">any</option>${KEY_OPTIONS}</select></label>
    <label class="check" title="also the keys that mix with it: a fifth either side, the relative major or minor">
      <input type="checkbox" name="compatible" id="library-compatible"> + compatible</label>
    <label>Genre <input name="genre" size="10"></label>
    <label>Tags <input name="tags" size="10" placeholder="a, b"></label>
    <label>Rating ≥ <select name="min_rating"><option value="">any</option>${[1, 2, 3, 4, 5].map((n) =>
      `<option value="${n}">${"★".repeat(n)}</option>`).join("")}</select></label>
    <label>Kind <select name="kind"><option value="">any</option>${KINDS.map((k) => `<option>${k}</option>`).join("")}
      </select></label>
    <button type="reset">Clear</button>
    <span class="count" id="library-count" aria-live="polite"></span>
  </form>
  <div class="clip-list">
    <div class="clip-row head" aria-hidden="true"><span>title</span><span>BPM</span><span>key</span><span>bars</span>
      <span>rating</span><span>tags</span></div>
    <div class="clips" id="clips" role="listbox" aria-label="clips, newest first" tabindex="0"></div>
    <p class="empty" hidden>No clip matches these filters.</p>
  </div>
  <aside class="clip-detail" id="clip-detail" aria-label="the selected clip">
    <p class="hint">Select a clip. Space plays or stops it; ↑ ↓ move the selection.</p>
    <div class="detail" hidden>
      <input class="title-edit" id="clip-title" aria-label="title (Enter renames)" maxlength="120">
      <div class="facts" id="clip-facts"></div>
      <div class="rating" id="clip-rating" role="group" aria-label="rating">${[1, 2, 3, 4, 5].map((n) =>
        `<button type="button" data-rating="${n}" title="${n} of 5">★</button>`).join("")}</div>
      <div class="tag-edit"><span class="chips" id="clip-tags"></span>
        <input id="clip-tag" placeholder="add a tag ⏎" maxlength="40" aria-label="add a tag"></div>
      <div class="lineage" id="clip-lineage"></div>
      <div id="library-audition"></div>
      <div class="clip-actions">
        <button type="button" class="variation" id="clip-variation" title="the clip's request again with a new seed">
          Variation</button>
        <span class="group"><button type="button" class="extend" id="clip-extend">Extend</button>
          <input id="extend-bars" type="number" min="1" max="64" value="4" aria-label="bars"> bars
          <select id="extend-side" aria-label="side"><option value="after">after</option>
            <option value="before">before</option></select></span>
        <span class="group"><button type="button" class="repaint" id="clip-repaint">Repaint this range</button>
          <input id="repaint-start" type="number" min="0" step="0.1" aria-label="from (s)"> –
          <input id="repaint-end" type="number" min="0" step="0.1" aria-label="to (s)"> s</span>
        <button type="button" id="clip-arrange" title="a song around this clip (Arrange)">Arrange around this</button>
        <button type="button" class="danger" id="clip-delete">Delete</button>
      </div>
      <p class="action-note" id="clip-action-note"></p>
      <ul class="clip-jobs" id="clip-jobs"></ul>
    </div>
  </aside>
</div>`;

export function mount(root, panel) {
  root.innerHTML = TEMPLATE;
  const form = root.querySelector("#library-filters");
  const count = root.querySelector("#library-count");
  const scroller = root.querySelector("#clips");
  const empty = root.querySelector(".clip-list .empty");
  const detailRoot = root.querySelector("#clip-detail");
  const detail = detailRoot.querySelector(".detail");
  const hint = detailRoot.querySelector(".hint");
  const title = root.querySelector("#clip-title");
  const audition = new Audition(root.querySelector("#library-audition"));
  const jobsList = root.querySelector("#clip-jobs");
  const note = root.querySelector("#clip-action-note");
  const started = new Map(); // job id -> {action, clip}: the jobs this page started from a clip
  let visible = false;
  let first = true;
  let current = null; // the selected clip's detail
  let opening = null; // {url, done}: the stems the audition loads (or loaded) last
  let actions = {};
  let filterTimer = null;
  let openTimer = null;
  let refreshTimer = null;

  const list = new ClipList(scroller, {
    row: fillRow,
    onSelect: (clip) => openClip(clip.id),
    onError: (error) => panel.say(`The library cannot be searched: ${error.message}`, "error"),
  });

  // -- filters -----------------------------------------------------------------------------------------
  function params() {
    const f = form.elements;
    const out = new URLSearchParams();
    if (f.text.value.trim()) out.set("text", f.text.value.trim());
    const low = f.bpm_min.value;
    const high = f.bpm_max.value;
    if (low || high) out.set("bpm", `${low || 1}-${high || 999}`);
    if (f.key.value) {
      out.set("key", f.key.value);
      if (f.compatible.checked) out.set("compatible", "1");
    }
    for (const name of ["genre", "tags", "min_rating", "kind"]) {
      if (f[name].value.trim()) out.set(name, f[name].value.trim());
    }
    return out;
  }

  async function search() {
    clearTimeout(filterTimer);
    const wanted = params();
    root.dataset.query = wanted.toString();
    await list.setQuery(wanted);
    count.textContent = `${list.total} clip${list.total === 1 ? "" : "s"}`;
    empty.hidden = list.total > 0;
  }

  // typing waits for a pause; a choice (a select, the box) searches at once. A select may fire both events
  // (or only change, driven by a script): the same filters are not searched twice.
  const typedField = (target) => target.matches("input:not([type=checkbox])");
  form.addEventListener("input", (event) => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => searchIfChanged(), typedField(event.target) ? FILTER_DELAY_MS : 0);
  });
  form.addEventListener("change", (event) => {
    if (!typedField(event.target)) searchIfChanged();
  });

  function searchIfChanged() {
    if (params().toString() !== root.dataset.query) search();
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  form.addEventListener("reset", () => setTimeout(search, 0));

  // -- rows --------------------------------------------------------------------------------------------
  function fillRow(div, clip) {
    const cells = [
      clip.title + (clip.kind !== "generate" ? ` (${clip.kind})` : ""),
      clip.bpm ? String(Math.round(clip.bpm * 10) / 10) : "",
      clip.key ? `${clip.key}${clip.camelot ? ` · ${clip.camelot}` : ""}` : "",
      clip.bars ?? "",
      clip.rating ? "★".repeat(clip.rating) : "",
      clip.tags.join(" "),
    ];
    div.replaceChildren(...cells.map((text) => {
      const span = document.createElement("span");
      span.textContent = String(text);
      return span;
    }));
    div.title = `${clip.title} — ${clip.id}`;
  }

  // -- the selected clip -------------------------------------------------------------------------------
  function openClip(id) {
    clearTimeout(openTimer);
    root.dataset.selected = id;
    openTimer = setTimeout(() => showClip(id), OPEN_DELAY_MS);
  }

  async function showClip(id, { play = false } = {}) {
    let data;
    try {
      data = await get(`/api/library/clips/${encodeURIComponent(id)}`);
    } catch (error) {
      if (root.dataset.selected === id) showGone(error);
      return;
    }
    if (root.dataset.selected !== id) return;
    current = data.clip;
    renderDetail();
    await loadAudio(id, play);
  }

  /** The clip's stems in the audition (loaded once, however often asked), then played when asked. */
  async function loadAudio(id, play) {
    const url = stemsUrl(id);
    if (!opening || opening.url !== url) opening = { url, done: audition.open(url) };
    const mine = opening;
    try {
      await mine.done;
      if (play && root.dataset.selected === id && audition.url === url) audition.player.play();
    } catch (error) {
      if (opening === mine) opening = null;
      panel.say(`Cannot load clip ${id}'s audio: ${error.message}`, "error");
    }
  }

  const stemsUrl = (id) => `/api/library/clips/${encodeURIComponent(id)}/stems`;

  function showGone(error) {
    current = null;
    detail.hidden = true;
    hint.hidden = false;
    hint.textContent = error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`;
    audition.clear();
    opening = null;
  }

  function renderDetail() {
    const c = current;
    hint.hidden = true;
    detail.hidden = false;
    detailRoot.dataset.clipId = c.id;
    if (document.activeElement !== title) title.value = c.title;
    const facts = [c.kind, c.bpm && `${Math.round(c.bpm * 10) / 10} BPM`, c.key && `${c.key} (${c.camelot})`,
      c.time_signature && c.time_signature.join("/"), c.bars && `${c.bars} bars`, c.duration_s && formatTime(c.duration_s),
      c.measured.loudness_lufs !== null && `${c.measured.loudness_lufs.toFixed(1)} LUFS`, c.genre,
      c.backend && `${c.backend}${c.seed !== null ? ` seed ${c.seed}` : ""}`,
      new Date(c.created * 1000).toLocaleString(), c.id].filter(Boolean);
    root.querySelector("#clip-facts").textContent = facts.join(" · ");
    for (const b of root.querySelectorAll("#clip-rating button")) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.rating) <= c.rating));
    }
    root.querySelector("#clip-rating").dataset.rating = String(c.rating);
    const chips = root.querySelector("#clip-tags");
    chips.replaceChildren(...c.tags.map((tag) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dataset.tag = tag;
      chip.title = `remove the tag ${tag}`;
      chip.textContent = `${tag} ×`;
      chip.addEventListener("click", () => edit({ remove_tags: [tag] }));
      return chip;
    }));
    renderLineage(c);
    const end = root.querySelector("#repaint-end");
    if (!end.value || Number(end.value) > c.duration_s) {
      root.querySelector("#repaint-start").value = "0";
      end.value = String(Math.round((c.duration_s || 0) * 5) / 10);
    }
    showActions();
  }

  function clipLink(id, text, gone) {
    const a = document.createElement("a");
    a.href = `#library`;
    a.dataset.clipId = id;
    a.textContent = text;
    if (gone) {
      a.classList.add("gone");
      a.title = gone;
    }
    a.addEventListener("click", (event) => {
      event.preventDefault();
      if (!gone) select(id);
    });
    return a;
  }

  function renderLineage(c) {
    const holder = root.querySelector("#clip-lineage");
    const lines = [];
    for (const from of c.made_from) {
      const line = document.createElement("div");
      line.className = "made-from";
      line.dataset.relation = from.relation;
      line.append(`${from.words} `, clipLink(from.id, from.title || from.id, from.deleted));
      if (from.deleted) line.append(` (${from.deleted})`);
      lines.push(line);
    }
    if (c.made.length) {
      const line = document.createElement("div");
      line.className = "made";
      line.append("made from this: ");
      c.made.forEach((m, i) => {
        if (i) line.append(", ");
        line.append(clipLink(m.id, `${m.title} (${RELATION[m.relation] ? m.kind : m.relation})`));
      });
      lines.push(line);
    }
    if (!lines.length) {
      const line = document.createElement("div");
      line.className = "hint";
      line.textContent = c.kind === "import" ? "imported" : "made from a prompt";
      lines.push(line);
    }
    holder.replaceChildren(...lines);
  }

  /** Select a clip by id: in the list when it is among the rows loaded, and always in the detail. */
  function select(id) {
    const at = list.indexOf(id);
    if (at >= 0) list.select(at);
    else {
      list.selectedId = id;
      list.schedule();
      openClip(id);
    }
  }

  // -- editing -----------------------------------------------------------------------------------------
  async function edit(change) {
    if (!current) return;
    const id = current.id;
    try {
      const data = await post(`/api/library/clips/${encodeURIComponent(id)}`, change);
      if (current && current.id === id) {
        current = data.clip;
        renderDetail();
      }
      list.refresh();
    } catch (error) {
      panel.say(error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`, "error");
      if (current) renderDetail();
    }
  }

  title.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      title.blur();
    } else if (event.key === "Escape") {
      title.value = current ? current.title : "";
      title.blur();
    }
  });
  title.addEventListener("change", () => {
    if (current && title.value.trim() && title.value.trim() !== current.title) edit({ title: title.value });
  });
  for (const b of root.querySelectorAll("#clip-rating button")) {
    b.addEventListener("click", () => {
      const n = Number(b.dataset.rating);
      edit({ rating: current && current.rating === n ? 0 : n });
    });
  }
  const tagInput = root.querySelector("#clip-tag");
  tagInput.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !tagInput.value.trim()) return;
    event.preventDefault();
    const tags = tagInput.value.split(",").map((t) => t.trim()).filter(Boolean);
    tagInput.value = "";
    edit({ add_tags: tags });
  });

  const deleteButton = root.querySelector("#clip-delete");
  let deleteArmed = null;
  deleteButton.addEventListener("click", async () => {
    if (!current) return;
    if (deleteArmed !== current.id) {
      // a second click within a few seconds deletes: no dialog to block the page
      deleteArmed = current.id;
      deleteButton.textContent = "Delete: sure?";
      deleteButton.dataset.armed = "true";
      setTimeout(() => disarm(), 4000);
      return;
    }
    const id = current.id;
    disarm();
    try {
      await post(`/api/library/clips/${encodeURIComponent(id)}/delete`, {});
      panel.say(`Clip ${id} deleted.`);
      current = null;
      audition.clear();
      opening = null;
      detail.hidden = true;
      hint.hidden = false;
      hint.textContent = `Clip ${id} was deleted.`;
      await list.refresh();
    } catch (error) {
      panel.say(error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`, "error");
    }
  });

  function disarm() {
    deleteArmed = null;
    deleteButton.textContent = "Delete";
    delete deleteButton.dataset.armed;
  }

  // -- jobs from a clip --------------------------------------------------------------------------------
  async function loadActions() {
    try {
      actions = (await get("/api/library/actions")).actions;
    } catch (error) {
      panel.say(`Which edits can run here is unknown: ${error.message}`, "error");
    }
    showActions();
  }

  function showActions() {
    for (const name of ["variation", "extend", "repaint"]) {
      const button = root.querySelector(`#clip-${name}`);
      const state = actions[name];
      const can = Boolean(state && state.available) && Boolean(current);
      const group = button.closest(".group");
      button.disabled = !can;
      for (const input of group ? group.querySelectorAll("input, select") : []) input.disabled = !can;
      if (button.dataset.help === undefined) button.dataset.help = button.title;
      button.title = state && !state.available ? state.reason : button.dataset.help;
      button.dataset.reason = state && !state.available ? state.short : "";
    }
    const off = ["extend", "repaint"].filter((n) => actions[n] && !actions[n].available);
    note.textContent = off.length ? `${off.join(" and ")}: ${actions[off[0]].short}.` : "";
  }

  async function startJob(action) {
    if (!current) return;
    const body = { req_id: requestId(), action };
    if (action === "extend") {
      body.bars = Number(root.querySelector("#extend-bars").value) || 4;
      body.side = root.querySelector("#extend-side").value;
    } else if (action === "repaint") {
      body.start_s = Number(root.querySelector("#repaint-start").value);
      body.end_s = Number(root.querySelector("#repaint-end").value);
    }
    try {
      const data = await post(`/api/library/clips/${encodeURIComponent(current.id)}/jobs`, body);
      started.set(data.job.id, { action, clip: current.id, title: current.title });
      panel.jobs.put(data.job);
      panel.say(`${action} of ${current.title}: job ${data.job.id} queued.`);
    } catch (error) {
      panel.say(error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`, "error");
    }
  }

  for (const action of ["variation", "extend", "repaint"]) {
    root.querySelector(`#clip-${action}`).addEventListener("click", () => startJob(action));
  }
  root.querySelector("#clip-arrange").addEventListener("click", () => {
    if (!current) return;
    panel.events.fire("arrange-focus", { clip: current });
    panel.show("arrange");
  });

  function renderJobs() {
    const items = [];
    for (const [jobId, info] of Array.from(started).reverse()) {
      const job = panel.jobs.get(jobId);
      if (!job) continue;
      const li = document.createElement("li");
      li.dataset.jobId = jobId;
      li.dataset.state = job.state;
      li.append(`${info.action} of ${info.title}: `, progressLine(job));
      if (info.made) li.append(" → ", clipLink(info.made.id, info.made.title));
      items.push(li);
    }
    jobsList.replaceChildren(...items);
  }

  async function jobEnded(job) {
    const info = started.get(job.id);
    if (info && job.state === "done" && !info.made) {
      try {
        info.made = (await get(`/api/jobs/${encodeURIComponent(job.id)}/clip`)).clip;
      } catch (error) {
        panel.say(`Job ${job.id} made no clip the library knows: ${error.message}`, "error");
      }
      renderJobs();
    }
  }

  panel.jobs.onChange((job) => {
    if (job && started.has(job.id)) {
      renderJobs();
      if (job.state === "done") jobEnded(job);
    }
    if (job && job.state === "done" && CLIP_JOBS.has(job.kind)) scheduleRefresh();
  });
  panel.events.on("library", (event) => {
    scheduleRefresh();
    if (current && event.clip && event.clip.id === current.id) openClip(current.id);
  });
  // the stream came back after a break: what changed meanwhile was not heard (the first opening is not one)
  let opened = false;
  panel.events.on("open", () => {
    if (opened) scheduleRefresh();
    opened = true;
  });

  function scheduleRefresh() {
    if (!visible) {
      first = true; // asked again when shown
      return;
    }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      await list.refresh();
      count.textContent = `${list.total} clip${list.total === 1 ? "" : "s"}`;
      empty.hidden = list.total > 0;
    }, 250);
  }

  function playSelected() {
    const id = root.dataset.selected;
    if (!id) {
      if (list.total) list.select(Math.max(0, list.selectedIndex)); // nothing chosen yet: the first, then Space
      return;
    }
    if (audition.url === stemsUrl(id) && audition.root.dataset.loaded === "true") {
      audition.toggle();
      return;
    }
    // chosen a moment ago (its detail not asked yet) or still loading: played once its stems are in
    clearTimeout(openTimer);
    if (current && current.id === id) loadAudio(id, true);
    else showClip(id, { play: true });
  }

  loadActions();

  return {
    show({ focus }) {
      visible = true;
      if (first) {
        first = false;
        search();
      }
      if (focus) scroller.focus({ preventScroll: true });
    },
    hide() {
      visible = false;
      audition.player.stop();
    },
    onKey(event, { typing }) {
      if (!visible || typing || event.ctrlKey || event.metaKey || event.altKey) return false;
      if (event.key === "ArrowDown") list.move(1);
      else if (event.key === "ArrowUp") list.move(-1);
      else if (event.key === "PageDown") list.move(Math.max(1, Math.floor(scroller.clientHeight / 30) - 1));
      else if (event.key === "PageUp") list.move(-Math.max(1, Math.floor(scroller.clientHeight / 30) - 1));
      else if (event.key === " ") playSelected();
      else return false;
      return true;
    },
  };
}
