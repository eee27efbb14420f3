"""`GET /v1/stream` (SSE, resumable with `Last-Event-ID`): every item opened, escalated,
rectified or closed and every overdue notice, as CloudEvents; and the supervisor dashboard
`/dashboard`, a zh-CN page whose panel is rendered by the server and which follows the stream.

The page holds no data until a key is given: browsers cannot send a key with a plain page
request or an EventSource, so the page asks for the supervisor's key once, keeps it in the
tab's `sessionStorage` (gone when the tab closes, never in a cookie or the URL), fetches the
server-rendered panel with it, and reads the stream with `fetch()` and a body reader."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import HTMLResponse, StreamingResponse

from fazhi.auth import Principal
from fazhi.contracts.supervision import ItemLevel
from fazhi.envelope import CHINA_TZ
from fazhi.live import KafkaFeed, sse_response
from fazhi.problems import Problem
from fazhi.roles import Role
from fazhi.runtime import Caller, ServiceRuntime, runtime
from supervision.config import Settings
from supervision.events import CATALOG
from supervision.overview import overview
from supervision.reports import KIND_ZH, unit_name
from supervision.responses import documented, strict_query
from supervision.store import ITEMS

STREAM_TYPES = frozenset(
    {
        "supervision.item.opened",
        "supervision.item.escalated",
        "supervision.item.closed",
        "supervision.item.rectified",
        "supervision.item.accepted",
        "supervision.item.reopened",
        "supervision.task.overdue",
    }
)
NEWEST = 20


def _supervisor(who: Principal) -> Principal:
    if not who.has(Role.SUPERVISOR, Role.OPERATOR):
        raise Problem(403, "This needs a supervisor or operator key.", kind="forbidden-role")
    return who


async def supervisor(who: Caller) -> Principal:
    return _supervisor(who)


Supervisor = Annotated[Principal, Depends(supervisor)]


def router() -> APIRouter:
    api = APIRouter(tags=["live"])

    @api.get(
        "/v1/stream",
        summary="Live feed (SSE) of supervision: items opened, escalated, closed; overdue tasks",
        description="Supervisor or operator key. Each message's `id` is a position: reconnect "
        "with it as `Last-Event-ID` to get exactly what was missed. `event` is the CloudEvent "
        "type, `data` the structured CloudEvent.",
        response_class=StreamingResponse,
        # An endless stream: schema fuzzers would wait on it forever (README, "Live").
        include_in_schema=False,
    )
    async def stream(
        who: Supervisor,
        rt: Annotated[ServiceRuntime, Depends(runtime)],
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        settings = rt.settings
        heartbeat = settings.stream_heartbeat_s if isinstance(settings, Settings) else 15.0
        feed = KafkaFeed(settings.kafka(), [CATALOG.topic], STREAM_TYPES, name="supervision")
        return await sse_response(feed, last_event_id, heartbeat_s=heartbeat)

    @api.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    async def dashboard() -> HTMLResponse:
        return HTMLResponse(DASHBOARD, headers={"Cache-Control": "no-store"})

    @api.get(
        "/dashboard/panel",
        response_class=HTMLResponse,
        summary="The dashboard's panel, rendered by the server (supervisor or operator key)",
        responses=documented(supervisor=True, media=("text/html",)),
        dependencies=[Depends(strict_query())],
    )
    async def panel(
        who: Supervisor, rt: Annotated[ServiceRuntime, Depends(runtime)]
    ) -> HTMLResponse:
        return HTMLResponse(await render_panel(rt), headers={"Cache-Control": "no-store"})

    return api


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    return ""


async def render_panel(rt: ServiceRuntime) -> str:
    seen = await overview(rt.db)
    levels = seen.by_level()
    e = html.escape
    parts = ['<section id="levels"><h2>未办结督办事项（按等级）</h2><ul class="levels">']
    for level in reversed(list(ItemLevel)):
        parts.append(
            f'<li class="level-{e(level)}" data-level="{e(level)}">{e(level.label_zh)}'
            f"<strong>{levels.get(str(level), 0)}</strong></li>"
        )
    parts.append("</ul></section>")
    parts.append('<section id="overdue"><h2>逾期任务（按责任单位）</h2><table>')
    parts.append("<thead><tr><th>单位</th><th>逾期任务</th></tr></thead><tbody>")
    for unit, n in sorted(seen.overdue.items(), key=lambda kv: (-kv[1], kv[0])):
        parts.append(f'<tr data-unit="{e(unit)}"><td>{e(unit_name(unit))}</td><td>{n}</td></tr>')
    parts.append("</tbody></table>")
    parts.append(f"<p>逾期未完成措施：{len(seen.overdue_measures)}项</p></section>")
    newest = (
        await rt.db[ITEMS]
        .find({"status": "open"})
        .sort("opened_at", -1)
        .limit(NEWEST)
        .to_list(None)
    )
    parts.append('<section id="newest"><h2>最新督办事项</h2><ol class="items">')
    for item in newest:
        kind = KIND_ZH.get(item["kind"], item["kind"])
        parts.append(
            f'<li data-item-id="{e(item["_id"])}" class="level-{e(item.get("level", ""))}">'
            f"<time>{e(_time(item.get('opened_at')))}</time> "
            f"<span class=kind>{e(kind)}</span> "
            f"<span class=unit>{e(unit_name(item['unit']))}</span> "
            f"<span class=title>{e(item.get('title') or item['_id'])}</span></li>"
        )
    parts.append("</ol></section>")
    return "".join(parts)


DASHBOARD = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>督查督办 · 实时看板</title>
<style>
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f5f7;color:#222}
header{background:#9e1b1b;color:#fff;padding:.6em 1em;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:1.2em;margin:0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(20em,1fr));gap:1em;padding:1em}
section{background:#fff;border-radius:6px;padding:.6em 1em;box-shadow:0 1px 2px #0002}
h2{font-size:1em;margin:.2em 0 .6em}
ul.levels{list-style:none;display:flex;gap:.6em;padding:0}
ul.levels li{flex:1;text-align:center;padding:.4em;border-radius:4px;color:#fff}
ul.levels strong{display:block;font-size:1.6em}
.level-red{background:#c62828;color:#fff}.level-orange{background:#ef6c00;color:#fff}
.level-yellow{background:#f9a825}.level-blue{background:#1565c0;color:#fff}
ol.items,ol#live{padding-left:1.2em}
ol.items li,ol#live li{margin:.2em 0;padding:.2em .4em;border-radius:3px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.2em .4em;text-align:left}
#keyform{padding:1em}#status{font-size:.9em}
</style>
</head>
<body>
<header><h1>督查督办 · 实时看板</h1><span id="status">未连接</span></header>
<form id="keyform" hidden>
  <label>督查人员密钥（仅保存在本标签页）：<input id="key" type="password" autocomplete="off" required></label>
  <button type="submit">进入</button> <span id="keyerror" role="alert"></span>
</form>
<main>
  <div id="panel"></div>
  <section id="feed"><h2>实时动态</h2><ol id="live"></ol></section>
</main>
<script>
"use strict";
const KEY = "fazhi.supervision.key";
const TYPES = {"supervision.item.opened":"立项督办","supervision.item.escalated":"升级",
  "supervision.item.closed":"办结","supervision.item.accepted":"验收办结",
  "supervision.item.rectified":"报送整改","supervision.item.reopened":"重新督办",
  "supervision.task.overdue":"任务逾期"};
const STEPS = {"supervise":"督办","interview":"约谈","public_notice":"通报"};
let lastId = null, refreshTimer = null, reading = false;
const $ = (id) => document.getElementById(id);
function key() { return sessionStorage.getItem(KEY); }
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
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadPanel, 300);
}
function show(event) {
  const d = event.data || {};
  const li = document.createElement("li");
  if (d.item_id) { li.dataset.itemId = d.item_id; li.className = "level-" + (d.level || "blue"); }
  if (d.task_id) { li.dataset.taskId = d.task_id; }
  const when = new Date(event.time).toLocaleString("zh-CN", {hour12: false});
  let text = when + " " + (TYPES[event.type] || event.type) + " ";
  if (d.item_id) { text += d.item_id + (d.escalation ? "（" + (STEPS[d.escalation] || d.escalation) + "）" : ""); }
  if (d.task_id) { text += d.task_id + " 逾期" + d.days_overdue + "天"; }
  li.textContent = text;
  $("live").prepend(li);
  while ($("live").children.length > 50) { $("live").lastChild.remove(); }
}
function handle(block) {
  let id = null, type = null, data = "";
  for (const line of block.split("\\n")) {
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
        while ((cut = buffer.indexOf("\\n\\n")) >= 0) {
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
</script>
</body>
</html>
"""
