"""MongoDB collections of open-government, their indexes and hot queries."""

from __future__ import annotations

import contextlib
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from fazhi.store import VERSION, HotQuery

REQUESTS = "requests"
REQUEST_HISTORY = "request_history"
"""Insert-only: one row per step of a request (corrections, consultations, extension, answer)."""
DOCUMENTS = "documents"
"""Everything published on the portal, one document per item, its current version."""
DOCUMENT_VERSIONS = "document_versions"
"""Insert-only: every version of every published item, readable after it was amended."""
DOCUMENT_HISTORY = "document_history"
"""Insert-only: reviews and validity changes of published items."""
NUMBERS = "document_numbers"
"""One per registered normative document (`_id` its id): the number the registry issued to it."""
NUMBER_CLAIMS = "number_claims"
"""One per issued number (`_id` unit:year:number, `document_id` unique): the insert that takes it."""
SEQUENCES = "number_sequences"
"""One per (issuing unit, year): the last number known taken, where the next claim starts."""
DECISIONS = "decisions"
DECISION_HISTORY = "decision_history"
"""Insert-only: every catalogue change and procedure step of every major decision."""
RATE_LIMITS = "portal_rate_limits"
"""One per client (a hash of its address, never the address): requests in the current window."""
TIMERS = "timers"
"""One per day scan of the worker (`_id` its name): the last day it looked at."""
PRIVATE = "private"
"""The part of a document holding personal data: stored, never returned or published."""

HOT_QUERIES = (
    HotQuery(REQUESTS, {"_id": "R-1"}, "worker load, owner check at ingest, GET /v1/requests/{id}"),
    HotQuery(REQUESTS, {"_id": "R-1", VERSION: 3}, "worker save"),
    HotQuery(REQUESTS, {"due_date": "2026-12-01"}, "overdue timer tick: requests due that day"),
    HotQuery(REQUESTS, {"year": 2026}, "annual report 年度报告: requests received that year"),
    HotQuery(REQUEST_HISTORY, {"request_id": "R-1"}, "GET /v1/requests/{id}: its steps"),
    HotQuery(
        DOCUMENTS, {"_id": "D-1"}, "worker load, owner check at ingest, GET /v1/documents/{id}"
    ),
    HotQuery(DOCUMENTS, {"_id": "D-1", VERSION: 3}, "worker save"),
    HotQuery(DOCUMENTS, {"year": 2026}, "search index rebuild, annual report: a year's items"),
    HotQuery(DOCUMENTS, {"published_on": "2026-11-30"}, "portal home and feeds: a day's items"),
    HotQuery(
        DOCUMENTS, {"published_on": "2026-11-30", "doc_kind": "news"}, "a kind's feed: a day's"
    ),
    HotQuery(
        DOCUMENTS,
        {"published_on": "2026-11-30", "issuing_unit": "justice"},
        "a unit's feed: a day's items",
    ),
    HotQuery(DOCUMENTS, {"doc_kind": "normative", "year": 2026}, "a kind's list for a year"),
    HotQuery(DOCUMENTS, {"issuing_unit": "justice", "year": 2026}, "a unit's list for a year"),
    HotQuery(DOCUMENTS, {"review_year": 2026}, "clean-up list: normative documents due"),
    HotQuery(DOCUMENT_VERSIONS, {"document_id": "D-1"}, "a document page: its versions"),
    HotQuery(DOCUMENT_VERSIONS, {"document_id": "D-1", "version": 1}, "one old version"),
    HotQuery(DOCUMENT_HISTORY, {"document_id": "D-1"}, "a document page: reviews, validity"),
    HotQuery(NUMBERS, {"_id": "D-1"}, "worker: the number the registry issued to a document"),
    HotQuery(NUMBER_CLAIMS, {"document_id": "D-1"}, "registry: a document's number, if issued"),
    HotQuery(NUMBER_CLAIMS, {"_id": "justice:2026:7"}, "registry: claiming a number"),
    HotQuery(SEQUENCES, {"_id": "justice:2026"}, "registry: the unit's sequence of the year"),
    HotQuery(
        DECISIONS, {"_id": "MD-1"}, "worker load, owner check at ingest, GET /v1/decisions/{id}"
    ),
    HotQuery(DECISIONS, {"_id": "MD-1", VERSION: 3}, "worker save"),
    HotQuery(DECISIONS, {"year": 2026}, "the catalogue 重大行政决策事项目录 of a year"),
    HotQuery(DECISION_HISTORY, {"decision_id": "MD-1"}, "a decision: its steps and changes"),
    HotQuery(DECISION_HISTORY, {"year": 2026}, "the catalogue's changes in a year"),
    HotQuery(RATE_LIMITS, {"_id": "c0ffee:2026113015:1"}, "portal form rate limit: a slot"),
    HotQuery(RATE_LIMITS, {"client": "c0ffee"}, "portal form rate limit: older windows"),
    HotQuery(TIMERS, {"_id": "request-overdue"}, "overdue timer tick: where it stands"),
)


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[REQUESTS].create_index([("due_date", ASCENDING)], name="due_date")
    await db[REQUESTS].create_index([("year", ASCENDING)], name="year")
    await db[REQUEST_HISTORY].create_index([("request_id", ASCENDING)], name="request_id")
    with contextlib.suppress(OperationFailure):  # search tokens of before the search index
        await db[DOCUMENTS].drop_index("tokens")
    await db[DOCUMENTS].create_index([("published_on", ASCENDING)], name="published_on")
    await db[DOCUMENTS].create_index([("doc_kind", ASCENDING), ("year", ASCENDING)], name="kind")
    await db[DOCUMENTS].create_index(
        [("issuing_unit", ASCENDING), ("year", ASCENDING)], name="unit"
    )
    await db[DOCUMENTS].create_index([("year", ASCENDING)], name="year")
    await db[DOCUMENTS].create_index([("review_year", ASCENDING)], name="review_year")
    await db[DOCUMENT_VERSIONS].create_index(
        [("document_id", ASCENDING), ("version", ASCENDING)], name="document_version"
    )
    await db[DOCUMENT_HISTORY].create_index([("document_id", ASCENDING)], name="document_id")
    await db[NUMBER_CLAIMS].create_index(
        [("document_id", ASCENDING)], name="document_id", unique=True
    )
    await db[DECISIONS].create_index([("year", ASCENDING)], name="year")
    await db[DECISION_HISTORY].create_index([("decision_id", ASCENDING)], name="decision_id")
    await db[DECISION_HISTORY].create_index([("year", ASCENDING)], name="year")
    await db[RATE_LIMITS].create_index([("client", ASCENDING)], name="client")
