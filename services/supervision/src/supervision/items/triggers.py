"""What the other services report that calls for supervision (DESIGN.md, cross-service flows):
alerts nobody acknowledged, mediation cases and disclosure requests past a statutory deadline,
reconsideration decisions and major decisions to be carried out. Each opens an item (its id
named after its cause, so a second report links to it); the event that removes the cause
(a decision executed, a decision evaluated, a request answered, a case accepted or decided)
closes it."""

from __future__ import annotations

from datetime import date, timedelta

from fazhi.bus import HandlerContext, Reactions
from fazhi.contracts.emergency import AlertEscalated
from fazhi.contracts.mediation import (
    CaseAccepted,
    CaseDecided,
    CaseOverdue,
    ClockName,
    DecisionExecuted,
    DecisionPublished,
    Outcome,
)
from fazhi.contracts.opengov import (
    DecisionAdopted,
    DecisionEvaluated,
    RequestAnswered,
    RequestOverdue,
)
from fazhi.contracts.supervision import ItemKind, ItemLevel
from supervision.items.flows import bounded_id, emit_closed, emit_opened
from supervision.store import ITEMS

BINDING_OUTCOMES = frozenset(
    {
        Outcome.CHANGED,
        Outcome.REVOKED,
        Outcome.CONFIRMED_ILLEGAL,
        Outcome.ORDERED_TO_PERFORM,
        Outcome.CONFIRMED_INVALID,
        Outcome.MEDIATED,
    }
)
"""Reconsideration outcomes that oblige the respondent to act (行政复议法 arts. 63-67, 73, 77):
an upheld or dismissed decision leaves it nothing to carry out."""

CLOSED_BY_ACCEPTANCE = (ClockName.ACCEPTANCE,)
CLOSED_BY_DECISION = (ClockName.HANDLING, ClockName.REVIEW, ClockName.DECISION, ClockName.REPLY)


def unacknowledged_item_id(chain_id: str) -> str:
    return bounded_id("unack", chain_id)


def case_item_id(case_id: str, clock: ClockName) -> str:
    if clock is ClockName.EXECUTION:
        return execution_item_id(case_id)
    return bounded_id(f"case-{clock}", case_id)


def execution_item_id(case_id: str) -> str:
    return bounded_id("decision", case_id)


def request_item_id(request_id: str) -> str:
    return bounded_id("request", request_id)


def major_decision_item_id(decision_id: str) -> str:
    return bounded_id("major-decision", decision_id)


def _first_day_late(due: date) -> date:
    return due + timedelta(days=1)


async def open_for_unacknowledged_alert(ctx: HandlerContext, data: AlertEscalated) -> None:
    await emit_opened(
        ctx,
        item_id=unacknowledged_item_id(data.chain_id),
        kind=ItemKind.ALERT_UNACKNOWLEDGED,
        unit=data.unit,
        level=ItemLevel(str(data.level)),
        title=f"{data.level.label_zh}预警{data.alert_id}超过{data.window_minutes}分钟无人确认",
    )


async def open_for_overdue_case(ctx: HandlerContext, data: CaseOverdue) -> None:
    execution = data.clock is ClockName.EXECUTION
    await emit_opened(
        ctx,
        item_id=case_item_id(data.case_id, data.clock),
        kind=ItemKind.DECISION_EXECUTION if execution else ItemKind.CASE_OVERDUE,
        unit=data.unit,
        level=ItemLevel.YELLOW,
        title=f"{data.case_type.label_zh}案件{data.case_id}{data.clock.label_zh}已过"
        f"（{data.due_date.isoformat()}）",
        ladder_from=_first_day_late(data.due_date),
    )


async def close_for_accepted_case(ctx: HandlerContext, data: CaseAccepted) -> None:
    await _close(ctx, [case_item_id(data.case_id, c) for c in CLOSED_BY_ACCEPTANCE], "案件已受理")


async def close_for_decided_case(ctx: HandlerContext, data: CaseDecided) -> None:
    await _close(ctx, [case_item_id(data.case_id, c) for c in CLOSED_BY_DECISION], "案件已办结")


async def open_for_decision_to_execute(ctx: HandlerContext, data: DecisionPublished) -> None:
    """履行督察: a reconsideration decision that obliges the respondent is supervised until the
    respondent reports it carried out."""
    if data.outcome not in BINDING_OUTCOMES:
        return
    await emit_opened(
        ctx,
        item_id=execution_item_id(data.case_id),
        kind=ItemKind.DECISION_EXECUTION,
        unit=data.respondent_unit,
        title=f"行政复议决定履行：{data.title}",
    )


async def close_for_executed_decision(ctx: HandlerContext, data: DecisionExecuted) -> None:
    await _close(ctx, [execution_item_id(data.case_id)], "复议决定已履行")


async def open_for_overdue_request(ctx: HandlerContext, data: RequestOverdue) -> None:
    await emit_opened(
        ctx,
        item_id=request_item_id(data.request_id),
        kind=ItemKind.REQUEST_OVERDUE,
        unit=data.unit,
        level=ItemLevel.YELLOW,
        title=f"政府信息公开申请{data.request_id}答复期限已过（{data.due_date.isoformat()}）",
        ladder_from=_first_day_late(data.due_date),
    )


async def close_for_answered_request(ctx: HandlerContext, data: RequestAnswered) -> None:
    await _close(ctx, [request_item_id(data.request_id)], "申请已答复")


async def open_for_major_decision(ctx: HandlerContext, data: DecisionAdopted) -> None:
    """Measure (七): a catalogued major decision is supervised through its execution until its
    post-evaluation (决策后评估) is done."""
    await emit_opened(
        ctx,
        item_id=major_decision_item_id(data.decision_id),
        kind=ItemKind.DECISION_EXECUTION,
        unit=data.unit,
        title=f"重大行政决策执行和后评估：{data.title}",
    )


async def close_for_evaluated_decision(ctx: HandlerContext, data: DecisionEvaluated) -> None:
    await _close(ctx, [major_decision_item_id(data.decision_id)], "决策后评估已完成")


async def _close(ctx: HandlerContext, item_ids: list[str], resolution: str) -> None:
    for item_id in item_ids:
        doc = await ctx.get(ITEMS, item_id)
        if doc is not None:
            emit_closed(ctx, doc, resolution)


REACTIONS: Reactions = {
    AlertEscalated: [open_for_unacknowledged_alert],
    CaseOverdue: [open_for_overdue_case],
    CaseAccepted: [close_for_accepted_case],
    CaseDecided: [close_for_decided_case],
    DecisionPublished: [open_for_decision_to_execute],
    DecisionExecuted: [close_for_executed_decision],
    RequestOverdue: [open_for_overdue_request],
    RequestAnswered: [close_for_answered_request],
    DecisionAdopted: [open_for_major_decision],
    DecisionEvaluated: [close_for_evaluated_decision],
}
