"""How registry events change plans, supplies and forces."""

from __future__ import annotations

from datetime import date, timedelta

from emergency.store import FORCE_HISTORY, FORCES, PLAN_DRILLS, PLANS, PRIVATE, SUPPLIES
from fazhi.bus import HandlerContext, PoisonError, Reactions
from fazhi.contracts.emergency import (
    ForceCalledUp,
    ForceCompensated,
    ForceRegistered,
    PlanDrilled,
    PlanRegistered,
    PlanRevisionDue,
    SupplyLow,
    SupplyStocked,
)
from fazhi.store import Document

REMIND_BEFORE = timedelta(days=30)
"""A plan's owner is reminded this long before its revision is due, and again on the day."""


def reminder_days(due: date) -> list[str]:
    return [(due - REMIND_BEFORE).isoformat(), due.isoformat()]


async def on_plan_registered(ctx: HandlerContext, data: PlanRegistered) -> None:
    """Registered again, a plan is revised: its dates (and reminders) are the new ones."""
    doc: Document = await ctx.get(PLANS, data.plan_id) or {"_id": data.plan_id}
    drilled = doc.get("last_drill_on")
    doc.update(data.model_dump(mode="json", exclude={"plan_id"}))
    if drilled and (doc.get("last_drill_on") or "") < drilled:
        doc["last_drill_on"] = drilled
    doc["reminder_days"] = reminder_days(data.revision_due_on)
    ctx.save(PLANS, doc)


async def on_plan_drilled(ctx: HandlerContext, data: PlanDrilled) -> None:
    doc = await _existing(ctx, PLANS, data.plan_id, "plan")
    if (doc.get("last_drill_on") or "") < data.drilled_on.isoformat():
        doc["last_drill_on"] = data.drilled_on.isoformat()
    ctx.save(PLANS, doc)
    ctx.append(
        PLAN_DRILLS,
        {
            "plan_id": data.plan_id,
            "seq": ctx.record.offset,
            "drilled_on": data.drilled_on.isoformat(),
            "note": data.note,
        },
    )


async def on_plan_revision_due(ctx: HandlerContext, data: PlanRevisionDue) -> None:
    doc = await _existing(ctx, PLANS, data.plan_id, "plan")
    doc["last_reminder"] = {
        "revision_due_on": data.revision_due_on.isoformat(),
        "days_left": data.days_left,
        "at": ctx.event.time,
    }
    ctx.save(PLANS, doc)


async def on_supply_stocked(ctx: HandlerContext, data: SupplyStocked) -> None:
    """A count below the minimum, where the last one was not, derives `emergency.supply.low`."""
    doc: Document = await ctx.get(SUPPLIES, data.supply_id) or {"_id": data.supply_id}
    was_low = doc.get("status") == "low"
    low = data.quantity < data.minimum
    doc.update(data.model_dump(exclude={"supply_id"}), status="low" if low else "ok")
    doc.setdefault("unit", ctx.event.unit)
    ctx.save(SUPPLIES, doc)
    if low and not was_low:
        ctx.emit(
            SupplyLow(
                supply_id=data.supply_id,
                item=data.item,
                depot=data.depot,
                unit=ctx.event.unit or "",
                quantity=data.quantity,
                minimum=data.minimum,
                measure=data.measure,
                counted_at=data.counted_at,
            ),
            time=ctx.event.time,
        )


async def on_supply_low(ctx: HandlerContext, data: SupplyLow) -> None:
    doc = await _existing(ctx, SUPPLIES, data.supply_id, "supply")
    doc["low_since"] = data.counted_at
    ctx.save(SUPPLIES, doc)


async def on_force_registered(ctx: HandlerContext, data: ForceRegistered) -> None:
    doc: Document = await ctx.get(FORCES, data.force_id) or {
        "_id": data.force_id,
        "call_ups": 0,
        "compensated_yuan": 0,
    }
    doc.update(data.model_dump(mode="json", exclude={"force_id", "contact"}))
    doc[PRIVATE] = {"contact": data.contact}
    ctx.save(FORCES, doc)


async def on_force_called_up(ctx: HandlerContext, data: ForceCalledUp) -> None:
    doc = await _existing(ctx, FORCES, data.force_id, "force")
    doc["call_ups"] = int(doc.get("call_ups", 0)) + 1
    doc["last_called_at"] = data.called_at
    ctx.save(FORCES, doc)
    ctx.append(
        FORCE_HISTORY,
        {
            "force_id": data.force_id,
            "seq": ctx.record.offset,
            "kind": "called_up",
            "incident_id": data.incident_id,
            "task": data.task,
            "at": data.called_at,
        },
    )


async def on_force_compensated(ctx: HandlerContext, data: ForceCompensated) -> None:
    doc = await _existing(ctx, FORCES, data.force_id, "force")
    doc["compensated_yuan"] = int(doc.get("compensated_yuan", 0)) + data.amount_yuan
    ctx.save(FORCES, doc)
    ctx.append(
        FORCE_HISTORY,
        {
            "force_id": data.force_id,
            "seq": ctx.record.offset,
            "kind": "compensated",
            "amount_yuan": data.amount_yuan,
            "basis": data.basis,
            "at": data.compensated_at,
        },
    )


async def _existing(ctx: HandlerContext, collection: str, doc_id: str, what: str) -> Document:
    doc = await ctx.get(collection, doc_id)
    if doc is None:
        raise PoisonError(f"{what} {doc_id!r} does not exist (yet)")
    return doc


REACTIONS: Reactions = {
    PlanRegistered: [on_plan_registered],
    PlanDrilled: [on_plan_drilled],
    PlanRevisionDue: [on_plan_revision_due],
    SupplyStocked: [on_supply_stocked],
    SupplyLow: [on_supply_low],
    ForceRegistered: [on_force_registered],
    ForceCalledUp: [on_force_called_up],
    ForceCompensated: [on_force_compensated],
}
