// The staff console (/console): asks for a staff key and staff id, keeps them in the tab's
// sessionStorage, follows /v1/alerts/stream with fetch(), shows the active alerts by level with
// an acknowledge button each, and the incident board.
"use strict";
const KEY = "fazhi.console.key", STAFF = "fazhi.console.staff";
const LEVELS = [["red", "红色预警（一级）"], ["orange", "橙色预警（二级）"], ["yellow", "黄色预警（三级）"], ["blue", "蓝色预警（四级）"]];
const CAP = { actual: "", exercise: "演练", test: "测试", system: "系统", draft: "草稿" };
const BOARD = [["reported", "已报告"], ["responding", "应急响应中"], ["recovering", "恢复重建"]];
// The alert event types, as the server names them (from the contract).
const TYPES = JSON.parse(document.body.dataset.types);
const alerts = new Map();
let me = null, lastId = null, stopped = false;

const $ = (id) => document.getElementById(id);
const headers = () => ({ Authorization: "Bearer " + sessionStorage.getItem(KEY) });
function text(tag, content, cls) { const el = document.createElement(tag); el.textContent = content; if (cls) el.className = cls; return el; }
// Times in China time (UTC+8, no daylight saving), whatever the browser's zone: 2026-12-07 09:30.
function when(iso) { return iso ? new Date(Date.parse(iso) + 8 * 3600e3).toISOString().slice(0, 16).replace("T", " ") : ""; }

async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers || {}) } });
  if (response.status === 401) { logout("密钥无效或已撤销，请重新输入。"); throw new Error("401"); }
  return response;
}

function keep(item) {
  const a = { ...item };
  if (a.cap_status === undefined) a.cap_status = a.status;
  alerts.set(a.alert_id, a);
}

function apply(event) {
  const d = event.data;
  if (event.type === TYPES.issued) {
    for (const ref of d.references || []) alerts.delete(ref);
    if (d.msg_type !== "cancel") keep({ ...d, cap_status: d.status, sent: event.time, acknowledged: false });
  } else if (event.type === TYPES.acknowledged) {
    const a = alerts.get(d.alert_id); if (a) a.acknowledged = true;
  } else if (event.type === TYPES.escalated) {
    const a = alerts.get(d.alert_id); if (a) a.escalated_at = d.escalated_at;
  } else if (event.type === TYPES.expired) {
    alerts.delete(d.alert_id);
  }
  render();
}

function card(a) {
  const li = document.createElement("li");
  li.className = "alert"; li.dataset.level = a.level; li.dataset.alertId = a.alert_id;
  li.dataset.acknowledged = String(!!a.acknowledged);
  const tags = document.createElement("div");
  if (CAP[a.cap_status]) tags.append(text("span", CAP[a.cap_status], "tag drill"));
  if (a.msg_type === "update") tags.append(text("span", "更新", "tag"));
  if (a.escalated_at) tags.append(text("span", "已超时升级", "tag escalated"));
  if (a.acknowledged) tags.append(text("span", "已确认", "tag acked"));
  li.append(tags, text("div", a.headline, "headline"));
  li.append(text("div", `${a.category} · ${a.area || ""}`, "meta"));
  li.append(text("div", `发布 ${when(a.sent || a.effective)} · 失效 ${when(a.expires)}`, "meta"));
  if (a.instruction) li.append(text("div", "措施：" + a.instruction));
  const button = text("button", a.acknowledged ? "已确认" : "确认收到", "ack");
  button.type = "button"; button.disabled = !!a.acknowledged;
  button.addEventListener("click", () => acknowledge(a.alert_id, button));
  li.append(button);
  return li;
}

function render() {
  const box = $("levels"); box.replaceChildren();
  const all = [...alerts.values()];
  for (const [level, name] of LEVELS) {
    const mine = all.filter((a) => a.level === level);
    const section = document.createElement("section");
    section.className = "level"; section.dataset.level = level;
    section.append(text("h3", `${name} · ${mine.length}`));
    const ul = document.createElement("ul"); ul.className = "alerts";
    mine.sort((x, y) => String(y.sent || "").localeCompare(String(x.sent || "")));
    for (const a of mine) ul.append(card(a));
    if (!mine.length) ul.append(text("li", "无", "empty"));
    section.append(ul); box.append(section);
  }
  $("count").textContent = `（${all.length} 条）`;
  const red = all.some((a) => a.level === "red" && !a.acknowledged && a.cap_status === "actual");
  document.body.classList.toggle("has-red", red);
  document.title = (red ? "【红色预警】" : "") + "应急值守台 · 碑林区突发事件应对";
}

async function acknowledge(alertId, button) {
  button.disabled = true; button.textContent = "提交中…";
  const now = new Date().toISOString();
  const id = (crypto.randomUUID && crypto.randomUUID()) || `ack-${Date.now()}-${Math.random().toString(16).slice(2)}`;
  const body = {
    specversion: "1.0", id, source: `/units/${me.unit}`, type: TYPES.acknowledged,
    subject: alertId, time: now, datacontenttype: "application/json",
    data: { alert_id: alertId, staff_id: sessionStorage.getItem(STAFF), acknowledged_at: now },
  };
  const response = await api("/v1/events", {
    method: "POST", headers: { "Content-Type": "application/cloudevents+json" }, body: JSON.stringify(body),
  });
  if (response.status === 202) {
    const a = alerts.get(alertId); if (a) a.acknowledged = true; render();
  } else {
    const problem = await response.json().catch(() => ({}));
    button.disabled = false; button.textContent = "确认收到";
    alert("确认失败：" + (problem.detail || response.status));
  }
}

async function loadAlerts() {
  const response = await api("/v1/alerts?active=true&limit=500");
  if (!response.ok) return;
  const body = await response.json();
  for (const item of body.items) keep(item);
  render();
}

async function loadBoard() {
  const board = $("board"); board.replaceChildren();
  for (const [status, name] of BOARD) {
    const section = document.createElement("section");
    section.dataset.status = status;
    const response = await api(`/v1/incidents?status=${status}&limit=100`);
    const items = response.ok ? (await response.json()).items : [];
    section.append(text("h3", `${name} · ${items.length}`));
    const ul = document.createElement("ul");
    for (const i of items) {
      const level = i.response_level ? ` · ${i.response_level_label_zh || i.response_level}响应` : "";
      ul.append(text("li", `【${i.grade_label_zh || i.grade}】${i.title}（${i.category_label_zh || i.category}）${level}`));
    }
    if (!items.length) ul.append(text("li", "无", "empty"));
    section.append(ul); board.append(section);
  }
}

function live(state, label) { $("live").dataset.state = state; $("live").textContent = label; }

async function follow() {
  while (!stopped) {
    try {
      const extra = lastId ? { "Last-Event-ID": lastId } : {};
      const response = await api("/v1/alerts/stream", { headers: { Accept: "text/event-stream", ...extra } });
      if (!response.ok || !response.body) throw new Error(String(response.status));
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("id: ")) { lastId = line.slice(4); live("live", "实时连接中"); }
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data) apply(JSON.parse(data));
        }
      }
    } catch (error) {
      if (String(error.message) === "401") return;
    }
    if (stopped) return;
    live("lost", "连接中断，重连中…");
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function start() {
  const response = await api("/v1/whoami").catch(() => null);
  if (!response || !response.ok) return;
  me = await response.json();
  if (!me.roles.some((r) => ["staff", "supervisor", "operator"].includes(r))) {
    logout("该密钥不是值班人员密钥（需要 staff 角色）。"); return;
  }
  $("login").hidden = true; $("console").hidden = false; $("change-key").hidden = false;
  $("who").textContent = `${me.unit_name} · 工号 ${sessionStorage.getItem(STAFF)}`;
  stopped = false;
  follow();
  await loadAlerts();
  await loadBoard();
  setInterval(loadBoard, 30000);
}

function logout(message) {
  stopped = true;
  sessionStorage.removeItem(KEY);
  $("console").hidden = true; $("login").hidden = false; $("change-key").hidden = true;
  $("login-error").textContent = message || "";
  live("off", "未连接");
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $("key").value.trim());
  sessionStorage.setItem(STAFF, $("staff").value.trim());
  $("key").value = "";
  start();
});
$("logout").addEventListener("click", () => logout());
$("change-key").addEventListener("click", () => logout());
if (sessionStorage.getItem(KEY)) start(); else $("login").hidden = false;
