// The modsim dashboard: a thin client of the admin API (/__modsim/). It keeps nothing of its own but
// the entries it shows and, when the server asks for one, the admin token (sessionStorage, this tab).
"use strict";

const API = "/__modsim";
const KEEP = 500; // entries kept on the page
const SHOWN = 300; // rows drawn at once
const TOKEN_KEY = "modsim-admin-token";

const S = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  entries: [], // newest first
  seq: 0, // newest seq seen
  selected: null, // request_id
  vendors: [],
  credentials: [],
  scenarios: [],
  clock: null,
  clockAt: 0,
  view: "traffic",
  objectUrls: [],
};

// ---------------------------------------------------------------- helpers

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const json = (v) => JSON.stringify(v);
const pretty = (v) => JSON.stringify(v, null, 2);

function toast(text) {
  const t = $("#toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 5000);
}

function result(form, text, ok) {
  const p = $(".result", form);
  p.textContent = text;
  p.className = "result " + (ok ? "ok" : "bad");
}

function detailText(detail) {
  if (Array.isArray(detail)) return detail.join("; ");
  if (detail && typeof detail === "object") return json(detail);
  return String(detail);
}

function fmtTime(epoch) {
  const d = new Date(epoch * 1000);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function fmtDate(epoch) {
  const d = new Date(epoch * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// "\u8272\u60c5" escapes in a JSON text shown as the characters (for text that does not parse)
function unescapeU(text) {
  return text.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

// ---------------------------------------------------------------- the admin API

class ApiError extends Error {
  constructor(status, error, detail) {
    super(`${status} ${error}: ${detailText(detail)}`);
    this.status = status;
    this.error = error;
    this.detail = detail;
  }
}

let tokenAsked = null;

function askToken(wrong = false) {
  $("#token-wrong").hidden = !wrong;
  if (!tokenAsked) {
    tokenAsked = new Promise((resolve) => {
      const dialog = $("#token-dialog");
      const form = $("#token-form");
      form.onsubmit = (ev) => {
        ev.preventDefault();
        S.token = form.token.value.trim();
        sessionStorage.setItem(TOKEN_KEY, S.token);
        dialog.close();
        tokenAsked = null;
        resolve();
      };
      if (!dialog.open) dialog.showModal();
      form.token.focus();
    });
  }
  return tokenAsked;
}

function headers(extra) {
  const hd = new Headers(extra || {});
  if (S.token) hd.set("X-Modsim-Token", S.token);
  return hd;
}

// fetch an admin path; JSON bodies in and out; 401 asks for the token and tries again
async function api(path, { method = "GET", body, raw = false, signal } = {}) {
  const hd = headers();
  let payload;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : json(body);
    hd.set("Content-Type", "application/json");
  }
  const resp = await fetch(API + path, { method, headers: hd, body: payload, signal, cache: "no-store" });
  if (resp.status === 401) {
    await askToken();
    return api(path, { method, body, raw, signal });
  }
  if (!resp.ok) {
    let err = { error: resp.statusText, detail: resp.statusText };
    try {
      err = await resp.json();
    } catch (_) {
      /* not JSON */
    }
    throw new ApiError(resp.status, err.error, err.detail ?? err.error);
  }
  return raw ? resp : resp.json();
}

// an image fetched with the token, as an object URL; ``transient`` ones go when the detail closes
// /health answers everyone, but only an authorized caller gets more than {"status": "ok"}: ask for the
// token before any other call (and so without a 401 in the console)
async function authorize() {
  for (let wrong = false; ; wrong = true) {
    const resp = await fetch(`${API}/health`, { headers: headers(), cache: "no-store" });
    if (!resp.ok) throw new ApiError(resp.status, resp.statusText, await resp.text());
    if ("version" in (await resp.json())) return;
    await askToken(wrong && Boolean(S.token));
  }
}

async function blobUrl(path, transient = true) {
  const resp = await api(path, { raw: true });
  const url = URL.createObjectURL(await resp.blob());
  if (transient) S.objectUrls.push(url);
  return url;
}

// a download that carries the token (a plain link cannot send a header)
async function download(path, filename) {
  try {
    const resp = await api(path, { raw: true });
    const url = URL.createObjectURL(await resp.blob());
    const a = h("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    toast(`Download failed: ${e.message}`);
  }
}

function tokenLinks(root) {
  root.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[download]");
    // no token needed, or no admin link (the object URL of a download): the link works as it is
    if (!a || !S.token || !a.getAttribute("href").startsWith(`${API}/`)) return;
    ev.preventDefault();
    download(a.getAttribute("href").slice(API.length), a.getAttribute("download"));
  });
}

// ---------------------------------------------------------------- views

function show(view) {
  S.view = view;
  for (const a of $$("#tabs a")) a.classList.toggle("active", a.dataset.view === view);
  for (const sec of $$("main > .view")) sec.hidden = sec.id !== `view-${view}`;
  if (view === "scenarios") loadScenarios();
  if (view === "faults") loadFaults();
  if (view === "state") loadState();
}

function route() {
  const view = (location.hash || "#traffic").slice(1);
  show(["traffic", "scenarios", "faults", "state", "export"].includes(view) ? view : "traffic");
}

function fillSelect(select, values, first) {
  const keep = select.value;
  select.replaceChildren(first ? h("option", { value: "" }, first) : "");
  for (const v of values) {
    const [value, label] = Array.isArray(v) ? v : [v, v];
    select.append(h("option", { value }, label));
  }
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

function operationsOf(vendor) {
  const ops = new Set();
  for (const v of S.vendors) if (!vendor || v.name === vendor) for (const o of v.operations) ops.add(o.name);
  return [...ops].sort();
}

// a vendor select driving an operation select
function linkVendorOps(form, anyOp) {
  fillSelect(form.vendor, S.vendors.map((v) => [v.name, `${v.name}`]), form.vendor.options[0].textContent);
  const sync = () => fillSelect(form.operation, operationsOf(form.vendor.value), anyOp);
  form.vendor.addEventListener("change", sync);
  sync();
  return sync;
}

// ---------------------------------------------------------------- traffic

function filters() {
  const f = $("#filters");
  return {
    vendor: f.vendor.value,
    operation: f.operation.value,
    credential: f.credential.value.trim(),
    status: f.status.value.trim().toLowerCase(),
    code: f.code.value.trim(),
  };
}

function statusMatches(status, want) {
  if (!want) return true;
  if (want === "none") return status === null || status === undefined;
  if (status === null || status === undefined) return false;
  const s = String(status);
  return want.split(/[\s,]+/).some((w) => (/^\dxx$/.test(w) ? s[0] === w[0] : s === w));
}

function matches(e, f) {
  return (
    (!f.vendor || e.vendor === f.vendor) &&
    (!f.operation || e.operation === f.operation) &&
    (!f.credential || String(e.credential ?? "").includes(f.credential)) &&
    statusMatches(e.status, f.status) &&
    (!f.code || String(e.vendor_code ?? "") === f.code)
  );
}

function statusBadge(status) {
  if (status === null || status === undefined) return h("span", { class: "badge bad", title: "no answer" }, "none");
  const cls = status < 300 ? "ok" : status < 500 ? "warn" : "bad";
  return h("span", { class: `badge ${cls}` }, status);
}

// vendors spell success differently (0, 200, "OK", 10000): a code is marked only when the vendor raised an error
function codeBadge(code, error) {
  if (code === null || code === undefined) return "";
  return h("span", { class: `badge${error ? " warn" : ""}`, title: error || null }, code);
}

function scenarioText(e) {
  return (e.scenario || []).join(", ");
}

function row(e, fresh) {
  const tr = h(
    "tr",
    {
      "data-id": e.request_id,
      "data-seq": e.seq,
      tabindex: 0,
      class: [e.request_id === S.selected ? "selected" : "", fresh ? "fresh" : ""].join(" ").trim() || null,
      onclick: () => select(e.request_id),
      onkeydown: (ev) => ev.key === "Enter" && select(e.request_id),
    },
    h("td", { class: "mono" }, fmtTime(e.time)),
    h("td", {}, e.vendor),
    h("td", {}, e.operation ?? "—"),
    h("td", {}, statusBadge(e.status)),
    h("td", {}, codeBadge(e.vendor_code, e.error)),
    h("td", { class: "wide mono", title: e.credential ?? "" }, e.credential ?? ""),
    h("td", { title: scenarioText(e) }, scenarioText(e)),
    h("td", {}, e.fault ? h("span", { class: "badge warn", title: `rule ${e.fault.rule}` }, e.fault.action?.type ?? "fault") : ""),
    h("td", { class: "num wide" }, Math.round(e.latency_ms)),
  );
  return tr;
}

let drawPending = false;
let freshIds = new Set();

function draw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    const f = filters();
    const picked = S.entries.filter((e) => matches(e, f));
    $("#entries tbody").replaceChildren(...picked.slice(0, SHOWN).map((e) => row(e, freshIds.has(e.request_id))));
    freshIds = new Set();
    $("#empty").hidden = picked.length > 0;
    $("#empty").textContent = S.entries.length
      ? "No request matches the filters."
      : "No requests yet. Point an SDK at this server: new requests appear here as they arrive.";
    $("#count").textContent = `${picked.length} of ${S.entries.length} shown`;
  });
}

function add(entries, fresh) {
  for (const e of entries) {
    if (e.seq <= S.seq && S.entries.some((x) => x.seq === e.seq)) continue;
    S.entries.unshift(e);
    if (fresh) freshIds.add(e.request_id);
    S.seq = Math.max(S.seq, e.seq);
  }
  if (S.entries.length > KEEP) S.entries.length = KEEP;
  const creds = new Set(S.entries.map((e) => e.credential).filter(Boolean));
  $("#credential-list").replaceChildren(...[...creds].map((c) => h("option", { value: c })));
  draw();
  if (fresh && S.view === "state") loadStateSoon();
  if (fresh && S.view === "faults") loadFaultsSoon();
}

function clearEntries() {
  S.entries = [];
  closeDetail();
  draw();
}

async function loadJournal() {
  const resp = await api("/journal?limit=200", { raw: true });
  const body = await resp.json();
  S.seq = Number(resp.headers.get("X-Modsim-Journal-Seq") || 0);
  S.entries = [];
  add(body.entries, false);
  S.seq = Math.max(S.seq, Number(resp.headers.get("X-Modsim-Journal-Seq") || 0));
}

function setLive(state, text) {
  const el = $("#live");
  el.className = `live ${state}`;
  el.textContent = text;
}

function parseFrame(frame) {
  let event = "message";
  const data = [];
  for (const line of frame.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const key = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? "" : line.slice(i + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (key === "event") event = value;
    else if (key === "data") data.push(value);
  }
  return { event, data: data.join("\n") };
}

// the live stream: fetch() and a reader (EventSource cannot send the token header); reconnects with since=
async function stream() {
  let first = true;
  for (;;) {
    try {
      if (first) await loadJournal();
      first = false;
      const resp = await api(`/journal/stream?since=${S.seq}`, { raw: true });
      setLive("on", "live");
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut;
        const batch = [];
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const { event, data } = parseFrame(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
          if (event === "entry") batch.push(JSON.parse(data));
          else if (event === "hello" && JSON.parse(data).seq < S.seq) {
            first = true; // a new server process (its seq starts again): read its journal afresh
            clearEntries();
            reader.cancel();
            throw new Error("restarted");
          } else if (event === "cleared") {
            batch.length = 0; // the journal was cleared (a reset): what came before is gone
            clearEntries();
          }
        }
        if (batch.length) add(batch, true);
      }
      setLive("off", "reconnecting");
    } catch (e) {
      setLive("off", e instanceof ApiError && e.status === 429 ? "too many streams" : "offline");
    }
    await sleep(1000);
  }
}

// ---------------------------------------------------------------- one entry

function closeDetail() {
  S.selected = null;
  for (const u of S.objectUrls.splice(0)) URL.revokeObjectURL(u);
  $("#detail").hidden = true;
  $("#detail").replaceChildren();
  $(".traffic").classList.remove("open");
  for (const tr of $$("#entries tbody tr.selected")) tr.classList.remove("selected");
}

function select(id) {
  const e = S.entries.find((x) => x.request_id === id);
  if (!e) return;
  closeDetail();
  S.selected = id;
  for (const tr of $$("#entries tbody tr")) tr.classList.toggle("selected", tr.dataset.id === id);
  const pane = $("#detail");
  pane.replaceChildren(...detail(e).flat(Infinity));
  pane.hidden = false;
  $(".traffic").classList.add("open");
  if (window.innerWidth <= 900) pane.scrollIntoView({ block: "start" });
}

function kvTable(pairs) {
  return h("table", { class: "kv" }, h("tbody", {}, pairs.map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, v)))));
}

function headerOf(pairs, name) {
  const hit = (pairs || []).find(([k]) => k.toLowerCase() === name);
  return hit ? hit[1] : "";
}

// a form body as name = value lines (decoded: Chinese text shows as text); else the text itself
function bodyView(body, contentType) {
  if (!body || body.size < 0) return h("p", { class: "muted" }, "no body");
  if (body.size === 0) return h("p", { class: "muted" }, "empty body");
  const note = `${body.size} bytes${body.truncated ? ", the first 1 KB kept" : ""}`;
  let view = null;
  if (contentType.includes("x-www-form-urlencoded")) {
    try {
      const params = [...new URLSearchParams(body.text)];
      view = kvTable(params.map(([k, v]) => [k, v.length > 300 ? `${v.slice(0, 300)}… (${v.length} chars)` : v]));
    } catch (_) {
      view = null;
    }
  }
  if (!view) {
    let text = body.text;
    try {
      text = pretty(JSON.parse(body.text));
    } catch (_) {
      text = unescapeU(body.text);
    }
    view = h("pre", {}, text);
  }
  return [h("p", { class: "meta" }, note), view];
}

function schemaView(schema) {
  if (!schema) return h("span", { class: "muted" }, "not checked (start with --validate)");
  if (schema.skipped) return h("span", { class: "muted" }, `not checked: ${schema.skipped}`);
  if (!schema.problems.length) return [h("span", { class: "badge ok" }, "ok"), " ", h("code", {}, schema.name)];
  return [
    h("span", { class: "badge bad" }, "violates"),
    " ",
    h("code", {}, schema.name ?? "no schema"),
    h("ul", {}, schema.problems.map((p) => h("li", {}, p))),
  ];
}

function authView(e) {
  const auth = e.auth || {};
  if (!auth.outcome) return h("span", { class: "muted" }, "not reached");
  const cls = auth.outcome === "ok" ? "ok" : auth.outcome === "rejected" ? "bad" : "";
  return [h("span", { class: `badge ${cls}` }, auth.outcome), auth.reason ? h("pre", {}, auth.reason) : ""];
}

function scenarioView(e) {
  const names = e.scenario || [];
  if (!names.length) return h("span", { class: "muted" }, "none (not content that is analysed)");
  return names.map((n, i) => h("div", {}, h("strong", {}, n), " ", h("span", { class: "chip" }, `from ${(e.scenario_source || [])[i] ?? "?"}`)));
}

// URL content carries no bytes: its #modsim= markers (in the query or the kept body, however encoded)
function urlMarkers(e) {
  let text = `${e.query || ""}\n${e.exchange?.request_body?.text || ""}`;
  for (let i = 0; i < 3; i++) {
    try {
      text = decodeURIComponent(text.replace(/\+/g, " "));
    } catch (_) {
      break;
    }
  }
  return [...text.matchAll(/#modsim=([A-Za-z0-9_.-]{1,64})/g)].map((m) => m[1]);
}

function imagesView(e) {
  const n = e.images || 0;
  const boxes = [];
  for (let i = 0; i < n; i++) {
    const box = h("figure", { class: "thumb" }, h("figcaption", {}, `image ${i + 1}`));
    boxes.push(box);
    blobUrl(`/journal/${encodeURIComponent(e.request_id)}/images/${i}`)
      .then((url) => box.prepend(h("img", { src: url, alt: `image ${i + 1} of the request` })))
      .catch((err) => {
        box.classList.add("placeholder");
        box.lastChild.textContent = err.status === 404 ? "no longer kept" : "no preview";
      });
  }
  for (const name of urlMarkers(e)) {
    boxes.push(
      h("figure", { class: "thumb placeholder" }, h("strong", {}, name), h("figcaption", {}, "URL content: no bytes, marker scenario")),
    );
  }
  return boxes.length ? [h("h3", {}, "Content"), h("div", { class: "thumbs" }, boxes)] : [];
}

function detail(e) {
  const ex = e.exchange || {};
  const line = `${e.method || "?"} ${e.path || ""}${e.query ? `?${e.query}` : ""}`;
  const why = [
    ["Scenario", scenarioView(e)],
    ["Auth", authView(e)],
    ["Credential", e.credential ? h("code", {}, e.credential) : h("span", { class: "muted" }, "none")],
    [
      "Fault",
      e.fault
        ? [h("span", { class: "badge warn" }, `rule ${e.fault.rule}`), h("pre", {}, pretty(e.fault.action))]
        : h("span", { class: "muted" }, "none fired"),
    ],
    ["Schema check", schemaView(e.schema)],
    ["Answer", [statusBadge(e.status), " vendor code ", codeBadge(e.vendor_code, e.error) || "—"]],
  ];
  if (e.error) why.push(["Error", h("pre", {}, e.error)]);
  if (e.notes?.length) why.push(["Notes", h("ul", {}, e.notes.map((n) => h("li", {}, n)))]);
  if (e.warnings?.length) why.push(["Warnings", h("ul", {}, e.warnings.map((w) => h("li", {}, w)))]);
  return [
    h(
      "div",
      { class: "reqline" },
      h("code", {}, line),
      h("button", { type: "button", class: "quiet small", onclick: closeDetail, "aria-label": "Close" }, "Close"),
    ),
    h("p", { class: "meta" }, `${fmtDate(e.time)} · ${e.latency_ms} ms · from ${e.remote ?? "?"} · request id ${e.request_id} · seq ${e.seq}`),
    h("h3", {}, "Why"),
    h("dl", { class: "why" }, why.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    e.traceback ? h("details", {}, h("summary", {}, "Traceback"), h("pre", {}, e.traceback)) : "",
    ...imagesView(e),
    h("h3", {}, `Request · ${ex.http_version || "HTTP"}`),
    h("details", {}, h("summary", {}, `Headers (${(ex.request_headers || []).length})`), kvTable(ex.request_headers || [])),
    bodyView(ex.request_body, headerOf(ex.request_headers, "content-type")),
    h("h3", {}, "Response"),
    h("details", {}, h("summary", {}, `Headers (${(ex.response_headers || []).length})`), kvTable(ex.response_headers || [])),
    bodyView(ex.response_body, headerOf(ex.response_headers, "content-type")),
  ];
}

// ---------------------------------------------------------------- scenarios and the queue

async function loadScenarios() {
  try {
    const [{ scenarios }, { queue }] = await Promise.all([api("/scenarios"), api("/queue")]);
    S.scenarios = scenarios;
    const form = $("#queue-form");
    fillSelect(form.scenario, scenarios.map((s) => s.name));
    drawQueue(queue);
    const grid = $("#scenario-grid");
    if (grid.childElementCount !== scenarios.length) grid.replaceChildren(...scenarios.map(scenarioCard));
  } catch (e) {
    toast(`Scenarios: ${e.message}`);
  }
}

function scenarioCard(s) {
  const name = encodeURIComponent(s.name);
  const img = h("img", { alt: `marker image of ${s.name}` });
  blobUrl(`/scenarios/${name}/image?format=png`, false)
    .then((url) => (img.src = url))
    .catch(() => img.replaceWith(h("div", { class: "muted" }, "no preview")));
  const link = (fmt, ext) =>
    h("a", { href: `${API}/scenarios/${name}/image?format=${fmt}&download=1`, download: `${s.name}.${ext}` }, fmt.toUpperCase());
  return h(
    "article",
    { class: "scenario", "data-name": s.name },
    img,
    h("div", { class: "name" }, s.name),
    h("p", { class: "desc" }, s.description || ""),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "small", onclick: () => queue(s.name) }, "Queue"),
      "download",
      link("png", "png"),
      link("jpeg", "jpg"),
      link("gif", "gif"),
    ),
  );
}

function drawQueue(queue) {
  const box = $("#queue-list");
  if (!queue.length) {
    box.replaceChildren(h("p", { class: "muted" }, "Nothing queued."));
    return;
  }
  box.replaceChildren(
    h("div", { class: "head" }, h("strong", {}, "Queued"), h("button", { type: "button", class: "quiet small", onclick: clearQueue }, "Clear queue")),
    h(
      "ul",
      {},
      queue.map((q) =>
        h("li", {}, h("code", {}, q.scenario), ` for ${q.vendor ?? "any vendor"} / ${q.operation ?? "any operation"} / ${q.credential ?? "any credential"}: ${q.remaining} call(s) left`),
      ),
    ),
  );
}

async function queue(name) {
  const form = $("#queue-form");
  if (name) form.scenario.value = name;
  const body = { scenario: form.scenario.value, count: Number(form.count.value || 1) };
  for (const k of ["vendor", "operation", "credential"]) if (form[k].value) body[k] = form[k].value;
  try {
    const { queue: q } = await api("/queue", { method: "POST", body });
    drawQueue(q);
    result(form, `Queued ${body.scenario} for the next ${body.count} matching call(s).`, true);
  } catch (e) {
    result(form, `Refused: ${detailText(e.detail)}`, false);
  }
}

async function clearQueue() {
  const { queue: q } = await api("/queue", { method: "DELETE" });
  drawQueue(q);
}

function credentialsFor(select, vendor) {
  const creds = S.credentials.filter((c) => !vendor || c.vendor === vendor);
  fillSelect(select, creds.map((c) => [c.id, vendor ? c.id : `${c.vendor}: ${c.id}`]), "any");
}

// ---------------------------------------------------------------- faults and rules

const TEMPLATES = [
  ["Fail twice with Baidu 18 (QPS), then succeed", { vendor: "baidu", operation: "face_audit", first_n: 2, action: { type: "error", code: 18 } }],
  ["18, pass, then 2: per app", { vendor: "baidu", sequence: [{ type: "error", code: 18 }, null, { type: "error", code: 2 }] }],
  ["Vendor error code (showapi -1009)", { vendor: "showapi", action: { type: "error", code: -1009 } }],
  ["Latency 1500 ms", { action: { type: "latency", ms: 1500 } }],
  ["Latency uniform 100-900 ms", { action: { type: "latency", distribution: "uniform", min_ms: 100, max_ms: 900 } }],
  ["Latency lognormal, median 300 ms", { action: { type: "latency", distribution: "lognormal", median_ms: 300, sigma: 0.5, max_ms: 5000 } }],
  ["HTTP 502 gateway page", { action: { type: "http", status: 502, body: "gateway" } }],
  ["Hang 30 s, then close", { action: { type: "hang", max_s: 30 } }],
  ["Connection reset", { action: { type: "reset" } }],
  ["Slow body: 64 bytes every 200 ms", { action: { type: "slow_body", chunk_bytes: 64, delay_ms: 200 } }],
  ["Close after 100 bytes", { action: { type: "close_after", bytes: 100 } }],
  ["Truncate half the answer", { action: { type: "truncate", fraction: 0.5 } }],
  ["Wrong Content-Type", { action: { type: "content_type", value: "text/html" } }],
  ["Only for one field: configId 7", { vendor: "baidu", fields: { configId: "7" }, action: { type: "error", code: 18 } }],
  ["Half the calls fail (probability 0.5)", { probability: 0.5, action: { type: "error", code: 18 }, vendor: "baidu" }],
];

function applyTemplate() {
  const form = $("#fault-form");
  const { vendor, operation, ...rest } = TEMPLATES[Number(form.template.value)][1];
  form.vendor.value = vendor || "";
  form.vendor.dispatchEvent(new Event("change"));
  form.operation.value = operation || "";
  form.spec.value = pretty(rest);
}

let faultsTimer = null;
function loadFaultsSoon() {
  clearTimeout(faultsTimer);
  faultsTimer = setTimeout(loadFaults, 400);
}

async function loadFaults() {
  try {
    const [{ rules: faults }, { rules }] = await Promise.all([api("/faults"), api("/rules")]);
    drawFaults(faults);
    drawRules(rules);
  } catch (e) {
    toast(`Faults: ${e.message}`);
  }
}

function trigger(f) {
  const parts = [];
  if (f.first_n !== undefined) parts.push(`first ${f.first_n}`);
  if (f.every_nth !== undefined) parts.push(`every ${f.every_nth}th`);
  if (f.probability !== undefined && f.probability !== 1) parts.push(`p=${f.probability}`);
  if (f.sequence) parts.push(`sequence of ${f.sequence.length}`);
  return parts.join(", ") || "every match";
}

function drawFaults(faults) {
  const box = $("#fault-list");
  if (!faults.length) {
    box.replaceChildren(h("p", { class: "muted" }, "No fault rules: every call gets the vendor's real answer."));
    return;
  }
  box.replaceChildren(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "faults-table" },
        h("thead", {}, h("tr", {}, ["Rule", "Matches", "Trigger", "Action", "Seen", "Hits", ""].map((t) => h("th", {}, t)))),
        h(
          "tbody",
          {},
          faults.map((f) =>
            h(
              "tr",
              { "data-id": f.id },
              h("td", { class: "mono" }, f.id),
              h("td", {}, [f.vendor ?? "any vendor", f.operation ?? "any business operation", f.credential, f.fields ? json(f.fields) : null].filter(Boolean).join(" · ")),
              h("td", {}, trigger(f)),
              h("td", { class: "mono" }, f.sequence ? json(f.sequence) : json(f.action)),
              h("td", { class: "num" }, f.seen),
              h("td", { class: "num" }, f.hits),
              h("td", {}, h("button", { type: "button", class: "danger small", onclick: () => deleteFault(f.id) }, "Delete")),
            ),
          ),
        ),
      ),
    ),
  );
}

async function addFault(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  let spec;
  try {
    spec = JSON.parse(form.spec.value || "{}");
  } catch (e) {
    result(form, `Not JSON: ${e.message}`, false);
    return;
  }
  if (form.vendor.value) spec.vendor = form.vendor.value;
  if (form.operation.value) spec.operation = form.operation.value;
  try {
    const { rules } = await api("/faults", { method: "PATCH", body: { rules: [spec] } });
    drawFaults(rules);
    result(form, `Added rule ${rules[rules.length - 1].id}.`, true);
  } catch (e) {
    result(form, `Refused: ${detailText(e.detail)}`, false);
  }
}

async function deleteFault(id) {
  try {
    drawFaults((await api(`/faults/${encodeURIComponent(id)}`, { method: "DELETE" })).rules);
  } catch (e) {
    toast(`Delete failed: ${e.message}`);
  }
}

function drawRules(rules) {
  const box = $("#rule-list");
  if (!rules.length) {
    box.replaceChildren(h("p", { class: "muted" }, "No scenario rules."));
    return;
  }
  box.replaceChildren(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["Name", "Match", "Scenario", "Download", "File"].map((t) => h("th", {}, t)))),
        h(
          "tbody",
          {},
          rules.map((r) =>
            h("tr", {}, h("td", {}, r.name || "—"), h("td", { class: "mono" }, json(r.match)), h("td", {}, r.scenario ?? ""), h("td", {}, r.download ?? ""), h("td", { class: "mono" }, r.file ?? "")),
          ),
        ),
      ),
    ),
  );
}

async function addRule(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  let spec;
  try {
    spec = JSON.parse(form.spec.value);
  } catch (e) {
    result(form, `Not JSON: ${e.message}`, false);
    return;
  }
  try {
    drawRules((await api("/rules", { method: "PATCH", body: { rules: [spec] } })).rules);
    result(form, "Added (admin rules go before the fixture rules).", true);
  } catch (e) {
    result(form, `Refused: ${detailText(e.detail)}`, false);
  }
}

// ---------------------------------------------------------------- clock, credentials, quotas

function setClock(snapshot) {
  S.clock = snapshot;
  S.clockAt = Date.now() / 1000;
  tickClock();
  const d = $("#clock-detail");
  d.replaceChildren(
    h("span", {}, "now ", h("b", {}, fmtDate(snapshot.now))),
    h("span", {}, "offset ", h("b", {}, `${Math.round(snapshot.offset_s)} s`)),
    h("span", {}, snapshot.frozen ? h("span", { class: "badge warn" }, "frozen") : h("span", { class: "badge ok" }, "running")),
    h("span", {}, "client skew ", h("b", {}, `${snapshot.skew_s} s`)),
  );
  $("#freeze").textContent = snapshot.frozen ? "Unfreeze" : "Freeze";
}

function tickClock() {
  if (!S.clock) return;
  const now = S.clock.frozen ? S.clock.now : S.clock.now + (Date.now() / 1000 - S.clockAt);
  $("#clock").textContent = `sim ${fmtDate(now)}${S.clock.frozen ? " (frozen)" : ""}`;
}

async function clock(body) {
  setClock(await api("/clock", { method: "POST", body }));
  loadStateSoon();
}

let stateTimer = null;
function loadStateSoon() {
  clearTimeout(stateTimer);
  stateTimer = setTimeout(loadState, 500);
}

async function loadState() {
  try {
    const [snap, { quotas }, { credentials }, tokens] = await Promise.all([
      api("/clock"),
      api("/quotas"),
      api("/credentials"),
      S.vendors.some((v) => v.name === "baidu") ? api("/vendors/baidu/tokens") : { tokens: [] },
    ]);
    setClock(snap);
    drawCredentials(credentials, quotas, tokens.tokens, snap.now);
  } catch (e) {
    toast(`State: ${e.message}`);
  }
}

function limitText(q) {
  const parts = [];
  for (const k of ["qps", "daily", "total"]) {
    if (q.limits[k] !== undefined) parts.push(`${k}: ${q.remaining[k]} of ${q.limits[k]} left`);
  }
  return parts.join(" · ") || "unlimited";
}

function drawCredentials(credentials, quotas, tokens, now) {
  const byKey = new Map(quotas.map((q) => [`${q.vendor}\u0000${q.credential}`, q]));
  const rows = credentials.map((c) => {
    const q = byKey.get(`${c.vendor}\u0000${c.id}`);
    const live = tokens.filter((t) => t.api_key === c.id && c.vendor === "baidu");
    const tokenCell = live.length
      ? h(
          "ul",
          { class: "tokens" },
          live.map((t) => {
            const state = t.revoked ? "revoked" : t.expires <= now ? "expired" : `live until ${fmtDate(t.expires)}`;
            return h("li", {}, `${String(t.token).slice(0, 14)}… ${state}`);
          }),
        )
      : "";
    const balance = q && q.balance ? Object.entries(q.balance).map(([k, v]) => `${k} ${v}`).join(" · ") : "";
    return h(
      "tr",
      { "data-vendor": c.vendor, "data-id": c.id },
      h("td", {}, c.vendor),
      h("td", { class: "mono" }, c.id),
      h("td", { class: "mono" }, c.secret ?? "—"),
      h("td", {}, c.attrs?.description ?? ""),
      h("td", {}, q ? limitText(q) : ""),
      h("td", {}, q ? `${q.used.total} total, ${q.used.daily} today` : ""),
      h("td", {}, balance),
      h("td", {}, tokenCell),
    );
  });
  $("#cred-list").replaceChildren(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "cred-table" },
        h("thead", {}, h("tr", {}, ["Vendor", "Credential", "Secret", "Notes", "Quota left", "Used", "Balance", "Tokens"].map((t) => h("th", {}, t)))),
        h("tbody", {}, rows),
      ),
    ),
  );
}

// ---------------------------------------------------------------- export

function exportLinks() {
  const f = filters();
  const only = $("#export-filtered").checked;
  const q = new URLSearchParams();
  if (only) for (const k of ["vendor", "operation", "credential"]) if (f[k]) q.set(k, f[k]);
  const tail = q.toString();
  $("#export-har").href = `${API}/journal?format=har${tail ? `&${tail}` : ""}`;
  $("#export-jsonl").href = `${API}/journal?format=jsonl${tail ? `&${tail}` : ""}`;
  $("#export-json").href = `${API}/journal${tail ? `?${tail}` : ""}`;
}

// ---------------------------------------------------------------- start

async function start() {
  window.addEventListener("hashchange", route);
  tokenLinks(document.body);

  const f = $("#filters");
  f.addEventListener("input", () => (draw(), exportLinks()));
  f.addEventListener("change", () => (draw(), exportLinks()));
  f.addEventListener("submit", (ev) => ev.preventDefault());
  f.addEventListener("reset", () => setTimeout(() => (f.vendor.dispatchEvent(new Event("change")), draw(), exportLinks())));
  $("#export-filtered").addEventListener("change", exportLinks);

  const qf = $("#queue-form");
  qf.addEventListener("submit", (ev) => (ev.preventDefault(), queue()));
  const ff = $("#fault-form");
  ff.addEventListener("submit", addFault);
  fillSelect(ff.template, TEMPLATES.map(([label], i) => [String(i), label]));
  ff.template.addEventListener("change", applyTemplate);
  $("#rule-form").addEventListener("submit", addRule);
  $("#rule-form").spec.value = json({ match: { vendor: "baidu", credential: "demo-baidu-api-key" }, scenario: "porn" });
  $("#faults-clear").addEventListener("click", async () => drawFaults((await api("/faults", { method: "DELETE" })).rules));
  $("#rules-reset").addEventListener("click", async () => drawRules((await api("/rules", { method: "DELETE" })).rules));

  for (const b of $$("[data-advance]")) b.addEventListener("click", () => clock({ advance_s: Number(b.dataset.advance) }));
  $("#freeze").addEventListener("click", () => clock({ freeze: !(S.clock && S.clock.frozen) }));
  $("#clock-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const body = {};
    if (form.advance.value) body.advance_s = Number(form.advance.value);
    if (form.set.value) body.set = new Date(form.set.value).getTime() / 1000;
    if (form.skew.value) body.skew_s = Number(form.skew.value);
    try {
      await clock(body);
      result(form, "Applied.", true);
    } catch (e) {
      result(form, `Refused: ${detailText(e.detail)}`, false);
    }
  });
  $("#reset").addEventListener("click", async () => {
    if (!window.confirm("Reset the simulator to its fixtures (journal, queue, faults, clock, tokens)?")) return;
    await api("/reset", { method: "POST" });
    loadState();
  });
  $("#creds-refresh").addEventListener("click", loadState);
  setInterval(tickClock, 1000);

  try {
    await authorize();
    const [{ vendors }, { credentials }, snap] = await Promise.all([api("/vendors"), api("/credentials"), api("/clock")]);
    S.vendors = vendors;
    S.credentials = credentials;
    setClock(snap);
  } catch (e) {
    toast(`Cannot reach the admin API: ${e.message}`);
  }
  linkVendorOps(f, "all");
  linkVendorOps(qf, "any");
  const syncCreds = () => credentialsFor(qf.credential, qf.vendor.value);
  qf.vendor.addEventListener("change", syncCreds);
  syncCreds();
  linkVendorOps(ff, "any business operation");
  applyTemplate();
  exportLinks();
  route();
  stream();
}

document.addEventListener("DOMContentLoaded", start);
