"""Major decisions 重大行政决策: the yearly catalogue (entered, adjusted, withdrawn, every change
kept as a row), each decision's procedure steps with their dates, adoption and post-evaluation
(决策后评估); supervision tracks execution from the same events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fazhi.bus import HandlerContext, Reactions
from fazhi.contracts.opengov import (
    DecisionAdopted,
    DecisionEvaluated,
    DecisionListed,
    DecisionStep,
    DecisionStepRecorded,
    DecisionWithdrawn,
    StepStatus,
)
from fazhi.rules import redact
from fazhi.store import Document
from open_government.domain.decisions import (
    Adopt,
    DecisionStatus,
    Evaluate,
    List,
    RecordStep,
    Withdraw,
    check_step,
    missing_steps,
    transition,
)
from open_government.store import DECISION_HISTORY, DECISIONS


def _history(ctx: HandlerContext, doc: Document, change: str, at: datetime, **details: Any) -> None:
    ctx.append(
        DECISION_HISTORY,
        {
            "decision_id": doc["_id"],
            "year": doc.get("year"),
            "title": doc.get("title"),
            "seq": at.timestamp(),
            "change": change,
            "at": at,
            **details,
        },
    )


def _missing(doc: Document) -> list[str]:
    done = {
        DecisionStep(step)
        for step, row in (doc.get("steps") or {}).items()
        if row.get("status") in (StepStatus.DONE, StepStatus.NOT_APPLICABLE)
    }
    return [str(step) for step in missing_steps(done)]


async def on_decision_listed(ctx: HandlerContext, data: DecisionListed) -> None:
    """Entered in the catalogue, or adjusted (调整) when listed again: the change is a row."""
    doc = await ctx.get(DECISIONS, data.decision_id)
    stored = doc.get("status") if doc else None
    status = transition(stored, List())
    change = "adjusted" if stored == status else "listed"
    doc = doc or {"_id": data.decision_id, "steps": {}}
    before = {k: doc.get(k) for k in ("year", "title", "unit")}
    doc.update(
        year=data.year,
        title=redact(data.title).text,
        unit=data.unit,
        summary=redact(data.summary).text,
        listed_at=doc.get("listed_at") or data.listed_at,
        status=str(status),
    )
    doc["missing_steps"] = _missing(doc)
    ctx.save(DECISIONS, doc)
    was = {k: v for k, v in before.items() if v is not None and v != doc[k]}
    _history(ctx, doc, change, data.listed_at, was=was or None)


async def on_decision_withdrawn(ctx: HandlerContext, data: DecisionWithdrawn) -> None:
    doc = await _decision(ctx, data.decision_id)
    doc.update(
        status=str(transition(doc.get("status"), Withdraw())), withdrawn_at=data.withdrawn_at
    )
    ctx.save(DECISIONS, doc)
    _history(ctx, doc, "withdrawn", data.withdrawn_at, reason=redact(data.reason).text)


async def on_step_recorded(ctx: HandlerContext, data: DecisionStepRecorded) -> None:
    doc = await _decision(ctx, data.decision_id)
    status = transition(doc.get("status"), RecordStep())
    check_step(
        data.decision_id,
        data.step,
        data.status,
        data.started_on,
        data.ended_on,
        withdrawn=status is DecisionStatus.WITHDRAWN,
    )
    row = {
        "status": str(data.status),
        "started_on": data.started_on.isoformat() if data.started_on else None,
        "ended_on": data.ended_on.isoformat() if data.ended_on else None,
        "note": redact(data.note).text if data.note else None,
    }
    doc.setdefault("steps", {})[str(data.step)] = row
    doc["missing_steps"] = _missing(doc)
    ctx.save(DECISIONS, doc)
    _history(ctx, doc, "step", data.recorded_at, step=str(data.step), **row)


async def on_decision_adopted(ctx: HandlerContext, data: DecisionAdopted) -> None:
    doc: Document = await ctx.get(DECISIONS, data.decision_id) or {
        "_id": data.decision_id,
        "steps": {},
    }
    doc.update(
        year=data.year,
        title=redact(data.title).text,
        unit=data.unit,
        adopted_at=data.adopted_at,
        status=str(transition(doc.get("status"), Adopt())),
    )
    doc["missing_steps"] = _missing(doc)
    ctx.save(DECISIONS, doc)
    _history(ctx, doc, "adopted", data.adopted_at)


async def on_decision_evaluated(ctx: HandlerContext, data: DecisionEvaluated) -> None:
    doc = await _decision(ctx, data.decision_id)
    doc.update(
        evaluated_at=data.evaluated_at,
        evaluation=data.summary,
        status=str(transition(doc.get("status"), Evaluate())),
    )
    ctx.save(DECISIONS, doc)
    _history(ctx, doc, "evaluated", data.evaluated_at)


async def _decision(ctx: HandlerContext, decision_id: str) -> Document:
    """The stored decision, or a new one the machine then refuses every move but a listing."""
    return await ctx.get(DECISIONS, decision_id) or {"_id": decision_id, "steps": {}}


REACTIONS: Reactions = {
    DecisionListed: [on_decision_listed],
    DecisionWithdrawn: [on_decision_withdrawn],
    DecisionStepRecorded: [on_step_recorded],
    DecisionAdopted: [on_decision_adopted],
    DecisionEvaluated: [on_decision_evaluated],
}
