// GET /api/v1/jobs with its filters and pages; a box to open a job by its id.
import { get } from "./api.js";
import { STATUSES, h, status, table, when } from "./dom.js";

const LIMIT = 25;

function hashFor(query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const s = q.toString();
  return `#/jobs${s ? `?${s}` : ""}`;
}

/** A datetime-local field's value (the person's local time) for an ISO 8601 instant. */
function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The instant a datetime-local value means, as the API writes times (UTC, Z). */
function isoOf(local) {
  if (!local) return "";
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

export async function render(root, _args, ctx) {
  const query = {
    blueprint: ctx.query.get("blueprint") || "",
    status: ctx.query.get("status") || "",
    created_after: ctx.query.get("created_after") || "",
    created_before: ctx.query.get("created_before") || "",
    id: ctx.query.get("id") || "",
    offset: Number(ctx.query.get("offset") || 0),
  };
  const bps = await get("/api/v1/blueprints", {}, ctx.signal);
  const bpSelect = h("select", { id: "filter-blueprint", name: "blueprint" },
    h("option", { value: "" }, "any"),
    bps.map((b) => h("option", { value: b.name, selected: b.name === query.blueprint }, b.name)));
  const stSelect = h("select", { id: "filter-status", name: "status" },
    h("option", { value: "" }, "any"),
    STATUSES.map((s) => h("option", { value: s, selected: s === query.status }, s)));
  const fromInput = h("input", { id: "filter-from", name: "created_after", type: "datetime-local", value: localInput(query.created_after) });
  const toInput = h("input", { id: "filter-to", name: "created_before", type: "datetime-local", value: localInput(query.created_before) });
  const idSearch = h("input", { id: "filter-id", name: "id", type: "search", maxlength: 64, autocomplete: "off", placeholder: "part of an id", value: query.id });
  const filters = h("form", { class: "filters", id: "job-filters", onsubmit: (e) => {
    e.preventDefault();
    location.hash = hashFor({
      blueprint: bpSelect.value, status: stSelect.value, id: idSearch.value.trim(),
      created_after: isoOf(fromInput.value), created_before: isoOf(toInput.value),
    });
  } },
  h("label", { for: "filter-id" }, "Id contains"), idSearch,
  h("label", { for: "filter-blueprint" }, "Blueprint"), bpSelect,
  h("label", { for: "filter-status" }, "Status"), stSelect,
  h("label", { for: "filter-from" }, "Created from"), fromInput,
  h("label", { for: "filter-to" }, "to (before)"), toInput,
  h("button", { type: "submit" }, "Filter"));
  const idInput = h("input", { id: "find-job", name: "job_id", required: true, autocomplete: "off", placeholder: "job id" });
  const find = h("form", { class: "filters", role: "search", onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/jobs/${encodeURIComponent(idInput.value.trim())}`;
  } }, h("label", { for: "find-job" }, "Open a job by id"), idInput, h("button", { type: "submit" }, "Open"));
  const list = h("div", { id: "job-list", "aria-live": "polite" });
  root.append(h("h1", {}, "Jobs"), find, filters, list);
  await ctx.every(async () => {
    const { offset, ...filtersOnly } = query;
    const page = await get("/api/v1/jobs", { ...filtersOnly, limit: LIMIT, offset }, ctx.signal);
    const rows = page.jobs.map((j) => h("tr", { dataset: { jobId: j.job_id } },
      h("td", {}, h("a", { href: `#/jobs/${j.job_id}`, class: "mono" }, j.job_id)),
      h("td", {}, j.blueprint),
      h("td", {}, status(j.status)),
      h("td", {}, j.current_state || "—"),
      h("td", {}, when(j.created_at)),
      h("td", {}, when(j.updated_at))));
    const more = page.next_offset !== null && page.next_offset !== undefined;
    // A search reads a bounded stretch of the list per request: it may stop with few or no
    // matches and say where to go on from.
    const nav = h("nav", { class: "pager", "aria-label": "Pages" },
      offset > 0 ? h("a", { href: hashFor({ ...query, offset: Math.max(0, offset - LIMIT) }) }, "← newer") : null,
      h("span", {}, page.jobs.length ? `jobs ${offset + 1}–${offset + page.jobs.length}` : ""),
      more ? h("a", { href: hashFor({ ...query, offset: page.next_offset }), id: "older" },
        page.jobs.length ? "older →" : "search older jobs →") : null);
    list.replaceChildren(
      page.jobs.length ? table(["job", "blueprint", "status", "state", "created", "updated"], rows, { id: "jobs" })
        : h("p", { class: "empty" }, more ? "No match in the newest jobs searched so far." : "No job matches."),
      nav);
  }, 3000);
}
