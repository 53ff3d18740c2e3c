// The console shell: API helper (cookie session + CSRF header), DOM helper, toasts, hash router, login.
import { datasetsPage, datasetPage } from "/console/datasets.js";
import { reviewPage } from "/console/review.js";
import { anonymizationPage, runPage } from "/console/anonymization.js";
import { streamsPage } from "/console/streams.js";

export const state = { me: null, timers: [] };

function cookie(name) {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

/** Headers every write needs: the double-submit CSRF token read from the readable cookie. */
export function writeHeaders(extra = {}) {
  const token = cookie("sanitas_csrf") || (state.me && state.me.csrf_token) || "";
  return token ? { ...extra, "X-CSRF-Token": token } : extra;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.detail || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Call the API; JSON in and out; an error answer throws ApiError with the server's message. */
export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") init.headers = writeHeaders(init.headers);
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (r.status === 401 && path !== "/api/auth/login") { showLogin("Your session ended: log in again."); }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/** Build an element; strings become text nodes (data is never parsed as HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  const el = h("div", { class: kind }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 7000 : 3500);
}

/** Run an action, turning a failure into a visible message instead of an unhandled rejection. */
export async function attempt(fn, done) {
  try {
    const out = await fn();
    if (done) toast(done);
    return out;
  } catch (e) {
    toast(e.message || String(e), "error");
    return undefined;
  }
}

export function badge(text, cls) { return h("span", { class: `badge ${cls || text}` }, text); }
export function progress(pct, label) {
  const p = Math.max(0, Math.min(100, Number(pct) || 0));
  return h("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
    "aria-valuenow": Math.round(p), "aria-label": label || "progress" }, h("div", { style: `width:${p}%` }));
}
export function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }
export function ago(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** Poll ``fn`` every ``ms`` until it returns false or the page changes. */
export function every(ms, fn) {
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    let more = true;
    try { more = await fn(); } catch (e) { more = true; }
    if (more !== false && !stopped) state.timers.push(setTimeout(tick, ms));
  };
  state.timers.push({ stop: () => { stopped = true; } });
  tick();
}

function clearTimers() {
  for (const t of state.timers) (t && t.stop) ? t.stop() : clearTimeout(t);
  state.timers = [];
}

const ROUTES = [
  [/^#\/datasets\/([^/]+)$/, (m) => datasetPage(m[1])],
  [/^#\/review\/([^/]+)$/, (m) => reviewPage(m[1])],
  [/^#\/anonymization\/([^/]+)$/, (m) => runPage(m[1])],
  [/^#\/anonymization$/, () => anonymizationPage()],
  [/^#\/streams$/, () => streamsPage()],
  [/^#\/datasets$/, () => datasetsPage()],
];

export function view() { return document.getElementById("view"); }

async function route() {
  clearTimers();
  document.onkeydown = null;
  if (!state.me) return;
  const hash = location.hash || "#/datasets";
  const section = hash.split("/")[1] === "review" ? "datasets" : hash.split("/")[1];
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const hit = ROUTES.find(([re]) => re.test(hash));
  const main = view();
  main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    if (hit) await hit[1](hash.match(hit[0]));
    else location.hash = "#/datasets";
  } catch (e) {
    main.replaceChildren(h("div", { class: "card", role: "alert" }, h("h1", {}, "Could not load this page"), e.message));
  }
}

function showLogin(message) {
  state.me = null;
  clearTimers();
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  document.getElementById("whoami").textContent = "";
  const err = h("p", { class: "error", role: "alert", id: "login-error" }, message || "");
  const input = h("input", { type: "password", id: "api-key", name: "api_key", autocomplete: "off",
    required: true, placeholder: "sk_…" });
  const form = h("form", { class: "card login", "aria-labelledby": "login-title", onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    try {
      await api("POST", "/api/auth/login", { api_key: input.value.trim() });
      await start();
    } catch (e) {
      err.textContent = e.status === 401 ? "That API key is unknown or revoked." : e.message;
      input.focus();
    }
  } },
  h("h1", { id: "login-title" }, "Log in"),
  h("p", { class: "muted" }, "Paste an API key (sanitas serve prints one on its first start; `sanitas keys create` makes more)."),
  h("label", { for: "api-key" }, "API key"), input, err,
  h("p", {}, h("button", { class: "primary", type: "submit", id: "login-button" }, "Log in")));
  view().replaceChildren(form);
  input.focus();
}

async function start() {
  try {
    state.me = await api("GET", "/api/auth/me");
  } catch (e) {
    showLogin(e.status === 401 ? "" : e.message);
    return;
  }
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = false;
  document.getElementById("whoami").textContent =
    `${state.me.role} · ${state.me.projects.join(", ") || "no project"}`;
  await route();
}

document.getElementById("logout").addEventListener("click", async () => {
  await attempt(() => api("POST", "/api/auth/logout"));
  showLogin("Logged out.");
});
window.addEventListener("hashchange", route);
start();
