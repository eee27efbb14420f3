"""How supervision items come and go: the item events are projected through the items machine
of the domain, and other services' events that call for supervision open (or close) items: a
reaction publishes `supervision.item.opened` (or `.closed`), with an id derived from its cause,
which this worker then projects like any other. A new item is projected with its trigger as
well (`emit_opened`), so it shows one trip through Kafka sooner; its `item.opened` then finds it
open."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from fazhi.bus import HandlerContext, PoisonError, Reactions
from fazhi.contracts.emergency import AlertIssued, AlertLevel, CapStatus, MsgType
from fazhi.contracts.envelope import CHINA_TZ, ID_MAX_LENGTH, derived_id
from fazhi.contracts.supervision import (
    Escalation,
    FindingRecorded,
    ItemAccepted,
    ItemClosed,
    ItemEscalated,
    ItemKind,
    ItemLevel,
    ItemOpened,
    ItemRectified,
    ItemReopened,
    ItemStatus,
    TaskCompleted,
    TaskOverdue,
    TrainingRecorded,
)
from fazhi.rules import redact
from fazhi.store import OWNERS, Document
from supervision.config import Settings
from supervision.domain import (
    Accept,
    Close,
    Escalate,
    ItemAction,
    Ladder,
    Rectify,
    ReopenItem,
    SupervisionItem,
    open_item,
    transition_item,
)
from supervision.metrics import supervision_metrics
from supervision.store import FINDINGS, ITEM_HISTORY, ITEMS, TASKS, TRAININGS, day_key

MAX_SOURCE_EVENTS = 50
"""Triggers linked to one item at most (an alert chain's messages): the document stays bounded."""


@dataclass(frozen=True)
class Policy:
    ladder: Ladder
    alert_levels: frozenset[AlertLevel]
    """Alert levels that open an item at once (orange and red; yellow and blue by choice)."""


@functools.cache
def policy() -> Policy:
    """The worker's settings, read once per process (`SUPERVISION_LADDER_DAYS`,
    `SUPERVISION_ALERT_LEVELS`)."""
    settings = Settings()
    return Policy(
        ladder=Ladder.parse(settings.ladder_days),
        alert_levels=frozenset(AlertLevel(v.strip()) for v in settings.alert_levels.split(",")),
    )


# --- projection of the item events ------------------------------------------------------


async def on_opened(ctx: HandlerContext, data: ItemOpened) -> None:
    """A new item; an item opened again by another trigger links that trigger to it (and takes
    its colour if graver)."""
    doc = await ctx.get(ITEMS, data.item_id)
    today = _day(ctx)
    if doc is not None:
        sources: list[str] = doc.get("source_event_ids", [])
        if data.source_event_id in sources or len(sources) >= MAX_SOURCE_EVENTS:
            return
        doc["source_event_ids"] = [*sources, data.source_event_id]
        if _rank(data.level) > _rank(doc.get("level", ItemLevel.BLUE)):
            doc["level"] = str(data.level)
        ctx.save(ITEMS, doc)
        _history(ctx, doc, "linked", source_event_id=data.source_event_id)
        return
    item = open_item(data.item_id, data.kind, data.unit, today, data.ladder_from)
    doc = {
        "_id": data.item_id,
        "kind": str(data.kind),
        "unit": data.unit,
        "level": str(data.level),
        "title": redact(data.title).text,
        "opened_at": ctx.event.time,
        "opened_year": today.year,
        "triggered_at": data.triggered_at,
        "due_at": data.due_at,
        "ladder_from": day_key(item.ladder_from),
        "source_event_ids": [data.source_event_id],
        "source_types": [data.source_type] if data.source_type else [],
        OWNERS: [data.unit],
    }
    _keep(ctx, doc, item, "opened")
    delay = (datetime.now(CHINA_TZ) - data.triggered_at).total_seconds()
    supervision_metrics().trigger_to_item.labels(kind=str(data.kind)).observe(max(delay, 0.0))


async def on_escalated(ctx: HandlerContext, data: ItemEscalated) -> None:
    doc, item = await _load(ctx, data.item_id)
    if Escalation(data.escalation).rank <= item.escalation.rank:
        return  # a step the item took already (a watcher's second look)
    after = transition_item(item, Escalate(data.escalation, _day(ctx), data.reason))
    _keep(ctx, doc, after, "escalated", reason=data.reason)


async def on_closed(ctx: HandlerContext, data: ItemClosed) -> None:
    await _change(ctx, data.item_id, Close(_day(ctx), data.resolution), resolution=data.resolution)


async def on_rectified(ctx: HandlerContext, data: ItemRectified) -> None:
    note = redact(data.note).text
    doc, item = await _load(ctx, data.item_id)
    after = transition_item(item, Rectify(_day(ctx), data.note))
    doc["rectification"] = {"note": note, "rectified_at": data.rectified_at}
    _keep(ctx, doc, after, "rectified", note=note)


async def on_accepted(ctx: HandlerContext, data: ItemAccepted) -> None:
    await _change(ctx, data.item_id, Accept(_day(ctx)), note=redact(data.note).text)


async def on_reopened(ctx: HandlerContext, data: ItemReopened) -> None:
    await _change(
        ctx, data.item_id, ReopenItem(_day(ctx), data.reason), reason=redact(data.reason).text
    )


async def _change(ctx: HandlerContext, item_id: str, action: ItemAction, **row: Any) -> None:
    doc, item = await _load(ctx, item_id)
    after = transition_item(item, action)
    _keep(ctx, doc, after, str(after.status), **row)


async def _load(ctx: HandlerContext, item_id: str) -> tuple[Document, SupervisionItem]:
    doc = await ctx.get(ITEMS, item_id)
    if doc is None:
        raise PoisonError(f"item {item_id!r} does not exist (yet)")
    opened_on = doc["opened_at"].astimezone(CHINA_TZ).date()
    item = SupervisionItem(
        item_id=item_id,
        kind=ItemKind(doc["kind"]),
        unit=doc["unit"],
        opened_on=opened_on,
        ladder_from=date.fromisoformat(doc.get("ladder_from") or day_key(opened_on)),
        escalation=Escalation(doc.get("escalation", Escalation.SUPERVISE)),
        status=ItemStatus(doc["status"]),
    )
    return doc, item


def _keep(
    ctx: HandlerContext, doc: Document, item: SupervisionItem, change: str, **row: Any
) -> None:
    today = _day(ctx)
    next_day = item.next_escalation_day(policy().ladder, today)
    doc.update(
        escalation=str(item.escalation),
        status=str(item.status),
        escalate_day=day_key(next_day) if next_day else None,
    )
    if item.status is ItemStatus.CLOSED:
        doc.update(closed_at=ctx.event.time, resolution=item.resolution)
        doc["days_to_close"] = round((ctx.event.time - doc["opened_at"]).total_seconds() / 86400, 2)
    else:
        doc.update(closed_at=None, days_to_close=None)
    ctx.save(ITEMS, doc)
    _history(ctx, doc, change, **row)


def _history(ctx: HandlerContext, doc: Document, change: str, **row: Any) -> None:
    ctx.append(
        ITEM_HISTORY,
        {
            "item_id": doc["_id"],
            # An item's opening is its first row, whether its own record projected it or its
            # trigger's (an offset in another partition) did.
            "seq": 0 if change == "opened" else ctx.record.offset,
            "event_id": ctx.event.id,
            "type": ctx.event.type,
            "change": change,
            "status": doc.get("status"),
            "escalation": doc.get("escalation"),
            "level": doc.get("level"),
            "time": ctx.event.time,
            **row,
        },
    )


def _rank(level: str) -> int:
    return list(ItemLevel).index(ItemLevel(level))


def _day(ctx: HandlerContext) -> date:
    return ctx.event.time.astimezone(CHINA_TZ).date()


# --- reactions: what opens and closes items ---------------------------------------------


async def emit_opened(
    ctx: HandlerContext,
    *,
    item_id: str,
    kind: ItemKind,
    unit: str,
    level: ItemLevel = ItemLevel.BLUE,
    title: str = "",
    ladder_from: date | None = None,
    due_at: datetime | None = None,
) -> None:
    """Open (or link the trigger to) an item; the event's id is derived from its cause, its
    time is when Kafka took the trigger's record (the trigger's own time when the record has
    none), the same on every replay.

    An item that does not exist yet is opened in the trigger's batch too
    (`HandlerContext.apply_derived`): the same event, so the same document and history as its
    record gives, which then finds the item open with this trigger and changes nothing. A
    trigger of an item that exists is linked when its record comes, in the item's order."""
    opened = ItemOpened(
        item_id=item_id,
        kind=kind,
        unit=unit,
        level=level,
        title=title[:500],
        source_event_id=ctx.event.id,
        source_type=ctx.event.type,
        triggered_at=ctx.event.time,
        ladder_from=ladder_from,
        due_at=due_at,
    )
    taken = ctx.record.time.astimezone(CHINA_TZ) if ctx.record.time else ctx.event.time
    event = ctx.emit(opened, rule=item_id, source=f"/units/{unit}", time=taken)
    if await ctx.get(ITEMS, item_id) is None:
        await ctx.apply_derived(event, on_opened, opened)


def emit_closed(ctx: HandlerContext, doc: Document, resolution: str) -> None:
    """Close an item whose cause is gone (nothing to do if it is closed already)."""
    if doc.get("status") == ItemStatus.CLOSED:
        return
    closed = ItemClosed(
        item_id=doc["_id"],
        kind=ItemKind(doc["kind"]),
        unit=doc["unit"],
        level=ItemLevel(doc["level"]),
        escalation=Escalation(doc.get("escalation", Escalation.SUPERVISE)),
        resolution=resolution,
        source_event_id=ctx.event.id,
    )
    ctx.emit(closed, rule=doc["_id"], source=f"/units/{doc['unit']}")


def bounded_id(prefix: str, cause: str) -> str:
    """`<prefix>-<cause id>`, or for a cause id too long to carry, a name derived from it."""
    item_id = f"{prefix}-{cause}"
    return item_id if len(item_id) <= ID_MAX_LENGTH else f"{prefix}-{derived_id(cause, prefix)}"


def alert_item_id(chain_id: str) -> str:
    return bounded_id("alert", chain_id)


async def open_for_alert(ctx: HandlerContext, data: AlertIssued) -> None:
    """An actual orange or red warning (issued, or raised by an update) is put under
    supervision at once: one item per alert chain, in the unit that issued it; its cancellation
    closes the item."""
    if data.status is not CapStatus.ACTUAL or ctx.event.unit is None:
        return
    item_id = alert_item_id(data.chain_id)
    if data.msg_type is MsgType.CANCEL:
        doc = await ctx.get(ITEMS, item_id)
        if doc is not None:
            emit_closed(ctx, doc, "预警解除")
        return
    if data.level not in policy().alert_levels:
        return
    await emit_opened(
        ctx,
        item_id=item_id,
        kind=ItemKind.ALERT,
        unit=ctx.event.unit,
        level=ItemLevel(str(data.level)),
        title=data.headline,
    )


async def open_for_overdue_task(ctx: HandlerContext, data: TaskOverdue) -> None:
    """A milestone past due opens its item on the first day it is seen overdue; the ladder
    counts from its first day overdue, so an item opened late climbs at once."""
    item_id = task_item_id(data.task_id)
    if await ctx.get(ITEMS, item_id) is not None:
        return
    task = await ctx.get(TASKS, data.task_id)
    if task is None or task.get("status") == "completed":
        return
    due_on = data.due_at.astimezone(CHINA_TZ).date()
    await emit_opened(
        ctx,
        item_id=item_id,
        kind=ItemKind.TASK_OVERDUE,
        unit=data.unit,
        title=f"（{task.get('measure', '')}）{task.get('summary', data.task_id)}",
        ladder_from=due_on + timedelta(days=1),
    )


async def close_for_completed_task(ctx: HandlerContext, data: TaskCompleted) -> None:
    doc = await ctx.get(ITEMS, task_item_id(data.task_id))
    if doc is not None:
        emit_closed(ctx, doc, "任务已完成")


def task_item_id(task_id: str) -> str:
    return bounded_id("task", task_id)


async def on_finding(ctx: HandlerContext, data: FindingRecorded) -> None:
    """An inspection finding is kept, and the unit it names must rectify it by its due date."""
    ctx.save(
        FINDINGS,
        {
            "_id": data.finding_id,
            "target_unit": data.target_unit,
            "title": redact(data.title).text,
            "description": redact(data.description).text,
            "level": str(data.level),
            "due_date": data.due_date.isoformat(),
            "recorded_at": data.recorded_at,
            "recorded_by": ctx.event.unit,
            "item_id": bounded_id("finding", data.finding_id),
        },
    )
    await emit_opened(
        ctx,
        item_id=bounded_id("finding", data.finding_id),
        kind=ItemKind.INSPECTION_FINDING,
        unit=data.target_unit,
        level=data.level,
        title=data.title,
        due_at=datetime.combine(data.due_date, time(23, 59, 59), CHINA_TZ),
    )


async def on_training(ctx: HandlerContext, data: TrainingRecorded) -> None:
    ctx.save(
        TRAININGS,
        {
            "_id": data.training_id,
            "unit": data.unit,
            "kind": str(data.kind),
            "title": data.title,
            "hours": data.study_hours,
            "held_on": data.held_on.isoformat(),
            "year": data.held_on.year,
        },
    )


REACTIONS: Reactions = {
    ItemOpened: [on_opened],
    ItemEscalated: [on_escalated],
    ItemClosed: [on_closed],
    ItemRectified: [on_rectified],
    ItemAccepted: [on_accepted],
    ItemReopened: [on_reopened],
    FindingRecorded: [on_finding],
    TrainingRecorded: [on_training],
    AlertIssued: [open_for_alert],
    TaskOverdue: [open_for_overdue_task],
    TaskCompleted: [close_for_completed_task],
}
