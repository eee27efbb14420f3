"""Open-government worker: projects disclosure requests and published documents.

Personal data stays in each request's `private` part; the texts others read are redacted.
Run with `python -m open_government.worker` (or `faust -A open_government.worker worker`).
"""

from __future__ import annotations

from fazhi.consumer import Handler, HandlerContext, PoisonError
from fazhi.projection import Document
from fazhi.redaction import redact
from fazhi.textsearch import index_tokens
from fazhi.worker import WorkerEntry
from open_government.config import Settings
from open_government.events import CATALOG, DocumentPublished, RequestAnswered, RequestReceived
from open_government.store import DOCUMENTS, PRIVATE, REQUESTS, ensure_indexes


async def on_request_received(ctx: HandlerContext, data: RequestReceived) -> None:
    doc: Document = await ctx.get(REQUESTS, data.request_id) or {"_id": data.request_id}
    doc.update(
        data.model_dump(exclude={"request_id", "applicant", "content"}),
        content=redact(data.content, [data.applicant.party()]).text,
        state="received",
    )
    doc[PRIVATE] = {"applicant": data.applicant.model_dump(), "content": data.content}
    ctx.save(REQUESTS, doc)


async def on_request_answered(ctx: HandlerContext, data: RequestAnswered) -> None:
    doc = await ctx.get(REQUESTS, data.request_id)
    if doc is None:
        raise PoisonError(f"{data.request_id!r} does not exist (yet)")
    if doc.get("state") == "answered":
        raise PoisonError(f"{data.request_id!r}: the request is already answered")
    doc.update(state="answered", answer_type=str(data.answer_type), answered_at=data.answered_at)
    ctx.save(REQUESTS, doc)


async def on_document_published(ctx: HandlerContext, data: DocumentPublished) -> None:
    # A published document is public: index (and keep) only its redacted text.
    title, number, body = (redact(text).text for text in (data.title, data.number, data.body))
    doc: Document = await ctx.get(DOCUMENTS, data.document_id) or {"_id": data.document_id}
    doc.update(
        data.model_dump(exclude={"document_id", "title", "number", "body"}),
        title=title,
        number=number,
        body=body,
        tokens=index_tokens(title, number, body),
    )
    ctx.save(DOCUMENTS, doc)


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
