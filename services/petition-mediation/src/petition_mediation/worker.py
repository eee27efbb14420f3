"""Petition-mediation worker: projects cases into MongoDB (`python -m petition_mediation.worker`)."""

from __future__ import annotations

import faust

from fazhi.consumer import Handler, HandlerContext
from fazhi.envelope import CloudEvent
from fazhi.projection import apply_once
from fazhi.worker import create_worker_app, run_worker
from petition_mediation.config import Settings
from petition_mediation.events import CATALOG, CaseAccepted, CaseDecided, CaseFiled
from petition_mediation.store import CASES, ensure_indexes


async def on_filed(ctx: HandlerContext, event: CloudEvent, data: CaseFiled) -> None:
    fields = data.model_dump(exclude={"case_id"})
    await apply_once(ctx.db[CASES], data.case_id, event, {"$set": {**fields, "state": "filed"}})


async def on_accepted(ctx: HandlerContext, event: CloudEvent, data: CaseAccepted) -> None:
    await apply_once(
        ctx.db[CASES],
        data.case_id,
        event,
        {
            "$set": {
                "state": "accepted",
                "accepted_at": data.accepted_at,
                "procedure": data.procedure,
            }
        },
    )


async def on_decided(ctx: HandlerContext, event: CloudEvent, data: CaseDecided) -> None:
    await apply_once(
        ctx.db[CASES],
        data.case_id,
        event,
        {
            "$set": {
                "state": "decided",
                "decision": data.decision,
                "decided_at": data.decided_at,
                "document_text": data.document_text,
            }
        },
    )


HANDLERS: dict[str, Handler] = {
    "mediation.case.filed": on_filed,
    "mediation.case.accepted": on_accepted,
    "mediation.case.decided": on_decided,
}


def create_worker(settings: Settings | None = None) -> faust.App:
    return create_worker_app(
        catalog=CATALOG,
        settings=settings or Settings(),
        handlers=HANDLERS,
        ensure_indexes=ensure_indexes,
    )


def main() -> None:
    run_worker(create_worker())


if __name__ == "__main__":
    main()
