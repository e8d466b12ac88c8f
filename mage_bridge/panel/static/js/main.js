// The panel's page: the tabs of the views the daemon serves (/api/session), one event stream, the keys.
// Each view is an ES module under views/ exporting mount(root, panel) -> { show(), hide(), onKey(event) }.

import { get } from "./api.js";
import { Events } from "./events.js";
import { JobsModel } from "./jobs-model.js";

const tabs = document.getElementById("tabs");
const viewsRoot = document.getElementById("views");
const statusLine = document.getElementById("status");

const panel = {
  events: new Events("/api/events", document.getElementById("connection")),
  jobs: null,
  views: new Map(),
  current: null,
  /** A line in the status bar (kind: "info" or "error"). */
  say(text, kind = "info") {
    statusLine.textContent = text;
    statusLine.dataset.kind = kind;
  },
  show(name, { focus = true } = {}) {
    const view = this.views.get(name);
    if (!view) return;
    for (const [other, v] of this.views) {
      const active = other === name;
      v.section.hidden = !active;
      v.tab.setAttribute("aria-selected", String(active));
      v.tab.tabIndex = active ? 0 : -1;
      if (!active && v.api && v.api.hide) v.api.hide();
    }
    this.current = name;
    document.body.dataset.view = name;
    if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
    if (view.api && view.api.show) view.api.show({ focus });
  },
};
panel.jobs = new JobsModel(panel.events);

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || target.matches("input, textarea, select"));
}

document.addEventListener("keydown", (event) => {
  if (event.altKey && !event.ctrlKey && !event.metaKey) {
    for (const [name, view] of panel.views) {
      // the key's place (code), since Alt+letter types another character on some layouts (macOS)
      if (view.spec.key && (event.code === `Key${view.spec.key.toUpperCase()}` || event.key.toLowerCase() === view.spec.key)) {
        event.preventDefault();
        panel.show(name);
        return;
      }
    }
  }
  const view = panel.views.get(panel.current);
  if (view && view.api && view.api.onKey && view.api.onKey(event, { typing: typing(event.target) })) {
    event.preventDefault();
  }
});

async function start() {
  let session;
  try {
    session = await get("/api/session");
  } catch (error) {
    panel.say(`The panel cannot reach the daemon: ${error.message}`, "error");
    return;
  }
  document.title = `MAGE Bridge ${session.version}`;
  for (const spec of session.views) {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.role = "tab";
    tab.id = `tab-${spec.name}`;
    tab.textContent = spec.title;
    tab.title = `${spec.title} (Alt+${spec.key.toUpperCase()})`;
    tab.addEventListener("click", () => panel.show(spec.name));
    tabs.append(tab);
    const section = document.createElement("section");
    section.id = `view-${spec.name}`;
    section.className = "view";
    section.setAttribute("role", "tabpanel");
    section.setAttribute("aria-labelledby", tab.id);
    section.hidden = true;
    viewsRoot.append(section);
    panel.views.set(spec.name, { spec, tab, section, api: null });
  }
  // every view's module fetched at once (not one after another), each mounted as it arrives
  await Promise.all(Array.from(panel.views, async ([name, view]) => {
    try {
      const module = await import(`./${view.spec.script}`);
      view.api = module.mount(view.section, panel);
    } catch (error) {
      view.section.textContent = `This view could not be loaded: ${error.message}`;
      console.error(`panel: view ${name}`, error);
    }
  }));
  const wanted = location.hash.slice(1);
  panel.show(panel.views.has(wanted) ? wanted : panel.views.keys().next().value);
  panel.events.connect();
  document.body.dataset.ready = "true";
}

window.addEventListener("hashchange", () => {
  const wanted = location.hash.slice(1);
  if (panel.views.has(wanted) && wanted !== panel.current) panel.show(wanted);
});

start();
