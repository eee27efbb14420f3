"""Open-government worker: projects disclosure requests and published documents.

Personal data stays in each request's `private` part; the texts others read are redacted.
Run with `python -m open_government.worker` (or `faust -A open_government.worker worker`).
"""

from __future__ import annotations

import faust

from fazhi.consumer import Handler, HandlerContext
from fazhi.envelope import CloudEvent
from fazhi.projection import apply_once
from fazhi.redaction import redact
from fazhi.textsearch import index_tokens
from fazhi.worker import create_worker_app, run_worker
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


def create_worker(settings: Settings | None = None) -> faust.App:
    return create_worker_app(
        catalog=CATALOG,
        settings=settings or Settings(),
        handlers=HANDLERS,
        ensure_indexes=ensure_indexes,
    )


def __getattr__(name: str) -> faust.App:
    if name == "app":  # `faust -A open_government.worker` asks for it: built then, not at import
        return create_worker()
    raise AttributeError(name)


def main() -> None:
    run_worker(create_worker())


if __name__ == "__main__":
    main()
