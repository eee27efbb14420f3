"""How a major decision moves once adopted: execution, then post-evaluation (决策后评估);
supervision tracks both from the same events."""

from __future__ import annotations

from fazhi.consumer import HandlerContext, PoisonError
from fazhi.contracts.opengov import DecisionAdopted, DecisionEvaluated
from fazhi.projection import Document
from fazhi.reactions import Reactions
from open_government.store import DECISIONS


async def on_decision_adopted(ctx: HandlerContext, data: DecisionAdopted) -> None:
    doc: Document = await ctx.get(DECISIONS, data.decision_id) or {"_id": data.decision_id}
    doc.update(
        year=data.year,
        title=data.title,
        unit=data.unit,
        adopted_at=data.adopted_at,
        status="adopted",
    )
    ctx.save(DECISIONS, doc)


async def on_decision_evaluated(ctx: HandlerContext, data: DecisionEvaluated) -> None:
    doc = await ctx.get(DECISIONS, data.decision_id)
    if doc is None or doc.get("adopted_at") is None:
        raise PoisonError(f"decision {data.decision_id!r} is not adopted: nothing to evaluate")
    doc.update(evaluated_at=data.evaluated_at, evaluation=data.summary, status="evaluated")
    ctx.save(DECISIONS, doc)


REACTIONS: Reactions = {
    DecisionAdopted: [on_decision_adopted],
    DecisionEvaluated: [on_decision_evaluated],
}
