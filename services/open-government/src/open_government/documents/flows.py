"""The publication registry: published items (public, so only their redacted text is kept; the
api's search index reads it from here), each amendment a new version, normative documents with
their registered number, reviews, validity and clean-up year."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fazhi.bus import HandlerContext, PoisonError, Reactions
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.opengov import (
    DocKind,
    DocumentPublished,
    DocumentReviewed,
    ReviewResult,
    Validity,
    ValidityChanged,
)
from fazhi.rules import Party, redact
from fazhi.store import Document, clock_summary
from open_government.domain.documents import (
    change_validity,
    publication_clock,
    record_review,
    review_year,
)
from open_government.store import DOCUMENT_HISTORY, DOCUMENT_VERSIONS, DOCUMENTS, NUMBERS

PUBLIC_TEXTS = ("title", "number", "body", "basis", "item_type", "version_note", "category")
"""The free texts of a published item, each redacted before it is kept."""


def day_of(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


def publish(
    ctx: HandlerContext,
    doc: Document,
    fields: dict[str, Any],
    *,
    published_at: datetime,
    parties: list[Party] | None = None,
) -> Document:
    """Stage `doc` (an item as loaded, or new) with `fields` as its next version: texts
    redacted with the one redaction module, the day, month and year it was published, and a
    version row that stays readable after later amendments."""
    for name in PUBLIC_TEXTS:
        if fields.get(name):
            fields[name] = redact(fields[name], parties or []).text
    on = day_of(published_at)
    version = int(doc.get("version", 0)) + 1
    doc.update(
        fields,
        published_at=published_at,
        published_on=on.isoformat(),
        month=on.isoformat()[:7],
        year=on.year,
        version=version,
    )
    doc.pop("tokens", None)  # the store's search tokens of before the search index
    if version == 1:
        doc["first_published_at"] = published_at
    ctx.save(DOCUMENTS, doc)
    ctx.append(
        DOCUMENT_VERSIONS,
        {
            "document_id": doc["_id"],
            "version": version,
            "published_at": published_at,
            **{name: fields.get(name) for name in ("title", "number", "body", "version_note")},
        },
    )
    return doc


async def on_document_published(ctx: HandlerContext, data: DocumentPublished) -> None:
    doc: Document = await ctx.get(DOCUMENTS, data.document_id) or {"_id": data.document_id}
    if doc.get("doc_kind") not in (None, str(data.doc_kind)):
        raise PoisonError(f"{data.document_id!r} is a {doc['doc_kind']}, not a {data.doc_kind}")
    fields = data.model_dump(mode="json", exclude={"document_id", "published_at"})
    published_on = day_of(data.published_at)
    if data.made_on is not None:
        clock = publication_clock(data.made_on)
        summary = clock_summary(clock) or {}
        fields.update(
            publication_due=summary.get("due_date"),
            publication_provisional=summary.get("provisional"),
            published_on_time=published_on <= clock.due_on,
        )
    if data.doc_kind is DocKind.NORMATIVE:
        await _registered(ctx, data, fields, doc)
        fields.setdefault("validity", doc.get("validity", str(Validity.EFFECTIVE)))
        effective = data.valid_from or published_on
        fields["review_year"] = review_year(effective, data.valid_until)
    publish(ctx, doc, fields, published_at=data.published_at)


async def _registered(
    ctx: HandlerContext, data: DocumentPublished, fields: dict[str, Any], doc: Document
) -> None:
    """A normative document carries the number the registry issued to it: one issued to it
    under another number is refused; one the registry did not issue is published unregistered."""
    issued = await ctx.get(NUMBERS, data.document_id)
    if issued is not None and issued.get("number") and issued["number"] != data.number:
        raise PoisonError(
            f"the registry issued {issued['number']} to {data.document_id!r}, not {data.number!r}"
        )
    fields["registered"] = issued is not None and issued.get("number") == data.number
    if doc.get("validity") == Validity.REPEALED:
        raise PoisonError(f"{data.document_id!r} is repealed (废止): it is not amended any more")


async def on_document_reviewed(ctx: HandlerContext, data: DocumentReviewed) -> None:
    doc = await _normative(ctx, data.document_id)
    field = f"{data.review}_review"
    current = ReviewResult(doc[field]) if doc.get(field) else None
    result = record_review(current, data.review, data.result, document=data.document_id)
    doc[field] = str(result)
    ctx.save(DOCUMENTS, doc)
    ctx.append(
        DOCUMENT_HISTORY,
        {
            "document_id": data.document_id,
            "seq": data.reviewed_at.timestamp(),
            "what": field,
            "value": str(result),
            "at": data.reviewed_at,
            "note": redact(data.note).text if data.note else None,
        },
    )


async def on_validity_changed(ctx: HandlerContext, data: ValidityChanged) -> None:
    doc = await _normative(ctx, data.document_id)
    current = Validity(doc.get("validity", Validity.EFFECTIVE))
    doc["validity"] = str(change_validity(current, data.validity, document=data.document_id))
    doc["validity_changed_at"] = data.changed_at
    ctx.save(DOCUMENTS, doc)
    ctx.append(
        DOCUMENT_HISTORY,
        {
            "document_id": data.document_id,
            "seq": data.changed_at.timestamp(),
            "what": "validity",
            "value": str(data.validity),
            "at": data.changed_at,
            "note": redact(data.reason).text if data.reason else None,
        },
    )


async def _normative(ctx: HandlerContext, document_id: str) -> Document:
    doc = await ctx.get(DOCUMENTS, document_id)
    if doc is None or doc.get("doc_kind") != DocKind.NORMATIVE:
        raise PoisonError(f"{document_id!r} is not a published normative document")
    return doc


REACTIONS: Reactions = {
    DocumentPublished: [on_document_published],
    DocumentReviewed: [on_document_reviewed],
    ValidityChanged: [on_validity_changed],
}
