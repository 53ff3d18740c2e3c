// Datasets: list and create; one dataset's upload, branches (activate, roll back) and heal jobs.
import { api, attempt, badge, every, h, progress, state, toast, view, when, writeHeaders } from "/console/app.js";

export async function datasetsPage() {
  const { datasets } = await api("GET", "/api/v1/datasets");
  const projects = state.me.projects.filter((p) => p !== "*");
  const project = projects.length
    ? h("select", { id: "new-project", name: "project" }, projects.map((p) => h("option", { value: p }, p)))
    : h("input", { type: "text", id: "new-project", name: "project", required: true, pattern: "[A-Za-z0-9_\\-]{1,256}", placeholder: "project" });
  const name = h("input", { type: "text", id: "new-name", name: "name", required: true, pattern: "[A-Za-z0-9_\\-]{1,256}", placeholder: "dataset name" });
  const form = h("form", { class: "row", onsubmit: async (ev) => {
    ev.preventDefault();
    const out = await attempt(() => api("PUT", `/api/v1/datasets/${encodeURIComponent(project.value)}/${encodeURIComponent(name.value)}`, { dataset: {} }));
    if (out) location.hash = `#/datasets/${out.dataset.id}`;
  } }, h("label", { for: "new-project" }, "Project"), project, h("label", { for: "new-name" }, "Name"), name,
  h("button", { class: "primary", type: "submit", id: "create-dataset" }, "Create dataset"));
  const rows = datasets.map((d) => h("tr", {},
    h("td", {}, h("a", { href: `#/datasets/${d.id}` }, `${d.owner}/${d.name}`)),
    h("td", {}, d.title || ""), h("td", {}, String(d.label_defs.length)), h("td", {}, when(d.last_modified))));
  view().replaceChildren(
    h("h1", {}, "Datasets"),
    h("section", { class: "card" }, h("h2", {}, "New dataset"), form),
    h("section", { class: "card" }, datasets.length
      ? h("div", { class: "table-wrap" }, h("table", { id: "datasets" },
        h("thead", {}, h("tr", {}, h("th", {}, "Dataset"), h("th", {}, "Title"), h("th", {}, "Labels"), h("th", {}, "Modified"))),
        h("tbody", {}, rows)))
      : h("p", { class: "muted" }, "No dataset yet: create one, then upload a file.")));
}

/** Upload with XMLHttpRequest: fetch() reports no upload progress. */
function upload(datasetId, file, bar, status) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/datasets/${datasetId}/files?filename=${encodeURIComponent(file.name)}`);
    for (const [k, v] of Object.entries(writeHeaders({ "Content-Type": "application/octet-stream" }))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (ev) => {
      if (!ev.lengthComputable) return;
      const pct = (100 * ev.loaded) / ev.total;
      bar.replaceChildren(progress(pct, "upload progress"));
      status.textContent = pct >= 100 ? "Importing…" : `Uploading ${Math.round(pct)}%`;
    };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = { message: xhr.responseText }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new Error(body.message || `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error("the upload failed (network)"));
    xhr.send(file);
  });
}

const FLAGS = [
  ["fix_mislabeled", "Fix mislabeled rows", true], ["remove_outliers", "Remove outliers", true],
  ["remove_poisoned", "Remove poisoned rows", true], ["remove_off_topics", "Remove off-topic rows", false],
  ["remove_injection", "Remove prompt injection", false],
  ["remove_sensitive_information", "Remove rows with sensitive information", false],
  ["anonymize_sensitive_information", "Anonymize sensitive information instead", false],
];

function healForm(ds, refresh) {
  const boxes = FLAGS.map(([f, label, on]) => h("label", {},
    h("input", { type: "checkbox", name: f, id: `opt-${f}`, checked: on }), label));
  const lo = h("input", { type: "range", min: 0, max: 100, value: 0, id: "off-topic-min", "aria-label": "off-topic score minimum" });
  const hi = h("input", { type: "range", min: 0, max: 100, value: 100, id: "off-topic-max", "aria-label": "off-topic score maximum" });
  const shown = h("output", { id: "off-topic-range" }, "0 – 100");
  const sync = (ev) => {
    if (Number(lo.value) > Number(hi.value)) (ev && ev.target === lo ? hi : lo).value = ev && ev.target === lo ? lo.value : hi.value;
    shown.textContent = `${lo.value} – ${hi.value}`;
  };
  lo.addEventListener("input", sync); hi.addEventListener("input", sync);
  const activate = h("input", { type: "checkbox", id: "opt-activate" });
  const dry = h("input", { type: "checkbox", id: "opt-dry-run" });
  const bname = h("input", { type: "text", id: "opt-branch-name", pattern: "[A-Za-z0-9_\\-]{1,256}", placeholder: "(automatic)" });
  const all = h("button", { type: "button", id: "all-checks", onclick: () => {
    for (const b of boxes) { const i = b.querySelector("input"); i.checked = i.name !== "anonymize_sensitive_information"; }
  } }, "Every check");
  return h("form", { id: "heal-form", onsubmit: async (ev) => {
    ev.preventDefault();
    const body = { off_topic_score_min: Number(lo.value), off_topic_score_max: Number(hi.value), activate: activate.checked, dry_run: dry.checked };
    for (const b of boxes) { const i = b.querySelector("input"); body[i.name] = i.checked; }
    if (bname.value) body.branch_name = bname.value;
    const job = await attempt(() => api("POST", `/api/datasets/${ds.id}/heal`, body), "Heal started");
    if (job) refresh();
  } },
  h("fieldset", {}, h("legend", {}, "Checks"), h("div", { class: "checks" }, boxes), all),
  h("fieldset", {}, h("legend", {}, "Off-topic window (score range to remove)"),
    h("div", { class: "range2" }, lo, hi, shown)),
  h("p", { class: "row" }, h("label", { class: "row" }, activate, "Activate the new branch"),
    h("label", { class: "row" }, dry, "Dry run (score only)"),
    h("label", { for: "opt-branch-name" }, "Branch name"), bname),
  h("button", { class: "primary", type: "submit", id: "start-heal" }, "Start heal"));
}

function jobRow(j) {
  const done = j.status === "completed";
  return h("tr", { dataset: { job: j.id, status: j.status } },
    h("td", {}, when(j.created_at)), h("td", {}, badge(j.status)),
    h("td", {}, progress(j.progress, `job ${j.id} progress`), h("small", { class: "muted" }, `${j.progress}% ${j.phase || ""}`)),
    h("td", { class: "job-message" }, j.message || ""),
    h("td", {}, j.created_branch_name || "—"),
    h("td", {}, done ? [h("a", { href: `#/review/${j.id}`, class: "review-link" }, "Review"), " · ",
      h("a", { href: `/api/healing/${j.id}/report`, target: "_blank", rel: "noopener" }, "Report")] : ""));
}

export async function datasetPage(id) {
  const dataset = (await api("GET", "/api/v1/datasets")).datasets.find((d) => d.id === id);
  if (!dataset) throw new Error(`dataset ${id} not found`);
  const branchesBox = h("div", { id: "branches" });
  const jobsBox = h("div", { id: "heal-jobs" });
  const bar = h("div", { id: "upload-progress" });
  const status = h("span", { id: "upload-status", role: "status", class: "muted" });
  const file = h("input", { type: "file", id: "upload-file", accept: ".jsonl,.json,.csv,.parquet", required: true });
  const uploadForm = h("form", { class: "row", onsubmit: async (ev) => {
    ev.preventDefault();
    if (!file.files.length) return;
    try {
      const res = await upload(id, file.files[0], bar, status);
      status.textContent = `Imported ${res.rows} rows (${res.new} new, ${res.labelled} labelled)`;
      toast("File imported");
      loadBranches();
    } catch (e) { status.textContent = e.message; toast(e.message, "error"); }
  } }, h("label", { for: "upload-file" }, "File (JSONL, CSV or Parquet)"), file,
  h("button", { class: "primary", type: "submit", id: "upload-button" }, "Upload"), bar, status);

  async function activate(branchId, what) {
    await attempt(() => api("POST", `/api/datasets/${id}/branches/${branchId}/activate`), what);
    loadBranches();
  }
  async function loadBranches() {
    const b = await api("GET", `/api/datasets/${id}/branches`);
    const active = b.branches.find((x) => x.is_active);
    const back = active && active.source_branch_uuid;
    branchesBox.replaceChildren(
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "Branch"), h("th", {}, "Origin"), h("th", {}, "Created"), h("th", {}, ""))),
        h("tbody", {}, b.branches.map((x) => h("tr", { dataset: { branch: x.dataset_id, active: String(x.is_active) } },
          h("td", {}, x.branch_name, " ", x.is_active ? badge("active", "ok") : ""),
          h("td", {}, x.branch_origin || ""), h("td", {}, when(x.created_at)),
          h("td", {}, x.is_active ? "" : h("button", { type: "button", class: "activate",
            onclick: () => activate(x.dataset_id, `Activated ${x.branch_name}`) }, "Activate"))))))),
      back ? h("p", {}, h("button", { type: "button", id: "rollback", onclick: () => activate(back, "Rolled back") },
        "Roll back to the parent branch")) : "");
  }
  async function loadJobs() {
    const { jobs } = await api("GET", `/api/datasets/${id}/healing`);
    jobsBox.replaceChildren(jobs.length ? h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Started", "Status", "Progress", "Message", "Branch", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, jobs.map(jobRow)))) : h("p", { class: "muted" }, "No heal job yet."));
    const live = jobs.some((j) => j.status === "queued" || j.status === "running");
    if (!live && jobsBox.dataset.live === "1") loadBranches();
    jobsBox.dataset.live = live ? "1" : "0";
    return true;
  }
  view().replaceChildren(
    h("p", {}, h("a", { href: "#/datasets" }, "← Datasets")),
    h("h1", {}, `${dataset.owner}/${dataset.name}`),
    h("div", { class: "grid2" },
      h("section", { class: "card" }, h("h2", {}, "Upload a file"), uploadForm),
      h("section", { class: "card" }, h("h2", {}, "Branches"), branchesBox)),
    h("section", { class: "card" }, h("h2", {}, "Heal"), healForm(dataset, loadJobs)),
    h("section", { class: "card" }, h("h2", {}, "Heal jobs"), jobsBox));
  await loadBranches();
  every(1000, loadJobs);
}
