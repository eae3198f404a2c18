// The documented JSON API, called with the client token the person typed in. The token
// lives in sessionStorage (this tab only, gone when it closes) and travels only as the
// X-Client-Token header: never in a URL, where logs and the history would keep it.
const KEY = "orchestrator.console.token";

export function token() {
  return sessionStorage.getItem(KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

/** An answer of the API that was not a success: its error envelope, readable. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }

  toString() {
    return `${this.code} (HTTP ${this.status}): ${this.message}`;
  }
}

async function failure(resp) {
  let body = null;
  try {
    body = await resp.json();
  } catch {
    // not JSON: a proxy's page, say; the status line is all we can show
  }
  const err = body && body.error;
  if (err && typeof err === "object") {
    return new ApiError(resp.status, err.code || `HTTP_${resp.status}`, err.message || "", err.details);
  }
  return new ApiError(resp.status, `HTTP_${resp.status}`, resp.statusText || "request failed");
}

/** Listeners told when the token is refused, so the page can ask for another. */
export const unauthorized = new Set();

export async function call(method, path, { body, query, contentType, signal } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const headers = { "X-Client-Token": token(), Accept: "application/json" };
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(url, { method, headers, body: payload, signal, cache: "no-store" });
  } catch (exc) {
    if (exc.name === "AbortError") throw exc;
    throw new ApiError(0, "NETWORK_ERROR", `the orchestrator did not answer (${exc.message})`);
  }
  if (!resp.ok) {
    const err = await failure(resp);
    if (resp.status === 401) for (const fn of unauthorized) fn(err);
    throw err;
  }
  const type = resp.headers.get("Content-Type") || "";
  return type.includes("json") ? resp.json() : resp.text();
}

/**
 * Saves a file the API sends (with the token header, so not a plain link): read into a
 * blob, then handed to the browser's download under `filename`. The whole file is held in
 * the page's memory on the way; for very large files use the API directly.
 */
export async function download(path, filename, signal) {
  let resp;
  try {
    resp = await fetch(new URL(path, location.origin), { headers: { "X-Client-Token": token() }, signal, cache: "no-store" });
  } catch (exc) {
    if (exc.name === "AbortError") throw exc;
    throw new ApiError(0, "NETWORK_ERROR", `the orchestrator did not answer (${exc.message})`);
  }
  if (!resp.ok) {
    const err = await failure(resp);
    if (resp.status === 401) for (const fn of unauthorized) fn(err);
    throw err;
  }
  const url = URL.createObjectURL(await resp.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser reads the blob after the click returns: let it go once that is surely done.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export const get = (path, query, signal) => call("GET", path, { query, signal });
export const post = (path, body, opts = {}) => call("POST", path, { ...opts, body });

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });

/**
 * A Server-Sent Events stream read with fetch, because EventSource cannot send a header
 * and the token must not go in the URL. Resumes with Last-Event-ID after a drop, as
 * EventSource would; `again()` says whether to reconnect once the server ends the stream.
 */
export async function stream(path, { query, onEvent, onOpen, again, signal }) {
  let lastId = null;
  let backoff = 500;
  while (!signal.aborted) {
    const url = new URL(path, location.origin);
    for (const [k, v] of Object.entries(query || {})) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    }
    const headers = { "X-Client-Token": token(), Accept: "text/event-stream" };
    if (lastId !== null) headers["Last-Event-ID"] = lastId;
    try {
      const resp = await fetch(url, { headers, signal, cache: "no-store" });
      if (!resp.ok) {
        const err = await failure(resp);
        if (resp.status === 401) for (const fn of unauthorized) fn(err);
        throw err;
      }
      if (onOpen) onOpen();
      backoff = 500;
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      let event = { data: [] };
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let nl;
        while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + (buffer[nl] === "\r" && buffer[nl + 1] === "\n" ? 2 : 1));
          if (line === "") {
            if (event.data.length) {
              if (event.id !== undefined) lastId = event.id;
              let data = event.data.join("\n");
              try { data = JSON.parse(data); } catch { /* plain text stays text */ }
              onEvent({ id: event.id, type: event.type || "message", data });
            }
            event = { data: [] };
          } else if (!line.startsWith(":")) {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "data") event.data.push(val);
            else if (field === "event") event.type = val;
            else if (field === "id") event.id = val;
          }
        }
      }
      if (!again()) return;
    } catch (exc) {
      if (signal.aborted) return;
      if (exc instanceof ApiError && exc.status >= 400 && exc.status < 500 && exc.status !== 429) {
        throw exc; // a refusal will not change by asking again
      }
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 10000);
    }
  }
}
