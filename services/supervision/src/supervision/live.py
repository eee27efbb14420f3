"""`GET /v1/stream` (SSE, resumable with `Last-Event-ID`): every item opened, escalated,
rectified or closed and every overdue notice, as CloudEvents; and the supervisor dashboard
`/dashboard`, a zh-CN page whose panel is rendered by the server and which follows the stream.

The page holds no data until a key is given: browsers cannot send a key with a plain page
request or an EventSource, so the page (`templates/dashboard.html`, `static/dashboard.js`) asks
for the supervisor's key once, keeps it in the tab's `sessionStorage` (gone when the tab closes,
never in a cookie or the URL), fetches the server-rendered panel with it, and reads the stream
with `fetch()` and a body reader. The event types it shows come from the contract, named in the
page's `data-types`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import HTMLResponse, StreamingResponse

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.supervision import (
    CONTRACT,
    Escalation,
    ItemAccepted,
    ItemClosed,
    ItemEscalated,
    ItemLevel,
    ItemOpened,
    ItemRectified,
    ItemReopened,
    TaskOverdue,
)
from fazhi.roles import Role
from fazhi.web import (
    Caller,
    KafkaFeed,
    Principal,
    Problem,
    ServiceRuntime,
    runtime,
    sse_response,
    static_router,
)
from supervision.config import Settings
from supervision.events import CATALOG
from supervision.overview import overview
from supervision.pages import PAGES
from supervision.reports import KIND_ZH, unit_name
from supervision.responses import documented, strict_query
from supervision.store import ITEMS

SHOWN = {
    ItemOpened: "立项督办",
    ItemEscalated: "升级",
    ItemClosed: "办结",
    ItemAccepted: "验收办结",
    ItemRectified: "报送整改",
    ItemReopened: "重新督办",
    TaskOverdue: "任务逾期",
}
"""What the stream carries, by payload, with the name the dashboard gives it."""
TYPE_NAMES = {t.name: SHOWN[t.model] for t in CONTRACT.types.values() if t.model in SHOWN}
STREAM_TYPES = frozenset(TYPE_NAMES)
NEWEST = 20
NO_STORE = {"Cache-Control": "no-store"}


def _supervisor(who: Principal) -> Principal:
    if not who.has(Role.SUPERVISOR, Role.OPERATOR):
        raise Problem(403, "This needs a supervisor or operator key.", kind="forbidden-role")
    return who


async def supervisor(who: Caller) -> Principal:
    return _supervisor(who)


Supervisor = Annotated[Principal, Depends(supervisor)]


def router() -> APIRouter:
    api = APIRouter(tags=["live"])
    api.include_router(static_router("supervision"))

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
        return PAGES.render(
            "dashboard.html",
            headers=NO_STORE,
            title="督查督办 · 实时看板",
            heading="督查督办 · 实时看板",
            types=TYPE_NAMES,
            steps={str(step): step.label_zh for step in Escalation},
        )

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
        return HTMLResponse(await render_panel(rt), headers=NO_STORE)

    return api


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    return ""


async def render_panel(rt: ServiceRuntime) -> str:
    seen = await overview(rt.db)
    levels = seen.by_level()
    newest = (
        await rt.db[ITEMS]
        .find({"status": "open"})
        .sort("opened_at", -1)
        .limit(NEWEST)
        .to_list(None)
    )
    return PAGES.text(
        "panel.html",
        levels=[
            {"code": str(level), "label_zh": level.label_zh, "count": levels.get(str(level), 0)}
            for level in reversed(list(ItemLevel))
        ],
        overdue=[
            {"unit": unit, "name": unit_name(unit), "count": n}
            for unit, n in sorted(seen.overdue.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        overdue_measures=len(seen.overdue_measures),
        newest=[
            {
                "id": item["_id"],
                "level": item.get("level", ""),
                "opened_at": _time(item.get("opened_at")),
                "kind": KIND_ZH.get(item["kind"], item["kind"]),
                "unit": unit_name(item["unit"]),
                "title": item.get("title") or item["_id"],
            }
            for item in newest
        ],
    )
