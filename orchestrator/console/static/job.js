// One job: its status, data, result, the blueprint graph with where it is and the path it
// took, and its history as a timeline that grows live over GET /api/v1/jobs/{id}/events.
import { ApiError, download, get, post, stream } from "./api.js";
import { TERMINAL, confirmDialog, errorBlock, h, json, status, table, when } from "./dom.js";
import { drawGraph, pathOf } from "./graph.js";

const SKIP = new Set(["id", "type", "at", "timestamp"]);
const ENDS = new Set(["job_finished", "job_failed", "job_cancelled", "job_quarantined"]);

function summary(ev) {
  const bits = [];
  for (const key of ["state", "task_type", "status", "decision", "actor", "notes", "role", "assignee", "level", "worker", "attempt", "reason", "kind"]) {
    if (ev[key] !== undefined && ev[key] !== null && ev[key] !== "") bits.push(`${key}: ${typeof ev[key] === "object" ? JSON.stringify(ev[key]) : ev[key]}`);
  }
  if (ev.error) bits.push(`error: ${ev.error.code || ""} ${ev.error.message || ""}`.trim());
  return bits.join(" · ");
}

function eventItem(ev) {
  const rest = Object.fromEntries(Object.entries(ev).filter(([k]) => !SKIP.has(k)));
  return h("li", { dataset: { eventId: ev.id, type: ev.type } },
    h("span", { class: "t" }, ev.timestamp ? when(ev.timestamp) : ""),
    h("strong", {}, ev.type),
    h("span", { class: "sum" }, summary(ev)),
    Object.keys(rest).length ? h("details", {}, h("summary", {}, "details"), json(rest)) : null);
}

const OUTCOMES = {
  task_queued: "queued", task_leased: "running", task_requeued: "queued again",
  lease_expired: "lease expired", task_released: "given back", result_dropped: "late result dropped",
};

/** The job's tasks and each attempt (who ran it, how it ended), from its history events. */
function tasksTable(events) {
  const attempts = new Map(); // "task_id|attempt" -> row, in order of first appearance
  const types = new Map();
  for (const ev of events) {
    if (!ev.task_id) continue;
    if (ev.task_type) types.set(ev.task_id, ev.task_type);
    const key = `${ev.task_id}|${ev.attempt ?? ""}`;
    const row = attempts.get(key) || { task: ev.task_id, attempt: ev.attempt, worker: null, outcome: "", at: ev.timestamp };
    if (ev.worker) row.worker = ev.worker;
    row.outcome = ev.type === "task_result"
      ? `${ev.status}${ev.error && ev.error.code ? ` (${ev.error.code})` : ""}`
      : OUTCOMES[ev.type] || ev.type;
    row.at = ev.timestamp;
    attempts.set(key, row);
  }
  if (!attempts.size) return null;
  return h("section", {}, h("h2", {}, "Tasks"), table(["task", "attempt", "worker", "last news", "when"],
    [...attempts.values()].map((r) => h("tr", { dataset: { taskId: r.task, attempt: r.attempt ?? "" } },
      h("td", {}, types.get(r.task) || "", " ", h("span", { class: "mono hint" }, r.task)),
      h("td", { class: "num" }, r.attempt ?? "—"),
      h("td", {}, r.worker || "—"),
      h("td", { dataset: { outcome: r.outcome } }, r.outcome),
      h("td", {}, r.at ? when(r.at) : "—"))), { id: "job-tasks" }));
}

function facts(job) {
  const rows = [
    ["status", status(job.status)],
    ["state", job.current_state || "—"],
    ["blueprint", h("a", { href: `#/blueprints/${encodeURIComponent(job.blueprint)}` }, job.blueprint)],
    ["version", job.blueprint_version],
    ["created", when(job.created_at)],
    ["updated", when(job.updated_at)],
    ["finished", when(job.finished_at)],
  ];
  if (job.task) rows.push(["task", `${job.task.task_type} (${job.task.status}, attempt ${job.task.attempt}${job.task.worker_id ? `, worker ${job.task.worker_id}` : ""})`]);
  if (job.approval) rows.push(["waits for", `${job.approval.title || job.approval.state}: ${job.approval.decisions.join(", ")}${job.approval.role ? ` (role ${job.approval.role})` : ""}`]);
  if (job.parallel) rows.push(["parallel", `${job.parallel.pending} of ${job.parallel.total} branches pending`]);
  if (job.parent_job_id) rows.push(["parent", h("a", { href: `#/jobs/${job.parent_job_id}`, class: "mono" }, job.parent_job_id)]);
  if (job.child_job_id) rows.push(["child", h("a", { href: `#/jobs/${job.child_job_id}`, class: "mono" }, job.child_job_id)]);
  return h("dl", { class: "facts", id: "job-facts" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", { dataset: { fact: k } }, v)]));
}

export async function render(root, [jobId], ctx) {
  let job = await get(`/api/v1/jobs/${encodeURIComponent(jobId)}`, {}, ctx.signal);
  let graph = null;
  let graphNote = null;
  try {
    const bp = await get(`/api/v1/blueprints/${encodeURIComponent(job.blueprint)}`, { version: job.blueprint_version }, ctx.signal);
    graph = bp.graph;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    graphNote = `No graph: ${err.message}`; // an internal blueprint, or a version gone
  }
  const events = [];
  const head = h("div", { class: "job-head" });
  const actions = h("div", { class: "row", id: "job-actions" });
  const actionError = h("div", { "aria-live": "assertive" });
  const graphBox = h("figure", { class: "graph-box", id: "job-graph" });
  const dataBox = h("div", { class: "cols" });
  const tasksBox = h("div");
  const filesBox = h("section", { id: "job-files" });
  const timeline = h("ol", { class: "timeline", id: "timeline", "aria-live": "polite" });
  const live = h("span", { class: "hint", id: "live" }, "connecting…");
  root.append(
    h("h1", {}, "Job ", h("span", { class: "mono" }, job.job_id)),
    head, actions, actionError,
    h("h2", {}, "Graph"), graphBox,
    dataBox, filesBox, tasksBox,
    h("h2", {}, "History ", live), timeline);

  function drawActions() {
    actions.replaceChildren();
    if (!TERMINAL.has(job.status)) {
      actions.append(h("button", { type: "button", id: "cancel-job", class: "danger", onclick: () => act("cancel") }, "Cancel job…"));
    }
    if (job.status === "failed" || job.status === "quarantined") {
      actions.append(h("button", { type: "button", id: "retry-job", onclick: () => act("retry") }, "Retry from the failed state…"));
    }
  }

  async function act(what) {
    const ok = await confirmDialog(
      what === "cancel" ? `Cancel job ${job.job_id}? It ends at once as cancelled.` : `Retry job ${job.job_id} from the state that failed?`,
      what === "cancel" ? "Cancel the job" : "Retry");
    if (!ok) return;
    actionError.replaceChildren();
    try {
      await post(`/api/v1/jobs/${encodeURIComponent(job.job_id)}/${what}`);
    } catch (err) {
      actionError.replaceChildren(errorBlock(err));
      return;
    }
    if (what === "retry") ctx.reload(); // a new stretch of history: read it all again
    else await refresh();
  }

  function draw() {
    head.replaceChildren(facts(job));
    drawActions();
    if (graph) {
      const path = pathOf(events);
      graphBox.replaceChildren(drawGraph(graph, {
        current: job.current_state, visited: path.states, taken: path.edges,
        failed: ["failed", "quarantined"].includes(job.status),
      }), h("figcaption", {}, "▶ current state · ✓ visited · thick arrows: the path taken"));
    } else {
      graphBox.replaceChildren(h("p", { class: "empty" }, graphNote));
    }
    const cols = [];
    if (job.initial_data !== undefined) cols.push(h("section", { id: "job-initial-data" }, h("h2", {}, "Initial data"), json(job.initial_data)));
    if (job.data && Object.keys(job.data).length) cols.push(h("section", { id: "job-data" }, h("h2", {}, "Data (its tasks' results)"), json(job.data)));
    if (job.result !== null && job.result !== undefined) cols.push(h("section", { id: "job-result" }, h("h2", {}, "Result"), json(job.result)));
    if (job.error) cols.push(h("section", { id: "job-error" }, h("h2", {}, "Error"), h("p", { class: "error" }, h("strong", {}, job.error.code || "error"), " ", job.error.message || ""), json(job.error)));
    dataBox.replaceChildren(...cols);
    tasksBox.replaceChildren(tasksTable(events) || "");
  }

  /** The job's files, each with a button that saves it: the bytes come through the
   * orchestrator (?via=orchestrator), since the page may not talk to S3 itself. */
  async function listFiles() {
    let listing;
    try {
      listing = await get(`/api/v1/jobs/${encodeURIComponent(jobId)}/files`, {}, ctx.signal);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const text = err.code === "S3_NOT_CONFIGURED" ? "No file storage (S3) is configured on this orchestrator." : null;
      filesBox.replaceChildren(h("h2", {}, "Files"), text ? h("p", { class: "hint" }, text) : errorBlock(err) || "");
      return;
    }
    const problem = h("div", { "aria-live": "assertive" });
    const rows = listing.files.map((f) => h("tr", { dataset: { file: f.filename } },
      h("td", { class: "mono" }, f.filename),
      h("td", { class: "num" }, `${f.size} B`),
      h("td", {}, when(f.last_modified)),
      h("td", {}, h("button", { type: "button", class: "download", "aria-label": `Download ${f.filename}`, onclick: async (e) => {
        const button = e.currentTarget;
        button.disabled = true;
        problem.replaceChildren();
        try {
          await download(`${f.download_url}?via=orchestrator`, f.filename, ctx.signal);
        } catch (err) {
          problem.replaceChildren(errorBlock(err) || "");
        } finally {
          button.disabled = false;
        }
      } }, "Download"))));
    filesBox.replaceChildren(h("h2", {}, "Files"),
      rows.length ? table(["file", "size", "stored", ""], rows, { id: "job-file-list" }) : h("p", { class: "empty" }, "No files."),
      listing.truncated ? h("p", { class: "hint" }, "Only the first 1000 are listed.") : "",
      problem);
  }

  let pending = null;
  async function refresh() {
    job = await get(`/api/v1/jobs/${encodeURIComponent(jobId)}`, {}, ctx.signal);
    draw();
  }
  function refreshSoon() { // one read for a burst of events
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      try { await refresh(); } catch (err) { ctx.problem(err); }
    }, 100);
  }

  draw();
  await listFiles();
  await stream(`/api/v1/jobs/${encodeURIComponent(jobId)}/events`, {
    signal: ctx.signal,
    onOpen: () => { live.textContent = "(live)"; },
    onEvent: (msg) => {
      const ev = msg.data;
      if (!ev || typeof ev !== "object" || events.some((e) => e.id === ev.id)) return;
      events.push(ev);
      timeline.append(eventItem(ev));
      refreshSoon();
      // files come from tasks: look again when one reports back, or the job ends
      if (ev.type === "task_result" || ENDS.has(ev.type)) listFiles().catch((err) => ctx.problem(err));
    },
    // the server ends the stream after the job's last event; a drop before it reconnects
    again: () => !ENDS.has(events.length ? events[events.length - 1].type : "") && !TERMINAL.has(job.status),
  });
  if (!ctx.signal.aborted) {
    live.textContent = "(the job has ended)";
    await refresh();
  }
}
