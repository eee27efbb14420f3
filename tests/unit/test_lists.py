"""One way to list (`fazhi.web.lists.Listing`): a key that may not read everything lists its
unit's documents only, every query holds an equality on an indexed field, pages follow their
cursor, and every list route of supervision, emergency and open-government is built on it."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from emergency.api import create_app as emergency_app
from emergency.store import ensure_indexes as emergency_indexes
from fazhi.bus.publisher import FakePublisher
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.roles import Role
from fazhi.web.app import Scope
from fazhi.web.auth import Principal
from fazhi.web.csvfile import BOM
from fazhi.web.lists import Listing, UnboundedListError
from fazhi.web.pagination import PageParams
from open_government.api import create_app as opengov_app
from open_government.store import ensure_indexes as opengov_indexes
from supervision.api import create_app as supervision_app
from supervision.store import ensure_indexes as supervision_indexes
from tests.support.fakestore import FakeCollection, FakeDatabase, fake_runtime

JUSTICE = Principal(key_id="k", unit="justice", roles=frozenset({Role.DEPARTMENT}))
STAFF = Principal(key_id="k", unit="emergency-management", roles=frozenset({Role.STAFF}))
SUPERVISOR = Principal(key_id="k", unit="gov-office", roles=frozenset({Role.SUPERVISOR}))
THINGS = Listing(
    "things",
    scope=Scope(owners="x", roles=frozenset({Role.STAFF})),
    bounds=frozenset({"status", "year"}),
    default=lambda: {"year": 2026},
)


def test_a_key_that_may_not_read_everything_lists_its_units_documents_only() -> None:
    assert THINGS.query(JUSTICE, {"status": "open", "owner_units": "court"}) == {
        "status": "open",
        "owner_units": "justice",
    }
    assert THINGS.query(STAFF, {"status": "open"}) == {"status": "open"}
    assert THINGS.query(SUPERVISOR, {"status": "open", "owner_units": "court"}) == {
        "status": "open",
        "owner_units": "court",
    }
    with pytest.raises(TypeError, match="scoped"):
        THINGS.query(None, {"status": "open"})
    public = Listing("docs", scope=Scope(owners="x", public=True), bounds=frozenset({"year"}))
    assert public.query(None, {"year": 2026}) == {"year": 2026}


def test_a_query_without_an_indexed_equality_gets_the_default_bound() -> None:
    assert THINGS.query(SUPERVISOR, {}) == {"year": 2026}
    assert THINGS.query(SUPERVISOR, {"year": 2025}) == {"year": 2025}
    # A range or a negation bounds nothing.
    assert THINGS.query(SUPERVISOR, {"status": {"$ne": "closed"}}) == {
        "status": {"$ne": "closed"},
        "year": 2026,
    }
    unbounded = Listing("docs", scope=Scope(owners="x"), bounds=frozenset({"status"}))
    with pytest.raises(UnboundedListError, match="status"):
        unbounded.query(SUPERVISOR, {"kind": "a"})
    # The unit a key is held to bounds its list when the unit field is indexed.
    by_unit = Listing("docs", scope=Scope(owners="x"), bounds=frozenset({"owner_units"}))
    assert by_unit.query(JUSTICE, {}) == {"owner_units": "justice"}


async def test_pages_follow_their_cursor_and_the_csv_reads_them_all() -> None:
    db = FakeDatabase()
    db["things"] = FakeCollection(
        {"_id": f"T{n:04d}", "status": "open", "year": 2026, "n": n} for n in range(1234)
    )
    db["things"].docs.append({"_id": "X", "status": "closed", "year": 2026, "n": -1})
    listing = Listing(
        "things",
        scope=Scope(owners="x"),
        bounds=frozenset({"status"}),
        key="n",
        descending=True,
        render=lambda doc: {"thing_id": doc.pop("_id"), **doc},
    )
    first = await listing.page(db, SUPERVISOR, {"status": "open"}, PageParams(limit=2))  # type: ignore[arg-type]
    assert [t["thing_id"] for t in first["items"]] == ["T1233", "T1232"]
    assert first["next"] is not None
    response = listing.csv(
        db,  # type: ignore[arg-type]
        SUPERVISOR,
        {"status": "open"},
        columns=("thing_id", "n"),
        filename="things.csv",
    )
    text = "".join([chunk async for chunk in response.body_iterator])  # type: ignore[misc]
    rows = list(csv.DictReader(io.StringIO(text.removeprefix(BOM))))
    assert [r["n"] for r in rows] == [str(n) for n in range(1233, -1, -1)]  # past 500 a page


ListRoute = tuple[Callable[..., FastAPI], Callable[[Any], Awaitable[None]], str]
LISTS: list[ListRoute] = [
    (supervision_app, supervision_indexes, "/v1/items"),
    (supervision_app, supervision_indexes, "/v1/items?unit=court"),
    (supervision_app, supervision_indexes, "/v1/items.csv"),
    (supervision_app, supervision_indexes, "/v1/tasks"),
    (supervision_app, supervision_indexes, "/v1/tasks?overdue=false"),
    (supervision_app, supervision_indexes, "/v1/tasks.csv"),
    (emergency_app, emergency_indexes, "/v1/alerts"),
    (emergency_app, emergency_indexes, "/v1/alerts?status=expired"),
    (emergency_app, emergency_indexes, "/v1/incidents?status=reported"),
    (emergency_app, emergency_indexes, "/v1/supplies"),
    (opengov_app, opengov_indexes, "/v1/publications?year=2026"),
]


@pytest.mark.parametrize(("create", "indexes", "path"), LISTS, ids=[p for _, _, p in LISTS])
@pytest.mark.parametrize("key", ["supervisor", "justice", "staff"])
async def test_every_list_query_holds_an_equality_on_an_indexed_field(
    create: Callable[..., FastAPI],
    indexes: Callable[[Any], Awaitable[None]],
    path: str,
    key: str,
) -> None:
    db = FakeDatabase()
    await indexes(db)
    indexed = {
        name: {fields[0] for fields in collection.indexes} | {"_id"}
        for name, collection in db.items()
    }
    app = create(publisher=FakePublisher())
    app.state.runtime = fake_runtime(db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get(path, headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    queried = [(name, q) for name, collection in db.items() for q in collection.queries]
    assert queried
    for name, query in queried:
        bounds = [f for f in indexed[name] if f in query and not isinstance(query[f], dict)]
        assert bounds, f"{path} read {name} with {query}: no equality on {indexed[name]}"


async def test_items_without_a_filter_are_this_years_and_a_filter_lists_every_year() -> None:
    this_year = datetime.now(CHINA_TZ).year
    db = FakeDatabase()
    db["items"] = FakeCollection(
        {
            "_id": f"finding-{year}",
            "kind": "inspection_finding",
            "unit": "justice",
            "status": "open",
            "level": "blue",
            "opened_at": datetime(year, 3, 1, tzinfo=CHINA_TZ),
            "opened_year": year,
            "owner_units": ["justice"],
        }
        for year in (this_year - 1, this_year)
    )
    app = supervision_app(publisher=FakePublisher())
    app.state.runtime = fake_runtime(db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

        async def ids(key: str, **params: Any) -> list[str]:
            response = await http.get(
                "/v1/items", params=params, headers={"authorization": f"Bearer {key}"}
            )
            assert response.status_code == 200, response.text
            return [item["item_id"] for item in response.json()["items"]]

        assert await ids("supervisor") == [f"finding-{this_year}"]
        assert await ids("supervisor", year=this_year - 1) == [f"finding-{this_year - 1}"]
        every = [f"finding-{this_year}", f"finding-{this_year - 1}"]
        assert await ids("supervisor", kind="inspection_finding") == every
        assert await ids("justice") == every  # held to its unit: that bounds it
        assert await ids("court") == []
        spec = app.openapi()["paths"]["/v1/items"]["get"]
        assert "this year" in spec["description"]
        assert "year" in {p["name"] for p in spec["parameters"]}
