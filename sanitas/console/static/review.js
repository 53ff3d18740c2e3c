// Review a heal change by change: server-paged table, filters, keyboard, bulk, histograms, apply.
import { api, attempt, badge, h, toast, view } from "/console/app.js";

const PAGE = 50;

/** The row's text with the findings' triggers and entity spans marked (text nodes only, never HTML). */
export function highlighted(text, findings) {
  const spans = [];
  for (const f of findings || []) {
    for (const e of f.entities || []) {
      if (e.end > e.start && e.start >= 0 && e.end <= text.length) spans.push([e.start, e.end, "entity", e.type]);
    }
    if (f.trigger) {
      const at = text.toLowerCase().indexOf(String(f.trigger).toLowerCase());
      if (at >= 0) spans.push([at, at + f.trigger.length, "trigger", `${f.check} trigger`]);
    }
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out = [];
  let pos = 0;
  for (const [s, e, cls, title] of spans) {
    if (s < pos) continue; // overlapping spans: the first one wins
    if (s > pos) out.push(text.slice(pos, s));
    out.push(h("mark", { class: cls, title }, text.slice(s, e), cls === "entity" ? h("span", { class: "etype" }, title) : ""));
    pos = e;
  }
  out.push(text.slice(pos));
  return out;
}

function histogram(check, hist, threshold, onUse) {
  const counts = hist.counts, edges = hist.edges;
  const max = Math.max(1, ...counts);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 200 60");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${check} score histogram`);
  const bars = counts.map((c, i) => {
    const r = document.createElementNS(ns, "rect");
    const height = c ? Math.max(1, (58 * Math.log1p(c)) / Math.log1p(max)) : 0;
    r.setAttribute("x", String(i * 10 + 0.5)); r.setAttribute("width", "9");
    r.setAttribute("y", String(60 - height)); r.setAttribute("height", String(height));
    svg.append(r);
    return r;
  });
  const line = document.createElementNS(ns, "line");
  line.setAttribute("y1", "0"); line.setAttribute("y2", "60"); line.setAttribute("stroke", "#d33"); line.setAttribute("stroke-width", "1.5");
  svg.append(line);
  const t0 = threshold ?? 0.5;
  const slider = h("input", { type: "range", min: 0, max: 1, step: 0.05, value: t0, class: "threshold",
    dataset: { check }, "aria-label": `${check} threshold` });
  const says = h("output", { class: "would-flag", dataset: { check } });
  const update = () => {
    const t = Number(slider.value);
    // Whole bins at or above the threshold: what a flag at that score would take.
    let n = 0;
    counts.forEach((c, i) => { if (edges[i] >= t - 1e-9) n += c; });
    bars.forEach((r, i) => r.setAttribute("fill", edges[i] >= t - 1e-9 ? "#c2462f" : "#7d94b8"));
    line.setAttribute("x1", String(t * 200)); line.setAttribute("x2", String(t * 200));
    says.textContent = `≥ ${t.toFixed(2)}: ${n} ${n === 1 ? "row" : "rows"} would be flagged`;
  };
  slider.addEventListener("input", update);
  update();
  return h("figure", {}, h("figcaption", {}, h("strong", {}, check),
    h("span", { class: "muted" }, threshold === undefined || threshold === null ? "no threshold" : `job: ${Number(threshold).toFixed(2)}`)),
  svg, slider, says,
  h("button", { type: "button", class: "link use-threshold", dataset: { check }, onclick: () => onUse(check, Number(slider.value)) },
    "Review these rows"));
}

export async function reviewPage(jobId) {
  const job = await api("GET", `/api/healing/${jobId}`);
  const datasets = (await api("GET", "/api/v1/datasets")).datasets;
  const ds = datasets.find((d) => d.id === job.dataset_id);
  const labels = ds ? ds.label_defs.map((d) => d.name) : [];
  let summary = await api("GET", `/api/healing/${jobId}/changes/summary`);
  const checks = Object.keys(summary.histograms || summary.by_check || {});
  const actions = Object.keys(summary.by_action || {});
  const st = { filter: {}, sort: "score_desc", cursors: [null], page: 0, items: [], current: 0, next: null, total: 0, countsTimer: 0 };

  const sel = (id, label, opts) => h("label", { for: id }, label, h("select", { id }, h("option", { value: "" }, "any"),
    opts.map((o) => h("option", { value: o }, o))));
  const fCheck = sel("f-check", "Check", checks), fAction = sel("f-action", "Action", actions);
  const fDecision = sel("f-decision", "Decision", ["undecided", "accept", "reject"]);
  const num = (id, label) => h("label", { for: id }, label, h("input", { type: "number", id, min: 0, max: 1, step: "any", size: 5 }));
  const fMin = num("f-score-min", "Score ≥"), fMax = num("f-score-max", "Score ≤");
  const fSort = h("label", { for: "f-sort" }, "Sort", h("select", { id: "f-sort" },
    [["score_desc", "score, high first"], ["score_asc", "score, low first"], ["row", "row"]].map(([v, t]) => h("option", { value: v }, t))));
  const val = (label) => label.querySelector("select, input").value;

  function readFilter() {
    const f = {};
    if (val(fCheck)) f.check = [val(fCheck)];
    if (val(fAction)) f.action = [val(fAction)];
    if (val(fDecision)) f.decision = val(fDecision);
    if (val(fMin) !== "") f.score_min = Number(val(fMin));
    if (val(fMax) !== "") f.score_max = Number(val(fMax));
    st.filter = f;
    st.sort = val(fSort);
  }
  function query(cursor) {
    const q = new URLSearchParams({ limit: String(PAGE), sort: st.sort });
    for (const [k, v] of Object.entries(st.filter)) (Array.isArray(v) ? v : [v]).forEach((x) => q.append(k, String(x)));
    if (cursor) q.set("cursor", cursor);
    return q;
  }

  const counts = h("p", { id: "review-counts", class: "muted", role: "status" });
  const tbody = h("tbody", {});
  const pager = h("span", { id: "pager", class: "muted" });
  const prev = h("button", { type: "button", id: "prev-page", onclick: () => { if (st.page > 0) { st.page--; load(); } } }, "← Previous page");
  const next = h("button", { type: "button", id: "next-page", onclick: () => { if (st.next) { st.page++; st.cursors[st.page] = st.next; load(); } } }, "Next page →");

  async function refreshSummary() {
    summary = await api("GET", `/api/healing/${jobId}/changes/summary`);
    const d = summary.by_decision;
    counts.textContent = `${summary.total} changes · ${d.accept} accepted · ${d.reject} rejected · ${d.undecided} undecided`;
  }
  async function load(keepCurrent = false) {
    const res = await api("GET", `/api/healing/${jobId}/changes?${query(st.cursors[st.page])}`);
    st.items = res.items; st.next = res.next_cursor; st.total = res.total;
    if (!keepCurrent) st.current = 0;
    st.current = Math.min(st.current, Math.max(0, st.items.length - 1));
    render();
    pager.textContent = `Rows ${st.total ? st.page * PAGE + 1 : 0}–${st.page * PAGE + st.items.length} of ${st.total} matching`;
    prev.disabled = st.page === 0; next.disabled = !st.next;
  }
  function labelPicker(item) {
    if (!["relabel", "flag"].includes(item.action) || !labels.length) return "";
    const chosen = item.decision_label || item.labels_after[0] || item.suggested_label || "";
    const select = h("select", { class: "label-choice", "aria-label": `label for row ${item.row_id}`,
      onchange: (ev) => decide(item, "accept", ev.target.value) },
    labels.map((l) => h("option", { value: l }, l)));
    select.value = chosen;
    return select;
  }
  function render() {
    tbody.replaceChildren(...st.items.map((it, i) => h("tr", {
      class: i === st.current ? "current" : "", "aria-selected": String(i === st.current),
      dataset: { row: it.row_id, action: it.action, decision: it.decision || "undecided" },
      onclick: (ev) => { if (!ev.target.closest("button, select")) { st.current = i; render(); } } },
    h("td", { class: "text" }, highlighted(it.text, it.findings)),
    h("td", {}, it.checks.map((c) => [badge(c, "check"), " "])),
    h("td", {}, badge(it.action, "action")),
    h("td", {}, it.score.toFixed(3)),
    h("td", {}, it.labels_before.join(", ") || "—", " → ",
      it.action === "remove" ? h("em", {}, "removed") : it.decision_label || it.labels_after.join(", ") || "—",
      it.suggested_label && it.action !== "remove" ? h("div", { class: "muted" }, `suggested: ${it.suggested_label}`) : ""),
    h("td", { class: "decision" }, it.decision ? badge(it.decision) : h("span", { class: "muted" }, "undecided"),
      it.decided_by ? h("div", { class: "muted" }, it.decided_by) : ""),
    h("td", { class: "actions" },
      h("button", { type: "button", class: "accept", onclick: () => decide(it, "accept") }, "Accept"), " ",
      h("button", { type: "button", class: "reject danger", onclick: () => decide(it, "reject") }, "Reject"), " ",
      labelPicker(it)))));
    const row = tbody.children[st.current];
    if (row) row.scrollIntoView({ block: "nearest" });
  }
  // One decision at a time, in the order made: a quick "a" then "u" must not race on the server.
  let queue = Promise.resolve();
  function decide(item, decision, label) {
    queue = queue.then(() => send(item, decision, label));
    return queue;
  }
  async function send(item, decision, label) {
    const body = { decision };
    if (label) body.label = label;
    const out = await attempt(() => api("PATCH", `/api/healing/${jobId}/changes/${encodeURIComponent(item.row_id)}`, body));
    if (!out) return;
    Object.assign(item, out);
    render();
    // Counts over the whole job: once after a burst of decisions, not once per key press.
    clearTimeout(st.countsTimer);
    st.countsTimer = setTimeout(refreshSummary, 400);
  }
  async function bulk(decision) {
    const out = await attempt(() => api("POST", `/api/healing/${jobId}/changes/decisions`, { decision, filter: st.filter }));
    if (out) { toast(`${out.updated} ${out.updated === 1 ? "row" : "rows"} ${decision === "accept" ? "accepted" : decision === "reject" ? "rejected" : "cleared"}`); await refreshSummary(); await load(true); }
  }
  function useThreshold(check, t) {
    fCheck.querySelector("select").value = check;
    fMin.querySelector("input").value = String(t);
    apply();
  }
  function apply() { readFilter(); st.page = 0; st.cursors = [null]; load(); }

  const dialog = applyDialog(jobId, () => summary, job);
  view().replaceChildren(
    h("p", {}, h("a", { href: `#/datasets/${job.dataset_id}` }, `← ${ds ? `${ds.owner}/${ds.name}` : "Dataset"}`)),
    h("h1", {}, "Review heal changes"), counts,
    h("section", { class: "card" }, h("h2", {}, "Scores per check"),
      h("div", { class: "hist", id: "histograms" }, Object.entries(summary.histograms || {}).map(([c, hs]) =>
        histogram(c, hs, (summary.thresholds || {})[c], useThreshold)))),
    h("section", { class: "card" },
      h("form", { class: "filters", id: "filters", onsubmit: (ev) => { ev.preventDefault(); apply(); } },
        fCheck, fAction, fDecision, fMin, fMax, fSort, h("button", { type: "submit", id: "apply-filter" }, "Filter")),
      h("p", { class: "row" },
        h("button", { type: "button", id: "bulk-accept", onclick: () => bulk("accept") }, "Accept all matching"),
        h("button", { type: "button", id: "bulk-reject", class: "danger", onclick: () => bulk("reject") }, "Reject all matching"),
        h("button", { type: "button", class: "primary", id: "open-apply", onclick: async () => { await refreshSummary(); dialog.open(); } }, "Apply…")),
      h("p", { class: "muted" }, "Keys: ", h("span", { class: "kbd" }, "j"), "/", h("span", { class: "kbd" }, "k"), " next/previous, ",
        h("span", { class: "kbd" }, "a"), " accept, ", h("span", { class: "kbd" }, "r"), " reject, ",
        h("span", { class: "kbd" }, "l"), " change label, ", h("span", { class: "kbd" }, "u"), " clear."),
      h("div", { class: "table-wrap" }, h("table", { class: "review", id: "changes" },
        h("thead", {}, h("tr", {}, ["Text", "Checks", "Action", "Score", "Labels", "Decision", ""].map((t) => h("th", { scope: "col" }, t)))),
        tbody)),
      h("p", { class: "row" }, prev, pager, next)),
    dialog.el);

  document.onkeydown = (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || dialog.el.open) return;
    if (ev.target.closest && ev.target.closest("input, select, textarea")) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    const it = st.items[st.current];
    const keys = {
      j: () => { if (st.current < st.items.length - 1) { st.current++; render(); } else if (st.next) next.click(); },
      k: () => { if (st.current > 0) { st.current--; render(); } },
      a: () => it && decide(it, "accept"),
      r: () => it && decide(it, "reject"),
      u: () => it && decide(it, null),
      l: () => { const s = tbody.children[st.current]?.querySelector(".label-choice"); if (s) s.focus(); },
    };
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  };
  await refreshSummary();
  await load();
}

function applyDialog(jobId, getSummary, job) {
  const undecided = h("select", { id: "apply-undecided" },
    h("option", { value: "leave_out" }, "left out (kept as the original rows)"),
    h("option", { value: "as_decided" }, "as the heal decided"));
  const activate = h("input", { type: "checkbox", id: "apply-activate" });
  const name = h("input", { type: "text", id: "apply-name", pattern: "[A-Za-z0-9_\\-]{1,256}", placeholder: "(automatic)" });
  const text = h("div", { id: "apply-summary" });
  const result = h("p", { id: "apply-result", role: "status" });
  const el = h("dialog", { id: "apply-dialog", "aria-labelledby": "apply-title" });
  const show = () => {
    const s = getSummary(), d = s.by_decision;
    text.replaceChildren(h("p", {}, `${d.accept} accepted changes go into the new branch; ${d.reject} rejected rows stay as they were.`),
      h("p", {}, `${d.undecided} undecided changes: `, undecided.value === "leave_out" ? "left out." : "applied as the heal decided."));
  };
  undecided.addEventListener("change", show);
  el.append(h("form", { method: "dialog", onsubmit: async (ev) => {
    ev.preventDefault();
    const body = { undecided: undecided.value, activate: activate.checked };
    if (name.value) body.name = name.value;
    const out = await attempt(() => api("POST", `/api/healing/${jobId}/apply`, body));
    if (!out) return;
    const a = out.applied || {};
    result.replaceChildren(`Branch ${out.branch_name} created${out.activated ? " and activated" : ""}: ${a.removed ?? 0} removed, ${a.relabeled ?? 0} relabeled, ${a.redacted ?? 0} redacted. `,
      h("a", { href: `#/datasets/${job.dataset_id}`, id: "to-dataset", onclick: () => el.close() }, "Open the dataset"));
  } }, h("h2", { id: "apply-title" }, "Apply the reviewed changes"), text,
  h("p", {}, h("label", { for: "apply-undecided" }, "Undecided changes are "), undecided),
  h("p", {}, h("label", { class: "row" }, activate, "Activate the new branch")),
  h("p", {}, h("label", { for: "apply-name" }, "Branch name "), name), result,
  h("p", { class: "row" }, h("button", { type: "submit", class: "primary", id: "apply-confirm" }, "Create branch"),
    h("button", { type: "button", id: "apply-close", onclick: () => el.close() }, "Close"))));
  return { el, open: () => { result.replaceChildren(); show(); el.showModal(); } };
}
