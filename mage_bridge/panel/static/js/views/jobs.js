// The Jobs view: every job of the daemon (whichever door sent it) with its progress per stage, cancel,
// retry and errors in words; a finished job is auditioned beside the list. Arrows move the selection,
// Space plays/stops the selected result.

import { ApiError, post } from "../api.js";
import { Audition } from "../audition.js";
import { progressLine } from "../progress.js";

const TEMPLATE = `
<div class="jobs-layout">
  <div class="jobs-list">
    <p class="empty">No jobs yet: write a prompt and press Enter.</p>
    <ol class="jobs" id="jobs" aria-label="jobs, newest first"></ol>
  </div>
  <div class="result" id="result" aria-label="the selected result">
    <p class="hint">Select a finished job to hear it. Space plays or stops it; ↑ ↓ move the selection.</p>
    <div id="audition"></div>
  </div>
</div>`;

export function mount(root, panel) {
  root.innerHTML = TEMPLATE;
  const list = root.querySelector("#jobs");
  const empty = root.querySelector(".empty");
  const hint = root.querySelector(".hint");
  const auditionRoot = root.querySelector("#audition");
  const audition = new Audition(auditionRoot);
  const items = new Map();
  let selected = null;
  let visible = false;

  function describe(job) {
    const known = items.get(job.id);
    if (known && known.dataset.state === job.state && known.querySelector(".progress-line")) {
      // only the progress moved: the buttons stay where the pointer is
      known.querySelector(".progress-line").replaceWith(progressLine(job));
      return known;
    }
    const li = known || document.createElement("li");
    li.className = "job";
    li.dataset.jobId = job.id;
    li.dataset.state = job.state;
    li.tabIndex = -1;
    li.setAttribute("aria-selected", String(job.id === selected));
    const head = document.createElement("div");
    head.className = "head";
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = job.title;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = [job.kind, job.source, job.daw && `→ ${job.daw.client_id}${job.daw.bar ? ` bar ${job.daw.bar}` : ""}`,
      new Date(job.created * 1000).toLocaleTimeString()].filter(Boolean).join(" · ");
    head.append(title, meta);
    const actions = document.createElement("span");
    actions.className = "job-actions";
    if (job.state === "queued" || job.state === "running") actions.append(button("Cancel", "cancel", job));
    if (job.state === "failed" || job.state === "cancelled") actions.append(button("Retry", "retry", job));
    li.replaceChildren(head, progressLine(job), actions);
    if (!items.has(job.id)) li.addEventListener("click", () => select(job.id));
    items.set(job.id, li);
    return li;
  }

  function button(text, action, job) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = action;
    b.textContent = text;
    b.addEventListener("click", async (event) => {
      event.stopPropagation();
      b.disabled = true;
      try {
        const data = await post(`/api/jobs/${encodeURIComponent(job.id)}/${action}`);
        panel.jobs.put(data.job);
        if (action === "retry") select(data.job.id);
        panel.say(action === "retry" ? `Job ${job.id} tried again as ${data.job.id}.` : `Job ${job.id} cancelled.`);
      } catch (error) {
        panel.say(error instanceof ApiError ? error.message : `The daemon did not answer: ${error.message}`, "error");
        b.disabled = false;
      }
    });
    return b;
  }

  function renderAll() {
    const jobs = panel.jobs.list();
    for (const id of Array.from(items.keys())) {
      if (!panel.jobs.get(id)) items.delete(id);
    }
    list.replaceChildren(...jobs.map(describe));
    empty.hidden = jobs.length > 0;
    if (!selected && jobs.length) select(jobs[0].id, { quiet: true });
  }

  function update(job) {
    if (job === null) {
      renderAll();
      return;
    }
    const fresh = !items.has(job.id);
    const li = describe(job);
    if (fresh) {
      list.prepend(li);
      empty.hidden = true;
      // a job of this panel is what the user waits for; one from another door does not take the selection
      if (job.source === "panel" || !selected) select(job.id, { quiet: true });
    }
    if (job.id === selected) showResult(job);
  }

  function select(id, { quiet = false } = {}) {
    if (selected !== id) audition.player.stop();
    selected = id;
    for (const [jobId, li] of items) li.setAttribute("aria-selected", String(jobId === id));
    const li = items.get(id);
    if (li && !quiet) li.scrollIntoView({ block: "nearest" });
    root.dataset.selected = id || "";
    const job = panel.jobs.get(id);
    if (job) showResult(job);
  }

  function showResult(job) {
    auditionRoot.hidden = !job.has_result;
    if (job.has_result) {
      hint.hidden = true;
      audition.open(`/api/jobs/${encodeURIComponent(job.id)}/stems`).catch((error) => {
        panel.say(`Cannot load job ${job.id}'s stems: ${error.message}`, "error");
      });
    } else {
      audition.clear();
      hint.hidden = false;
      hint.textContent = job.state === "failed" || job.state === "cancelled"
        ? (job.error ? job.error.words : job.state) : "This job has no result yet.";
    }
  }

  function move(step) {
    const jobs = panel.jobs.list();
    if (!jobs.length) return;
    const at = jobs.findIndex((j) => j.id === selected);
    const next = at < 0 ? 0 : Math.max(0, Math.min(jobs.length - 1, at + step));
    select(jobs[next].id);
  }

  panel.jobs.onChange(update);

  return {
    show() {
      visible = true;
      renderAll();
    },
    hide() {
      visible = false;
      audition.player.stop();
    },
    onKey(event, { typing }) {
      if (!visible || typing || event.ctrlKey || event.metaKey || event.altKey) return false;
      if (event.key === "ArrowDown") move(1);
      else if (event.key === "ArrowUp") move(-1);
      else if (event.key === " ") audition.toggle();
      else return false;
      return true;
    },
  };
}
