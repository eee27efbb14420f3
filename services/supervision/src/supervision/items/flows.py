"""How supervision items come and go: the item events are projected through the items machine
of the domain, and other services' events that call for supervision open items (a reaction
publishes `supervision.item.opened`, which this worker then projects like any other)."""

from __future__ import annotations

from datetime import date

from fazhi.consumer import HandlerContext, PoisonError
from fazhi.contracts.emergency import AlertIssued, AlertLevel, CapStatus, MsgType
from fazhi.contracts.supervision import ItemClosed, ItemEscalated, ItemKind, ItemOpened
from fazhi.envelope import CHINA_TZ, ID_MAX_LENGTH, derived_id, new_event
from fazhi.projection import Document
from fazhi.reactions import Reactions
from supervision.domain import (
    Close,
    Escalate,
    ItemState,
    Level,
    SupervisionItem,
    open_item,
    transition_item,
)
from supervision.events import CATALOG
from supervision.store import ITEM_HISTORY, ITEMS

ALERT_LEVELS_SUPERVISED = frozenset({AlertLevel.ORANGE, AlertLevel.RED})
"""Alerts that open a supervision item at once (DESIGN.md, cross-service flows)."""


async def on_opened(ctx: HandlerContext, data: ItemOpened) -> None:
    """An item opened twice (two causes derived it) stays as it was first opened."""
    if await ctx.get(ITEMS, data.item_id) is not None:
        return
    item = open_item(data.item_id, data.kind, data.unit, data.item_id, _day(ctx), Level(data.level))
    _keep(ctx, {"_id": data.item_id, "opened_at": ctx.event.time}, item, data.level)


async def on_escalated(ctx: HandlerContext, data: ItemEscalated) -> None:
    doc, item = await _load(ctx, data.item_id)
    after = transition_item(item, Escalate(Level(data.level), _day(ctx), "escalated"))
    _keep(ctx, doc, after, data.level)


async def on_closed(ctx: HandlerContext, data: ItemClosed) -> None:
    doc, item = await _load(ctx, data.item_id)
    after = transition_item(item, Close(_day(ctx), data.resolution))
    doc["closed_at"] = ctx.event.time
    _keep(ctx, doc, after, data.level)


async def open_for_alert(ctx: HandlerContext, data: AlertIssued) -> None:
    """An actual orange or red warning (issued, or raised by an update) is put under
    supervision at once: one item per alert chain, in the unit that issued it."""
    if data.status is not CapStatus.ACTUAL or data.msg_type is MsgType.CANCEL:
        return
    if data.level not in ALERT_LEVELS_SUPERVISED or ctx.event.unit is None:
        return
    item_id = alert_item_id(data.chain_id)
    if await ctx.get(ITEMS, item_id) is not None:
        return
    opened = ItemOpened(
        item_id=item_id, kind=ItemKind.ALERT, unit=ctx.event.unit, level=Level.SUPERVISE
    )
    ctx.emit(
        CATALOG.topic,
        new_event(
            type="supervision.item.opened",
            source=ctx.event.source,
            subject=item_id,
            id=derived_id(ctx.event.key, "supervision.item.opened/alert"),
            time=ctx.event.time,
            data=opened.model_dump(mode="json"),
        ),
    )


def alert_item_id(chain_id: str) -> str:
    """`alert-<chain id>`, or for a chain id too long to carry, a name derived from it."""
    item_id = f"alert-{chain_id}"
    return (
        item_id if len(item_id) <= ID_MAX_LENGTH else f"alert-{derived_id(chain_id, 'alert-item')}"
    )


async def _load(ctx: HandlerContext, item_id: str) -> tuple[Document, SupervisionItem]:
    doc = await ctx.get(ITEMS, item_id)
    if doc is None:
        raise PoisonError(f"item {item_id!r} does not exist (yet)")
    item = SupervisionItem(
        item_id=item_id,
        kind=ItemKind(doc["kind"]),
        unit=doc["unit"],
        subject=item_id,
        opened_on=doc["opened_at"].astimezone(CHINA_TZ).date(),
        level=Level(doc["level"]),
        state=ItemState(doc["status"]),
    )
    return doc, item


def _keep(ctx: HandlerContext, doc: Document, item: SupervisionItem, level: str) -> None:
    doc.update(kind=str(item.kind), unit=item.unit, level=str(item.level), status=str(item.state))
    ctx.save(ITEMS, doc)
    ctx.append(
        ITEM_HISTORY,
        {
            "item_id": item.item_id,
            "seq": ctx.record.offset,
            "type": ctx.event.type,
            "level": level,
            "status": str(item.state),
            "time": ctx.event.time,
        },
    )


def _day(ctx: HandlerContext) -> date:
    return ctx.event.time.astimezone(CHINA_TZ).date()


REACTIONS: Reactions = {
    ItemOpened: [on_opened],
    ItemEscalated: [on_escalated],
    ItemClosed: [on_closed],
    AlertIssued: [open_for_alert],
}
