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
  if (r.ok) { $("panel").innerHTML = await r.text(); }
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
  if (id) lastId = id;
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
      $("status").textContent = "实时连接中";
      document.body.dataset.live = "1";
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
