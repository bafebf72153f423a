/**
 * The web UI's one page: HTML, CSS and vanilla JavaScript in a string, so nothing is built or
 * fetched at install time and the page works offline. It reads the JSON API and follows the
 * live feeds with `EventSource` (no polling); every text from the log is put in the page as
 * text, never as HTML.
 *
 * @since 0.1.0
 */

const css = String.raw`
:root {
  --bg: #f6f7f9; --card: #fff; --ink: #1f2430; --muted: #6b7280; --line: #e3e6eb; --soft: #f1f3f6;
  --blue: #2563eb; --green: #16a34a; --red: #dc2626; --amber: #d97706; --slate: #94a3b8; --gray: #a1a1aa;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, sans-serif; }
a { color: var(--blue); text-decoration: none; }
a:hover { text-decoration: underline; }
header { display: flex; align-items: center; gap: 16px; padding: 10px 24px; background: #111827; color: #e5e7eb; }
header .brand { font-weight: 700; font-size: 16px; letter-spacing: .3px; color: #fff; }
header .brand span { color: #60a5fa; }
header a:hover { text-decoration: none; }
header nav a { color: #cbd5e1; }
header .spacer { flex: 1; }
header .meta { color: #9ca3af; font-size: 12px; font-family: var(--mono); }
.conn { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; color: #9ca3af; }
.conn::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: #6b7280; }
.conn.live::before { background: #22c55e; box-shadow: 0 0 0 3px rgba(34,197,94,.2); }
.conn.down::before { background: #f59e0b; }
.badge { font-size: 11px; padding: 2px 8px; border-radius: 10px; border: 1px solid #374151; color: #cbd5e1; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 60px; }
h1 { font-size: 20px; margin: 4px 0 16px; }
h2 { font-size: 15px; margin: 0 0 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px; margin-bottom: 16px; }
.muted { color: var(--muted); }
.mono { font-family: var(--mono); }
table.sessions { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
table.sessions th { text-align: left; font-size: 12px; font-weight: 600; color: var(--muted); background: var(--soft); padding: 8px 12px; border-bottom: 1px solid var(--line); }
table.sessions td { padding: 9px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.sessions tr:last-child td { border-bottom: 0; }
table.sessions tr.row:hover td { background: #f8fafc; cursor: pointer; }
table.sessions td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.sessions td.input { color: var(--muted); max-width: 420px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pill { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 9px; border-radius: 999px; white-space: nowrap; border: 1px solid transparent; }
.pill.ok { background: #dcfce7; color: #166534; border-color: #bbf7d0; }
.pill.bad { background: #fee2e2; color: #991b1b; border-color: #fecaca; }
.pill.wait { background: #fef3c7; color: #92400e; border-color: #fde68a; }
.pill.run { background: #dbeafe; color: #1e40af; border-color: #bfdbfe; }
.pill.idle { background: #f1f5f9; color: #475569; border-color: #e2e8f0; }
.chip { display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 6px; background: var(--soft); color: #374151; border: 1px solid var(--line); }
.empty { padding: 40px; text-align: center; color: var(--muted); }
.title { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; margin-bottom: 6px; }
.title h1 { margin: 0; font-family: var(--mono); font-size: 18px; }
.facts { display: flex; flex-wrap: wrap; gap: 18px; color: var(--muted); font-size: 13px; margin-bottom: 12px; }
.facts b { color: var(--ink); font-weight: 600; }
.input-text { white-space: pre-wrap; background: var(--soft); border-radius: 8px; padding: 10px 12px; margin: 0 0 16px; font-size: 13px; max-height: 140px; overflow: auto; }
.question { border-color: #fcd34d; background: #fffbeb; }
.question h2 { color: #92400e; }
.question .q { font-size: 15px; margin: 4px 0 10px; white-space: pre-wrap; }
.question textarea { width: 100%; min-height: 64px; font: inherit; padding: 8px 10px; border: 1px solid #e5c07b; border-radius: 8px; resize: vertical; background: #fff; }
.question .row { display: flex; gap: 10px; align-items: center; margin-top: 8px; }
button { font: inherit; font-weight: 600; padding: 6px 14px; border-radius: 8px; border: 1px solid #1d4ed8; background: var(--blue); color: #fff; cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
.note { font-size: 13px; }
.note.err { color: var(--red); }
.note.ok { color: var(--green); }
.graph-wrap { overflow-x: auto; padding-bottom: 4px; }
svg.graph text { font-family: system-ui, sans-serif; }
svg.graph .node { cursor: pointer; }
svg.graph .node rect.box { fill: #fff; stroke-width: 1.5; }
svg.graph .node.selected rect.box { stroke-width: 3; }
svg.graph .node:hover rect.box { filter: drop-shadow(0 1px 3px rgba(0,0,0,.15)); }
svg.graph .edge { fill: none; stroke: #b6bdc8; stroke-width: 1.5; }
svg.graph .running rect.bar { animation: pulse 1.4s ease-in-out infinite; }
@keyframes pulse { 50% { opacity: .35; } }
.legend { display: flex; flex-wrap: wrap; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 8px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 3px; margin-right: 5px; vertical-align: -1px; }
.timeline { list-style: none; margin: 0; padding: 0; }
.timeline li { display: grid; grid-template-columns: 70px 1fr; gap: 12px; padding: 10px 0; border-top: 1px solid var(--line); }
.timeline li:first-child { border-top: 0; }
.timeline .time { font-family: var(--mono); font-size: 12px; color: var(--muted); padding-top: 2px; }
.timeline .head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.timeline .kind { font-weight: 600; }
.timeline .meta { color: var(--muted); font-size: 12px; }
.timeline .text { white-space: pre-wrap; margin: 6px 0 0; }
.timeline .calls { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
.timeline code, .timeline pre { font-family: var(--mono); font-size: 12px; }
.timeline code.call { background: #eef2ff; color: #3730a3; border-radius: 6px; padding: 2px 7px; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.timeline details { margin-top: 6px; }
.timeline details summary { cursor: pointer; color: var(--muted); font-size: 12px; }
.timeline pre.out { background: #0f172a; color: #e2e8f0; padding: 10px 12px; border-radius: 8px; overflow: auto; max-height: 420px; margin: 6px 0 0; white-space: pre-wrap; word-break: break-word; }
.timeline li.ok .kind { color: var(--green); }
.timeline li.bad .kind { color: var(--red); }
.timeline li.ask .kind { color: var(--amber); }
.timeline li.sys .kind { color: var(--muted); font-weight: 500; }
.spin { display: inline-block; width: 10px; height: 10px; border: 2px solid #93c5fd; border-top-color: var(--blue); border-radius: 50%; animation: spin .8s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
.task-head { display: flex; flex-wrap: wrap; gap: 10px; align-items: baseline; margin-bottom: 8px; }
.task-head .desc { font-weight: 600; }
`

const script = String.raw`
"use strict";
var STATUS_COLORS = {
  planned: "#94a3b8", running: "#2563eb", completed: "#16a34a", failed: "#dc2626",
  skipped: "#a1a1aa", needs_clarification: "#d97706"
};
var STATUS_LABELS = {
  planned: "planned", running: "running", completed: "completed", failed: "failed",
  skipped: "skipped", needs_clarification: "needs answer"
};
var app = document.getElementById("app");
var conn = document.getElementById("conn");
var info = { allowAnswer: false, store: "", version: "" };
var listFeed = null;
var session = null;

function h(tag, attrs) {
  var el = document.createElement(tag);
  if (attrs) for (var k in attrs) {
    var v = attrs[k];
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
  return el;
}
function append(el, child) {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
  el.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
}
function svg(tag, attrs) {
  var el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (var k in attrs) {
    if (k === "text") el.textContent = attrs[k];
    else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), attrs[k]);
    else el.setAttribute(k, attrs[k]);
  }
  for (var i = 2; i < arguments.length; i++) if (arguments[i]) el.appendChild(arguments[i]);
  return el;
}
function num(n) { return (n || 0).toLocaleString("en-US"); }
function pad(n) { return n < 10 ? "0" + n : String(n); }
function clock(iso) { var d = new Date(iso); return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }
function ago(iso) {
  var s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return new Date(iso).toISOString().slice(0, 10);
}
function seconds(ms) { return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s"; }
function shorten(text, max) {
  var flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "\u2026" : flat;
}
function pillClass(status) {
  if (/^(Done|completed: all_done|completed)$/.test(status)) return "ok";
  if (/^(Failed|failed|completed: some_failed|completed: cancelled)$/.test(status)) return "bad";
  if (/^(UserWait|waiting|needs_clarification)$/.test(status)) return "wait";
  if (/^(Agent|Tools|running|planning)$/.test(status)) return "run";
  return "idle";
}
function pill(status) { return h("span", { class: "pill " + pillClass(status), "data-status": status, text: status }); }
function getJson(url) {
  return fetch(url, { headers: { accept: "application/json" } }).then(function (r) {
    return r.json().then(function (body) { if (!r.ok) throw new Error(body.message || r.statusText); return body; });
  });
}
function setConn(state) {
  conn.className = "conn " + state;
  conn.textContent = state === "live" ? "live" : state === "down" ? "reconnecting\u2026" : "offline";
}
function follow(url, onMessage) {
  var es = new EventSource(url);
  es.onopen = function () { setConn("live"); };
  es.onerror = function () { setConn("down"); };
  es.addEventListener("stored", function (e) { onMessage("stored", JSON.parse(e.data)); });
  es.addEventListener("change", function (e) { onMessage("change", JSON.parse(e.data)); });
  return es;
}
function stopFeeds() {
  if (listFeed) { listFeed.close(); listFeed = null; }
  if (session && session.feed) session.feed.close();
  session = null;
}

/* ---------- sessions list ---------- */
function showList() {
  stopFeeds();
  document.title = "dabgent \u00b7 sessions";
  var tbody = h("tbody");
  var rows = new Map();
  var table = h("table", { class: "sessions" },
    h("thead", null, h("tr", null, ["Session", "Mode", "Status", "Started", "Steps", "Tokens", "Model", "Input"].map(function (t, i) {
      return h("th", { style: i === 4 || i === 5 ? "text-align:right" : null, text: t });
    }))), tbody);
  var empty = h("div", { class: "empty card", text: "No sessions in this store yet. Start one with dabgent run \u2026 and it appears here." });
  app.replaceChildren(h("h1", { text: "Sessions" }), table, empty);
  function rowFor(s) {
    return h("tr", { class: "row", "data-session-row": s.id, onclick: function () { location.hash = "#/s/" + encodeURIComponent(s.id); } },
      h("td", null, h("a", { class: "mono", href: "#/s/" + encodeURIComponent(s.id), text: s.id })),
      h("td", null, h("span", { class: "chip", text: s.mode })),
      h("td", null, pill(s.status)),
      h("td", { title: s.startedAt, text: ago(s.startedAt) }),
      h("td", { class: "num", text: num(s.steps) }),
      h("td", { class: "num", text: num(s.tokens) }),
      h("td", { class: "mono muted", text: s.model || "" }),
      h("td", { class: "input", title: s.input, text: shorten(s.input, 90) }));
  }
  function put(s) {
    var row = rowFor(s);
    var old = rows.get(s.id);
    if (old) old.replaceWith(row); else tbody.insertBefore(row, tbody.firstChild);
    rows.set(s.id, row);
    table.style.display = rows.size ? "" : "none";
    empty.style.display = rows.size ? "none" : "";
  }
  var pending = new Map();
  function refresh(id, isNew) {
    if (pending.has(id)) return;
    pending.set(id, setTimeout(function () {
      pending.delete(id);
      if (!rows.has(id) && !isNew) return;
      getJson("/api/sessions/" + encodeURIComponent(id)).then(function (d) { if (d.session.listed) put(d.session); }).catch(function () {});
    }, 250));
  }
  getJson("/api/sessions").then(function (body) {
    body.sessions.slice().reverse().forEach(put);
    table.style.display = rows.size ? "" : "none";
    empty.style.display = rows.size ? "none" : "";
    listFeed = follow("/api/stream", function (_, notice) {
      refresh(notice.sessionId, notice.type === "session.SessionStarted");
    });
  }).catch(function (e) { app.replaceChildren(h("div", { class: "card note err", text: "Cannot read the sessions: " + e.message })); });
}

/* ---------- task graph ---------- */
function layout(tasks) {
  var byId = new Map(tasks.map(function (t) { return [t.id, t]; }));
  var depth = new Map();
  function depthOf(t, seen) {
    if (depth.has(t.id)) return depth.get(t.id);
    if (seen.has(t.id)) return 0;
    seen.add(t.id);
    var d = 0;
    t.dependencies.forEach(function (dep) { var p = byId.get(dep); if (p) d = Math.max(d, depthOf(p, seen) + 1); });
    depth.set(t.id, d);
    return d;
  }
  tasks.forEach(function (t) { depthOf(t, new Set()); });
  var layers = [];
  tasks.forEach(function (t) { var d = depth.get(t.id); (layers[d] = layers[d] || []).push(t); });
  var row = new Map();
  layers.forEach(function (layer) {
    layer.forEach(function (t, i) {
      var ds = t.dependencies.filter(function (d) { return row.has(d); }).map(function (d) { return row.get(d); });
      t._order = ds.length ? ds.reduce(function (a, b) { return a + b; }, 0) / ds.length : i;
    });
    layer.sort(function (a, b) { return a._order - b._order; });
    layer.forEach(function (t, i) { row.set(t.id, i); });
  });
  return { layers: layers, depth: depth, row: row };
}
function drawGraph(tasks, selected, onSelect) {
  var W = 210, H = 62, GX = 64, GY = 18, P = 8;
  var l = layout(tasks);
  var rowsMax = Math.max.apply(null, l.layers.map(function (x) { return x.length; }).concat([1]));
  var width = P * 2 + l.layers.length * W + (l.layers.length - 1) * GX;
  var height = P * 2 + rowsMax * H + (rowsMax - 1) * GY;
  var pos = new Map();
  l.layers.forEach(function (layer, d) {
    var offset = (rowsMax - layer.length) * (H + GY) / 2;
    layer.forEach(function (t, i) { pos.set(t.id, { x: P + d * (W + GX), y: P + offset + i * (H + GY) }); });
  });
  var root = svg("svg", { class: "graph", width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "task graph" },
    svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#b6bdc8" }))));
  tasks.forEach(function (t) {
    var to = pos.get(t.id);
    t.dependencies.forEach(function (dep) {
      var from = pos.get(dep);
      if (!from) return;
      var x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x - 2, y2 = to.y + H / 2, mx = (x1 + x2) / 2;
      root.appendChild(svg("path", { class: "edge", "data-edge": dep + "->" + t.id, d: "M" + x1 + " " + y1 + " C" + mx + " " + y1 + " " + mx + " " + y2 + " " + x2 + " " + y2, "marker-end": "url(#arrow)" }));
    });
  });
  tasks.forEach(function (t) {
    var p = pos.get(t.id), color = STATUS_COLORS[t.status] || "#94a3b8";
    var tokens = t.inputTokens + t.outputTokens;
    var g = svg("g", { class: "node " + t.status + (t.id === selected ? " selected" : ""), "data-task": t.id, "data-status": t.status, transform: "translate(" + p.x + "," + p.y + ")", tabindex: "0",
        onclick: function () { onSelect(t.id); }, onkeydown: function (e) { if (e.key === "Enter") onSelect(t.id); } },
      svg("title", { text: t.id + " (" + t.kind + "): " + t.description + "\n" + (STATUS_LABELS[t.status] || t.status) + (t.result ? "\n\n" + shorten(t.result, 300) : "") }),
      svg("rect", { class: "box", x: "0", y: "0", width: W, height: H, rx: "9", stroke: color, "stroke-dasharray": t.status === "skipped" ? "5 4" : "" }),
      svg("rect", { class: "bar", x: "0", y: "0", width: "6", height: H, rx: "3", fill: color }),
      svg("text", { x: "16", y: "19", "font-size": "12", "font-weight": "700", fill: "#1f2430", text: shorten(t.id, 14) }),
      svg("text", { x: W - 10, y: "19", "font-size": "11", "text-anchor": "end", fill: color, "font-weight": "600", text: STATUS_LABELS[t.status] || t.status }),
      svg("text", { x: "16", y: "37", "font-size": "12", fill: "#374151", text: shorten(t.description, 29) }),
      svg("text", { x: "16", y: "53", "font-size": "11", fill: "#6b7280", text: shorten(t.kind.replace("_", " ") + (t.steps ? " \u00b7 " + t.steps + " steps \u00b7 " + num(tokens) + " tok" : t.answer ? " \u00b7 answer: " + t.answer : ""), 34) }));
    root.appendChild(g);
  });
  return root;
}
function legend() {
  return h("div", { class: "legend" }, Object.keys(STATUS_COLORS).map(function (s) {
    return h("span", null, h("i", { style: "background:" + STATUS_COLORS[s] }), STATUS_LABELS[s]);
  }));
}

/* ---------- timeline ---------- */
function argsText(params) {
  if (params === null || typeof params !== "object") return JSON.stringify(params);
  return Object.keys(params).map(function (k) {
    var v = params[k];
    if (k === "content" && typeof v === "string") return k + ": <" + v.length + " chars>";
    return k + ": " + JSON.stringify(v);
  }).join(", ");
}
function resultText(result) { return typeof result === "string" ? result : JSON.stringify(result, null, 2); }
function exitOf(text) {
  var m = /^exit code (\d+)/.exec(text);
  if (m) return "exit " + m[1];
  if (/^timed out/.test(text)) return "timed out";
  if (/^killed/.test(text)) return "killed";
  if (/^interrupted/.test(text)) return "interrupted";
  return null;
}
function Timeline(list) {
  this.list = list;
  this.calls = new Map();
  this.runs = new Map();
  this.step = 0;
  this.previousAt = null;
}
Timeline.prototype.item = function (ev, cls, kind, meta, body) {
  var li = h("li", { class: cls || "", "data-type": ev.type, "data-seq": ev.sequence },
    h("div", { class: "time", title: ev.createdAt, text: clock(ev.createdAt) }),
    h("div", null, h("div", { class: "head" }, h("span", { class: "kind", text: kind }), meta ? h("span", { class: "meta", text: meta }) : null), body));
  this.list.appendChild(li);
  return li;
};
Timeline.prototype.add = function (ev) {
  var d = ev.data || {}, self = this, at = new Date(ev.createdAt).getTime();
  var since = this.previousAt === null ? 0 : at - this.previousAt;
  this.previousAt = at;
  switch (ev.type) {
    case "thread.Prompted":
      return this.item(ev, "sys", "Prompt", "max " + d.maxSteps + " steps",
        h("details", null, h("summary", { text: shorten(d.prompt, 140) }), h("pre", { class: "out", text: d.prompt })));
    case "thread.LlmCompleted": {
      this.step += 1;
      (d.toolCalls || []).forEach(function (c) { self.calls.set(c.id, c); });
      var u = d.usage || {};
      return this.item(ev, "turn", "Turn " + this.step,
        seconds(since) + " \u00b7 " + num(u.inputTokens) + " in / " + num(u.outputTokens) + " out tokens \u00b7 " + d.finishReason,
        [d.text ? h("p", { class: "text", text: d.text }) : null,
         (d.toolCalls || []).length ? h("div", { class: "calls" }, d.toolCalls.map(function (c) {
           return h("code", { class: "call", title: JSON.stringify(c.params), text: c.name + "(" + shorten(argsText(c.params), 90) + ")" });
         })) : null]);
    }
    case "thread.ToolStarted": {
      var call = this.calls.get(d.callId);
      var li = this.item(ev, "tool-run running", d.name === "done" ? "Validator" : "Tool: " + d.name, null,
        [call ? h("code", { class: "call", title: JSON.stringify(call.params), text: shorten(argsText(call.params), 160) }) : null,
         h("div", { class: "meta" }, h("span", { class: "spin" }), " running")]);
      li.setAttribute("data-call", d.callId);
      this.runs.set(d.callId, { li: li, at: at });
      return li;
    }
    case "thread.ToolCompleted": {
      var run = this.runs.get(d.callId), text = resultText(d.result);
      var c2 = this.calls.get(d.callId);
      var isDone = d.name === "done";
      var status = isDone ? (d.isError ? "rejected" : "accepted") : (exitOf(text) || (d.isError ? "error" : "ok"));
      var meta = status + (run ? " \u00b7 " + seconds(at - run.at) : "");
      var lines = text.replace(/\n+$/, "").split("\n").length;
      var body = [c2 && !isDone ? h("code", { class: "call", title: JSON.stringify(c2.params), text: shorten(argsText(c2.params), 160) }) : null,
        isDone && !d.isError ? h("p", { class: "text", text: text }) :
        h("details", { class: "output" }, h("summary", { text: (isDone ? "validator output" : "output") + " \u00b7 " + lines + (lines === 1 ? " line" : " lines") }), h("pre", { class: "out", text: text }))];
      var node = h("li", { class: "tool-run " + (d.isError ? "bad" : "ok"), "data-type": ev.type, "data-seq": ev.sequence, "data-call": d.callId, "data-exit": status },
        h("div", { class: "time", title: ev.createdAt, text: clock(ev.createdAt) }),
        h("div", null, h("div", { class: "head" }, h("span", { class: "kind", text: isDone ? "Validator" : "Tool: " + d.name }), h("span", { class: "meta", text: meta })), body));
      if (run) run.li.replaceWith(node); else this.list.appendChild(node);
      return node;
    }
    case "thread.AgentNudged": return this.item(ev, "sys", "Nudged", null, h("p", { class: "text muted", text: d.message }));
    case "thread.UserQuestionAsked": return this.item(ev, "ask", "Question", "waiting for the user", h("p", { class: "text", text: d.question }));
    case "thread.UserAnswered": return this.item(ev, "ok", "Answer", null, h("p", { class: "text", text: d.answer }));
    case "thread.ThreadCompacted": return this.item(ev, "sys", "Compacted", d.replacedMessages + " messages summarized", h("details", null, h("summary", { text: "summary" }), h("pre", { class: "out", text: d.summary })));
    case "thread.ThreadDone": return this.item(ev, "ok", "Done", null, h("p", { class: "text", text: d.summary }));
    case "thread.ThreadFailed": return this.item(ev, "bad", "Failed", null, h("p", { class: "text", text: d.reason }));
    case "planner.TaskDispatched": return this.item(ev, "sys", "Dispatched", d.kind, null);
    case "planner.ClarificationRequested": return this.item(ev, "ask", "Question", "waiting for the user", h("p", { class: "text", text: d.question }));
    case "planner.ClarificationReceived": return this.item(ev, "ok", "Answer", null, h("p", { class: "text", text: d.answer }));
    case "planner.TaskStatusUpdated":
      return this.item(ev, d.status === "completed" ? "ok" : d.status === "running" ? "sys" : "bad", "Task " + d.status, null, d.result ? h("p", { class: "text", text: d.result }) : null);
    default: return null;
  }
};

/* ---------- one session ---------- */
/* A task's timeline: its thread's events and the planner's events about it. */
function belongsTo(ev, s) {
  if (s.selectedAggregate !== null && ev.aggregateId === s.selectedAggregate) return true;
  return s.selected !== null && ev.aggregateId === s.id && ev.type.indexOf("planner.") === 0 && !!ev.data && ev.data.taskId === s.selected;
}
function showSession(id) {
  stopFeeds();
  document.title = "dabgent \u00b7 " + id;
  var s = session = { id: id, detail: null, events: [], last: 0, selected: null, selectedAggregate: null, timeline: null, feed: null, timer: null };
  var top = h("div"), questionBox = h("div"), graphCard = h("div"), taskCard = h("div", { class: "card" });
  app.replaceChildren(h("div", { style: "margin-bottom:10px" }, h("a", { href: "#/", text: "\u2190 Sessions" })), top, questionBox, graphCard, taskCard);

  function renderTop(d) {
    var x = d.session;
    top.replaceChildren(h("div", { class: "title" }, h("h1", { text: x.id }), h("span", { class: "chip", text: x.mode }), pill(x.status)),
      h("div", { class: "facts" },
        h("span", null, "started ", h("b", { title: x.startedAt, text: ago(x.startedAt) })),
        x.model ? h("span", null, "model ", h("b", { class: "mono", text: x.model })) : null,
        h("span", null, h("b", { text: num(x.steps) }), " steps"),
        h("span", null, h("b", { text: num(x.tokens) }), " tokens"),
        d.plan ? h("span", null, h("b", { text: d.plan.tasks.length }), " tasks") : null,
        h("span", null, h("b", { "data-events": "", text: num(s.events.length) }), " events")),
      h("pre", { class: "input-text", text: x.input }));
  }
  function renderQuestion(d) {
    var q = d.question;
    if (!q) { questionBox.replaceChildren(); return; }
    var where = q.taskId ? "task " + q.taskId : "the agent";
    if (questionBox.getAttribute("data-question") === (q.aggregateId + "|" + q.question) && questionBox.firstChild) return;
    questionBox.setAttribute("data-question", q.aggregateId + "|" + q.question);
    var note = h("span", { class: "note" });
    var body;
    if (info.allowAnswer) {
      var text = h("textarea", { id: "answer-text", placeholder: "Your answer\u2026" });
      var send = h("button", { id: "answer-send", text: "Send answer" });
      send.addEventListener("click", function () {
        if (!text.value.trim()) { note.className = "note err"; note.textContent = "Write an answer first."; return; }
        send.disabled = true;
        fetch("/api/sessions/" + encodeURIComponent(s.id) + "/answer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: text.value }) })
          .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw new Error(b.message); return b; }); })
          .then(function () {
            note.className = "note ok";
            note.textContent = "Answered. A run attached to this session goes on by itself; otherwise continue it with: dabgent resume " + s.id;
          })
          .catch(function (e) { send.disabled = false; note.className = "note err"; note.textContent = e.message; });
      });
      body = [text, h("div", { class: "row" }, send, note)];
    } else {
      body = h("p", { class: "note muted", text: "This page is read-only. Answer with: dabgent answer " + s.id + " \"\u2026\" (or start dabgent ui --allow-answer)." });
    }
    questionBox.replaceChildren(h("div", { class: "card question", id: "question" }, h("h2", { text: "Waiting for your answer \u00b7 " + where }), h("p", { class: "q", text: q.question }), body));
  }
  function renderGraph(d) {
    if (!d.plan) { graphCard.replaceChildren(); return; }
    if (!d.plan.tasks.length) {
      graphCard.replaceChildren(h("div", { class: "card" }, h("h2", { text: "Task graph" }), h("p", { class: "muted", text: d.plan.phase === "completed" ? "No plan was made." : "Planning\u2026" })));
      return;
    }
    graphCard.replaceChildren(h("div", { class: "card" }, h("h2", { text: "Task graph" + (d.plan.outcome ? " \u00b7 " + d.plan.outcome.replace("_", " ") : "") }),
      h("div", { class: "graph-wrap" }, drawGraph(d.plan.tasks, s.selected, select)), legend()));
  }
  function selectedTask() { return s.detail && s.detail.plan ? s.detail.plan.tasks.find(function (t) { return t.id === s.selected; }) : null; }
  function renderTask() {
    var list = h("ol", { class: "timeline", id: "timeline" });
    s.timeline = new Timeline(list);
    var head;
    if (s.detail && s.detail.plan) {
      var t = selectedTask();
      head = t ? h("div", { class: "task-head" }, h("span", { class: "mono", text: t.id }), h("span", { class: "desc", text: t.description }), pill(t.status), h("span", { class: "chip", text: t.kind.replace("_", " ") }))
        : h("p", { class: "muted", text: "Select a task in the graph to see its timeline." });
    } else head = h("h2", { text: "Thread" });
    s.events.forEach(function (ev) { if (belongsTo(ev, s)) s.timeline.add(ev); });
    var empty = list.childNodes.length === 0 && s.selected !== null ? h("p", { class: "muted placeholder", text: s.detail && s.detail.plan ? "Nothing has happened in this task yet." : "Nothing has happened yet." }) : null;
    taskCard.replaceChildren(head, list);
    if (empty) taskCard.appendChild(empty);
  }
  function select(taskId) {
    s.selected = taskId;
    var t = selectedTask();
    s.selectedAggregate = t && t.aggregateId ? t.aggregateId : null;
    renderGraph(s.detail);
    renderTask();
  }
  function refresh() {
    return getJson("/api/sessions/" + encodeURIComponent(id)).then(function (d) {
      if (session !== s) return;
      var first = s.detail === null;
      s.detail = d;
      renderTop(d);
      renderQuestion(d);
      if (first) {
        if (d.plan) {
          var pick = d.plan.tasks.find(function (t) { return t.status === "running" || t.status === "needs_clarification"; }) || d.plan.tasks[0];
          s.selected = pick ? pick.id : null;
          s.selectedAggregate = pick && pick.aggregateId ? pick.aggregateId : null;
        } else { s.selected = d.session.id; s.selectedAggregate = d.session.id; }
        renderGraph(d);
        renderTask();
      } else {
        if (d.plan && s.selected === null && d.plan.tasks.length) { select(d.plan.tasks[0].id); return; }
        renderGraph(d);
        var t = selectedTask();
        if (t) { var ph = taskCard.querySelector(".task-head .pill"); if (ph) ph.replaceWith(pill(t.status)); }
      }
    }).catch(function (e) { top.replaceChildren(h("div", { class: "card note err", text: e.message })); });
  }
  function later() {
    if (s.timer) return;
    s.timer = setTimeout(function () { s.timer = null; refresh(); }, 120);
  }
  refresh().then(function () {
    if (session !== s) return;
    s.feed = follow("/api/sessions/" + encodeURIComponent(id) + "/stream?after=0", function (_, ev) {
      if (ev.sequence <= s.last) return;
      s.last = ev.sequence;
      s.events.push(ev);
      var counter = top.querySelector("[data-events]");
      if (counter) counter.textContent = num(s.events.length);
      if (s.timeline && belongsTo(ev, s)) {
        var placeholder = taskCard.querySelector("p.placeholder");
        if (placeholder) placeholder.remove();
        s.timeline.add(ev);
      }
      if (ev.type.indexOf("planner.") === 0 || ev.type === "thread.LlmCompleted" || ev.type === "thread.ThreadDone" || ev.type === "thread.ThreadFailed" ||
          ev.type === "thread.UserQuestionAsked" || ev.type === "thread.UserAnswered" || ev.type.indexOf("session.") === 0) later();
    });
  });
}

function route() {
  var m = /^#\/s\/(.+)$/.exec(location.hash);
  if (m) showSession(decodeURIComponent(m[1])); else showList();
}
getJson("/api/info").then(function (i) {
  info = i;
  document.getElementById("store").textContent = i.store;
  var mode = document.getElementById("mode");
  mode.textContent = i.allowAnswer ? "answers on" : "read-only";
}).catch(function () {}).then(function () {
  window.addEventListener("hashchange", route);
  route();
});
`

const favicon =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="4" fill="#111827"/><circle cx="5" cy="8" r="2" fill="#60a5fa"/><circle cx="11" cy="5" r="2" fill="#22c55e"/><circle cx="11" cy="11" r="2" fill="#f59e0b"/></svg>'
  )

/**
 * The page, as served at `/`.
 *
 * @since 0.1.0
 * @category page
 */
export const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dabgent</title>
<link rel="icon" href="${favicon}">
<style>${css}</style>
</head>
<body>
<header>
  <a class="brand" href="#/">dab<span>gent</span></a>
  <nav><a href="#/">Sessions</a></nav>
  <span class="spacer"></span>
  <span class="meta" id="store"></span>
  <span class="badge" id="mode"></span>
  <span class="conn" id="conn">offline</span>
</header>
<main id="app"></main>
<script>${script}</script>
</body>
</html>
`
