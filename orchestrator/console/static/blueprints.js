// Blueprints: the list, one blueprint's graph, versions and source, and registering a
// seed-003 workflow or a YAML blueprint (POST /api/v1/blueprints) with its problems shown.
import { ApiError, get, post } from "./api.js";
import { errorBlock, h, json, table, when } from "./dom.js";
import { drawGraph } from "./graph.js";

function uploadForm() {
  const text = h("textarea", { id: "bp-source", name: "source", rows: 16, spellcheck: "false", "aria-describedby": "bp-problems", required: true });
  const kind = h("select", { id: "bp-type", name: "type" },
    h("option", { value: "application/json" }, "JSON (a seed-003 workflow, or a YAML blueprint as JSON)"),
    h("option", { value: "application/yaml" }, "YAML"));
  const file = h("input", { id: "bp-file", type: "file", accept: ".json,.yaml,.yml" });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    text.value = await f.text(); // read here, in the page: nothing is uploaded until "Register"
    kind.value = /\.ya?ml$/i.test(f.name) ? "application/yaml" : "application/json";
  });
  const problems = h("div", { id: "bp-problems", "aria-live": "assertive" });
  const form = h("form", { class: "upload", onsubmit: async (e) => {
    e.preventDefault();
    problems.replaceChildren();
    try {
      const body = await post("/api/v1/blueprints", text.value, { contentType: kind.value });
      problems.replaceChildren(h("p", { class: "ok", id: "bp-registered" },
        body.changed ? "Registered " : "Already current: ",
        h("a", { href: `#/blueprints/${encodeURIComponent(body.name)}` }, body.name),
        ` version ${body.version}; jobs start at POST ${body.endpoint}.`));
    } catch (err) {
      const list = err instanceof ApiError && err.details && err.details.problems;
      problems.replaceChildren(errorBlock(err));
      if (Array.isArray(list)) {
        problems.append(h("ul", { class: "problems" }, list.map((p) =>
          h("li", {}, h("code", {}, p.path || "(document)"), p.line ? ` (line ${p.line})` : "", ": ", p.message))));
      }
    }
  } },
  h("h2", {}, "Register a workflow or a YAML blueprint"),
  h("p", { class: "hint" }, "Needs a client allowed to manage blueprints (can_manage_blueprints). Python code is never accepted over HTTP."),
  h("div", { class: "field" }, h("label", { for: "bp-file" }, "Read a file"), file),
  h("div", { class: "field" }, h("label", { for: "bp-type" }, "Format"), kind),
  h("div", { class: "side" },
    h("div", { class: "field grow" }, h("label", { for: "bp-source" }, "Document"), text),
    problems),
  h("button", { type: "submit" }, "Register"));
  return form;
}

async function list(root, ctx) {
  const bps = await get("/api/v1/blueprints", {}, ctx.signal);
  const rows = bps.map((b) => h("tr", { dataset: { blueprint: b.name } },
    h("th", { scope: "row" }, h("a", { href: `#/blueprints/${encodeURIComponent(b.name)}` }, b.name)),
    h("td", { class: "mono" }, b.version),
    h("td", {}, b.source || "file"),
    h("td", { class: "mono" }, `POST ${b.endpoint}`),
    h("td", { class: "num" }, b.states.length),
    h("td", { class: "num" }, (b.versions || []).length || 1)));
  root.append(h("h1", {}, "Blueprints"),
    table(["name", "version", "source", "route", "states", "versions"], rows, { id: "blueprints" }),
    uploadForm());
}

async function one(root, name, ctx) {
  const version = ctx.query.get("version") || undefined;
  const [bp, dash] = await Promise.all([
    get(`/api/v1/blueprints/${encodeURIComponent(name)}`, { version }, ctx.signal),
    get("/api/v1/dashboard", {}, ctx.signal),
  ]);
  const under = Object.entries((dash.jobs || {})[name] || {});
  const versions = (bp.versions || []).map((v) => (typeof v === "string" ? { version: v } : v));
  const parts = [
    h("h1", {}, "Blueprint ", bp.name),
    h("dl", { class: "facts" },
      h("dt", {}, "version"), h("dd", { class: "mono" }, bp.version),
      h("dt", {}, "source"), h("dd", {}, bp.source + (bp.kind ? ` (${bp.kind})` : "") + (bp.retired ? ", retired" : "")),
      h("dt", {}, "route"), h("dd", { class: "mono" }, `POST ${bp.endpoint}`),
      h("dt", {}, "jobs under way"), h("dd", { id: "blueprint-counts" },
        under.length ? under.map(([st, n]) => `${n} ${st}`).join(", ") : "none", " · ",
        h("a", { href: `#/jobs?blueprint=${encodeURIComponent(bp.name)}` }, "this blueprint's jobs"))),
    h("h2", {}, "Graph"),
    h("figure", { class: "graph-box", id: "blueprint-graph" }, drawGraph(bp.graph)),
    h("h2", {}, "Versions"),
    table(["version", "registered", "by"], versions.map((v) => h("tr", {},
      h("td", { class: "mono" }, h("a", { href: `#/blueprints/${encodeURIComponent(bp.name)}?version=${encodeURIComponent(v.version)}` }, v.version), v.version === bp.current ? " (current)" : ""),
      h("td", {}, v.registered_at ? when(v.registered_at) : "—"),
      h("td", {}, v.registered_by || "—")))),
    bp.definition ? h("details", { open: true }, h("summary", {}, "Definition"),
      typeof bp.definition === "object" && bp.definition.yaml
        ? h("pre", { class: "json" }, bp.definition.yaml) : json(bp.definition)) : null,
    h("details", {}, h("summary", {}, "DOT"), h("pre", { class: "json" }, bp.graph.dot || "")),
  ];
  root.append(...parts.filter(Boolean)); // a file blueprint has no stored definition
}

export async function render(root, args, ctx) {
  if (args[0]) await one(root, args[0], ctx);
  else await list(root, ctx);
}
