"""Petition-mediation worker: projects cases into MongoDB.

Personal data stays in each case's `private` part; the texts others read are redacted.
Run with `python -m petition_mediation.worker` (or `faust -A petition_mediation.worker worker`).
"""

from __future__ import annotations

from fazhi.consumer import Handler, HandlerContext
from fazhi.envelope import CloudEvent
from fazhi.models import Applicant
from fazhi.projection import apply_once
from fazhi.redaction import redact
from fazhi.worker import WorkerEntry
from petition_mediation.config import Settings
from petition_mediation.events import CATALOG, CaseAccepted, CaseDecided, CaseFiled
from petition_mediation.store import CASES, PRIVATE, ensure_indexes


async def on_filed(ctx: HandlerContext, event: CloudEvent, data: CaseFiled) -> None:
    fields = data.model_dump(exclude={"case_id", "applicant", "summary"})
    await apply_once(
        ctx.db[CASES],
        data.case_id,
        event,
        {
            "$set": {
                **fields,
                "summary": redact(data.summary, [data.applicant.party()]).text,
                "state": "filed",
                PRIVATE: {"applicant": data.applicant.model_dump(), "summary": data.summary},
            }
        },
        create=True,
    )


async def on_accepted(ctx: HandlerContext, event: CloudEvent, data: CaseAccepted) -> None:
    await apply_once(
        ctx.db[CASES],
        data.case_id,
        event,
        {
            "$set": {
                "state": "accepted",
                "accepted_at": data.accepted_at,
                "procedure": str(data.procedure),
            }
        },
        guard={"state": "filed"},
        refusal="only a filed case can be accepted",
    )


async def on_decided(ctx: HandlerContext, event: CloudEvent, data: CaseDecided) -> None:
    case = await ctx.db[CASES].find_one({"_id": data.case_id}, {f"{PRIVATE}.applicant": 1})
    parties = [Applicant(**case[PRIVATE]["applicant"]).party()] if case and PRIVATE in case else []
    await apply_once(
        ctx.db[CASES],
        data.case_id,
        event,
        {
            "$set": {
                "state": "decided",
                "decision": data.decision,
                "decided_at": data.decided_at,
                "document_text": redact(data.document_text, parties).text,
                f"{PRIVATE}.document_text": data.document_text,
            }
        },
        guard={"state": {"$in": ["filed", "accepted"]}},
        refusal="the case is already decided",
    )


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
