"""Cursor pagination of list endpoints: `?limit=&cursor=`, answered `{"items": [...], "next": ...}`.

A page is the documents matching a filter, ordered by one key (then `_id`, so the order is
total), starting after the cursor's position. The cursor is opaque to clients: the last
document's key and `_id`, JSON in URL-safe base64. `next` is null on the last page.

On the local store only equality is pushed down (see docs/architecture.md, "Storage"): a list
endpoint's filter should hold an indexed equality, so that the order and the cursor's range
apply to a bounded set. A page costs one query of `limit + 1` documents.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from fazhi.web.problems import Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_CURSOR_LENGTH = 1024

Scalar = str | int | float | bool | datetime | None


@dataclass(frozen=True)
class PageParams:
    """A client's page request: how many documents, and after which position (decoded)."""

    limit: int = DEFAULT_LIMIT
    after: tuple[Scalar, Any] | None = None
    """The (key, `_id`) of the previous page's last document."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next: str | None

    def body(self, items: list[Any] | None = None) -> dict[str, Any]:
        """The answer: `items` (the page's documents, or their rendering) and `next`."""
        return {"items": self.items if items is None else items, "next": self.next}


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a cursor cannot hold a {type(value).__name__}")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"$dt"} or not isinstance(value["$dt"], str):
            raise ValueError("not a cursor value")
        return datetime.fromisoformat(value["$dt"])
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("not a cursor value")


def encode_cursor(key: Any, doc_id: Any) -> str:
    raw = json.dumps([_encode_value(key), _encode_value(doc_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, Any]:
    """The (key, `_id`) a cursor holds; a `Problem` 400 for anything not made by `encode_cursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if not (isinstance(value, list) and len(value) == 2):
            raise ValueError("not a pair")
        return _decode_value(value[0]), _decode_value(value[1])
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Problem(
            400,
            "The cursor is not one this API gave: pass the `next` of the previous page as it "
            "came, or no cursor for the first page.",
            kind="bad-cursor",
        ) from exc


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Documents per page (1-{MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_LENGTH,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="The `next` of the previous page; none for the first page.",
        ),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor is not None else None)


PageQuery = Annotated[PageParams, Depends(page_params)]
"""A list endpoint's `limit` and `cursor` (declare it after the caller's key dependency)."""


def _after(key: str, after: tuple[Any, Any], descending: bool) -> dict[str, Any]:
    op = "$lt" if descending else "$gt"
    value, doc_id = after
    if key == "_id":
        return {"_id": {op: doc_id}}
    return {"$or": [{key: {op: value}}, {key: value, "_id": {op: doc_id}}]}


async def fetch_page(
    collection: AsyncCollection[dict[str, Any]],
    filter: Mapping[str, Any],
    params: PageParams,
    *,
    key: str = "_id",
    descending: bool = False,
    projection: Mapping[str, Any] | None = None,
) -> Page:
    """One page of the documents matching `filter`, ordered by `key` then `_id`.

    `key` must be present in every matching document (a missing key sorts first and is
    paged as null). With `projection`, `key` and `_id` are read even when it leaves them out
    of the page's items.
    """
    query: dict[str, Any] = dict(filter)
    if params.after is not None:
        after = _after(key, params.after, descending)
        query = {"$and": [query, after]} if query else after
    direction = DESCENDING if descending else ASCENDING
    order = [("_id", direction)] if key == "_id" else [(key, direction), ("_id", direction)]
    fields: dict[str, Any] | None = None
    if projection is not None:
        fields = dict(projection)
        if any(v in (1, True) for v in fields.values()):
            fields.update({key: 1, "_id": 1})
        else:
            fields.pop(key, None)
            fields.pop("_id", None)
    docs = await collection.find(query, fields).sort(order).limit(params.limit + 1).to_list(None)
    more = len(docs) > params.limit
    docs = docs[: params.limit]
    cursor = encode_cursor(docs[-1].get(key), docs[-1]["_id"]) if more and docs else None
    return Page(items=docs, next=cursor)
