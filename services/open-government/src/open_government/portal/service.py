"""What the public reads, for the portal pages, the feeds and the `/v1/` JSON alike: each a
query by equality on an indexed field (a month, a kind and year, a unit and year, a review year,
a tracking number), then sorted in the process over the bounded set it returns."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.opengov import AnswerType, Channel, DocKind, Validity
from open_government.store import (
    DECISION_HISTORY,
    DECISIONS,
    DOCUMENT_HISTORY,
    DOCUMENT_VERSIONS,
    DOCUMENTS,
    REQUESTS,
)

Db = AsyncDatabase[dict[str, Any]]
LISTED = {"tokens": 0, "body": 0, "owner_units": 0, "_v": 0, "_pos": 0}
SHOWN = {"tokens": 0, "owner_units": 0, "_v": 0, "_pos": 0}
DAYS_BACK = 92
"""The home page and the feeds show the newest items of the last three months at most."""
LIST_CAP = 500
"""The most items a page lists for a year (the JSON API pages through all of them)."""


def now() -> datetime:
    return datetime.now(CHINA_TZ)


def _newest(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(docs, key=lambda d: d.get("published_at") or now(), reverse=True)


async def newest(
    db: Db, *, today: date, limit: int = 20, kind: str | None = None, unit: str | None = None
) -> list[dict[str, Any]]:
    """The newest items, newest first: day by day back from `today` (one equality on the day,
    with the kind or the unit), until `limit` are found or three months are looked at."""
    found: list[dict[str, Any]] = []
    where: dict[str, Any] = {}
    if kind:
        where["doc_kind"] = kind
    if unit:
        where["issuing_unit"] = unit
    for back in range(DAYS_BACK):
        day = (today - timedelta(days=back)).isoformat()
        found += await db[DOCUMENTS].find({"published_on": day, **where}, LISTED).to_list(None)
        if len(found) >= limit:
            break
    return _newest(found)[:limit]


async def listing(
    db: Db, *, year: int, kind: str | None = None, unit: str | None = None
) -> list[dict[str, Any]]:
    """A kind's or a unit's items of a year (both: the kind's, kept to the unit), newest first:
    the year's newest `LIST_CAP`, sorted by the store within the year's equality."""
    where: dict[str, Any] = {"year": year}
    if kind:
        where["doc_kind"] = kind
    if unit:
        where["issuing_unit"] = unit
    docs = (
        await db[DOCUMENTS]
        .find(where, LISTED)
        .sort([("published_at", -1), ("_id", -1)])
        .limit(LIST_CAP)
        .to_list(None)
    )
    return _newest(docs)


async def publication(db: Db, document_id: str) -> dict[str, Any] | None:
    """An item with its versions (newest first, without their bodies) and its history."""
    doc = await db[DOCUMENTS].find_one({"_id": document_id}, SHOWN)
    if doc is None:
        return None
    versions = (
        await db[DOCUMENT_VERSIONS]
        .find({"document_id": document_id}, {"body": 0, "_id": 0})
        .to_list(None)
    )
    doc["versions"] = sorted(versions, key=lambda v: v["version"], reverse=True)
    history = (
        await db[DOCUMENT_HISTORY].find({"document_id": document_id}, {"_id": 0}).to_list(None)
    )
    doc["history"] = sorted(history, key=lambda row: row.get("seq", 0))
    return doc


async def version(db: Db, document_id: str, number: int) -> dict[str, Any] | None:
    return await db[DOCUMENT_VERSIONS].find_one(
        {"document_id": document_id, "version": number}, {"_id": 0}
    )


async def cleanup(db: Db, year: int) -> list[dict[str, Any]]:
    """清理: effective normative documents due for review in `year`."""
    docs = await db[DOCUMENTS].find({"review_year": year}, LISTED).to_list(None)
    due = [
        d
        for d in docs
        if d.get("doc_kind") == DocKind.NORMATIVE
        and d.get("validity", Validity.EFFECTIVE) == Validity.EFFECTIVE
    ]
    return sorted(due, key=lambda d: (d.get("issuing_unit", ""), d.get("number", "")))


async def catalogue(db: Db, year: int) -> dict[str, Any]:
    """A year's catalogue of major decisions and every change made to it."""
    hidden = {"owner_units": 0, "_v": 0, "_pos": 0}
    decisions = await db[DECISIONS].find({"year": year}, hidden).to_list(None)
    changes = await db[DECISION_HISTORY].find({"year": year}, {"_id": 0}).to_list(None)
    return {
        "year": year,
        "decisions": sorted(decisions, key=lambda d: str(d.get("listed_at") or d["_id"])),
        "changes": sorted(changes, key=lambda row: row.get("seq", 0)),
    }


async def decision(db: Db, decision_id: str) -> dict[str, Any] | None:
    doc = await db[DECISIONS].find_one({"_id": decision_id}, {"owner_units": 0, "_v": 0, "_pos": 0})
    if doc is None:
        return None
    rows = await db[DECISION_HISTORY].find({"decision_id": decision_id}, {"_id": 0}).to_list(None)
    doc["history"] = sorted(rows, key=lambda row: row.get("seq", 0))
    return doc


async def tracking(db: Db, number: str) -> dict[str, Any] | None:
    """What the public tracking page shows of a request: its status and due date, nothing more."""
    doc = await db[REQUESTS].find_one(
        {"_id": number}, {"status": 1, "status_label_zh": 1, "due_date": 1, "provisional": 1}
    )
    if doc is None:
        return None
    return {
        "tracking_number": doc["_id"],
        "status": doc.get("status"),
        "status_label_zh": doc.get("status_label_zh"),
        "due_date": doc.get("due_date"),
        "provisional": doc.get("provisional"),
    }


REPORT_ROWS = (
    ("disclosed", "（一）予以公开", (AnswerType.DISCLOSED, AnswerType.ALREADY_PUBLIC)),
    ("partially_disclosed", "（二）部分公开", (AnswerType.PARTIALLY_DISCLOSED,)),
    ("not_disclosed", "（三）不予公开", (AnswerType.NOT_DISCLOSED,)),
    ("not_available", "（四）无法提供", (AnswerType.NOT_HELD,)),
    ("not_processed", "（五）不予处理", (AnswerType.NOT_PROCESSED, AnswerType.DUPLICATE)),
    ("other", "（六）其他处理", (AnswerType.NOT_OUR_REMIT, AnswerType.SPECIAL_PROCEDURE)),
)
"""The outcome rows of the 政府信息公开工作年度报告 table, and the answers each counts."""


async def annual_report(db: Db, year: int) -> dict[str, Any]:
    """The 政府信息公开工作年度报告 tables of `year`: requests received, carried over, answered by
    outcome, carried into the next year; items proactively published by kind."""
    fields = {"status": 1, "answer_type": 1, "answered_at": 1, "channel": 1, "answered_on_time": 1}
    this = await db[REQUESTS].find({"year": year}, fields).to_list(None)
    before = await db[REQUESTS].find({"year": year - 1}, fields).to_list(None)

    def answered_in(doc: dict[str, Any]) -> int | None:
        at = doc.get("answered_at")
        return at.astimezone(CHINA_TZ).year if isinstance(at, datetime) else None

    def open_at_end(doc: dict[str, Any], of_year: int) -> bool:
        answered = answered_in(doc)
        return doc.get("status") != "abandoned" and (answered is None or answered > of_year)

    carried_in = [d for d in before if open_at_end(d, year - 1)]
    answered = [d for d in this + carried_in if answered_in(d) == year]
    by_answer = Counter(d.get("answer_type") for d in answered)
    outcomes = [
        {"code": code, "label_zh": label, "count": sum(by_answer[str(a)] for a in answers)}
        for code, label, answers in REPORT_ROWS
    ]
    abandoned = sum(1 for d in this if d.get("status") == "abandoned")
    published = await db[DOCUMENTS].find({"year": year}, {"doc_kind": 1}).to_list(None)
    kinds = Counter(d.get("doc_kind") for d in published)
    return {
        "year": year,
        "received": len(this),
        "received_by_channel": {
            str(c): sum(1 for d in this if d.get("channel") == c) for c in Channel
        },
        "carried_over_from_last_year": len(carried_in),
        "outcomes": outcomes,
        "abandoned": abandoned,
        "answered_total": len(answered),
        "answered_on_time": sum(1 for d in answered if d.get("answered_on_time")),
        "carried_into_next_year": sum(1 for d in this if open_at_end(d, year)),
        "proactively_published": {str(k): kinds.get(str(k), 0) for k in DocKind},
    }
