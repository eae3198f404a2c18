// A blueprint's graph as SVG, laid out here from the same data as the DOT output
// (GET /api/v1/blueprints/{name} -> graph: states, edges, start, end): no external service.
const NS = "http://www.w3.org/2000/svg";
const W = 150; // node width
const H = 40;
const GAP_X = 70;
const GAP_Y = 26;
const PAD = 20;

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Columns by distance from the start (breadth first); states it never reaches go last. */
function layers(graph) {
  const out = new Map(graph.states.map((s) => [s, []]));
  for (const [a, b] of graph.edges) if (out.has(a)) out.get(a).push(b);
  const rank = new Map([[graph.start, 0]]);
  const queue = [graph.start];
  while (queue.length) {
    const s = queue.shift();
    for (const t of out.get(s) || []) {
      if (!rank.has(t)) {
        rank.set(t, rank.get(s) + 1);
        queue.push(t);
      }
    }
  }
  const last = Math.max(0, ...rank.values()) + 1;
  const cols = [];
  for (const s of [...graph.states].sort()) {
    const r = rank.has(s) ? rank.get(s) : last;
    (cols[r] ||= []).push(s);
  }
  // Order each column by where its predecessors sit (their mean row): fewer crossings.
  const row = new Map();
  const preds = new Map(graph.states.map((s) => [s, []]));
  for (const [a, b] of graph.edges) if (preds.has(b)) preds.get(b).push(a);
  return cols.filter(Boolean).map((col) => {
    const weight = (s) => {
      const placed = preds.get(s).filter((p) => row.has(p)).map((p) => row.get(p));
      return placed.length ? placed.reduce((x, y) => x + y, 0) / placed.length : Infinity;
    };
    const ordered = col.map((s) => [weight(s), s]).sort((x, y) => (x[0] === y[0] ? (x[1] < y[1] ? -1 : 1) : x[0] < y[0] ? -1 : 1)).map(([, s]) => s);
    ordered.forEach((s, i) => row.set(s, i));
    return ordered;
  });
}

/** The states entered, in order, and the edges taken, from a job's history events. */
export function pathOf(events) {
  const states = [];
  for (const ev of events) {
    if (ev.type === "state_entered" && ev.state && states[states.length - 1] !== ev.state) {
      states.push(ev.state);
    }
  }
  const edges = new Set();
  for (let i = 1; i < states.length; i++) edges.add(`${states[i - 1]}\u0000${states[i]}`);
  return { states: new Set(states), edges };
}

/**
 * Draws `graph`; `mark` = {current, visited: Set, taken: Set of "a\0b", failed} highlights a
 * job's place. Highlights never rely on colour alone: the current state has a thick frame
 * and a "now" badge, visited ones a check mark, taken edges are solid and thick.
 */
export function drawGraph(graph, mark = {}) {
  const cols = layers(graph);
  const pos = new Map();
  const tallest = Math.max(...cols.map((c) => c.length));
  cols.forEach((col, x) => {
    const offset = ((tallest - col.length) * (H + GAP_Y)) / 2;
    col.forEach((s, y) => pos.set(s, { x: PAD + x * (W + GAP_X), y: PAD + offset + y * (H + GAP_Y) }));
  });
  const width = PAD * 2 + cols.length * W + (cols.length - 1) * GAP_X;
  const height = PAD * 2 + tallest * H + (tallest - 1) * GAP_Y + 30;
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, class: "graph", role: "img",
  });
  const label = mark.current ? `now in ${mark.current}` : "not started";
  svg.append(el("title", {}, `Blueprint graph, ${graph.states.length} states; ${label}`));
  const defs = el("defs");
  for (const [id, cls] of [["arrow", "arrowhead"], ["arrow-taken", "arrowhead taken"]]) {
    const m = el("marker", { id, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    m.append(el("path", { d: "M0,0 L10,5 L0,10 z", class: cls }));
    defs.append(m);
  }
  svg.append(defs);
  const taken = mark.taken || new Set();
  for (const [a, b] of graph.edges) {
    const p = pos.get(a);
    const q = pos.get(b);
    if (!p || !q) continue;
    const isTaken = taken.has(`${a}\u0000${b}`);
    let d;
    if (q.x > p.x) {
      d = `M${p.x + W},${p.y + H / 2} C${p.x + W + GAP_X / 2},${p.y + H / 2} ${q.x - GAP_X / 2},${q.y + H / 2} ${q.x},${q.y + H / 2}`;
    } else {
      // back edge or a loop in one column: bow below both boxes
      const low = Math.max(p.y, q.y) + H + 22;
      d = a === b
        ? `M${p.x + W - 20},${p.y + H} C${p.x + W},${p.y + H + 30} ${p.x + W - 60},${p.y + H + 30} ${p.x + W - 40},${p.y + H}`
        : `M${p.x + W / 2},${p.y + H} C${p.x + W / 2},${low} ${q.x + W / 2},${low} ${q.x + W / 2},${q.y + H}`;
    }
    svg.append(el("path", {
      d, class: isTaken ? "edge taken" : "edge", "data-from": a, "data-to": b,
      "marker-end": `url(#${isTaken ? "arrow-taken" : "arrow"})`,
    }));
  }
  const visited = mark.visited || new Set();
  const ends = new Set(graph.end);
  for (const s of graph.states) {
    const { x, y } = pos.get(s);
    const classes = ["node"];
    if (s === graph.start) classes.push("start");
    if (ends.has(s)) classes.push("end");
    if (visited.has(s)) classes.push("visited");
    if (s === mark.current) classes.push("current");
    if (s === mark.current && mark.failed) classes.push("failed");
    const g = el("g", { class: classes.join(" "), "data-state": s });
    const what = [s === graph.start ? "start" : "", ends.has(s) ? "end" : "",
      s === mark.current ? "current" : visited.has(s) ? "visited" : ""].filter(Boolean).join(", ");
    g.append(el("title", {}, what ? `${s} (${what})` : s));
    g.append(el("rect", { x, y, width: W, height: H, rx: ends.has(s) ? 18 : 6 }));
    const prefix = s === mark.current ? "\u25B6 " : visited.has(s) ? "\u2713 " : "";
    const name = s.length > 18 ? `${s.slice(0, 17)}\u2026` : s;
    g.append(el("text", { x: x + W / 2, y: y + H / 2 + 5, "text-anchor": "middle" }, prefix + name));
    if (s === mark.current) {
      g.append(el("text", { x: x + W / 2, y: y - 5, "text-anchor": "middle", class: "badge" }, mark.failed ? "failed here" : "now"));
    }
    svg.append(g);
  }
  return svg;
}
