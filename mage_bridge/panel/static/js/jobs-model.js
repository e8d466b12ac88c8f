// The jobs every view sees: loaded from /api/jobs, kept current by the event stream.
// A view subscribes with onChange(fn); fn(job) is called for each job that changed (null: reloaded).

import { get } from "./api.js";

export class JobsModel {
  constructor(events) {
    this.jobs = new Map();
    this.listeners = new Set();
    events.on("open", () => this.reload());
    for (const type of ["accepted", "progress", "done", "failed"]) {
      events.on(type, (event) => this.apply(event));
    }
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(job) {
    for (const fn of this.listeners) fn(job);
  }

  async reload() {
    const data = await get("/api/jobs?limit=200");
    this.jobs.clear();
    for (const job of data.jobs) this.jobs.set(job.id, job);
    this.emit(null);
  }

  /** Newest first. */
  list() {
    return Array.from(this.jobs.values()).sort((a, b) => b.created - a.created);
  }

  get(id) {
    return this.jobs.get(id);
  }

  put(job) {
    const known = this.jobs.get(job.id);
    // a late snapshot must not undo a newer event: keep the stages the page heard
    if (known && known.stages && job.stages && known.stages.length > job.stages.length && job.state === known.state) {
      job = { ...job, stages: known.stages };
    }
    this.jobs.set(job.id, job);
    this.emit(job);
  }

  apply(event) {
    if (event.job) this.put(event.job);
  }
}
