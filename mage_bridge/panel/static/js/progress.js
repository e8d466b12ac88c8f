// A job's progress as the views show it: one chip per stage it reported (with its fraction), its state,
// or its error in words.

const STATE_WORDS = { queued: "waiting", running: "running", done: "done", failed: "failed", cancelled: "cancelled" };

export function stageChips(job) {
  const holder = document.createElement("span");
  holder.className = "stages";
  const stages = job.stages && job.stages.length ? job.stages : (job.stage && job.stage !== "done" ? [[job.stage, job.fraction]] : []);
  stages.forEach(([stage, fraction], index) => {
    const chip = document.createElement("span");
    chip.className = "stage";
    chip.dataset.stage = stage;
    // a stage is over once a later one began ("started" never reports 1)
    const done = fraction >= 1 || job.state === "done" || index < stages.length - 1;
    chip.dataset.done = String(done);
    chip.style.setProperty("--fraction", String(done ? 1 : Math.max(0, Math.min(1, fraction))));
    chip.textContent = done ? stage : `${stage} ${Math.round(fraction * 100)}%`;
    holder.append(chip);
  });
  return holder;
}

export function progressLine(job) {
  const line = document.createElement("span");
  line.className = "progress-line";
  line.dataset.state = job.state;
  const state = document.createElement("span");
  state.className = "state";
  state.textContent = STATE_WORDS[job.state] || job.state;
  line.append(state, stageChips(job));
  if (job.error) {
    const error = document.createElement("span");
    error.className = "error";
    error.textContent = job.error.words;
    line.append(error);
  }
  return line;
}
