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

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import HTMLResponse, StreamingResponse

from fazhi.contracts import type_of
from fazhi.contracts.envelope import CHINA_TZ, ID_PATTERN
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
    ItemStatus,
    TaskOverdue,
)
from fazhi.contracts.terms import with_labels
from fazhi.roles import Role
from fazhi.rules.units import is_unit_code
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
from supervision.domain import ITEM_LIFECYCLE, Accept, ReopenItem
from supervision.events import CATALOG
from supervision.items.views import TERMS
from supervision.overview import overview
from supervision.pages import PAGES
from supervision.reports import KIND_ZH, unit_name
from supervision.responses import documented, strict_query
from supervision.store import ITEM_HISTORY, ITEMS

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
RESOLUTIONS = {"accepted": "整改经验收通过"}
"""An item's `resolution` where the domain gives a code (`supervision.domain.transition_item`);
any other is the text its closing event gave."""
LINKED = "关联新线索"
"""A history row `linked`: another trigger of an open item (its type is `item.opened`)."""
ACTIONS = (
    (Accept, ItemAccepted, "accepted_at", "note", "验收办结", "验收意见（可不填）"),
    (ReopenItem, ItemReopened, "reopened_at", "reason", "退回重新督办", "退回理由（必填）"),
)
"""What a supervisor may do to an item from the dashboard: the domain's action, the event that
asks for it, its payload's time and text fields, the button and the text's label. Which of them
an item offers is the domain's `ITEM_LIFECYCLE` for its status."""
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

    @api.get(
        "/dashboard/items/{item_id}",
        response_class=HTMLResponse,
        summary="One item as the dashboard shows it: its facts and its history (supervisor or "
        "operator key)",
        responses={
            **documented(supervisor=True, media=("text/html",)),
            404: {"description": "Not known (yet): events are projected asynchronously"},
        },
        dependencies=[Depends(strict_query())],
    )
    async def item_detail(
        who: Supervisor,
        item_id: Annotated[str, Path(pattern=ID_PATTERN, max_length=128)],
        rt: Annotated[ServiceRuntime, Depends(runtime)],
    ) -> HTMLResponse:
        doc = await rt.db[ITEMS].find_one({"_id": item_id})
        if doc is None:  # a fragment too: the dialog shows it (a pushed item may come first)
            return HTMLResponse(
                '<p class="missing" id="itemtitle">该事项尚未入库，请稍后再试。</p>',
                404,
                headers=NO_STORE,
            )
        rows = await rt.db[ITEM_HISTORY].find({"item_id": item_id}).to_list(None)
        rows.sort(key=lambda row: row.get("seq", 0))
        return HTMLResponse(render_item(doc, rows, who), headers=NO_STORE)

    return api


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    return ""


def _actions(status: str, who: Principal) -> list[dict[str, Any]]:
    """The forms of the actions the item's status accepts, posted as `who`'s unit (an operator
    key, which belongs to no unit, gets none)."""
    if not is_unit_code(who.unit):
        return []
    try:
        accepted = ITEM_LIFECYCLE.accepts(ItemStatus(status))
    except ValueError:
        return []
    return [
        {
            "type": type_of(model),
            "source": f"/units/{who.unit}",
            "time_field": time_field,
            "text_field": text_field,
            "required": model.model_fields[text_field].is_required(),
            "button": button,
            "label": label,
        }
        for action, model, time_field, text_field, button, label in ACTIONS
        if action in accepted
    ]


def render_item(doc: dict[str, Any], history: list[dict[str, Any]], who: Principal) -> str:
    """An item's facts, history and the actions `who` may take on it, in Chinese
    (`templates/item.html`); what the projection keeps of titles, reasons and notes is redacted
    already (`supervision.items.flows`)."""
    rectification = doc.get("rectification") or {}
    resolution = doc.get("resolution") or ""
    labels = with_labels({"escalation": str(Escalation.SUPERVISE), **doc}, TERMS)
    return PAGES.text(
        "item.html",
        item={
            "id": doc["_id"],
            "title": doc.get("title") or doc["_id"],
            "level": doc.get("level", ""),
            "level_zh": labels.get("level_label_zh", ""),
            "kind": KIND_ZH.get(doc.get("kind", ""), doc.get("kind", "")),
            "unit": unit_name(doc.get("unit", "")),
            "status": doc.get("status", ""),
            "status_zh": labels.get("status_label_zh", ""),
            "escalation_zh": labels.get("escalation_label_zh", ""),
            "opened_at": _time(doc.get("opened_at")),
            "due_at": _time(doc.get("due_at")),
            "escalate_day": doc.get("escalate_day") or "",
            "closed_at": _time(doc.get("closed_at")),
            "days_to_close": doc.get("days_to_close"),
            "resolution": RESOLUTIONS.get(resolution, resolution),
            "rectification": rectification.get("note") or "",
        },
        history=[
            {
                "change": row.get("change", ""),
                "change_zh": LINKED
                if row.get("change") == "linked"
                else TYPE_NAMES.get(row.get("type", ""), row.get("change", "")),
                "time": _time(row.get("time")),
                "escalation_zh": with_labels(dict(row), TERMS).get("escalation_label_zh", "")
                if row.get("change") == "escalated"
                else "",
                "detail": row.get("reason") or row.get("note") or row.get("resolution") or "",
            }
            for row in history
        ],
        actions=_actions(doc.get("status", ""), who),
    )


def _listed(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["_id"],
        "level": item.get("level", ""),
        "opened_at": _time(item.get("opened_at")),
        "kind": KIND_ZH.get(item["kind"], item["kind"]),
        "unit": unit_name(item["unit"]),
        "title": item.get("title") or item["_id"],
        "rectified_at": _time((item.get("rectification") or {}).get("rectified_at")),
    }


async def _newest(rt: ServiceRuntime, status: ItemStatus) -> list[dict[str, Any]]:
    found = (
        await rt.db[ITEMS]
        .find({"status": str(status)})
        .sort("opened_at", -1)
        .limit(NEWEST)
        .to_list(None)
    )
    return [_listed(item) for item in found]


async def render_panel(rt: ServiceRuntime) -> str:
    seen = await overview(rt.db)
    levels = seen.by_level()
    newest = await _newest(rt, ItemStatus.OPEN)
    awaiting = await _newest(rt, ItemStatus.RECTIFYING)
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
        newest=newest,
        awaiting=awaiting,
    )
