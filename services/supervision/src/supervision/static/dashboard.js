// The supervisor dashboard (/dashboard): asks for a supervisor key once, keeps it in the tab's
// sessionStorage, loads the panel the server renders and follows /v1/stream with fetch().
"use strict";
const KEY = "fazhi.supervision.key";
const $ = (id) => document.getElementById(id);
// The event types shown and their names, and the escalation steps, as the server names them.
const TYPES = JSON.parse($("feed").dataset.types);
const STEPS = JSON.parse($("feed").dataset.steps);
let lastId = null, refreshTimers = [], reading = false;
function key() { return sessionStorage.getItem(KEY); }
// China time (UTC+8, no daylight saving) as the server renders the panel's, whatever the
// browser's zone: 2026-12-07 09:30.
function chinaTime(iso) { return new Date(Date.parse(iso) + 8 * 3600e3).toISOString().slice(0, 16).replace("T", " "); }
function askKey(message) {
  sessionStorage.removeItem(KEY);
  $("keyform").hidden = false;
  $("keyerror").textContent = message || "";
  $("status").textContent = "未连接";
}
async function loadPanel() {
  const r = await fetch("/dashboard/panel", {headers: {"Authorization": "Bearer " + key()}});
  if (r.status === 401 || r.status === 403) { askKey("密钥无效或无督查权限"); return false; }
  if (r.ok) {
    // The panel is replaced whole: a keyboard user's item keeps its focus.
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("#panel li[data-item-id]");
    const where = focused ? [focused.closest("section").id, focused.dataset.itemId] : null;
    $("panel").innerHTML = await r.text();
    if (where) {
      const again = document.querySelector("#" + where[0] + " li[data-item-id='" + CSS.escape(where[1]) + "']");
      if (again) again.focus();
    }
  }
  return r.ok;
}
// The panel is read again 0.3 s after the last push, and once more 3 s after it: a push can
// come before the store holds what it announces (a busy worker writes its batch after
// publishing), and the panel has no other reason to be read again.
function scheduleRefresh() {
  refreshTimers.forEach(clearTimeout);
  refreshTimers = [setTimeout(loadPanel, 300), setTimeout(loadPanel, 3000)];
}
function show(event) {
  const d = event.data || {};
  const li = document.createElement("li");
  if (d.item_id) {
    li.dataset.itemId = d.item_id;
    li.className = "level-" + (d.level || "blue");
    li.tabIndex = 0;
    li.setAttribute("role", "button");
    li.title = "查看办理过程";
  }
  if (d.task_id) { li.dataset.taskId = d.task_id; }
  const time = document.createElement("time");
  time.dateTime = event.time;
  time.textContent = chinaTime(event.time);
  let text = " " + (TYPES[event.type] || event.type) + " ";
  if (d.item_id) { text += d.item_id + (d.escalation ? "（" + (STEPS[d.escalation] || d.escalation) + "）" : ""); }
  if (d.task_id) { text += d.task_id + " 逾期" + d.days_overdue + "天"; }
  li.append(time, text);
  $("live").prepend(li);
  while ($("live").children.length > 50) { $("live").lastChild.remove(); }
}
function handle(block) {
  let id = null, type = null, data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("id:")) id = line.slice(3).trim();
    else if (line.startsWith("event:")) type = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (id) {
    // The stream's first id is where the server started reading: from then on nothing is
    // missed, so only then is the page live (the answer's headers come before it).
    lastId = id;
    $("status").textContent = "实时连接中";
    document.body.dataset.live = "1";
  }
  if (type && data) { show(JSON.parse(data)); scheduleRefresh(); }
}
async function follow() {
  if (reading) return;
  reading = true;
  while (key()) {
    try {
      const headers = {"Authorization": "Bearer " + key(), "Accept": "text/event-stream"};
      if (lastId) headers["Last-Event-ID"] = lastId;
      const r = await fetch("/v1/stream", {headers});
      if (r.status === 401 || r.status === 403) { askKey("密钥无效或无督查权限"); break; }
      if (!r.ok) throw new Error("stream " + r.status);
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, {stream: true});
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          handle(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch (err) { /* reconnects below with the last id */ }
    $("status").textContent = "重新连接…";
    document.body.dataset.live = "";
    await new Promise((ok) => setTimeout(ok, 2000));
  }
  reading = false;
}
// An item of either list opens in a dialog: its facts and history, rendered by the server. A
// pushed item can come before the store holds it (see scheduleRefresh): asked again once.
async function openItem(id, again = true) {
  const r = await fetch("/dashboard/items/" + encodeURIComponent(id), {headers: {"Authorization": "Bearer " + key()}});
  if (r.status === 401 || r.status === 403) { askKey("密钥无效或无督查权限"); return; }
  if (r.status === 404 && again) { setTimeout(() => openItem(id, false), 500); return; }
  if (r.ok || r.status === 404) { $("itembody").innerHTML = await r.text(); }
  else { $("itembody").textContent = "读取失败（" + r.status + "），请稍后再试。"; }
  if (!$("item").open) { $("item").showModal(); }
}
// An action of the dialog (accept a rectification, reopen) is a CloudEvent the page posts with
// the supervisor's key, as a department system would: its type, source and fields come from the
// form the server rendered. Its id is kept until the api answers 202, so a retry after a failed
// answer never posts it twice. Then its receipt (GET /v1/events/{id}) says what became of it: a
// refusal is shown with the domain's reason; once applied, the dialog shows the item as it is
// (the receipt can come a moment before the item's new state is stored: read until it shows).
function newId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}
function problemText(p) {
  const fields = (p.errors || []).map((e) => e.field + "：" + e.message).join("；");
  return (p.detail || p.title || "") + (fields ? "（" + fields + "）" : "");
}
const pause = (ms) => new Promise((ok) => setTimeout(ok, ms));
function auth() { return {"Authorization": "Bearer " + key()}; }
function buttons(enabled) {
  $("itembody").querySelectorAll("form.act button").forEach((b) => { b.disabled = !enabled; });
}
async function receiptOf(id) {
  for (let i = 0; i < 120; i++) {
    await pause(250);
    const r = await fetch("/v1/events/" + encodeURIComponent(id), {headers: auth()});
    if (!r.ok) continue;
    const receipt = await r.json();
    if (receipt.state !== "accepted") return receipt;
  }
  return null;
}
// Whether the dialog still shows item `id` (another may have been opened meanwhile).
function showing(id) {
  const article = $("itembody").querySelector("article");
  return $("item").open && article !== null && article.dataset.itemId === id;
}
async function showWhenChanged(id, before) {
  for (let i = 0; i < 20; i++) {
    if (!showing(id)) return;
    const r = await fetch("/dashboard/items/" + encodeURIComponent(id), {headers: auth()});
    if (r.ok && showing(id)) {
      const html = await r.text();
      const holder = document.createElement("div");
      holder.innerHTML = html;
      const fresh = holder.querySelector("article");
      if ((fresh && fresh.dataset.status !== before) || i === 19) { $("itembody").innerHTML = html; return; }
    }
    await pause(250);
  }
}
async function act(form) {
  const d = form.dataset, outcome = $("itembody").querySelector(".outcome");
  const article = $("itembody").querySelector("article");
  const before = article ? article.dataset.status : "";
  if (!d.eventId) d.eventId = newId();
  const now = new Date().toISOString();
  const data = {item_id: d.item, [d.timeField]: now};
  const text = form.elements.text.value.trim();
  if (text) data[d.textField] = text;
  const event = {specversion: "1.0", id: d.eventId, source: d.source, type: d.type, subject: d.item,
                 time: now, datacontenttype: "application/json", data};
  buttons(false);
  outcome.textContent = "正在提交…";
  let r = null;
  try {
    r = await fetch("/v1/events", {method: "POST", body: JSON.stringify(event),
      headers: {...auth(), "Content-Type": "application/cloudevents+json"}});
  } catch (err) { /* no answer: the same id is posted again on the next try */ }
  if (!r || r.status !== 202) {
    let why = r ? "（" + r.status + "）" : "（网络错误）";
    if (r) { try { why = "：" + problemText(await r.json()); } catch (err) { /* not a problem */ } }
    outcome.textContent = "未提交" + why;
    buttons(true);
    return;
  }
  outcome.textContent = "已受理，正在办理…";
  const receipt = await receiptOf(d.eventId);
  delete d.eventId;  // taken: the next action is another event
  if (receipt && receipt.state === "refused") {
    // Most often the item moved on meanwhile (another supervisor answered first): show it as
    // it stands (a refusal is settled once its batch is stored), with the domain's reason.
    const problem = receipt.problem || {};
    if (!showing(d.item)) return;
    const r2 = await fetch("/dashboard/items/" + encodeURIComponent(d.item), {headers: auth()});
    if (!showing(d.item)) return;
    if (r2.ok) { $("itembody").innerHTML = await r2.text(); }
    const status = $("itembody").querySelector("dd.status");
    const shown = $("itembody").querySelector(".outcome") || outcome;
    shown.textContent = "未能办理：" + (problem.state && status ? "该事项现为「" + status.textContent + "」，此操作已不适用。" : "") + problemText(problem);
    buttons(true);
    return;
  }
  if (!receipt) { outcome.textContent = "已受理；办理结果稍后可在此查看（关闭后再次打开）。"; return; }
  await showWhenChanged(d.item, before);
  loadPanel();
}
document.addEventListener("submit", (e) => {
  const form = e.target.closest && e.target.closest("form.act");
  if (form) { e.preventDefault(); act(form); }
});
// Closed, the dialog gives the focus back to its item (the list it came from may be new).
$("item").addEventListener("close", () => {
  const article = $("itembody").querySelector("article");
  const li = article && document.querySelector("li[data-item-id='" + CSS.escape(article.dataset.itemId) + "']");
  if (li) li.focus();
});
function itemOf(event) { return event.target.closest && event.target.closest("li[data-item-id]"); }
document.addEventListener("click", (e) => { const li = itemOf(e); if (li) openItem(li.dataset.itemId); });
document.addEventListener("keydown", (e) => {
  const li = itemOf(e);
  if (li && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); openItem(li.dataset.itemId); }
});
async function start() {
  $("keyform").hidden = true;
  if (await loadPanel()) { follow(); }
}
$("keyform").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $("key").value.trim());
  $("key").value = "";
  start();
});
if (key()) { start(); } else { askKey(""); }
