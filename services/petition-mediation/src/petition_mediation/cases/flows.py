"""How case events move a case: each asks the case's machine (one per case type) for the command
it stands for; a move the machine refuses goes to the dead-letter topic with its reason."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fazhi.bus import HandlerContext, PoisonError, Reactions
from fazhi.contracts.mediation import (
    CaseAccepted,
    CaseDecided,
    CaseDeemedAccepted,
    CaseDueSoon,
    CaseFiled,
    CaseOverdue,
    CaseType,
    DecisionExecuted,
    DecisionPublished,
)
from fazhi.contracts.models import Payload
from fazhi.rules import Party, redact
from fazhi.store import Document
from petition_mediation.cases.commands import COMMANDS, FILE, command_of, day
from petition_mediation.cases.document import (
    board_of,
    case_source,
    keep_case,
    parties_of,
    today,
)
from petition_mediation.codec import decode_case
from petition_mediation.domain import Case, ReconsiderationCase, transition
from petition_mediation.domain.board import overdue
from petition_mediation.store import CASE_HISTORY, CASES, PRIVATE


async def on_filed(ctx: HandlerContext, data: CaseFiled) -> None:
    if await ctx.get(CASES, data.case_id) is not None:
        raise PoisonError(f"case {data.case_id!r} is already filed")
    filed_on = day(data.filed_at)
    case = FILE[data.case_type](data.case_id, filed_on)
    parties = [data.applicant.party()]
    doc: Document = {
        "_id": data.case_id,
        **data.model_dump(exclude={"case_id", "applicant", "summary", "category"}),
        "category": redact(data.category, parties).text,
        "summary": redact(data.summary, parties).text,
        "unit": ctx.event.unit,
        "units": sorted({str(ctx.event.unit), data.respondent_unit}),
        "year": filed_on.year,
        PRIVATE: {
            "applicant": data.applicant.model_dump(),
            "category": data.category,
            "summary": data.summary,
        },
    }
    _keep(ctx, doc, None, case, "file", filed_on)


async def on_accepted(ctx: HandlerContext, data: CaseAccepted) -> None:
    doc, case = await _load(ctx, data.case_id)
    after = transition(case, command_of(data, case))
    doc.update(accepted_at=data.accepted_at, procedure=str(data.procedure))
    _keep(ctx, doc, case, after)


async def on_deemed_accepted(ctx: HandlerContext, data: CaseDeemedAccepted) -> None:
    """The acceptance review passed without a decision: the machine accepts the application as
    of the review's last day, under the general procedure, and starts the decision clock."""
    doc, case = await _load(ctx, data.case_id)
    after = transition(case, command_of(data, case))
    if isinstance(after, ReconsiderationCase) and after.procedure is not None:
        doc["procedure"] = str(after.procedure)
    _keep(ctx, doc, case, after)


async def on_decided(ctx: HandlerContext, data: CaseDecided) -> None:
    doc, case = await _load(ctx, data.case_id)
    parties = parties_of(doc)
    # The machine keeps the decision in the case and as the note of its timeline step, which
    # others read: it gets the redacted text, the private part the words as posted.
    redacted = data.model_copy(update={"decision": redact(data.decision, parties).text})
    after = transition(case, command_of(redacted, case))
    doc.update(
        decision=redacted.decision,
        decided_at=data.decided_at,
        document_text=redact(data.document_text, parties).text,
    )
    if data.outcome is not None:
        doc["outcome"] = str(data.outcome)
    doc.setdefault(PRIVATE, {}).update(decision=data.decision, document_text=data.document_text)
    _keep(ctx, doc, case, after)
    if isinstance(after, ReconsiderationCase):
        _publish_decision(ctx, doc, data, after)


def _publish_decision(
    ctx: HandlerContext, doc: Document, data: CaseDecided, decided: ReconsiderationCase
) -> None:
    """决定书网上公开: the decision as others read it, redacted like every text the case
    keeps (the stored `document_text` already is)."""
    assert decided.outcome is not None, "the machine decides a reconsideration with an outcome"
    published = DecisionPublished(
        case_id=data.case_id,
        case_type=CaseType.RECONSIDERATION,
        category=doc["category"],
        outcome=decided.outcome,
        respondent_unit=doc["respondent_unit"],
        decided_at=data.decided_at,
        title=f"行政复议决定书（{doc['category']}）",
        text=doc["document_text"],
    )
    ctx.emit(published, time=ctx.event.time)


async def on_executed(ctx: HandlerContext, data: DecisionExecuted) -> None:
    """The respondent unit (or the case's owner for it) reports the decision carried out."""
    doc, case = await _load(ctx, data.case_id)
    unit = ctx.event.unit
    if unit not in doc.get("units", []):
        raise PoisonError(
            f"only the respondent unit {doc['respondent_unit']!r} or the case's owner reports "
            f"case {data.case_id!r} carried out, not {unit!r}"
        )
    after = transition(case, command_of(_redacted(data, parties_of(doc)), case))
    doc.update(executed_at=data.executed_at)
    _keep(ctx, doc, case, after)


async def on_step(ctx: HandlerContext, data: Payload) -> None:
    """Any other lifecycle event: its command on the case's machine. Free texts (reasons,
    answers, recommendations) are redacted with the case's known parties before the machine
    keeps them, since its steps are what others read."""
    doc, case = await _load(ctx, ctx.event.subject)  # the subject is the case id
    redacted = _redacted(data, parties_of(doc))
    after = transition(case, command_of(redacted, case))
    _keep(ctx, doc, case, after)


def _redacted(data: Payload, parties: list[Party]) -> Payload:
    texts = {
        name: redact(value, parties).text
        for name, value in data
        if isinstance(value, str) and not name.endswith("_id")
    }
    return data.model_copy(update=texts)


async def on_overdue(ctx: HandlerContext, data: CaseOverdue) -> None:
    """A clock passed: the case is marked overdue and its timeline says so (supervision opens
    its item)."""
    doc = await ctx.get(CASES, data.case_id)
    if doc is None:
        raise PoisonError(f"case {data.case_id!r} does not exist (yet)")
    # The case may have moved on since the timer looked: its board says whether it still is.
    doc["overdue"] = bool(overdue(board_of(doc), today()))
    ctx.save(CASES, doc)
    ctx.append(
        CASE_HISTORY,
        {
            "case_id": data.case_id,
            "seq": ctx.record.offset,
            "action": "overdue",
            "on": (data.due_date + timedelta(days=data.days_overdue)).isoformat(),
            "status": "overdue",
            "note": f"{data.clock} due {data.due_date.isoformat()}, {data.unit} to act",
            "due_on": data.due_date.isoformat(),
        },
    )


async def on_due_soon(ctx: HandlerContext, data: CaseDueSoon) -> None:
    """A clock is about to pass: the acting unit was reminded (临期提醒), a step of the case's
    timeline."""
    doc = await ctx.get(CASES, data.case_id)
    if doc is None:
        raise PoisonError(f"case {data.case_id!r} does not exist (yet)")
    ctx.append(
        CASE_HISTORY,
        {
            "case_id": data.case_id,
            "seq": ctx.record.offset,
            "action": "due_soon",
            "on": (data.due_date - timedelta(days=data.days_left)).isoformat(),
            "status": doc["status"],
            "note": f"{data.clock} due {data.due_date.isoformat()}, {data.unit} to act",
            "due_on": data.due_date.isoformat(),
        },
    )


async def on_published(ctx: HandlerContext, data: DecisionPublished) -> None:
    """The decision went out for publication: a step of the case's timeline."""
    ctx.append(
        CASE_HISTORY,
        {
            "case_id": data.case_id,
            "seq": ctx.record.offset,
            "action": "publish",
            "on": day(ctx.event.time).isoformat(),
            "status": "published",
            "note": data.title,
        },
    )


async def _load(ctx: HandlerContext, case_id: str) -> tuple[Document, Case]:
    doc = await ctx.get(CASES, case_id)
    if doc is None:
        raise PoisonError(f"case {case_id!r} does not exist (yet)")
    return doc, decode_case(CaseType(doc["case_type"]), doc["case"])


def _keep(
    ctx: HandlerContext,
    doc: Document,
    before: Case | None,
    case: Case,
    action: str = "",
    on: date | None = None,
) -> None:
    """Save what the machine decided, the clocks it started and stopped, and the step it took
    into the case's timeline; a clock already past its due date (a case posted late) is
    reported overdue at once."""
    row: dict[str, Any]
    if case.history and not action:
        step = case.history[-1]
        row = {"action": step.action, "on": step.on, "status": step.state, "note": step.note}
        if step.due_on is not None:
            row["due_on"] = step.due_on.isoformat()
    else:
        assert on is not None
        row = {"action": action, "on": on, "status": str(case.state), "note": ""}
    for late, cause in keep_case(doc, before, case, row["on"], today()):
        ctx.emit(late, cause=cause, source=case_source(doc))
    ctx.save(CASES, doc)
    row["on"] = row["on"].isoformat()
    ctx.append(CASE_HISTORY, {"case_id": doc["_id"], "seq": ctx.record.offset, **row})


REACTIONS: Reactions = {
    CaseFiled: [on_filed],
    **{payload: [on_step] for payload in COMMANDS},
    # Steps that also record fields of their own on the case.
    CaseAccepted: [on_accepted],
    CaseDeemedAccepted: [on_deemed_accepted],
    CaseDecided: [on_decided],
    DecisionExecuted: [on_executed],
    CaseOverdue: [on_overdue],
    CaseDueSoon: [on_due_soon],
    DecisionPublished: [on_published],
}
