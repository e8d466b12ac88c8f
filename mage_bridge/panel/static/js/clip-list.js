// The clip library as one long list that is never whole in the page: the server searches and pages
// (/api/library), the page keeps the pages it has seen for the current filters and draws only the rows
// in view (plus a few either side), each at its place in a spacer as tall as every row together. So
// 10 000 clips cost what a screenful costs, and a new filter costs one page.
//
// The list reports on its element: data-total (clips that match), data-rendered (a count that grows
// with each drawing), data-render-ms (filters given -> their rows painted, the last time) and data-painted-at
// (when, in ms since the page began to load).

import { get } from "./api.js";

export const ROW_HEIGHT = 30;
const PAGE = 100;
const OVERSCAN = 6;

export class ClipList {
  /** scroller: the element that scrolls; row(div, clip) fills a row's element; onSelect(clip, index). */
  constructor(scroller, { row, onSelect = () => {}, onError = () => {} }) {
    this.scroller = scroller;
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    scroller.replaceChildren(this.spacer);
    this.fillRow = row;
    this.onSelect = onSelect;
    this.onError = onError;
    this.params = new URLSearchParams();
    this.pages = new Map();
    this.loading = new Map();
    this.total = 0;
    this.generation = 0;
    this.selectedIndex = -1;
    this.selectedId = null;
    this.asked = null; // when the current filters were given (performance.now()), until their rows show
    this.rendered = 0;
    this.frame = 0;
    scroller.addEventListener("scroll", () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(scroller);
    this.spacer.addEventListener("click", (event) => {
      const row = event.target.closest(".clip-row");
      if (row && row.dataset.index) this.select(Number(row.dataset.index));
    });
  }

  /** New filters: back to the top, the first page asked for; resolves once its rows are drawn. */
  setQuery(params) {
    this.params = new URLSearchParams(params);
    this.asked = performance.now();
    this.generation += 1;
    this.pages.clear();
    this.loading.clear();
    this.scroller.scrollTop = 0;
    this.selectedIndex = -1;
    return this.load(0).then(() => this.schedule());
  }

  /** The same filters asked again (a clip was made, changed or deleted): the pages in view are fetched
   * again and the selection follows its clip. */
  async refresh() {
    this.generation += 1;
    const keep = new Set(this.visiblePages());
    this.pages.clear();
    this.loading.clear();
    await Promise.all(Array.from(keep, (p) => this.load(p)));
    const at = this.indexOf(this.selectedId);
    this.selectedIndex = at;
    this.schedule();
  }

  load(page) {
    if (this.pages.has(page)) return Promise.resolve();
    if (this.loading.has(page)) return this.loading.get(page);
    const generation = this.generation;
    const params = new URLSearchParams(this.params);
    params.set("offset", String(page * PAGE));
    params.set("limit", String(PAGE));
    const promise = get(`/api/library?${params}`).then((data) => {
      if (generation !== this.generation) return;
      this.pages.set(page, data.clips);
      this.total = data.total;
      this.scroller.dataset.total = String(data.total);
      this.spacer.style.height = `${data.total * ROW_HEIGHT}px`;
    }).catch((error) => {
      if (generation === this.generation) this.onError(error);
    }).finally(() => {
      if (this.loading.get(page) === promise) this.loading.delete(page);
    });
    this.loading.set(page, promise);
    return promise;
  }

  range() {
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const count = Math.ceil((this.scroller.clientHeight || 600) / ROW_HEIGHT) + 2 * OVERSCAN;
    return [first, Math.min(this.total, first + count)];
  }

  visiblePages() {
    const [first, end] = this.range();
    const pages = [];
    for (let p = Math.floor(first / PAGE); p * PAGE < Math.max(end, 1); p++) pages.push(p);
    return pages;
  }

  clipAt(index) {
    const page = this.pages.get(Math.floor(index / PAGE));
    return page ? page[index % PAGE] : undefined;
  }

  indexOf(id) {
    if (!id) return -1;
    for (const [page, clips] of this.pages) {
      const at = clips.findIndex((c) => c.id === id);
      if (at >= 0) return page * PAGE + at;
    }
    return -1;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    if (!this.generation) return; // no filters given yet: nothing to ask for
    const [first, end] = this.range();
    const missing = this.visiblePages().filter((p) => !this.pages.has(p));
    for (const page of missing) this.load(page).then(() => this.schedule());
    const rows = [];
    for (let i = first; i < end; i++) {
      const clip = this.clipAt(i);
      const div = document.createElement("div");
      div.className = "clip-row";
      div.setAttribute("role", "option");
      div.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      div.dataset.index = String(i);
      if (clip) {
        div.dataset.clipId = clip.id;
        div.setAttribute("aria-selected", String(clip.id === this.selectedId));
        this.fillRow(div, clip);
      } else {
        div.classList.add("pending");
        div.textContent = "…";
      }
      rows.push(div);
    }
    this.spacer.replaceChildren(...rows);
    this.rendered += 1;
    this.scroller.dataset.rendered = String(this.rendered);
    if (this.asked !== null && (this.total === 0 || rows.some((r) => r.dataset.clipId))) {
      const asked = this.asked;
      this.asked = null;
      // measured once the browser has painted the rows (the frame after the one that laid them out)
      requestAnimationFrame(() => setTimeout(() => {
        const now = performance.now();
        this.scroller.dataset.renderMs = (now - asked).toFixed(1);
        this.scroller.dataset.paintedAt = now.toFixed(1);
        this.scroller.dataset.shown = String(this.generation);
      }, 0));
    }
  }

  select(index, { scroll = true } = {}) {
    if (index < 0 || index >= this.total) return;
    this.selectedIndex = index;
    if (scroll) {
      const top = index * ROW_HEIGHT;
      if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
      else if (top + ROW_HEIGHT > this.scroller.scrollTop + this.scroller.clientHeight) {
        this.scroller.scrollTop = top + ROW_HEIGHT - this.scroller.clientHeight;
      }
    }
    const page = Math.floor(index / PAGE);
    this.load(page).then(() => {
      const clip = this.clipAt(index);
      if (!clip || this.selectedIndex !== index) return;
      this.selectedId = clip.id;
      for (const row of this.spacer.children) {
        row.setAttribute("aria-selected", String(row.dataset.clipId === clip.id));
      }
      this.onSelect(clip, index);
    });
  }

  move(step) {
    if (!this.total) return;
    const from = this.selectedIndex < 0 ? (step > 0 ? -1 : this.total) : this.selectedIndex;
    this.select(Math.max(0, Math.min(this.total - 1, from + step)));
  }
}
