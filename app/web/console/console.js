// hydrascope review console. Plain JavaScript, no build step, no library; every byte it
// shows comes from this origin's authenticated API. The URL hash holds the view, the cluster
// or account id and the queue filters, never a personal value (searches go in a POST body).
"use strict";

const STATUSES = ["new", "in_review", "confirmed", "dismissed", "actioned"];
const STATUS_KEYS = {n: "new", i: "in_review", c: "confirmed", d: "dismissed", a: "actioned"};
const FAMILIES = ["payment", "network", "timing", "prompts", "identity"];
const FILTERS = ["flagged", "status", "family", "sort", "min_score", "max_score", "min_size", "max_size", "updated_since", "regrown"];
const EXPORTS = ["bundle", "html", "pdf", "graphml", "gexf", "stix", "misp"];
const PAGE = 100;
const MEMBERS_PAGE = 50;
const FEED_SECONDS = 30;

// User Timing marks: docs/performance.md ("Console") reads them in Chromium
function measured(name, start) {
  requestAnimationFrame(() => setTimeout(() => performance.measure(name, start))); // after paint
}

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

const state = {
  role: null, // "viewer" | "reviewer" | "admin", learnt from what the API answers
  cursor: null,
  rows: [], // cluster summaries in the list, in order
  selected: -1,
  picked: new Set(), // cluster ids ticked for a bulk status change
  open: null, // {id, etag, detail} of the cluster on screen
  shownId: null, // the cluster last drawn in the detail pane (a reload keeps the scroll)
  feedCursor: null,
  lastVisit: null,
  view: "queue",
};

function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
const fmt = (n, d = 0) => (n == null ? "–" : Number(n).toLocaleString("en", {maximumFractionDigits: d, minimumFractionDigits: d}));
const pct = (x) => (x == null ? "–" : `${Math.round(Number(x) * 100)}%`);
const day = (t) => (t ? String(t).slice(0, 10) : "–");
const when = (t) => (t ? String(t).replace("T", " ").slice(0, 16) : "–");
const famChips = (signals) => FAMILIES.filter((f) => (signals || {})[f] > 0).map((f) => `<span class="fam ${f}" title="${f} ${pct(signals[f])}">${f}</span>`).join("");
// a null personal value: hidden from viewers, or simply not recorded
const missing = (text = "hidden for your role") => (state.role === "viewer" ? `<span class="muted">${text}</span>` : "–");
const statusBadge = (s) => `<span class="badge st-${esc(s)}" data-testid="row-status">${esc(String(s).replace("_", " "))}</span>`;

// ---------- API ----------
class ApiError extends Error {
  constructor(status, problem) {
    super(`${status} ${problem?.title || ""}: ${problem?.detail || ""}`);
    this.status = status;
    this.problem = problem;
  }
}

function key() { return $("#key").value.trim() || sessionStorage.getItem("hs_key") || ""; }

async function api(path, opts = {}) {
  const headers = Object.assign({"Authorization": "Bearer " + key()}, opts.headers || {});
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    opts = Object.assign({}, opts, {body: JSON.stringify(opts.json), method: opts.method || "POST"});
  }
  const r = await fetch(path, Object.assign({}, opts, {headers}));
  if (opts.blob && r.ok) return {blob: await r.blob(), response: r};
  const body = r.status === 204 || r.status === 304 ? null : await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, body);
  return {body, etag: r.headers.get("ETag")};
}

function say(msg, cls = "") {
  const s = $("#status");
  s.textContent = msg;
  s.className = cls || "muted";
}

function failure(e) {
  if (e instanceof ApiError && e.status === 401) return "The API key was refused: paste a valid key.";
  if (e instanceof ApiError && e.status === 403) return e.problem?.detail || "Your role may not do this.";
  return e.message || String(e);
}

// ---------- the URL hash: view + id + filters, nothing personal ----------
function filtersFromForm() {
  const f = new FormData($("#filters"));
  const out = {};
  for (const name of FILTERS) {
    const v = f.get(name);
    if (v !== null && v !== "" && !(name === "sort" && v === "score")) out[name] = String(v);
  }
  return out;
}

function setFilters(params) {
  const form = $("#filters");
  for (const name of FILTERS) {
    const el = form.elements[name];
    const v = params.get(name);
    if (el.type === "checkbox") el.checked = v === "true";
    else el.value = v ?? (name === "sort" ? "score" : "");
  }
}

function hashFor(view, id) {
  const q = new URLSearchParams(filtersFromForm()).toString();
  const path = view === "queue" ? "queue" : `${view}/${encodeURIComponent(id)}`;
  return "#" + path + (q ? "?" + q : "");
}

function go(view, id, {replace = false} = {}) {
  const h = hashFor(view, id);
  if (location.hash === h) { route(); return; }
  if (replace) { history.replaceState(null, "", h); route(); } else location.hash = h;
}

function parseHash() {
  const raw = location.hash.slice(1);
  const [path, query] = raw.split("?");
  const [view, id] = (path || "queue").split("/");
  return {view: view || "queue", id: id ? decodeURIComponent(id) : null, params: new URLSearchParams(query || "")};
}

let lastQueueQuery = null;

async function route() {
  const {view, id, params} = parseHash();
  setFilters(params);
  if (!key()) { say("Paste an API key to start."); return; }
  // the key's role (what the cluster page offers) and the queue, fetched side by side
  const me = state.role ? null : api("/v1/me").then(({body}) => {
    state.role = body.role;
    document.body.classList.toggle("viewer", body.role === "viewer");
    $("#who").textContent = `${body.name} (${body.role})`;
  });
  const q = queueQuery();
  const queue = q !== lastQueueQuery ? loadQueue(false) : null;
  try { await me; } catch (e) { say(failure(e), "err"); return; }
  state.view = view;
  document.body.classList.toggle("open", view !== "queue");
  if (view === "cluster" && id) await Promise.all([queue, showCluster(id)]);
  else if (view === "account" && id) await Promise.all([queue, showAccount(id)]);
  else if (view === "queue") {
    await queue;
    const d = $("#detail");
    if (!d.dataset.filled) d.innerHTML = `<p class="muted intro">Select a cluster (<kbd>j</kbd>/<kbd>k</kbd>, <kbd>Enter</kbd>) or search above.</p>`;
  }
}

// ---------- queue ----------
function queueQuery() {
  const f = filtersFromForm();
  const q = new URLSearchParams({limit: String(PAGE)});
  for (const [k, v] of Object.entries(f)) {
    if (k === "updated_since") q.set(k, v + "T00:00:00Z");
    else q.set(k, v);
  }
  return q.toString();
}

async function loadQueue(more) {
  const t0 = performance.mark("hs:queue:start").name;
  const q = new URLSearchParams(queueQuery());
  if (!more) { state.cursor = null; lastQueueQuery = q.toString(); }
  else if (state.cursor) q.set("cursor", state.cursor);
  try {
    if (!more) loadCounts(); // beside the list, not before its rows
    const {body} = await api("/v1/clusters?" + q);
    if (!more) { state.rows = []; state.selected = -1; $("#rows").innerHTML = ""; }
    const start = state.rows.length;
    state.rows.push(...body.items);
    $("#rows").insertAdjacentHTML("beforeend", body.items.map((c, i) => rowHtml(c, start + i)).join(""));
    state.cursor = body.next_cursor;
    $("#more").hidden = !state.cursor;
    if (!more && !state.rows.length) $("#rows").innerHTML = `<li class="muted row">No cluster matches these filters.</li>`;
    const shown = parseHash();
    if (shown.view === "cluster") markSelected(state.rows.findIndex((c) => c.id === shown.id), false);
    // what the list holds so far (the header counts the whole run, whatever the filters)
    const n = state.rows.length;
    say(`${fmt(n)} matching cluster${n === 1 ? "" : "s"} shown${state.cursor ? ", more below" : ""}`);
    measured("hs:queue", t0);
    if (!state.feedCursor) startFeed();
  } catch (e) { say(failure(e), "err"); }
}

function rowHtml(c, i) {
  const fresh = state.lastVisit && c.updated_at > state.lastVisit;
  const picked = state.picked.has(c.id);
  return `<li class="row" data-testid="cluster-row" data-cluster-id="${esc(c.id)}" data-index="${i}" tabindex="-1">
    <div class="line1"><input type="checkbox" class="pick" data-testid="row-select" aria-label="select ${esc(c.id)} for a bulk status" ${picked ? "checked" : ""}><span class="score ${c.flagged ? "flag" : ""}">${c.score.toFixed(3)}</span>
      <span class="id">${esc(c.id)}</span> ${statusBadge(c.status)}
      ${c.regrown ? `<span class="badge mark" title="reviewed, then gained members">regrown</span>` : ""}
      ${fresh ? `<span class="badge fresh" title="changed since your last visit">new since last visit</span>` : ""}</div>
    <div class="line1 muted"><span>${fmt(c.size)} accounts</span><span data-testid="row-assignee">${c.assignee ? "assigned to " + esc(c.assignee) : "unassigned"}</span><span>${famChips(c.signals)}</span></div>
    <div class="sum">${esc(c.summary)}</div></li>`;
}

function updateRow(c) {
  const i = state.rows.findIndex((r) => r.id === c.id);
  if (i < 0) return;
  state.rows[i] = Object.assign({}, state.rows[i], c);
  const li = $(`#rows [data-cluster-id="${CSS.escape(c.id)}"]`);
  if (li) {
    li.outerHTML = rowHtml(state.rows[i], i);
    if (i === state.selected) markSelected(i, false);
  }
}

async function loadCounts() {
  try {
    const {body} = await api("/v1/stats");
    const review = body.review || {};
    const cur = $("#filters").elements.status.value;
    $("#counts").innerHTML = STATUSES.map((s) => `<button type="button" data-status="${s}" class="${cur === s ? "on" : ""}" aria-pressed="${cur === s}">${s.replace("_", " ")} <b data-testid="count-${s}">${fmt(review[s] || 0)}</b></button>`).join("")
      + (review.regrown ? `<button type="button" data-regrown="1">regrown <b>${fmt(review.regrown)}</b></button>` : "")
      + `<span class="muted">${fmt(body.clusters)} clusters, ${fmt(body.flagged_clusters)} flagged in ${esc(body.latest_run || "no run")}</span>`;
  } catch (e) { /* counts are secondary; the list reports the error */ }
}

function markSelected(i, scroll = true) {
  $$("#rows .row.sel").forEach((x) => x.classList.remove("sel"));
  state.selected = i;
  const li = $(`#rows [data-index="${i}"]`);
  if (li) {
    li.classList.add("sel");
    if (scroll) li.scrollIntoView({block: "nearest"});
  }
}

// change feed: rows on screen follow other reviewers' decisions and new runs
function startFeed() {
  api("/v1/clusters/changes?limit=1&updated_since=" + encodeURIComponent(new Date().toISOString()))
    .then(({body}) => { state.feedCursor = body.next_cursor; setTimeout(pollFeed, FEED_SECONDS * 1000); })
    .catch(() => {});
}

async function pollFeed() {
  if (!key() || !state.feedCursor) return;
  try {
    let changed = 0;
    for (let more = true; more;) {
      const {body} = await api(`/v1/clusters/changes?limit=200&cursor=${encodeURIComponent(state.feedCursor)}`);
      state.feedCursor = body.next_cursor;
      more = body.has_more;
      for (const c of body.items) {
        changed += 1;
        if (!c.gone) updateRow({id: c.id, status: c.status, score: c.score, flagged: c.flagged, size: c.size, regrown: c.regrown, updated_at: c.updated_at});
      }
    }
    if (changed) { loadCounts(); $("#feed").textContent = `${changed} change${changed > 1 ? "s" : ""} at ${new Date().toLocaleTimeString()}`; }
  } catch (e) { /* retried on the next tick */ }
  setTimeout(pollFeed, FEED_SECONDS * 1000);
}

// ---------- bulk status for ticked clusters ----------
function pick(id, on) {
  if (on) state.picked.add(id); else state.picked.delete(id);
  const n = state.picked.size;
  $("#bulk").hidden = n === 0;
  $("#bulk-n").textContent = `${n} selected`;
}

async function bulkApply() {
  const status = $("#bulk-status").value;
  const ids = [...state.picked];
  const out = $("#bulk-result");
  let done = 0;
  const failed = [];
  out.textContent = `Setting ${ids.length}…`;
  for (const id of ids) { // one PATCH each, with the If-Match of a fresh read: audited one by one
    try {
      const path = `/v1/clusters/${encodeURIComponent(id)}`;
      const {etag} = await api(path);
      const r = await api(path, {method: "PATCH", json: {status, note: `bulk: ${ids.length} clusters set to ${status}`}, headers: {"If-Match": etag}});
      updateRow({id, status: r.body.status, assignee: r.body.assignee, updated_at: r.body.updated_at});
      done += 1;
    } catch (e) { failed.push(`${id} (${failure(e)})`); }
  }
  state.picked.clear();
  $$("#rows .pick:checked").forEach((b) => { b.checked = false; });
  $("#bulk").hidden = false;
  $("#bulk-n").textContent = "";
  out.textContent = `${done} set to ${status.replace("_", " ")}` + (failed.length ? `; failed: ${failed.join(", ")}` : ".");
  out.className = failed.length ? "err" : "ok";
  loadCounts();
  if (state.open && ids.includes(state.open.id)) showCluster(state.open.id);
}

// ---------- cluster page ----------
const DRIVERS = {
  families: (f) => `${fmt(f.families)} independent evidence famil${f.families === 1 ? "y ties" : "ies tie"} most members`,
  cov_payment: (f) => `payment evidence (cards, billing) covers ${pct(f.cov_payment)} of members`,
  cov_network: (f) => `shared IPs and ranges cover ${pct(f.cov_network)} of members`,
  cov_timing: (f) => `members act together in time: ${pct(f.cov_timing)} covered`,
  cov_prompts: (f) => `shared prompt templates cover ${pct(f.cov_prompts)} of members`,
  cov_identity: (f) => `shared devices, emails or names cover ${pct(f.cov_identity)} of members`,
  log_size: (f, c) => `its size: ${fmt(c.size)} accounts tied by several families`,
  density: (f) => `densely linked (${pct(f.density)} of possible links)`,
  mean_weight: (f) => `strong links (mean link weight ${fmt(f.mean_weight, 2)})`,
  distill_share: (f) => `${pct(f.distill_share)} of requests look like model distillation`,
  template_concentration: (f) => `${pct(f.template_concentration)} of requests use one template`,
  burst: (f) => `${pct(f.burst)} of members signed up within 24 hours`,
  young_share: (f) => `${pct(f.young_share)} of accounts made requests within 7 days of sign-up`,
  machine_email: (f) => `machine-made email addresses above the platform's rate (+${pct(f.machine_email)})`,
  disposable_email: (f) => `${pct(f.disposable_email)} use disposable email domains`,
  log_volume: () => `requests per day of activity above the platform's median`,
  org_consistency: () => `members declare one organisation and company domain`,
  family_sized: () => `a family-sized group with ordinary use`,
  single_family: () => `only one evidence family ties them`,
  coordinated_days: (f) => `members used one template within the same 10 minutes on ${fmt(Math.round(2 ** (f.coordinated_days || 0) - 1))} day(s)`,
  event_shaped: () => `a one-day event: a sign-up burst, coordinated on that day only (a workshop's shape)`,
};

function driversHtml(c) {
  const ex = c.explanation || {};
  const b = ex.score_breakdown || {};
  const f = ex.features || {};
  const items = Object.entries(b).filter(([k, v]) => k !== "intercept" && Math.abs(v) >= 0.01).sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
  if (!items.length) return `<p class="muted">No score breakdown for this cluster.</p>`;
  const max = Math.max(...items.map(([, v]) => Math.abs(v)));
  // a feature the console has no sentence for still reads as words: the API's own label
  const labels = Object.fromEntries((ex.drivers || []).map((d) => [d.feature, d.label]));
  return `<p class="muted">What moved the score (contributions to its log-odds; baseline ${fmt(b.intercept, 2)}).</p>
    <div class="drivers" data-testid="score-drivers">${items.map(([k, v]) => {
      const words = (DRIVERS[k] || (() => labels[k] || k.replace(/_/g, " ")))(f, c);
      const w = Math.max(2, Math.round((Math.abs(v) / max) * 160));
      return `<div>${v > 0 ? "raises" : "lowers"}: ${esc(words)} <span class="muted">(${v > 0 ? "+" : ""}${fmt(v, 2)})</span></div>
        <svg class="bartrack" viewBox="0 0 160 10" preserveAspectRatio="none" aria-hidden="true"><rect width="${w}" height="10" class="${v > 0 ? "f-payment" : "f-identity"}"/></svg>`;
    }).join("")}</div>`;
}

const KIND_WORDS = {card: "payment cards", bin_postcode: "card BIN + postcodes", billing_name: "billing names", ip: "IP addresses", ip_range: "IP ranges", user_agent: "user agents", template: "prompt templates", api_key: "API keys", email: "emails", phone: "phones", device: "devices", name: "names", attribute: "attributes", signup_burst: "sign-up bursts"};
const KIND_WORD = {card: "payment card", bin_postcode: "card BIN + postcode", billing_name: "billing name", ip: "IP address", ip_range: "IP range", user_agent: "user agent", template: "prompt template", api_key: "API key", email: "email", phone: "phone", device: "device", name: "name", attribute: "attribute", signup_burst: "sign-up burst"};
const kindWords = (k, n) => (n === 1 ? KIND_WORD : KIND_WORDS)[k] || k;
const SHOWN_ROWS = 3;

function evidenceHtml(c) {
  const ev = (c.explanation || {}).evidence || {};
  const counts = (c.explanation || {}).shared_value_counts || {};
  let html = "";
  for (const fam of FAMILIES) {
    const values = ev[fam];
    if (!values || !values.length) continue;
    const kinds = [...new Set(values.map((v) => v.kind))];
    const beyond = kinds.map((k) => [k, (counts[k] || 0) - values.filter((v) => v.kind === k).length]).filter(([, n]) => n > 0);
    html += `<h4><span class="fam ${fam}">${fam}</span></h4><div class="scroll"><table data-testid="evidence-${fam}"><tr><th>kind</th><th>value</th><th class="num">members sharing</th><th class="num">accounts on the platform</th></tr>`;
    values.forEach((v, i) => {
      html += `<tr class="${i >= SHOWN_ROWS ? "extra" : ""}" ${i >= SHOWN_ROWS ? "hidden" : ""}><td>${esc(v.kind)}</td><td class="val mono">${v.value == null ? missing() : esc(v.value)}</td><td class="num">${fmt(v.members)}</td><td class="num">${fmt(v.accounts_sharing)}</td></tr>`;
    });
    html += `</table></div>`;
    if (values.length > SHOWN_ROWS) html += `<button type="button" class="show-more" data-testid="evidence-more">${values.length - SHOWN_ROWS} more</button> `;
    if (beyond.length) html += `<span class="muted">and ${beyond.map(([k, n]) => `${fmt(n)} more ${kindWords(k, n)}`).join(", ")} (in the exports)</span>`;
  }
  return html || `<p class="muted">No evidence values stored.</p>`;
}

function behaviourHtml(c) {
  const b = (c.explanation || {}).behaviour || {};
  const rows = [
    ["requests", fmt(b.requests)], ["median requests per account", fmt(b.requests_per_account_median)],
    ["distillation-like prompts", pct(b.distillation_share)], ["top template share", pct(b.template_concentration)],
    ["signed up in one 24 h burst", pct(b.signup_burst_share)], ["new accounts", pct(b.new_account_share)],
    ["disposable email", pct(b.disposable_email_share)], ["one declared organisation", pct(b.org_consistency)],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><td>${k}</td><td class="num">${v}</td></tr>`).join("")}</table>`;
}

function timelineHtml(c) {
  const tl = (c.explanation || {}).timeline || {};
  const s = tl.signups_per_day || {}, r = tl.requests_per_day || {};
  const days = [...new Set([...Object.keys(s), ...Object.keys(r)])].sort();
  if (!days.length) return `<p class="muted">No activity recorded.</p>`;
  const W = 640, H = 140, left = 4, bottom = H - 16, top = 6;
  const step = (W - left * 2) / days.length;
  const smax = Math.max(1, ...Object.values(s)), rmax = Math.max(1, ...Object.values(r));
  let bars = "";
  days.forEach((d, i) => {
    const x = left + i * step;
    const rh = ((bottom - top) * (r[d] || 0)) / rmax, sh = ((bottom - top) * (s[d] || 0)) / smax;
    bars += `<rect class="req" x="${x.toFixed(1)}" y="${(bottom - rh).toFixed(1)}" width="${(step * 0.45).toFixed(1)}" height="${rh.toFixed(1)}"><title>${d}: ${r[d] || 0} requests</title></rect>`;
    bars += `<rect class="sig" x="${(x + step * 0.45).toFixed(1)}" y="${(bottom - sh).toFixed(1)}" width="${(step * 0.45).toFixed(1)}" height="${sh.toFixed(1)}"><title>${d}: ${s[d] || 0} sign-ups</title></rect>`;
    if (i % Math.max(1, Math.ceil(days.length / 8)) === 0) bars += `<text x="${x.toFixed(1)}" y="${H - 3}">${d.slice(5)}</text>`;
  });
  return `<div class="timeline"><svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="Requests and sign-ups per day">${bars}</svg>
    <p class="muted">Light: requests per day (max ${fmt(rmax)}); dark: sign-ups per day (max ${fmt(smax)}); ${days[0]} to ${days[days.length - 1]}.</p></div>`;
}

function templatesHtml(c) {
  const ts = (c.explanation || {}).templates || [];
  if (!ts.length) return `<p class="muted">No shared templates.</p>`;
  return ts.map((t) => `<div class="panel"><div><b>${fmt(t.requests)} requests</b> ${t.signature ? `<span class="badge mark">${esc(t.signature)}</span>` : ""}</div>
    <div class="mono val">${esc(t.skeleton)}</div>
    ${(t.samples || []).length ? t.samples.map((x) => `<div class="sample">${esc(x)}</div>`).join("") : `<p class="muted">${state.role === "viewer" ? "Prompt samples are hidden for your role." : "No samples kept."}</p>`}</div>`).join("");
}

function historyHtml(c) {
  const h = c.history || [];
  if (!h.length) return `<p class="muted">No decisions yet.</p>`;
  return `<div class="scroll"><table data-testid="history"><tr><th>when</th><th>who</th><th>status</th><th>changes</th><th>note</th></tr>${h.map((d) => `<tr><td>${when(d.at)}</td><td>${esc(d.actor)}</td><td>${d.to_status ? `${esc(d.from_status)} → ${esc(d.to_status)}` : ""}</td><td>${esc(Object.keys(d.changes || {}).filter((k) => k !== "status").join(", "))}</td><td class="val">${esc(d.note)}</td></tr>`).join("")}</table></div>`;
}

function decisionHtml(c) {
  const ro = state.role === "viewer";
  return `<form id="decision" class="panel decision" aria-label="Review decision">
    <label for="d-status">Status</label>
    <select id="d-status" name="status" data-testid="decision-status" ${ro ? "disabled" : ""}>${STATUSES.map((s) => `<option value="${s}" ${s === c.status ? "selected" : ""}>${s.replace("_", " ")}</option>`).join("")}</select>
    <label for="d-assignee">Assignee</label>
    <input id="d-assignee" name="assignee" value="${esc(c.assignee || "")}" maxlength="128" data-testid="decision-assignee" ${ro ? "disabled" : ""}>
    <label for="d-tags">Tags</label>
    <input id="d-tags" name="tags" value="${esc((c.tags || []).join(", "))}" placeholder="comma separated" data-testid="decision-tags" ${ro ? "disabled" : ""}>
    <label for="d-note">Note</label>
    <textarea id="d-note" name="note" maxlength="5000" placeholder="why (kept in the history)" data-testid="decision-note" ${ro ? "disabled" : ""}></textarea>
    <div class="wide"><button class="primary" data-testid="decision-save" ${ro ? "disabled" : ""}>Save decision</button>
      <span id="review-status" data-testid="review-status" role="status" aria-live="polite" class="muted">${ro ? "Your key has the viewer role: read only." : "Keys: n i c d a record a status."}</span></div>
  </form>`;
}

function exportsHtml(c) {
  if (state.role === "viewer") return `<p class="muted">Exports need the reviewer role.</p>`;
  return `<div class="exports"><label>Redaction <select id="redaction" data-testid="export-redaction"><option value="internal">internal (everything a reviewer sees)</option><option value="shareable">shareable (personal data masked)</option></select></label>
    ${EXPORTS.map((f) => `<a href="#" data-testid="export-link" data-format="${f}" data-id="${esc(c.id)}">${f}</a>`).join(" ")}
    <span id="export-status" class="muted" role="status"></span></div>`;
}

async function showCluster(id) {
  const t0 = performance.mark("hs:cluster:start").name;
  const d = $("#detail");
  markSelected(state.rows.findIndex((c) => c.id === id));
  try {
    const {body: c, etag} = await api(`/v1/clusters/${encodeURIComponent(id)}`);
    state.open = {id, etag, detail: c};
    const ex = c.explanation || {};
    d.dataset.filled = "1";
    d.innerHTML = `<button type="button" class="back" data-testid="back">← Queue</button>
      <h2 data-testid="cluster-title">${esc(c.id)}</h2>
      <p><b>${esc(c.summary)}</b></p>
      <div class="facts"><span>score <b class="${c.flagged ? "err" : ""}">${c.score.toFixed(3)}</b>${c.flagged ? " (flagged)" : ""}</span>
        <span>${fmt(c.size)} accounts</span><span>status ${statusBadge(c.status)}</span>
        <span>assignee ${esc(c.assignee || "none")}</span>${(c.tags || []).map((t) => `<span class="badge">${esc(t)}</span>`).join("")}
        <span>lineage ${esc(c.lineage?.kind)}${c.lineage?.gained ? `, +${c.lineage.gained}` : ""}${c.lineage?.lost ? `, −${c.lineage.lost}` : ""}</span>
        ${c.regrown ? `<span class="badge mark">regrown</span>` : ""}${c.gone ? `<span class="badge mark">gone (${esc(c.gone_reason)}${c.successors.length ? " into " + c.successors.map((s) => `<a href="${hashFor("cluster", s)}">${esc(s)}</a>`).join(", ") : ""})</span>` : ""}
        <span>families ${famChips(c.signals)}</span><span class="muted">run ${esc(c.run_id)}, updated ${when(c.updated_at)}</span></div>
      ${decisionHtml(c)}
      <h3>Export</h3>${exportsHtml(c)}
      <h3>Why this score</h3>${driversHtml(c)}
      <h3>Relationship graph</h3><div id="graph" class="graphbox"><p class="muted">Laying out…</p></div>
      <h3>Evidence</h3>${evidenceHtml(c)}
      <h3>Timeline</h3>${timelineHtml(c)}
      <h3>Behaviour</h3>${behaviourHtml(c)}
      <h3>Top templates</h3>${templatesHtml(c)}
      <h3>Members</h3><div id="members"></div>
      <h3>History</h3>${historyHtml(c)}`;
    if (state.shownId !== id) toTop(d);
    state.shownId = id;
    await Promise.all([loadGraph(id), loadMembers(id, [null])]);
    measured("hs:cluster", t0);
  } catch (e) {
    state.open = null;
    d.innerHTML = `<button type="button" class="back">← Queue</button><p class="err">${esc(failure(e))}</p>`;
  }
}

async function saveDecision(ev) {
  ev.preventDefault();
  if (!state.open) return;
  const form = $("#decision");
  const c = state.open.detail;
  const f = new FormData(form);
  const body = {};
  if (f.get("status") !== c.status) body.status = f.get("status");
  const assignee = String(f.get("assignee") || "").trim();
  if (assignee !== (c.assignee || "")) body.assignee = assignee || null;
  const tags = String(f.get("tags") || "").split(",").map((t) => t.trim()).filter(Boolean);
  if (tags.join("\n") !== (c.tags || []).join("\n")) body.tags = tags;
  const note = String(f.get("note") || "").trim();
  if (note) body.note = note;
  await patch(body);
}

async function patch(body) {
  const rs = $("#review-status");
  if (!Object.keys(body).length) { rs.textContent = "Nothing changed."; rs.className = "muted"; return; }
  const id = state.open.id;
  rs.textContent = "Saving…"; rs.className = "muted";
  try {
    const r = await api(`/v1/clusters/${encodeURIComponent(id)}`, {method: "PATCH", json: body, headers: {"If-Match": state.open.etag}});
    state.open.etag = r.etag;
    updateRow({id, status: r.body.status, assignee: r.body.assignee, updated_at: r.body.updated_at});
    loadCounts();
    await showCluster(id);
    const done = $("#review-status");
    done.textContent = `Saved: ${r.body.status.replace("_", " ")}${body.note ? ", note kept in the history" : ""}.`;
    done.className = "ok";
  } catch (e) {
    if (e instanceof ApiError && e.status === 412) {
      rs.className = "err";
      rs.innerHTML = `Someone changed this cluster since you opened it. <button type="button" id="reload" data-testid="decision-reload">Reload it</button> (your note is kept)`;
    } else { rs.textContent = failure(e); rs.className = "err"; }
  }
}

async function reloadKeepingNote() {
  const note = $("#d-note")?.value || "";
  await showCluster(state.open.id);
  if ($("#d-note")) $("#d-note").value = note;
  const rs = $("#review-status");
  rs.textContent = "Reloaded with the latest changes: check them, then save again.";
  rs.className = "muted";
}

async function download(a) {
  const st = $("#export-status");
  const fmtName = a.dataset.format;
  const red = $("#redaction").value;
  st.textContent = `Preparing ${fmtName}…`;
  try {
    const {blob, response} = await api(`/v1/clusters/${encodeURIComponent(a.dataset.id)}/export?format=${fmtName}&redaction=${red}`, {blob: true});
    const name = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/)?.[1] || `${a.dataset.id}.${fmtName}`;
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url; link.download = name;
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    st.textContent = `Downloaded ${name} (${red}).`;
  } catch (e) { st.textContent = failure(e); }
}

// ---------- relationship graph (laid out by the server, drawn here as SVG) ----------
async function loadGraph(id) {
  const box = $("#graph");
  try {
    const {body: g} = await api(`/v1/clusters/${encodeURIComponent(id)}/layout?max_nodes=400`);
    if (!state.open || state.open.id !== id) return;
    const pos = new Map(g.nodes.map((n) => [n.id, n]));
    const memberR = g.nodes.length > 250 ? 5 : 7;
    let edges = "", hubs = "", members = "";
    for (const e of g.edges) {
      const a = pos.get(e.source), b = pos.get(e.target);
      const hub = b.type === "value";
      edges += `<line class="e ${hub ? "hub" : ""} ${hub ? "" : "s-" + (e.family || "none")}" x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke-width="${hub ? 1 : Math.min(3, 0.6 + e.weight).toFixed(2)}"/>`;
    }
    for (const n of g.nodes) {
      if (n.type === "value") {
        const s = 10 + Math.min(20, Math.sqrt(n.members) * 2);
        hubs += `<rect class="h f-${esc(n.family || "none")}" x="${n.x - s / 2}" y="${n.y - s / 2}" width="${s}" height="${s}" transform="rotate(45 ${n.x} ${n.y})" data-tip="${esc(n.kind)} shared by ${n.members}: ${esc(n.label ?? (state.role === "viewer" ? "value hidden for your role" : "–"))}"><title>${esc(n.kind)} shared by ${n.members} members: ${esc(n.label ?? (state.role === "viewer" ? "hidden for your role" : "–"))}</title></rect>`;
      } else {
        members += `<circle class="n f-${esc(n.family || "none")}" data-testid="graph-node" data-account-id="${esc(n.id)}" cx="${n.x}" cy="${n.y}" r="${memberR}" tabindex="0" role="link" aria-label="account ${esc(n.id)}" data-tip="${esc(n.id)} (${esc(n.family || "no family")}, strength ${fmt(n.strength, 1)})"><title>${esc(n.id)}</title></circle>`;
      }
    }
    const used = [...new Set(g.nodes.map((n) => n.family || "none"))];
    box.innerHTML = `<svg data-testid="cluster-graph" viewBox="-20 -20 ${g.extent + 40} ${g.extent + 40}" role="img" aria-label="Relationship graph: ${g.bounds.nodes} members">${edges}${hubs}${members}</svg>
      <div class="tools"><button type="button" data-zoom="1.25" aria-label="Zoom in">+</button><button type="button" data-zoom="0.8" aria-label="Zoom out">−</button><button type="button" data-zoom="0" aria-label="Reset view">⟲</button></div>
      <div class="tip muted" id="graph-tip">Drag to pan, wheel or buttons to zoom, click a member to open its account.</div>`;
    box.insertAdjacentHTML("afterend", `<div class="legend" id="graph-legend">${used.map((f) => `<span><i class="l-${f}"></i>${f}</span>`).join("")}
      <span>◆ shared value (card, IP, device, template…)</span><span class="muted">${g.bounds.nodes} of ${g.bounds.total_members} members, ${g.bounds.edges} of ${g.bounds.total_edges} stored links</span></div>`);
    panZoom($("svg", box), g.extent);
  } catch (e) { box.innerHTML = `<p class="err">${esc(failure(e))}</p>`; }
}

function panZoom(svg, extent) {
  const home = [-20, -20, extent + 40, extent + 40];
  let vb = home.slice();
  const apply = () => svg.setAttribute("viewBox", vb.map((v) => v.toFixed(1)).join(" "));
  const zoom = (k, cx = vb[0] + vb[2] / 2, cy = vb[1] + vb[3] / 2) => {
    const w = Math.min(home[2] * 4, Math.max(40, vb[2] / k));
    const h = w * (vb[3] / vb[2]);
    vb = [cx - ((cx - vb[0]) * w) / vb[2], cy - ((cy - vb[1]) * h) / vb[3], w, h];
    apply();
  };
  const toSvg = (ev) => {
    const r = svg.getBoundingClientRect();
    const s = Math.max(vb[2] / r.width, vb[3] / r.height);
    const ox = (r.width * s - vb[2]) / 2, oy = (r.height * s - vb[3]) / 2;
    return [vb[0] - ox + (ev.clientX - r.left) * s, vb[1] - oy + (ev.clientY - r.top) * s, s];
  };
  svg.addEventListener("wheel", (ev) => { ev.preventDefault(); const [x, y] = toSvg(ev); zoom(ev.deltaY < 0 ? 1.2 : 1 / 1.2, x, y); }, {passive: false});
  let drag = null;
  svg.addEventListener("pointerdown", (ev) => {
    if (ev.target.closest(".n")) return;
    drag = {x: ev.clientX, y: ev.clientY, vb: vb.slice(), s: toSvg(ev)[2]};
    svg.setPointerCapture(ev.pointerId);
  });
  svg.addEventListener("pointermove", (ev) => {
    const t = ev.target.closest("[data-tip]");
    if (t) $("#graph-tip").textContent = t.dataset.tip;
    if (!drag) return;
    vb = [drag.vb[0] - (ev.clientX - drag.x) * drag.s, drag.vb[1] - (ev.clientY - drag.y) * drag.s, vb[2], vb[3]];
    apply();
  });
  const stop = () => { drag = null; };
  svg.addEventListener("pointerup", stop);
  svg.addEventListener("pointercancel", stop);
  svg.parentElement.addEventListener("click", (ev) => {
    const b = ev.target.closest("[data-zoom]");
    if (!b) return;
    const k = Number(b.dataset.zoom);
    if (k === 0) { vb = home.slice(); apply(); } else zoom(k);
  });
}

// ---------- members, paged ----------
async function loadMembers(id, stack, sort = "account") {
  const box = $("#members");
  const cursor = stack[stack.length - 1];
  const q = new URLSearchParams({limit: String(MEMBERS_PAGE), sort});
  if (cursor) q.set("cursor", cursor);
  try {
    const {body: m} = await api(`/v1/clusters/${encodeURIComponent(id)}/members?${q}`);
    if (!state.open || state.open.id !== id) return;
    const first = (stack.length - 1) * MEMBERS_PAGE + 1;
    box.innerHTML = `<label class="muted">Order <select id="m-sort" data-testid="members-sort"><option value="account">by account id</option><option value="strength" ${sort === "strength" ? "selected" : ""}>strongest link first</option></select></label>
      <div class="scroll"><table data-testid="members"><tr><th>account</th><th class="num">strength</th><th class="num">links</th><th>families</th><th class="num">requests</th><th>signed up</th><th>country</th><th>last seen</th></tr>
      ${m.items.map((x) => `<tr><td><a href="${hashFor("account", x.account_id)}" class="mono">${esc(x.account_id)}</a></td><td class="num">${fmt(x.strength, 1)}</td><td class="num">${x.evidence.links}</td><td>${famChips(x.evidence.families)}</td><td class="num">${fmt(x.behaviour.requests)}</td><td>${day(x.behaviour.signed_up)}</td><td>${esc(x.behaviour.country || "–")}</td><td>${day(x.behaviour.last_seen)}</td></tr>`).join("")}</table></div>
      <div class="pager"><button type="button" id="m-prev" ${stack.length > 1 ? "" : "disabled"}>Previous</button>
      <span data-testid="members-range">${fmt(first)}–${fmt(first + m.items.length - 1)} of ${fmt(m.total)}</span>
      <button type="button" id="m-next" data-testid="members-next" ${m.next_cursor ? "" : "disabled"}>Next</button></div>`;
    $("#m-prev").onclick = () => loadMembers(id, stack.slice(0, -1), sort);
    $("#m-next").onclick = () => loadMembers(id, [...stack, m.next_cursor], sort);
    $("#m-sort").onchange = (ev) => loadMembers(id, [null], ev.target.value);
  } catch (e) { box.innerHTML = `<p class="err">${esc(failure(e))}</p>`; }
}

// a new page in the detail pane starts at its top (on phones the window scrolls, not the pane)
function toTop(d) {
  d.focus({preventScroll: true});
  d.scrollTop = 0;
  if (matchMedia("(max-width: 700px)").matches) window.scrollTo(0, 0);
}

// ---------- account page ----------
async function showAccount(id) {
  const d = $("#detail");
  try {
    const {body: a} = await api(`/v1/accounts/${encodeURIComponent(id)}`);
    state.open = null;
    const f = a.account;
    const pv = (v) => (v == null ? missing() : esc(v));
    const mem = (m) => `<tr><td><a href="${hashFor("cluster", m.cluster_id)}" class="mono">${esc(m.cluster_id)}</a></td><td class="num">${m.score == null ? "–" : m.score.toFixed(3)}${m.flagged ? " flagged" : ""}</td><td>${esc(m.status || "")}</td><td class="mono">${esc(m.run_id)}</td><td>${when(m.run_finished_at)}</td><td class="num">${fmt(m.strength, 1)}</td></tr>`;
    d.dataset.filled = "1";
    d.innerHTML = `<div data-testid="account-view"><button type="button" class="back">← Queue</button>
      <h2 class="mono">${esc(f.id)}</h2>
      <div class="scroll"><table><tr><td>signed up</td><td>${when(f.created_at)}</td></tr><tr><td>country</td><td>${esc(f.country || "–")}</td></tr>
        <tr><td>organisation</td><td>${esc(f.org_id || "–")}</td></tr><tr><td>email domain</td><td>${esc(f.email_domain || "–")} <span class="muted">${esc(f.email_shape || "")}</span></td></tr>
        <tr><td>email</td><td data-testid="account-email">${pv(f.email)}</td></tr><tr><td>name</td><td>${pv(f.name)}</td></tr><tr><td>phone</td><td>${pv(f.phone)}</td></tr>
        <tr><td>sign-up IP</td><td>${pv(f.signup_ip)}</td></tr><tr><td>device</td><td>${pv(f.device_id)}</td></tr><tr><td>user agent</td><td class="val">${pv(f.user_agent)}</td></tr></table></div>
      <h3>Cluster now</h3>${a.cluster ? `<div class="scroll"><table data-testid="account-cluster"><tr><th>cluster</th><th class="num">score</th><th>status</th><th>run</th><th>finished</th><th class="num">strength</th></tr>${mem(a.cluster)}</table></div>` : `<p class="muted">In no cluster of the latest run.</p>`}
      <h3>Earlier runs</h3>${a.past_clusters.length ? `<div class="scroll"><table><tr><th>cluster</th><th class="num">score</th><th>status</th><th>run</th><th>finished</th><th class="num">strength</th></tr>${a.past_clusters.map(mem).join("")}</table></div>` : `<p class="muted">None.</p>`}
      <h3>Usage</h3>${a.usage ? `<p>${fmt(a.usage.requests)} requests, ${fmt(a.usage.input_tokens)} input and ${fmt(a.usage.output_tokens)} output tokens, ${when(a.usage.first_seen)} to ${when(a.usage.last_seen)}</p>` : `<p class="muted">No requests.</p>`}
      <h3>Payment methods</h3>${a.payment_methods.length ? `<div class="scroll"><table><tr><th>brand</th><th>last 4</th><th>BIN</th><th>billing country</th><th>fingerprint</th><th>added</th></tr>${a.payment_methods.map((p) => `<tr><td>${esc(p.brand || "–")}</td><td>${esc(p.last4 || "–")}</td><td>${esc(p.bin || "–")}</td><td>${esc(p.billing_country || "–")}</td><td class="mono">${pv(p.fingerprint)}</td><td>${day(p.added_at)}</td></tr>`).join("")}</table></div>` : `<p class="muted">None.</p>`}
      <h3>Observed values</h3>${a.observations.map((o) => `<h4>${esc(o.kind)} <span class="muted">${fmt(o.distinct_values)} distinct, ${fmt(o.requests)} requests</span></h4><div class="scroll"><table>${o.top.map((t) => `<tr><td class="val mono">${pv(t.value)}</td><td class="num">${fmt(t.requests)}</td><td>${day(t.first_seen)} – ${day(t.last_seen)}</td></tr>`).join("")}</table></div>`).join("") || `<p class="muted">None.</p>`}
      <h3>Strongest links</h3>${a.links.length ? `<div class="scroll"><table><tr><th>account</th><th>cluster</th><th class="num">weight</th><th>families</th></tr>${a.links.map((l) => `<tr><td><a href="${hashFor("account", l.account_id)}" class="mono">${esc(l.account_id)}</a></td><td class="mono">${esc(l.cluster_id)}</td><td class="num">${fmt(l.weight, 2)}</td><td>${famChips(Object.fromEntries(Object.keys(l.families).map((k) => [k, 1])))}</td></tr>`).join("")}</table></div>` : `<p class="muted">None stored.</p>`}
    </div>`;
    state.shownId = null;
    toTop(d);
  } catch (e) { d.innerHTML = `<div data-testid="account-view"><button type="button" class="back">← Queue</button><p class="err">${esc(failure(e))}</p></div>`; }
}

// ---------- search (POST body: the value never enters a URL) ----------
async function search(ev) {
  ev.preventDefault();
  const query = $("#search-q").value.trim();
  if (!query) return;
  const d = $("#detail");
  document.body.classList.add("open");
  try {
    const {body} = await api("/v1/search", {json: {query, kind: $("#search-kind").value, limit: 50}});
    d.dataset.filled = "1";
    d.innerHTML = `<div data-testid="search-results"><button type="button" class="back">← Queue</button><h2>Search</h2>
      <p class="muted">Tried as ${esc(body.kinds.join(", "))}: ${body.items.length}${body.truncated ? "+" : ""} found.</p>
      <ul class="results">${body.items.map((i) => i.type === "cluster"
        ? `<li><a href="${hashFor("cluster", i.cluster_id)}" class="mono" data-testid="search-hit">${esc(i.cluster_id)}</a> cluster, score ${i.score.toFixed(3)}, ${fmt(i.size)} accounts, ${esc(i.status)}${i.gone ? " (gone)" : ""}<div class="muted">${esc(i.summary)}</div></li>`
        : `<li><a href="${hashFor("account", i.account_id)}" class="mono" data-testid="search-hit">${esc(i.account_id)}</a> account (matched by ${esc(i.matched)}), signed up ${day(i.created_at)}${i.cluster ? `, in <a href="${hashFor("cluster", i.cluster.cluster_id)}" class="mono">${esc(i.cluster.cluster_id)}</a> (${i.cluster.score.toFixed(3)}, ${esc(i.cluster.status)})` : ", in no cluster"}</li>`).join("") || "<li class=muted>Nothing found.</li>"}</ul></div>`;
  } catch (e) { d.innerHTML = `<div data-testid="search-results"><button type="button" class="back">← Queue</button><p class="err">${esc(failure(e))}</p></div>`; }
}

// ---------- keyboard ----------
function onKey(ev) {
  const t = ev.target;
  const typing = t.closest && t.closest("input, textarea, select");
  if (ev.key === "Escape") {
    if ($("#help").open) return;
    if (typing) { t.blur(); return; }
    if (state.view !== "queue") go("queue");
    return;
  }
  if (typing || ev.metaKey || ev.ctrlKey || ev.altKey) return;
  if (ev.key === "j" || ev.key === "k") {
    if (!state.rows.length) return;
    const i = Math.max(0, Math.min(state.rows.length - 1, state.selected + (ev.key === "j" ? 1 : -1)));
    markSelected(i);
    ev.preventDefault();
  } else if (ev.key === "Enter" && state.selected >= 0 && !t.closest("a, button, [role=link]")) {
    go("cluster", state.rows[state.selected].id);
    ev.preventDefault();
  } else if (STATUS_KEYS[ev.key] && state.open && state.view === "cluster" && state.role !== "viewer") {
    if (state.open.detail.status !== STATUS_KEYS[ev.key]) {
      $("#d-status").value = STATUS_KEYS[ev.key];
      patch({status: STATUS_KEYS[ev.key]});
    }
    ev.preventDefault();
  } else if (ev.key === "x" && state.selected >= 0 && state.role !== "viewer") {
    const id = state.rows[state.selected].id;
    pick(id, !state.picked.has(id));
    const box = $(`#rows [data-cluster-id="${CSS.escape(id)}"] .pick`);
    if (box) box.checked = state.picked.has(id);
  } else if (ev.key === "/") {
    $("#search-q").focus();
    ev.preventDefault();
  } else if (ev.key === "?") {
    $("#help").showModal();
  }
}

// ---------- wiring ----------
function init() {
  const keyBox = $("#key");
  keyBox.value = sessionStorage.getItem("hs_key") || "";
  if (matchMedia("(max-width: 700px)").matches) $("#filter-box").open = false; // phones: list first
  state.lastVisit = localStorage.getItem("hs_last_visit");
  localStorage.setItem("hs_last_visit", new Date().toISOString());
  keyBox.addEventListener("change", () => {
    sessionStorage.setItem("hs_key", key());
    state.role = null; lastQueueQuery = null; state.feedCursor = null;
    $("#detail").dataset.filled = "";
    route();
  });
  keyBox.addEventListener("keydown", (ev) => { if (ev.key === "Enter") keyBox.blur(); });
  $("#filters").addEventListener("change", () => go(state.view === "queue" ? "queue" : state.view, parseHash().id, {replace: true}));
  $("#counts").addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    const form = $("#filters");
    if (b.dataset.status) form.elements.status.value = form.elements.status.value === b.dataset.status ? "" : b.dataset.status;
    if (b.dataset.regrown) form.elements.regrown.checked = !form.elements.regrown.checked;
    go("queue");
  });
  $("#rows").addEventListener("click", (ev) => {
    const li = ev.target.closest("[data-cluster-id]");
    if (li && ev.target.classList.contains("pick")) { pick(li.dataset.clusterId, ev.target.checked); return; }
    if (li) go("cluster", li.dataset.clusterId);
  });
  $("#more").addEventListener("click", () => loadQueue(true));
  $("#bulk-apply").addEventListener("click", bulkApply);
  $("#bulk-clear").addEventListener("click", () => {
    state.picked.clear();
    $$("#rows .pick:checked").forEach((b) => { b.checked = false; });
    pick("", false);
  });
  $("#search").addEventListener("submit", search);
  $("#help-btn").addEventListener("click", () => $("#help").showModal());
  const detail = $("#detail");
  detail.addEventListener("submit", (ev) => { if (ev.target.id === "decision") saveDecision(ev); });
  detail.addEventListener("click", (ev) => {
    const t = ev.target;
    if (t.closest(".back")) { go("queue"); return; }
    const link = t.closest("a[href^='#']");
    if (link && link.getAttribute("href") === location.hash) { ev.preventDefault(); route(); return; }
    if (t.id === "reload") { reloadKeepingNote(); return; }
    const more = t.closest(".show-more");
    if (more) {
      let table = more.previousElementSibling;
      $$("tr.extra", table).forEach((tr) => { tr.hidden = false; });
      more.remove();
      return;
    }
    const exp = t.closest("[data-testid=export-link]");
    if (exp) { ev.preventDefault(); download(exp); return; }
    const node = t.closest("[data-testid=graph-node]");
    if (node) go("account", node.dataset.accountId);
  });
  detail.addEventListener("keydown", (ev) => {
    const node = ev.target.closest && ev.target.closest("[data-testid=graph-node]");
    if (node && ev.key === "Enter") { ev.stopPropagation(); go("account", node.dataset.accountId); }
  });
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  route();
}

init();
