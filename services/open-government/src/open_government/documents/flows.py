"""Published documents: public, so only their redacted text is kept and indexed for search."""

from __future__ import annotations

from fazhi.consumer import HandlerContext
from fazhi.contracts.opengov import DocumentPublished
from fazhi.projection import Document
from fazhi.reactions import Reactions
from fazhi.redaction import redact
from fazhi.textsearch import index_tokens
from open_government.store import DOCUMENTS


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


REACTIONS: Reactions = {DocumentPublished: [on_document_published]}
