// Deployment-wide numbers from GET /api/v1/dashboard, refreshed every few seconds.
import { get } from "./api.js";
import { duration, h, table } from "./dom.js";

const REFRESH_MS = 2000;

/** How long the queue's oldest ready task has waited (GET /api/v1/dashboard's queue_oldest_s). */
export function oldest(dashboard, taskType) {
  const age = (dashboard.queue_oldest_s || {})[taskType];
  return age === undefined || age === null ? "—" : duration(age);
}

const SVG = "http://www.w3.org/2000/svg";

/** Jobs ended per minute over the last hour, as bars; the numbers are in its title too. */
function chart(perMinute) {
  const max = Math.max(1, ...perMinute);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 240 60");
  svg.setAttribute("class", "chart");
  svg.setAttribute("id", "finished-chart");
  svg.setAttribute("role", "img");
  const title = document.createElementNS(SVG, "title");
  title.textContent = `Jobs ended per minute over the last hour, oldest first: ${perMinute.join(", ")}`;
  svg.append(title);
  perMinute.forEach((n, i) => {
    const height = n ? Math.max(2, (n / max) * 56) : 0;
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("x", String(i * 4));
    bar.setAttribute("y", String(58 - height));
    bar.setAttribute("width", "3");
    bar.setAttribute("height", String(height));
    bar.dataset.count = String(n);
    svg.append(bar);
  });
  const base = document.createElementNS(SVG, "line");
  Object.entries({ x1: 0, x2: 240, y1: 58.5, y2: 58.5, class: "axis" }).forEach(([k, v]) => base.setAttribute(k, String(v)));
  svg.append(base);
  return h("figure", { class: "chart-box" }, svg,
    h("figcaption", { class: "hint" }, `per minute, last hour (peak ${max === 1 && !perMinute.some(Boolean) ? 0 : max})`));
}

function link(text, hash) {
  return h("a", { href: `#${hash}` }, text);
}

function jobsTable(jobs) {
  const statuses = [...new Set(Object.values(jobs).flatMap((s) => Object.keys(s)))].sort();
  if (!statuses.length) return h("p", { class: "empty" }, "No job is under way.");
  const rows = Object.entries(jobs).map(([bp, counts]) =>
    h("tr", { dataset: { blueprint: bp } },
      h("th", { scope: "row" }, link(bp, `/blueprints/${encodeURIComponent(bp)}`)),
      statuses.map((s) => h("td", { class: "num", dataset: { status: s } },
        counts[s] ? link(String(counts[s]), `/jobs?blueprint=${encodeURIComponent(bp)}&status=${s}`) : "0"))));
  return table(["blueprint", ...statuses], rows, { id: "jobs-by-status" });
}

export async function render(root, _args, ctx) {
  const body = h("div", { class: "cards" });
  root.append(h("h1", {}, "Overview"), h("p", { class: "hint" }, "Live: refreshed every 2 seconds."), body);
  await ctx.every(async () => {
    const d = await get("/api/v1/dashboard", {}, ctx.signal);
    const human = d.human_tasks || { waiting: 0, overdue: 0, by_role: {} };
    const queues = Object.entries(d.queues || {});
    body.replaceChildren(
      h("section", { class: "card wide", "aria-labelledby": "h-jobs" },
        h("h2", { id: "h-jobs" }, "Jobs under way, by blueprint and status"),
        jobsTable(d.jobs || {})),
      h("section", { class: "card", "aria-labelledby": "h-workers" },
        h("h2", { id: "h-workers" }, "Workers"),
        h("dl", { class: "figures" },
          h("dt", {}, "live"), h("dd", { id: "workers-active" }, d.workers.active),
          h("dt", {}, "busy"), h("dd", { id: "workers-busy" }, d.workers.busy),
          h("dt", {}, "draining"), h("dd", { id: "workers-draining" }, d.workers.draining ?? 0)),
        link("all workers", "/workers")),
      h("section", { class: "card", "aria-labelledby": "h-finished" },
        h("h2", { id: "h-finished" }, "Jobs ended"),
        h("dl", { class: "figures" },
          h("dt", {}, "last minute"), h("dd", { id: "finished-minute" }, d.finished.last_minute),
          h("dt", {}, "last hour"), h("dd", { id: "finished-hour" }, d.finished.last_hour)),
        d.finished_per_minute ? chart(d.finished_per_minute) : null),
      h("section", { class: "card", "aria-labelledby": "h-queues" },
        h("h2", { id: "h-queues" }, "Queues"),
        queues.length
          ? table(["task type", "ready tasks", "oldest waits"], queues.map(([t, n]) =>
            h("tr", { dataset: { taskType: t } }, h("th", { scope: "row" }, t), h("td", { class: "num" }, n),
              h("td", { class: "num", dataset: { oldest: t } }, oldest(d, t)))), { id: "queues" })
          : h("p", { class: "empty" }, "No task type known yet.")),
      h("section", { class: "card", "aria-labelledby": "h-human" },
        h("h2", { id: "h-human" }, "Human steps"),
        h("dl", { class: "figures" },
          h("dt", {}, "waiting"), h("dd", { id: "human-waiting" }, human.waiting),
          h("dt", {}, "overdue"), h("dd", { id: "human-overdue" }, human.overdue)),
        Object.keys(human.by_role).length
          ? table(["role", "waiting", "overdue"], Object.entries(human.by_role).map(([role, n]) =>
            h("tr", { dataset: { role } },
              h("th", { scope: "row" }, link(role, `/inbox?role=${encodeURIComponent(role)}`)),
              h("td", { class: "num" }, n.waiting),
              h("td", { class: "num" }, n.overdue ? h("strong", {}, `${n.overdue} overdue`) : "0"))), { id: "human-by-role" })
          : null,
        link("open the inbox", "/inbox")),
    );
  }, REFRESH_MS);
}
