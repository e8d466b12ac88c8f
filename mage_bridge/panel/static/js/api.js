// The panel's API, from the page: JSON in and out, the daemon's refusals as ApiError (code + words).
// Requests carry the panel's cookie (set when the page was opened with its token); nothing else is needed.

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function answer(response) {
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(error.code || `http_${response.status}`,
      error.message || `${response.status} ${response.statusText}`, response.status);
  }
  return data;
}

export async function get(path, { signal } = {}) {
  return answer(await fetch(path, { credentials: "same-origin", signal }));
}

export async function post(path, body = {}, { signal } = {}) {
  return answer(await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal,
  }));
}

/** A request id for one click: the same request sent twice is one job. */
export function requestId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return "panel-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
