// Waiting human steps (GET /api/v1/human-tasks), each with a form of its decisions and
// fields posting to POST /api/v1/jobs/{id}/decision; kept live by the inbox's event stream.
import { get, post, stream } from "./api.js";
import { confirmDialog, duration, errorBlock, h, json } from "./dom.js";

const ACTOR = "orchestrator.console.actor";
const LIMIT = 50;

function fieldInput(name, schema, id) {
  const type = schema.type;
  if (name === "notes" || type === "string" && !schema.enum) {
    return name === "notes" ? h("textarea", { id, name, rows: 2, required: !!schema.required })
      : h("input", { id, name, type: "text", required: !!schema.required });
  }
  if (schema.enum) {
    return h("select", { id, name, required: !!schema.required },
      h("option", { value: "" }, "—"), schema.enum.map((v) => h("option", { value: JSON.stringify(v) }, String(v))));
  }
  if (type === "number" || type === "integer") {
    return h("input", { id, name, type: "number", step: type === "integer" ? "1" : "any", required: !!schema.required });
  }
  if (type === "boolean") return h("input", { id, name, type: "checkbox" });
  return h("textarea", { id, name, rows: 2, required: !!schema.required, placeholder: "JSON" });
}

function readField(input, schema) {
  if (input.type === "checkbox") return input.checked;
  const raw = input.value;
  if (raw === "") return undefined;
  if (input.tagName === "SELECT") return JSON.parse(raw);
  if (input.type === "number") return Number(raw);
  if (input.name === "notes" || schema.type === "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`${input.name}: not valid JSON`);
  }
}

function countdown(item) {
  const out = h("span", { class: "due", dataset: { due: item.due_at || "" } });
  const tick = () => {
    if (!item.due_at) { out.textContent = "no due time"; return; }
    const left = (new Date(item.due_at).getTime() - Date.now()) / 1000;
    out.textContent = left >= 0 ? `due in ${duration(left)}` : `OVERDUE by ${duration(left)}`;
    out.classList.toggle("overdue", left < 0);
  };
  tick();
  return [out, tick];
}

function card(item, actorInput, onDone, onChanged) {
  const key = item.job_id;
  const [due, tick] = countdown(item);
  const byName = Object.fromEntries(item.decisions.map((d) => [d.decision, d.fields || {}]));
  const choice = h("select", { id: `decision-${key}`, name: "decision", required: true },
    item.decisions.map((d) => h("option", { value: d.decision }, d.decision)));
  const fieldsBox = h("div", { class: "fields" });
  const result = h("div", { "aria-live": "assertive" });
  const drawFields = () => {
    const fields = byName[choice.value] || {};
    fieldsBox.replaceChildren(...Object.entries(fields).map(([name, schema]) => {
      const id = `f-${key}-${name}`;
      return h("div", { class: "field" },
        h("label", { for: id }, name, schema.required ? " (required)" : ""), fieldInput(name, schema, id));
    }));
  };
  choice.addEventListener("change", drawFields);
  drawFields();
  const form = h("form", { class: "decide", onsubmit: async (e) => {
    e.preventDefault();
    result.replaceChildren();
    const actor = actorInput.value.trim();
    if (!actor) {
      result.replaceChildren(errorBlock({ message: "Say who you are (the “acting as” box above) before deciding." }));
      actorInput.focus();
      return;
    }
    const body = { decision: choice.value, actor, data: {} };
    try {
      for (const input of fieldsBox.querySelectorAll("input, select, textarea")) {
        const schema = (byName[choice.value] || {})[input.name] || {};
        const value = readField(input, schema);
        if (value === undefined) continue;
        if (input.name === "notes") body.notes = value;
        else body.data[input.name] = value;
      }
    } catch (err) {
      result.replaceChildren(errorBlock(err));
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await post(`/api/v1/jobs/${encodeURIComponent(item.job_id)}/decision`, body);
      result.replaceChildren(h("p", { class: "ok" }, `Recorded: ${body.decision}.`));
      onDone(item.job_id);
    } catch (err) {
      result.replaceChildren(errorBlock(err));
    } finally {
      button.disabled = false;
    }
  } },
  h("label", { for: `decision-${key}` }, "Decision"), choice, fieldsBox,
  h("button", { type: "submit" }, "Decide"), result);
  // Taking a step and escalating it are API calls of their own (assignment, escalation);
  // the inbox stream then tells every open inbox.
  const who = () => {
    const actor = actorInput.value.trim();
    if (!actor) {
      result.replaceChildren(errorBlock({ message: "Say who you are (the “acting as” box above) first." }));
      actorInput.focus();
    }
    return actor;
  };
  const side = async (path, body, done) => {
    result.replaceChildren();
    try {
      await post(`/api/v1/jobs/${encodeURIComponent(item.job_id)}/${path}`, body);
      result.replaceChildren(h("p", { class: "ok" }, done));
      onChanged();
    } catch (err) {
      result.replaceChildren(errorBlock(err));
    }
  };
  const take = h("button", { type: "button", class: "secondary", id: `take-${key}`, onclick: () => {
    const actor = who();
    if (actor) side("assignment", { assignee: actor, actor, notes: "taken in the console" }, `Assigned to ${actor}.`);
  } }, "Assign to me");
  const escalate = item.escalation_level < item.escalation_levels
    ? h("button", { type: "button", class: "secondary", id: `escalate-${key}`, onclick: async () => {
      const actor = who();
      if (!actor) return;
      if (!await confirmDialog(`Escalate “${item.title || item.state}” to its next level now?`, "Escalate")) return;
      side("escalation", { actor, reason: "escalated in the console" }, "Escalated.");
    } }, "Escalate…")
    : null;
  const summary = Object.entries(item.summary || {});
  const node = h("article", { class: `card item${item.overdue ? " is-overdue" : ""}`, dataset: { jobId: item.job_id }, "aria-labelledby": `t-${key}` },
    h("h2", { id: `t-${key}` }, item.title || item.state),
    h("p", { class: "meta" },
      h("span", {}, `role: ${item.role ?? "—"}`), " · ",
      h("span", {}, `assignee: ${item.assignee ?? "—"}`), " · ",
      h("span", {}, `${item.blueprint} / ${item.state}`), " · ", due,
      item.escalation_level ? h("span", {}, ` · escalated ×${item.escalation_level}`) : null),
    item.instructions ? h("p", { class: "instructions" }, item.instructions) : null,
    summary.length ? h("dl", { class: "facts small" }, summary.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "object" ? json(v) : String(v))])) : null,
    h("div", { class: "row" }, h("a", { href: `#/jobs/${item.job_id}` }, "open the job"),
      item.assignee === actorInput.value.trim() ? null : take, escalate),
    form);
  return { node, tick, item };
}

export async function render(root, _args, ctx) {
  const filters = {
    role: ctx.query.get("role") || "",
    assignee: ctx.query.get("assignee") || "",
    overdue: ctx.query.get("overdue") === "true",
  };
  const actorInput = h("input", { id: "actor", name: "actor", autocomplete: "username", value: sessionStorage.getItem(ACTOR) || "" });
  actorInput.addEventListener("change", () => sessionStorage.setItem(ACTOR, actorInput.value.trim()));
  const role = h("input", { id: "f-role", name: "role", value: filters.role });
  const assignee = h("input", { id: "f-assignee", name: "assignee", value: filters.assignee });
  const overdue = h("input", { id: "f-overdue", name: "overdue", type: "checkbox", checked: filters.overdue });
  const form = h("form", { class: "filters", onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (role.value.trim()) q.set("role", role.value.trim());
    if (assignee.value.trim()) q.set("assignee", assignee.value.trim());
    if (overdue.checked) q.set("overdue", "true");
    location.hash = `#/inbox${q.toString() ? `?${q}` : ""}`;
  } },
  h("label", { for: "f-role" }, "Role"), role,
  h("label", { for: "f-assignee" }, "Assignee"), assignee,
  h("label", { for: "f-overdue" }, overdue, " overdue only"),
  h("button", { type: "submit" }, "Filter"));
  const count = h("p", { id: "inbox-count", "aria-live": "polite" });
  const list = h("div", { id: "inbox", class: "items" });
  const more = h("div");
  const live = h("span", { class: "hint", id: "live" }, "connecting…");
  root.append(h("h1", {}, "Inbox ", live),
    h("p", {}, h("label", { for: "actor" }, "Acting as (your user id, recorded with each decision) "), actorInput),
    form, count, list, more);

  let ticks = [];
  let reloading = null;
  let cursor = null;
  const shown = new Map();
  const query = () => ({ role: filters.role, assignee: filters.assignee, overdue: filters.overdue ? "true" : "", limit: LIMIT });
  const drop = (jobId) => {
    const entry = shown.get(jobId);
    if (entry) entry.node.remove();
    shown.delete(jobId);
    count.textContent = `${shown.size} waiting${cursor ? " (more below)" : ""}`;
  };
  const append = (items) => {
    for (const item of items) {
      if (shown.has(item.job_id)) continue;
      const c = card(item, actorInput, (id) => setTimeout(() => drop(id), 600), reloadSoon);
      shown.set(item.job_id, c);
      ticks.push(c.tick);
      list.append(c.node);
    }
    count.textContent = shown.size ? `${shown.size} waiting${cursor ? " (more below)" : ""}` : "Nothing waits here.";
    more.replaceChildren(cursor ? h("button", { type: "button", onclick: loadMore }, "Load more") : "");
  };
  async function load() {
    const page = await get("/api/v1/human-tasks", query(), ctx.signal);
    // cards of steps that left, or changed (reassigned, escalated), go; the rest stay as
    // they are, with whatever someone is typing into them
    const fresh = new Map(page.items.map((i) => [i.job_id, i]));
    for (const [id, entry] of [...shown.entries()]) {
      const now = fresh.get(id);
      if (!now || JSON.stringify(now) !== JSON.stringify(entry.item)) drop(id);
    }
    cursor = page.next_cursor;
    append(page.items);
    // keep the server's order (due time first)
    for (const item of page.items) list.append(shown.get(item.job_id).node);
  }
  function reloadSoon() {
    if (reloading) return;
    reloading = setTimeout(async () => {
      reloading = null;
      try { await load(); } catch (err) { ctx.problem(err); }
    }, 150);
  }
  async function loadMore() {
    const page = await get("/api/v1/human-tasks", { ...query(), cursor }, ctx.signal);
    cursor = page.next_cursor;
    append(page.items);
  }
  await load();
  const timer = setInterval(() => ticks.forEach((t) => t()), 1000);
  ctx.signal.addEventListener("abort", () => clearInterval(timer));
  await stream("/api/v1/human-tasks/events", {
    query: { role: filters.role },
    signal: ctx.signal,
    onOpen: () => { live.textContent = "(live)"; },
    onEvent: (msg) => {
      if (msg.type === "removed" && msg.data && msg.data.job_id) drop(msg.data.job_id);
      // added, updated, reset: the list's order and filters are the server's; read it again
      if (msg.type !== "removed") reloadSoon();
    },
    again: () => true, // the server ends each stream after `wait` seconds; carry on
  });
}
