"""Open-government worker: projects disclosure requests and published documents.

Personal data stays in each request's `private` part; the texts others read are redacted.
Run with `python -m open_government.worker` (or `faust -A open_government.worker worker`).
"""

from __future__ import annotations

from fazhi.consumer import Handler, HandlerContext
from fazhi.envelope import CloudEvent
from fazhi.projection import apply_once
from fazhi.redaction import redact
from fazhi.textsearch import index_tokens
from fazhi.worker import WorkerEntry
from open_government.config import Settings
from open_government.events import CATALOG, DocumentPublished, RequestAnswered, RequestReceived
from open_government.store import DOCUMENTS, PRIVATE, REQUESTS, ensure_indexes


async def on_request_received(
    ctx: HandlerContext, event: CloudEvent, data: RequestReceived
) -> None:
    fields = data.model_dump(exclude={"request_id", "applicant", "content"})
    await apply_once(
        ctx.db[REQUESTS],
        data.request_id,
        event,
        {
            "$set": {
                **fields,
                "content": redact(data.content, [data.applicant.party()]).text,
                "state": "received",
                PRIVATE: {"applicant": data.applicant.model_dump(), "content": data.content},
            }
        },
        create=True,
    )


async def on_request_answered(
    ctx: HandlerContext, event: CloudEvent, data: RequestAnswered
) -> None:
    await apply_once(
        ctx.db[REQUESTS],
        data.request_id,
        event,
        {
            "$set": {
                "state": "answered",
                "answer_type": str(data.answer_type),
                "answered_at": data.answered_at,
            }
        },
        guard={"state": {"$ne": "answered"}},
        refusal="the request is already answered",
    )


async def on_document_published(
    ctx: HandlerContext, event: CloudEvent, data: DocumentPublished
) -> None:
    # A published document is public: index (and keep) only its redacted text.
    title, number, body = (redact(text).text for text in (data.title, data.number, data.body))
    fields = data.model_dump(exclude={"document_id", "title", "number", "body"})
    await apply_once(
        ctx.db[DOCUMENTS],
        data.document_id,
        event,
        {
            "$set": {
                **fields,
                "title": title,
                "number": number,
                "body": body,
                "tokens": index_tokens(title, number, body),
            }
        },
        create=True,
    )


HANDLERS: dict[str, Handler] = {
    "opengov.request.received": on_request_received,
    "opengov.request.answered": on_request_answered,
    "opengov.document.published": on_document_published,
}


WORKER = WorkerEntry(CATALOG, Settings, HANDLERS, ensure_indexes)
create_worker = WORKER.create
__getattr__ = WORKER.module_getattr  # `faust -A open_government.worker` builds `app` on first use
main = WORKER.main

if __name__ == "__main__":
    main()
