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

export async function render(root, _args, ctx) {
  const query = {
    blueprint: ctx.query.get("blueprint") || "",
    status: ctx.query.get("status") || "",
    offset: Number(ctx.query.get("offset") || 0),
  };
  const bps = await get("/api/v1/blueprints", {}, ctx.signal);
  const bpSelect = h("select", { id: "filter-blueprint", name: "blueprint" },
    h("option", { value: "" }, "any"),
    bps.map((b) => h("option", { value: b.name, selected: b.name === query.blueprint }, b.name)));
  const stSelect = h("select", { id: "filter-status", name: "status" },
    h("option", { value: "" }, "any"),
    STATUSES.map((s) => h("option", { value: s, selected: s === query.status }, s)));
  const filters = h("form", { class: "filters", onsubmit: (e) => {
    e.preventDefault();
    location.hash = hashFor({ blueprint: bpSelect.value, status: stSelect.value });
  } },
  h("label", { for: "filter-blueprint" }, "Blueprint"), bpSelect,
  h("label", { for: "filter-status" }, "Status"), stSelect,
  h("button", { type: "submit" }, "Filter"));
  const idInput = h("input", { id: "find-job", name: "job_id", required: true, autocomplete: "off", placeholder: "job id" });
  const find = h("form", { class: "filters", role: "search", onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/jobs/${encodeURIComponent(idInput.value.trim())}`;
  } }, h("label", { for: "find-job" }, "Open a job by id"), idInput, h("button", { type: "submit" }, "Open"));
  const list = h("div", { id: "job-list", "aria-live": "polite" });
  root.append(h("h1", {}, "Jobs"), find, filters, list);
  await ctx.every(async () => {
    const page = await get("/api/v1/jobs", {
      blueprint: query.blueprint, status: query.status, limit: LIMIT, offset: query.offset,
    }, ctx.signal);
    const rows = page.jobs.map((j) => h("tr", { dataset: { jobId: j.job_id } },
      h("td", {}, h("a", { href: `#/jobs/${j.job_id}`, class: "mono" }, j.job_id)),
      h("td", {}, j.blueprint),
      h("td", {}, status(j.status)),
      h("td", {}, j.current_state || "—"),
      h("td", {}, when(j.created_at)),
      h("td", {}, when(j.updated_at))));
    const nav = h("nav", { class: "pager", "aria-label": "Pages" },
      query.offset > 0 ? h("a", { href: hashFor({ ...query, offset: Math.max(0, query.offset - LIMIT) }) }, "← newer") : null,
      h("span", {}, page.jobs.length ? `jobs ${query.offset + 1}–${query.offset + page.jobs.length}` : ""),
      page.next_offset !== null && page.next_offset !== undefined
        ? h("a", { href: hashFor({ ...query, offset: page.next_offset }) }, "older →") : null);
    list.replaceChildren(
      page.jobs.length ? table(["job", "blueprint", "status", "state", "created", "updated"], rows, { id: "jobs" })
        : h("p", { class: "empty" }, "No job matches."),
      nav);
  }, 3000);
}
