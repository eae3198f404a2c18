// The console's shell: sign-in, the sections, and a router over the URL's #fragment (so a
// job's page has an address to share, and nothing but the page itself is ever requested).
import { get, setToken, token, unauthorized } from "./api.js";
import { errorBlock, h } from "./dom.js";
import * as overview from "./overview.js";
import * as jobs from "./jobs.js";
import * as job from "./job.js";
import * as inbox from "./inbox.js";
import * as blueprints from "./blueprints.js";
import * as workers from "./workers.js";

const ROUTES = [
  [/^\/?$/, overview, "overview"],
  [/^\/jobs\/([^/]+)$/, job, "jobs"],
  [/^\/jobs$/, jobs, "jobs"],
  [/^\/inbox$/, inbox, "inbox"],
  [/^\/blueprints\/([^/]+)$/, blueprints, "blueprints"],
  [/^\/blueprints$/, blueprints, "blueprints"],
  [/^\/workers$/, workers, "workers"],
];

let current = null; // the AbortController of the view on screen: its streams and timers

function showProblem(err) {
  const box = document.getElementById("problem");
  box.replaceChildren();
  const block = errorBlock(err);
  if (block) {
    box.append(block);
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

function signedIn(yes) {
  document.getElementById("sign-in").hidden = yes;
  document.getElementById("nav").hidden = !yes;
  document.getElementById("sign-out").hidden = !yes;
  if (!yes) {
    if (current) current.abort();
    document.getElementById("view").replaceChildren();
    document.getElementById("token").focus();
  }
}

async function route() {
  if (current) current.abort();
  showProblem(null);
  if (!token()) return signedIn(false);
  signedIn(true);
  const controller = new AbortController();
  current = controller;
  const signal = controller.signal;
  const hash = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
  const [path, search] = hash.split("?");
  const query = new URLSearchParams(search || "");
  const found = ROUTES.find(([re]) => re.test(path));
  const root = h("div", { class: "view" });
  document.getElementById("view").replaceChildren(root);
  for (const a of document.querySelectorAll("#nav a")) {
    if (found && a.dataset.section === found[2]) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!found) {
    root.append(h("h1", {}, "Not found"), h("p", {}, `Nothing at #${hash}.`));
    return;
  }
  const [re, view] = found;
  const args = path.match(re).slice(1);
  const ctx = {
    signal,
    query,
    // a refresh loop that stops with the view; errors show in the banner and it goes on
    every(fn, ms) {
      const tick = async () => {
        if (signal.aborted) return;
        try {
          await fn();
          if (!signal.aborted) showProblem(null);
        } catch (err) {
          if (!signal.aborted) showProblem(err);
        }
        if (!signal.aborted) setTimeout(tick, ms);
      };
      return tick();
    },
    problem: showProblem,
    reload: route, // draw the view again from scratch (after a retry, say)
  };
  try {
    await view.render(root, args, ctx);
  } catch (err) {
    if (!signal.aborted) showProblem(err);
  }
}

unauthorized.add((err) => {
  setToken("");
  signedIn(false);
  document.getElementById("sign-in-error").textContent =
    `The orchestrator refused the token: ${err.message}`;
});

document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  const out = document.getElementById("sign-in-error");
  out.textContent = "";
  setToken(input.value.trim());
  try {
    await get("/api/v1/dashboard"); // checks the token before showing anything
  } catch (err) {
    setToken("");
    out.textContent = err.status === 401
      ? `The orchestrator refused the token: ${err.message}`
      : String(err);
    return;
  }
  input.value = "";
  route();
});

document.getElementById("sign-out").addEventListener("click", () => {
  setToken("");
  signedIn(false);
});

window.addEventListener("hashchange", route);
route();
