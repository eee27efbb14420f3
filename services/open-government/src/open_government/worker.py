"""Open-government worker: projects requests and documents (`python -m open_government.worker`)."""

from __future__ import annotations

import faust

from fazhi.consumer import Handler, HandlerContext
from fazhi.envelope import CloudEvent
from fazhi.projection import apply_once
from fazhi.textsearch import index_tokens
from fazhi.worker import create_worker_app, run_worker
from open_government.config import Settings
from open_government.events import CATALOG, DocumentPublished, RequestAnswered, RequestReceived
from open_government.store import DOCUMENTS, REQUESTS, ensure_indexes


async def on_request_received(
    ctx: HandlerContext, event: CloudEvent, data: RequestReceived
) -> None:
    fields = data.model_dump(exclude={"request_id"})
    await apply_once(
        ctx.db[REQUESTS], data.request_id, event, {"$set": {**fields, "state": "received"}}
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
    )


async def on_document_published(
    ctx: HandlerContext, event: CloudEvent, data: DocumentPublished
) -> None:
    fields = data.model_dump(exclude={"document_id"})
    tokens = index_tokens(data.title, data.number, data.body)
    await apply_once(
        ctx.db[DOCUMENTS], data.document_id, event, {"$set": {**fields, "tokens": tokens}}
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


def main() -> None:
    run_worker(create_worker())


if __name__ == "__main__":
    main()
