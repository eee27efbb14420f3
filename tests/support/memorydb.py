"""The part of an `AsyncDatabase` a worker timer uses, in memory: equality filters only (an
operator is refused, as the storage rules refuse it), with every query recorded."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.results import UpdateResult

Document = dict[str, Any]


def _matches(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    for field, wanted in query.items():
        if isinstance(wanted, Mapping) or field.startswith("$"):
            raise AssertionError(f"not an equality: {field}: {wanted!r}")
        value = doc.get(field)
        if not (value == wanted or (isinstance(value, list) and wanted in value)):
            return False
    return True


def _projected(doc: Document, fields: Mapping[str, int] | None) -> Document:
    if not fields:
        return copy.deepcopy(doc)
    return {k: copy.deepcopy(v) for k, v in doc.items() if k == "_id" or fields.get(k)}


class MemoryCursor:
    def __init__(self, docs: list[Document]) -> None:
        self._docs = docs

    def __aiter__(self) -> AsyncIterator[Document]:
        return self._each()

    async def _each(self) -> AsyncIterator[Document]:
        for doc in self._docs:
            yield doc

    async def to_list(self, length: int | None = None) -> list[Document]:
        return list(self._docs)


class MemoryCollection:
    def __init__(self, name: str, queries: list[tuple[str, Document]]) -> None:
        self.name = name
        self.docs: dict[Any, Document] = {}
        self._queries = queries

    def find(
        self, query: Mapping[str, Any], projection: Mapping[str, int] | None = None
    ) -> MemoryCursor:
        self._queries.append((self.name, dict(query)))
        found = [_projected(d, projection) for d in self.docs.values() if _matches(d, query)]
        return MemoryCursor(found)

    async def find_one(self, query: Mapping[str, Any]) -> Document | None:
        self._queries.append((self.name, dict(query)))
        return next((copy.deepcopy(d) for d in self.docs.values() if _matches(d, query)), None)

    async def insert_many(self, docs: Iterable[Document], ordered: bool = True) -> None:
        """As MongoDB does: a document whose `_id` is there already is a duplicate key error,
        after the others went in (`ordered=False`)."""
        taken = []
        for i, doc in enumerate(docs):
            if doc["_id"] in self.docs:
                taken.append({"index": i, "code": 11000, "errmsg": "duplicate key"})
                continue
            self.docs[doc["_id"]] = copy.deepcopy(doc)
        if taken:
            raise BulkWriteError({"writeErrors": taken})

    async def insert_one(self, doc: Document) -> None:
        if doc["_id"] in self.docs:
            raise DuplicateKeyError("duplicate key")
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    async def update_one(self, query: Mapping[str, Any], update: Mapping[str, Any]) -> UpdateResult:
        """`$set` only, on the first document matching the equalities."""
        self._queries.append((self.name, dict(query)))
        found = next((d for d in self.docs.values() if _matches(d, query)), None)
        if found is None:
            return UpdateResult({"n": 0, "nModified": 0}, acknowledged=True)
        found.update(copy.deepcopy(dict(update["$set"])))
        return UpdateResult({"n": 1, "nModified": 1}, acknowledged=True)

    async def replace_one(
        self, query: Mapping[str, Any], doc: Document, upsert: bool = False
    ) -> None:
        found = next((k for k, d in self.docs.items() if _matches(d, query)), None)
        if found is None and not upsert:
            return
        doc_id = found if found is not None else query["_id"]
        self.docs[doc_id] = {**copy.deepcopy(doc), "_id": doc_id}

    async def bulk_write(self, requests: Iterable[UpdateOne], ordered: bool = True) -> None:
        """Updates by `$set`, each applied to the document its equality filter finds (a filter
        with a stale version finds none, as on the server)."""
        for request in requests:
            query, update = request._filter, request._doc  # pymongo keeps them so
            assert set(update) == {"$set"}, f"only $set: {update!r}"
            self._queries.append((self.name, dict(query)))
            found = next((k for k, d in self.docs.items() if _matches(d, query)), None)
            if found is not None:
                self.docs[found].update(copy.deepcopy(update["$set"]))


class MemoryDatabase:
    def __init__(self) -> None:
        self.queries: list[tuple[str, Document]] = []
        self._collections: dict[str, MemoryCollection] = {}

    def __getitem__(self, name: str) -> MemoryCollection:
        if name not in self._collections:
            self._collections[name] = MemoryCollection(name, self.queries)
        return self._collections[name]
