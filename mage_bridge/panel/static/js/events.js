// The one event stream of the page (server-sent events from /api/events): job events and those other
// views publish. on(type, fn) listens to one type; "open" fires on each (re)connection, when views
// reload their state (events sent while the page was away are not replayed).

export class Events {
  constructor(url, indicator) {
    this.url = url;
    this.indicator = indicator;
    this.handlers = new Map();
    this.source = null;
  }

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  fire(type, data) {
    for (const fn of this.handlers.get(type) || []) {
      try {
        fn(data);
      } catch (error) {
        console.error(`panel: a ${type} listener failed`, error);
      }
    }
  }

  show(state, text) {
    if (!this.indicator) return;
    this.indicator.dataset.state = state;
    this.indicator.textContent = text;
  }

  connect() {
    this.source = new EventSource(this.url, { withCredentials: true });
    this.source.onopen = () => {
      this.show("live", "live");
      this.fire("open", null);
    };
    this.source.onerror = () => {
      this.show("down", this.source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting…");
    };
    this.source.onmessage = (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      this.fire(data.type, data);
      this.fire("*", data);
    };
  }
}
