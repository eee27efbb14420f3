"""Petition-mediation worker: projects cases into MongoDB.

Personal data stays in each case's `private` part; the texts others read are redacted.
Run with `python -m petition_mediation.worker` (or `faust -A petition_mediation.worker worker`).
"""

from __future__ import annotations

from fazhi.consumer import Handler, HandlerContext, PoisonError
from fazhi.models import Applicant
from fazhi.projection import Document
from fazhi.redaction import redact
from fazhi.worker import WorkerEntry
from petition_mediation.config import Settings
from petition_mediation.events import CATALOG, CaseAccepted, CaseDecided, CaseFiled
from petition_mediation.store import CASES, PRIVATE, ensure_indexes


async def on_filed(ctx: HandlerContext, data: CaseFiled) -> None:
    doc: Document = await ctx.get(CASES, data.case_id) or {"_id": data.case_id}
    doc.update(
        data.model_dump(exclude={"case_id", "applicant", "summary"}),
        summary=redact(data.summary, [data.applicant.party()]).text,
        state="filed",
    )
    doc[PRIVATE] = {"applicant": data.applicant.model_dump(), "summary": data.summary}
    ctx.save(CASES, doc)


async def on_accepted(ctx: HandlerContext, data: CaseAccepted) -> None:
    doc = await _case(ctx, data.case_id)
    if doc.get("state") != "filed":
        raise PoisonError(f"{data.case_id!r}: only a filed case can be accepted")
    doc.update(state="accepted", accepted_at=data.accepted_at, procedure=str(data.procedure))
    ctx.save(CASES, doc)


async def on_decided(ctx: HandlerContext, data: CaseDecided) -> None:
    doc = await _case(ctx, data.case_id)
    if doc.get("state") not in ("filed", "accepted"):
        raise PoisonError(f"{data.case_id!r}: the case is already decided")
    private = doc.setdefault(PRIVATE, {})
    parties = [Applicant(**private["applicant"]).party()] if "applicant" in private else []
    doc.update(
        state="decided",
        decision=data.decision,
        decided_at=data.decided_at,
        document_text=redact(data.document_text, parties).text,
    )
    private["document_text"] = data.document_text
    ctx.save(CASES, doc)


async def _case(ctx: HandlerContext, case_id: str) -> Document:
    doc = await ctx.get(CASES, case_id)
    if doc is None:
        raise PoisonError(f"{case_id!r} does not exist (yet)")
    return doc


HANDLERS: dict[str, Handler] = {
    "mediation.case.filed": on_filed,
    "mediation.case.accepted": on_accepted,
    "mediation.case.decided": on_decided,
}


WORKER = WorkerEntry(CATALOG, Settings, HANDLERS, ensure_indexes)
create_worker = WORKER.create
__getattr__ = (
    WORKER.module_getattr
)  # `faust -A petition_mediation.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
