// Streams of every visible dataset: cursor position, backlog, oldest unprocessed age; reset the cursor.
import { ago, api, attempt, h, view, when } from "/console/app.js";

export async function streamsPage() {
  const { datasets } = await api("GET", "/api/v1/datasets");
  const rows = [];
  for (const d of datasets) {
    const base = `/api/v1/datasets/${encodeURIComponent(d.owner)}/${encodeURIComponent(d.name)}/streams`;
    const { streams } = await api("GET", base);
    for (const s of streams) {
      const one = (await api("GET", `${base}/${encodeURIComponent(s.name)}`)).stream;
      rows.push({ d, base, s: one });
    }
  }
  const table = h("table", { id: "streams" }, h("thead", {}, h("tr", {},
    ["Dataset", "Stream", "Position", "Backlog", "Oldest unprocessed", "Reset to", ""].map((t) => h("th", {}, t)))),
  h("tbody", {}, rows.map(({ d, base, s }) => {
    const at = h("input", { type: "datetime-local", "aria-label": `reset ${s.name} to`, step: 1 });
    return h("tr", { dataset: { stream: s.name } }, h("td", {}, `${d.owner}/${d.name}`), h("td", {}, s.title || s.name),
      h("td", {}, h("code", { title: s.sequence_id }, (s.sequence_id || "").slice(0, 12) + "…")),
      h("td", { class: "backlog" }, String(s.lag.backlog)),
      h("td", {}, s.lag.oldest_unprocessed_at ? `${ago(s.lag.oldest_unprocessed_age_seconds)} (${when(s.lag.oldest_unprocessed_at)})` : "—"),
      h("td", {}, at, h("div", { class: "muted" }, "empty: the beginning")),
      h("td", {}, h("button", { type: "button", class: "reset", onclick: async () => {
        const to = at.value ? new Date(at.value).toISOString() : "1970-01-01T00:00:00Z";
        const ok = await attempt(() => api("POST", `${base}/${encodeURIComponent(s.name)}/reset`, { to_comment_created_at: to }), `Stream ${s.name} reset`);
        if (ok) streamsPage();
      } }, "Reset")));
  })));
  view().replaceChildren(h("h1", {}, "Streams"), h("section", { class: "card" }, rows.length
    ? h("div", { class: "table-wrap" }, table)
    : h("p", { class: "muted" }, "No stream yet (create one with the Re:infer API: PUT /api/v1/datasets/{project}/{dataset}/streams).")));
}
