// Playing stems together in the browser (Web Audio): every stem decoded first, then started on one
// AudioContext time, so they stay sample-aligned; mute and solo per stem are gains, not restarts.
// The element given to the constructor reports what plays (for the user and for tests):
//   data-audio="stopped|loading|ready|playing", data-audio-started (the context time playback began),
//   data-audio-clock (the context's clock, while playing), data-audio-position (seconds into the clip).

const START_AHEAD_S = 0.1;
const CLOCK_EVERY_MS = 50;

export class Player {
  constructor(reportTo) {
    this.report = reportTo;
    this.context = null;
    this.buffers = new Map();
    this.gains = new Map();
    this.sources = [];
    this.muted = new Set();
    this.soloed = new Set();
    this.startedAt = null;
    this.duration = 0;
    this.clock = null;
    this.loadToken = 0;
    this.onChange = () => {};
    this.set("stopped");
  }

  set(state) {
    this.state = state;
    this.report.dataset.audio = state;
    this.onChange(state);
  }

  /** Fetch and decode every stem ([{name, audio}]) before anything can play; returns when all are ready. */
  async load(stems, sampleRate) {
    this.stop();
    const token = ++this.loadToken;
    this.set("loading");
    if (!this.context || (sampleRate && this.context.sampleRate !== sampleRate)) {
      if (this.context) this.context.close();
      this.context = sampleRate ? new AudioContext({ sampleRate }) : new AudioContext();
    }
    const context = this.context;
    const decoded = await Promise.all(stems.map(async (stem) => {
      const response = await fetch(stem.audio, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`stem ${stem.name}: ${response.status} ${response.statusText}`);
      return [stem.name, await context.decodeAudioData(await response.arrayBuffer())];
    }));
    if (token !== this.loadToken) return false; // another clip was asked for meanwhile
    this.buffers = new Map(decoded);
    this.gains = new Map();
    for (const [name] of decoded) {
      const gain = context.createGain();
      gain.connect(context.destination);
      this.gains.set(name, gain);
    }
    this.muted.clear();
    this.soloed.clear();
    this.duration = Math.max(0, ...decoded.map(([, b]) => b.duration));
    this.applyGains();
    this.set("ready");
    return true;
  }

  get playing() {
    return this.state === "playing";
  }

  async play(offset = 0) {
    if (!this.context || !this.buffers.size) return;
    this.stop();
    if (this.context.state === "suspended") await this.context.resume();
    const when = this.context.currentTime + START_AHEAD_S;
    this.sources = [];
    for (const [name, buffer] of this.buffers) {
      const source = this.context.createBufferSource();
      source.buffer = buffer;
      source.connect(this.gains.get(name));
      source.start(when, offset); // one start time for all: sample-accurate together
      this.sources.push(source);
    }
    const first = this.sources[0];
    first.onended = () => {
      if (this.sources.includes(first)) this.stop();
    };
    this.startedAt = when - offset;
    this.report.dataset.audioStarted = String(when);
    this.set("playing");
    this.clock = setInterval(() => this.tick(), CLOCK_EVERY_MS);
    this.tick();
  }

  tick() {
    if (!this.context) return;
    this.report.dataset.audioClock = this.context.currentTime.toFixed(4);
    this.report.dataset.audioPosition = Math.max(0, this.position()).toFixed(3);
    this.onTick && this.onTick(this.position());
  }

  position() {
    return this.playing ? this.context.currentTime - this.startedAt : 0;
  }

  stop() {
    clearInterval(this.clock);
    this.clock = null;
    const sources = this.sources;
    this.sources = [];
    for (const source of sources) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        /* not started yet */
      }
      source.disconnect();
    }
    if (this.state === "playing") this.set("ready");
  }

  toggle() {
    if (this.playing) this.stop();
    else this.play();
  }

  audible(name) {
    return this.soloed.size ? this.soloed.has(name) : !this.muted.has(name);
  }

  applyGains() {
    for (const [name, gain] of this.gains) {
      gain.gain.setValueAtTime(this.audible(name) ? 1 : 0, this.context.currentTime);
    }
  }

  mute(name, on) {
    if (on) this.muted.add(name);
    else this.muted.delete(name);
    this.applyGains();
  }

  solo(name, on) {
    if (on) this.soloed.add(name);
    else this.soloed.delete(name);
    this.applyGains();
  }
}
