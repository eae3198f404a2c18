// Small DOM helpers. Text always goes in as textContent, never as HTML: job data, titles
// and error messages come from other people and must not become markup.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, String(v));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const TERMINAL = new Set(["finished", "failed", "cancelled", "quarantined"]);
export const STATUSES = [
  "pending", "running", "waiting_for_worker", "waiting_for_human", "waiting_for_parallel",
  "waiting_for_child", "finished", "failed", "cancelled", "quarantined",
];

/** A status as a badge with its name in words, so it never rests on colour alone. */
export function status(value) {
  return h("span", { class: `status s-${value}` }, value);
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return h("time", { datetime: iso, title: iso }, d.toLocaleString());
}

export function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  const parts = [];
  if (s >= 86400) parts.push(`${Math.floor(s / 86400)}d`);
  if (s >= 3600) parts.push(`${Math.floor((s % 86400) / 3600)}h`);
  if (s >= 60) parts.push(`${Math.floor((s % 3600) / 60)}m`);
  parts.push(`${s % 60}s`);
  return parts.slice(0, 2).join(" ");
}

export function ago(iso) {
  if (!iso) return "—";
  return `${duration((Date.now() - new Date(iso).getTime()) / 1000)} ago`;
}

export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

/** An API error as a readable block: code, message, and the details that name fields. */
export function errorBlock(err) {
  if (!err || err.name === "AbortError") return null;
  const box = h("div", { class: "error", role: "alert" });
  if (err.code) {
    box.append(h("strong", {}, err.code), ` (HTTP ${err.status}): `, err.message);
    const details = err.details || {};
    if (Object.keys(details).length && !details.problems) {
      box.append(h("pre", { class: "details" }, JSON.stringify(details, null, 2)));
    }
  } else {
    box.append(String(err.message || err));
  }
  return box;
}

export function table(headers, rows, attrs = {}) {
  return h("table", attrs,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows));
}

/**
 * Asks in a modal dialog (keyboard and screen-reader friendly); resolves true on "yes".
 * The answer comes from the buttons' own clicks (and Escape), not from the dialog's `close`
 * event: that event is queued, and one left over from the previous question would answer
 * the next one.
 */
export function confirmDialog(text, yes = "Yes") {
  const dialog = document.getElementById("confirm");
  const yesButton = document.getElementById("confirm-yes");
  const noButton = document.getElementById("confirm-no");
  document.getElementById("confirm-text").textContent = text;
  yesButton.textContent = yes;
  return new Promise((resolve) => {
    const answer = (value) => (event) => {
      event.preventDefault();
      yesButton.removeEventListener("click", onYes);
      noButton.removeEventListener("click", onNo);
      dialog.removeEventListener("cancel", onNo);
      dialog.close();
      resolve(value);
    };
    const onYes = answer(true);
    const onNo = answer(false);
    yesButton.addEventListener("click", onYes);
    noButton.addEventListener("click", onNo);
    dialog.addEventListener("cancel", onNo); // Escape
    dialog.showModal();
    noButton.focus();
  });
}
