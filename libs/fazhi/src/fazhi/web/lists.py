"""List endpoints, one way: who lists what (the read scope, `fazhi.web.app.Scope`, as a filter), an
equality on an indexed field bounding every list, cursor pages (`fazhi.web.pagination`) as JSON, and
all of them as a CSV file (`fazhi.web.csvfile`).

A route declares its filters (a dependency answering equalities on stored fields) and hands
them to its `Listing`:

    ITEMS = Listing("items", scope=..., bounds=frozenset({"kind", "unit", ...}),
                    key="opened_at", descending=True, default=this_year, render=render)

    async def list_items(who: Caller, found: Filters, page: PageQuery, rt: Runtime):
        return await ITEMS.page(rt.db, who, found, page)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.responses import StreamingResponse
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.store.projection import OWNERS
from fazhi.web.app import Scope
from fazhi.web.auth import Principal
from fazhi.web.csvfile import csv_response
from fazhi.web.pagination import MAX_LIMIT, PageParams, decode_cursor, fetch_page

Db = AsyncDatabase[dict[str, Any]]
Document = dict[str, Any]


class UnboundedListError(ValueError):
    """A list's query holds no equality on an indexed field and the list has no default one:
    it would read the whole collection (a mistake in the route, not in the request)."""


def _is_equality(value: Any) -> bool:
    return value is not None and not isinstance(value, Mapping)


@dataclass(frozen=True)
class Listing:
    """One list: its collection, who sees what, what bounds it, its order and its rows."""

    collection: str
    scope: Scope
    """Keys it lets read every document list all of them; any other key the documents of its
    unit (`unit_field`), whatever its filters say. A public scope lists to anyone."""
    bounds: frozenset[str]
    """Indexed fields: the query of every page holds an equality on one of them (the store
    pushes it down), so the order and the cursor's range apply to a bounded set."""
    key: str | Callable[[Mapping[str, Any]], str] = "_id"
    """The field pages are ordered by (then `_id`), or how the query chooses it."""
    descending: bool = False
    default: Callable[[], Mapping[str, Any]] | None = None
    """The bounding equality of a query that holds none (`{"opened_year": <this year>}`)."""
    unit_field: str = OWNERS
    projection: Mapping[str, Any] | None = None
    render: Callable[[Document], Document] | None = None
    """A stored document as the list shows it (ids renamed, terms labelled)."""

    def query(self, who: Principal | None, found: Mapping[str, Any]) -> dict[str, Any]:
        """The filter's equalities, held to the key's unit when its scope says so, bounded."""
        query = dict(found)
        if not self.scope.public:
            if who is None:
                raise TypeError(f"the list of {self.collection} is scoped: pass the caller")
            if not self.scope.allows(who, {}):
                query[self.unit_field] = who.unit
        if not any(_is_equality(query.get(name)) for name in self.bounds):
            if self.default is None:
                raise UnboundedListError(
                    f"a query of {self.collection} without an equality on "
                    f"{', '.join(sorted(self.bounds))}: {query}"
                )
            query.update(self.default())
        return query

    def order(self, query: Mapping[str, Any]) -> str:
        return self.key(query) if callable(self.key) else self.key

    def shown(self, doc: Document) -> Document:
        return self.render(doc) if self.render is not None else doc

    async def page(
        self, db: Db, who: Principal | None, found: Mapping[str, Any], params: PageParams
    ) -> dict[str, Any]:
        """One cursor page as JSON: `{"items": [...], "next": <cursor or null>}`."""
        query = self.query(who, found)
        page = await fetch_page(
            db[self.collection],
            query,
            params,
            key=self.order(query),
            descending=self.descending,
            projection=self.projection,
        )
        return page.body([self.shown(doc) for doc in page.items])

    async def documents(
        self, db: Db, who: Principal | None, found: Mapping[str, Any]
    ) -> AsyncIterator[Document]:
        """Every document of the list, as stored, in its order, read page by page."""
        query = self.query(who, found)
        params = PageParams(limit=MAX_LIMIT)
        while True:
            page = await fetch_page(
                db[self.collection],
                query,
                params,
                key=self.order(query),
                descending=self.descending,
                projection=self.projection,
            )
            for doc in page.items:
                yield doc
            if page.next is None:
                return
            params = PageParams(limit=MAX_LIMIT, after=decode_cursor(page.next))

    def csv(
        self,
        db: Db,
        who: Principal | None,
        found: Mapping[str, Any],
        *,
        columns: Sequence[str],
        filename: str,
    ) -> StreamingResponse:
        """Every document of the list as CSV, one row each (its `columns` as shown)."""
        query = self.query(who, found)  # a list that cannot be bounded fails before streaming

        async def rows() -> AsyncIterator[list[Any]]:
            async for doc in self.documents(db, who, query):
                shown = self.shown(doc)
                yield [shown.get(column) for column in columns]

        return csv_response(columns, rows(), filename=filename)
