// Live workers (GET /api/v1/workers) and the queues per task type (the dashboard's).
import { get } from "./api.js";
import { ago, h, table } from "./dom.js";
import { oldest } from "./overview.js";

export async function render(root, _args, ctx) {
  const body = h("div");
  root.append(h("h1", {}, "Workers and queues"), h("p", { class: "hint" }, "Live: refreshed every 3 seconds."), body);
  await ctx.every(async () => {
    const [list, dash] = await Promise.all([
      get("/api/v1/workers", {}, ctx.signal),
      get("/api/v1/dashboard", {}, ctx.signal),
    ]);
    const rows = list.map((w) => h("tr", { dataset: { worker: w.worker_id } },
      h("th", { scope: "row" }, w.worker_id),
      // Drained: it finishes or hands back its tasks and leaves (docs/worker-sdk.md).
      h("td", { class: w.draining ? "s-draining" : "" }, w.draining ? "draining" : "active"),
      h("td", {}, (w.supported_skills || []).join(", ")),
      h("td", { class: "num" }, `${w.load} / ${w.capacity}`),
      h("td", {}, (w.tags || []).join(", ") || "—"),
      h("td", {}, ago(w.last_heartbeat)),
      h("td", {}, ago(w.registered_at))));
    const queues = Object.entries(dash.queues || {});
    body.replaceChildren(
      h("h2", {}, `Live workers (${list.length})`),
      list.length ? table(["worker", "state", "skills", "load / capacity", "tags", "last heartbeat", "registered"], rows, { id: "workers" })
        : h("p", { class: "empty" }, "No worker has been heard from recently."),
      h("h2", {}, "Queues"),
      queues.length ? table(["task type", "ready tasks", "oldest waits"], queues.map(([t, n]) =>
        h("tr", {}, h("th", { scope: "row" }, t), h("td", { class: "num" }, n), h("td", { class: "num" }, oldest(dash, t)))))
        : h("p", { class: "empty" }, "No task type known yet."),
    );
  }, 3000);
}
