// Anonymization runs: create, list (live), open one with entities highlighted inline, download files.
import { api, attempt, badge, every, h, progress, view, when } from "/console/app.js";

const RUNS = "/api/dataframer/anonymization-runs/";
const TYPES = ["person", "email", "phone_number", "street_address", "credit_card", "iban", "ssn", "ip_address", "url", "date_of_birth"];
const METHODS = ["heuristics", "aimon_pii_m1", "aimon_pii_m1+heuristics", "llm", "llm+heuristics", "all"];

export async function anonymizationPage() {
  const { datasets } = await api("GET", "/api/v1/datasets");
  const dsel = h("select", { id: "anon-dataset", required: true }, datasets.map((d) => h("option", { value: d.id }, `${d.owner}/${d.name}`)));
  const types = TYPES.map((t) => h("label", { class: "row" }, h("input", { type: "checkbox", name: "pii", value: t, checked: ["person", "email", "phone_number"].includes(t) }), t));
  const method = h("select", { id: "anon-method" }, METHODS.map((m) => h("option", { value: m }, m)));
  const threshold = h("input", { type: "number", id: "anon-threshold", min: 0, max: 1, step: "any", value: 0.3 });
  const form = h("form", { id: "anon-form", onsubmit: async (ev) => {
    ev.preventDefault();
    const pii = types.map((l) => l.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const run = await attempt(() => api("POST", RUNS, { dataset_id: dsel.value, pii_types: pii, detection_method: method.value, threshold: Number(threshold.value) }), "Run created");
    if (run) list();
  } }, h("p", { class: "row" }, h("label", { for: "anon-dataset" }, "Dataset"), dsel,
    h("label", { for: "anon-method" }, "Detection"), method, h("label", { for: "anon-threshold" }, "Threshold"), threshold),
  h("fieldset", {}, h("legend", {}, "PII types"), h("div", { class: "row" }, types)),
  h("button", { type: "submit", class: "primary", id: "anon-start", disabled: !datasets.length }, "Start run"));
  const box = h("div", { id: "runs" });
  async function list() {
    const runs = await api("GET", RUNS);
    box.replaceChildren(runs.length ? h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Created", "Dataset", "Status", "Progress", "Entities", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, runs.map((r) => h("tr", { dataset: { run: r.id } }, h("td", {}, when(r.created_at)), h("td", {}, r.dataset_name || r.dataset_id),
        h("td", {}, badge(r.status)), h("td", {}, progress(r.progress, "run progress"), h("small", { class: "muted" }, r.message || "")),
        h("td", {}, Object.entries(r.results.entity_summary || {}).map(([k, v]) => `${k}: ${v}`).join(", ") || "—"),
        h("td", {}, h("a", { href: `#/anonymization/${r.id}` }, "Open"))))))) : h("p", { class: "muted" }, "No run yet."));
    return runs.some((r) => r.status === "PENDING" || r.status === "PROCESSING") || true;
  }
  view().replaceChildren(h("h1", {}, "Anonymization runs"), h("section", { class: "card" }, h("h2", {}, "New run"), form),
    h("section", { class: "card" }, box));
  every(3000, list);
}

async function download(path) {
  const link = await attempt(() => api("GET", path));
  if (link) location.assign(link.download_url);
}

/** The original text of the run's comments (the entities' offsets are into it), by uid. */
async function originals(project, uids) {
  const out = new Map();
  const bySource = new Map();
  for (const uid of uids) {
    const [src, ...rest] = uid.split(".");
    if (!bySource.has(src)) bySource.set(src, []);
    bySource.get(src).push(rest.join("."));
  }
  for (const [src, ids] of bySource) {
    for (let i = 0; i < ids.length; i += 100) {
      const q = new URLSearchParams();
      ids.slice(i, i + 100).forEach((id) => q.append("id", id));
      const res = await api("GET", `/api/v1/sources/${encodeURIComponent(project)}/id:${src}/comments?${q}`).catch(() => ({ comments: [] }));
      for (const c of res.comments) out.set(c.uid, c);
    }
  }
  return out;
}

function marked(text, ents) {
  const out = [];
  let pos = 0;
  for (const e of [...ents].sort((a, b) => a.start - b.start)) {
    if (e.start < pos || e.end > text.length) continue;
    out.push(text.slice(pos, e.start), h("mark", { class: "entity", title: `${e.label} (${e.score})` }, text.slice(e.start, e.end), h("span", { class: "etype" }, e.label)));
    pos = e.end;
  }
  out.push(text.slice(pos));
  return out;
}

export async function runPage(id) {
  const main = view();
  const draw = async () => {
    const run = await api("GET", `${RUNS}${id}/`);
    const { datasets } = await api("GET", "/api/v1/datasets");
    const ds = datasets.find((d) => d.id === run.dataset_id);
    const ents = run.results.entities_found || [];
    const byUid = new Map();
    for (const e of ents) { if (!byUid.has(e.uid)) byUid.set(e.uid, []); byUid.get(e.uid).push(e); }
    const uids = [...byUid.keys()].slice(0, 200);
    const texts = ds ? await originals(ds.owner, uids) : new Map();
    const done = run.status === "SUCCEEDED";
    main.replaceChildren(h("p", {}, h("a", { href: "#/anonymization" }, "← Runs")),
      h("h1", {}, `Anonymization run of ${run.dataset_name || run.dataset_id}`),
      h("section", { class: "card" }, h("p", { class: "row" }, badge(run.status), progress(run.progress, "run progress"), run.message || ""),
        h("p", {}, `Method ${run.detection_method}, threshold ${run.threshold}, types ${run.pii_types.join(", ")}.`),
        h("p", {}, Object.entries(run.results.entity_summary || {}).map(([k, v]) => [badge(`${k}: ${v}`, "entity"), " "])),
        done ? h("p", { class: "row" }, run.anonymized_files.map((f) => h("button", { type: "button", class: "download",
          onclick: () => download(`${RUNS}${id}/files/${f.id}/download/`) }, `Download ${f.path}`)),
        h("button", { type: "button", onclick: () => download(`${RUNS}${id}/download/`) }, "Download zip")) : ""),
      h("section", { class: "card" }, h("h2", {}, `Entities found (${ents.length}${uids.length < byUid.size ? `, first ${uids.length} comments shown` : ""})`),
        h("div", { class: "table-wrap" }, h("table", { id: "run-entities" }, h("tbody", {}, uids.map((uid) => {
          const c = texts.get(uid);
          const parts = byUid.get(uid);
          const groups = new Map();
          for (const e of parts) { const k = `${e.message_index}|${e.field}`; if (!groups.has(k)) groups.set(k, []); groups.get(k).push(e); }
          return h("tr", {}, h("td", { class: "muted" }, uid.split(".").slice(1).join(".")), h("td", { class: "text" },
            [...groups].map(([k, es]) => {
              const [mi, field] = k.split("|");
              const t = c && c.messages[Number(mi)] && c.messages[Number(mi)][field] && c.messages[Number(mi)][field].text;
              return h("div", {}, t ? marked(t, es) : es.map((e) => `${e.label} at ${e.start}–${e.end}`).join(", "));
            })));
        }))))));
    return !done && run.status !== "FAILED" && run.status !== "CANCELLED";
  };
  every(2000, draw);
}
