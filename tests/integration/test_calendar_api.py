"""Operator-loaded holiday schedules on the real FerretDB: the calendar API, deadlines on the
stored schedule, and the per-process cache surviving a MongoDB outage."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any

import httpx
import pytest
import pytest_asyncio
from chinese_calendar.constants import holidays as OFFICIAL_HOLIDAYS
from fastapi import APIRouter, Depends, FastAPI
from pymongo import AsyncMongoClient, MongoClient

from fazhi.bus.publisher import FakePublisher
from fazhi.rules.clocks import start_clock
from fazhi.rules.workdays import WorkCalendar
from fazhi.settings import ServiceSettings
from fazhi.store.calendar import COLLECTION, CalendarCache, load_calendar
from fazhi.web.app import create_service_app
from fazhi.web.auth import KeyStore, Role
from fazhi.web.calendar import work_calendar
from fazhi.web.service import ServiceRuntime
from supervision.events import CATALOG
from tests.support.processes import MONGO

pytestmark = pytest.mark.integration

DB = "test_calendar"
AUTH_DB = "test_calendar_auth"

# A made-up 2027 National Day schedule: Fri 10-01 to Thu 10-07 off, Sun 09-26 and Sat 10-09 worked.
NATIONAL_DAY = [f"2027-10-0{d}" for d in range(1, 8)]
MAKE_UP = ["2027-09-26", "2027-10-09"]
SCHEDULE_2027 = {
    "holidays": NATIONAL_DAY,
    "workdays": MAKE_UP,
    "note": "test: made-up 2027 国庆节 schedule",
}


# The first year the installed chinesecalendar has no official schedule for.
FIRST_UNPUBLISHED_YEAR = max(OFFICIAL_HOLIDAYS).year + 1


@pytest.fixture(scope="module", autouse=True)
def year_2027_is_unpublished() -> None:
    """Every test here reads 2027 as a year without an official schedule (provisional until an
    operator loads one): fail, never skip, once chinesecalendar covers it."""
    if FIRST_UNPUBLISHED_YEAR > 2027:
        pytest.fail(
            "these tests need 2027 to have no official holiday schedule, but the installed "
            f"chinesecalendar covers up to {FIRST_UNPUBLISHED_YEAR - 1}: "
            "move the made-up schedule to a year it does not cover"
        )


def _deadline_router() -> APIRouter:
    """How a service computes a deadline on the shared calendar: the `work_calendar` dependency."""
    router = APIRouter()

    @router.get("/test/disclosure-due/{received}")
    async def due(received: date, cal: Annotated[WorkCalendar, Depends(work_calendar)]) -> Any:
        clock = start_clock("disclosure.reply", received, calendar=cal)
        return {"due_on": clock.due_on.isoformat(), "provisional": clock.provisional}

    return router


@pytest.fixture(scope="module")
def clean_databases(mongo: MongoClient[dict[str, Any]]) -> None:
    mongo.drop_database(DB)
    mongo.drop_database(AUTH_DB)


@pytest_asyncio.fixture(scope="module")
async def app(clean_databases: None) -> AsyncIterator[FastAPI]:
    # No live tail: the calendar needs MongoDB only, not Kafka.
    settings = ServiceSettings(mongo_url=MONGO, mongo_db=DB, auth_db=AUTH_DB, live_tail=False)
    service = create_service_app(
        title="calendar test",
        catalog=CATALOG,
        settings=settings,
        publisher=FakePublisher(),
        routers=[_deadline_router()],
    )
    async with service.router.lifespan_context(service):
        yield service


@pytest.fixture(scope="module")
def rt(app: FastAPI) -> ServiceRuntime:
    runtime = app.state.runtime
    assert isinstance(runtime, ServiceRuntime)
    return runtime


@pytest_asyncio.fixture(scope="module")
async def keys(rt: ServiceRuntime) -> dict[str, str]:
    store = KeyStore(rt.mongo[AUTH_DB])
    operator, _ = await store.create("rule-of-law-office", {Role.OPERATOR})
    department, _ = await store.create("justice", {Role.DEPARTMENT})
    return {"operator": operator, "department": department}


@pytest_asyncio.fixture(scope="module")
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://calendar.test") as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def put_2027(http: httpx.AsyncClient, keys: dict[str, str]) -> httpx.Response:
    response = await http.put(
        "/v1/calendar/2027", json=SCHEDULE_2027, headers=bearer(keys["operator"])
    )
    assert response.status_code == 200, response.text
    return response


def by_date(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {day["date"]: day for day in body["days"]}


async def test_reading_needs_a_key_and_writing_needs_the_operator_role(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    anonymous = await http.get("/v1/calendar/2027")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert (await http.put("/v1/calendar/2027", json=SCHEDULE_2027)).status_code == 401

    denied = await http.put(
        "/v1/calendar/2027", json=SCHEDULE_2027, headers=bearer(keys["department"])
    )
    assert denied.status_code == 403, denied.text
    assert denied.headers["content-type"] == "application/problem+json"
    assert "operator role" in denied.json()["detail"]
    gone = await http.delete("/v1/calendar/2027", headers=bearer(keys["department"]))
    assert gone.status_code == 403

    read = await http.get("/v1/calendar/2027", headers=bearer(keys["department"]))
    assert read.status_code == 200
    assert read.json()["provisional"] is True
    assert read.json()["source"] == "weekends-only"
    assert read.json()["days"] == []


async def test_keys_and_roles_are_checked_before_the_body_or_the_year(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    bad_body = {"holidays": "not a list", "unknown": 1}
    anonymous = await http.put("/v1/calendar/2027", json=bad_body)
    assert anonymous.status_code == 401, anonymous.text
    assert "errors" not in anonymous.json()
    department = await http.put(
        "/v1/calendar/1800", json=bad_body, headers=bearer(keys["department"])
    )
    assert department.status_code == 403, department.text
    assert (await http.get("/v1/calendar/1800")).status_code == 401


async def test_official_year_lists_holidays_and_make_up_days(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    response = await http.get("/v1/calendar/2026", headers=bearer(keys["department"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["source"], body["provisional"], body["loaded_by"]) == ("official", False, None)
    days = by_date(body)
    assert days["2026-10-01"] == {
        "date": "2026-10-01",
        "working": False,
        "reason": "holiday: 国庆节 National Day",
        "source": "official",
    }
    assert days["2026-10-10"]["working"] is True
    assert "2026-10-08" not in days  # an ordinary weekday is not listed


async def test_operator_loads_a_schedule_and_every_reader_sees_it(
    http: httpx.AsyncClient,
    keys: dict[str, str],
    rt: ServiceRuntime,
    mongo: MongoClient[dict[str, Any]],
) -> None:
    put = (await put_2027(http, keys)).json()
    assert (put["source"], put["provisional"]) == ("override", False)
    assert (put["holidays"], put["workdays"]) == (5, 2)  # 10-02 and 10-03 are a weekend
    assert put["ignored_workdays"] == []

    response = await http.get("/v1/calendar/2027", headers=bearer(keys["department"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["source"], body["provisional"]) == ("override", False)
    assert body["note"] == SCHEDULE_2027["note"]
    assert body["loaded_at"] is not None
    days = by_date(body)
    assert sorted(days) == sorted([*NATIONAL_DAY, *MAKE_UP])
    assert days["2027-10-01"] == {
        "date": "2027-10-01",
        "working": False,
        "reason": "holiday (operator schedule for 2027)",
        "source": "override",
    }
    assert days["2027-10-09"]["working"] is True
    assert days["2027-10-09"]["reason"] == "make-up working day (调休) (operator schedule for 2027)"

    doc = mongo[AUTH_DB][COLLECTION].find_one({"_id": 2027})
    assert doc is not None
    operator = await rt.keys.authenticate(f"Bearer {keys['operator']}")
    assert doc["loaded_by"] == operator.key_id
    assert doc["holidays"] == NATIONAL_DAY
    assert doc["workdays"] == MAKE_UP
    assert doc["note"] == SCHEDULE_2027["note"]
    assert doc["loaded_at"] is not None

    # Replacing the year is an upsert: one document, the new dates.
    smaller = {**SCHEDULE_2027, "holidays": NATIONAL_DAY[:3], "workdays": []}
    replaced = await http.put("/v1/calendar/2027", json=smaller, headers=bearer(keys["operator"]))
    assert replaced.status_code == 200
    assert sorted(by_date(replaced.json())) == NATIONAL_DAY[:3]
    assert mongo[AUTH_DB][COLLECTION].count_documents({"_id": 2027}) == 1
    await put_2027(http, keys)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"holidays": ["2027-10-01", "2026-12-31"]}, "holidays.1", "2026-12-31 is not in 2027"),
        (
            {"holidays": ["2027-10-01"], "workdays": ["2028-01-01"]},
            "workdays.0",
            "2028-01-01 is not in 2027",
        ),
        (
            {"holidays": ["2027-10-01", "2027-10-02"], "workdays": ["2027-10-02"]},
            "workdays.0",
            "also listed in holidays",
        ),
        ({"holidays": ["2027-13-01"]}, "holidays.0", "not a valid date"),
        ({"holidays": ["2027-10-01T00:00:00"]}, "holidays.0", "expected an ISO date"),
        ({"holidays": [1822924800]}, "holidays.0", "expected an ISO date"),
        ({"holidays": []}, "holidays", "at least 1 item"),
        ({"workdays": ["2027-10-09"]}, "holidays", "Field required"),
        ({"holidays": ["2027-10-01"], "holiday": ["2027-10-02"]}, "holiday", "Extra inputs"),
    ],
)
async def test_bad_schedules_are_refused_naming_the_field(
    http: httpx.AsyncClient,
    keys: dict[str, str],
    mongo: MongoClient[dict[str, Any]],
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    before = mongo[AUTH_DB][COLLECTION].find_one({"_id": 2027})
    response = await http.put("/v1/calendar/2027", json=body, headers=bearer(keys["operator"]))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert field in problem["detail"]
    assert any(e["field"] == field and message in e["message"] for e in problem["errors"]), problem
    assert mongo[AUTH_DB][COLLECTION].find_one({"_id": 2027}) == before


async def test_years_out_of_range_are_refused(
    http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    for year in (1999, 2101):
        response = await http.get(f"/v1/calendar/{year}", headers=bearer(keys["department"]))
        assert response.status_code == 422
        assert "year" in response.json()["detail"]


async def test_a_weekday_make_up_day_is_accepted_as_a_no_op(
    http: httpx.AsyncClient, keys: dict[str, str], mongo: MongoClient[dict[str, Any]]
) -> None:
    body = {"holidays": ["2028-01-03"], "workdays": ["2028-01-08", "2028-01-05"]}
    response = await http.put("/v1/calendar/2028", json=body, headers=bearer(keys["operator"]))
    assert response.status_code == 200, response.text
    assert response.json()["ignored_workdays"] == ["2028-01-05"]
    assert sorted(by_date(response.json())) == ["2028-01-03", "2028-01-08"]
    doc = mongo[AUTH_DB][COLLECTION].find_one({"_id": 2028})
    assert doc is not None
    assert doc["workdays"] == ["2028-01-08"]
    assert (await http.delete("/v1/calendar/2028", headers=bearer(keys["operator"]))).is_success


async def test_deadlines_on_the_stored_schedule_skip_its_holidays(
    http: httpx.AsyncClient, keys: dict[str, str], rt: ServiceRuntime
) -> None:
    await put_2027(http, keys)
    calendar = await load_calendar(rt.mongo[AUTH_DB])
    assert calendar.to_mapping()["2027"] == {"holidays": NATIONAL_DAY, "workdays": MAKE_UP}

    clock = start_clock("disclosure.reply", date(2027, 9, 30), calendar=calendar)
    assert clock.provisional is False
    # Fri 10-08 is day 1, the make-up Sat 10-09 day 2, ..., Wed 11-03 day 20.
    assert clock.due_on == date(2027, 11, 3)
    steps = {s.date: s for s in clock.explain().steps}
    assert not any(steps[date(2027, 10, d)].counted for d in range(1, 8))
    assert steps[date(2027, 10, 9)].counted
    assert "operator schedule for 2027" in clock.explain().to_text()

    default = start_clock("disclosure.reply", date(2027, 9, 30))
    assert default.provisional is True
    assert default.due_on == date(2027, 10, 28)

    # In a service: the `work_calendar` dependency sees the stored schedule.
    served = await http.get("/test/disclosure-due/2027-09-30")
    assert served.json() == {"due_on": "2027-11-03", "provisional": False}


async def test_deleting_the_schedule_makes_the_year_provisional_again(
    http: httpx.AsyncClient, keys: dict[str, str], rt: ServiceRuntime
) -> None:
    await put_2027(http, keys)
    assert (await http.get("/test/disclosure-due/2027-09-30")).json()["provisional"] is False

    deleted = await http.delete("/v1/calendar/2027", headers=bearer(keys["operator"]))
    assert deleted.status_code == 200, deleted.text
    assert (deleted.json()["source"], deleted.json()["provisional"]) == ("weekends-only", True)
    read = (await http.get("/v1/calendar/2027", headers=bearer(keys["department"]))).json()
    assert (read["source"], read["provisional"], read["days"]) == ("weekends-only", True, [])

    # The api's own cache was invalidated by the DELETE: no minute-long wait.
    served = await http.get("/test/disclosure-due/2027-09-30")
    assert served.json() == {"due_on": "2027-10-28", "provisional": True}
    calendar = await load_calendar(rt.mongo[AUTH_DB])
    assert start_clock("disclosure.reply", date(2027, 9, 30), calendar=calendar).provisional

    again = await http.delete("/v1/calendar/2027", headers=bearer(keys["operator"]))
    assert again.status_code == 404
    assert again.headers["content-type"] == "application/problem+json"


async def test_cache_refreshes_at_most_every_max_age(
    http: httpx.AsyncClient, keys: dict[str, str], rt: ServiceRuntime
) -> None:
    now = [1000.0]
    cache = CalendarCache(max_age_s=60, clock=lambda: now[0])
    db = rt.mongo[AUTH_DB]
    await http.delete("/v1/calendar/2027", headers=bearer(keys["operator"]))
    first = await cache.get(db)
    assert first.is_provisional(2027)
    assert cache.loaded

    await put_2027(http, keys)  # another process (this app) stores a schedule
    now[0] += 59
    assert await cache.get(db) is first  # still fresh: MongoDB not asked
    now[0] += 2
    refreshed = await cache.get(db)
    assert refreshed is not first
    assert not refreshed.is_provisional(2027)

    cache.invalidate()
    assert await cache.get(db) is not refreshed  # reloaded at once


async def test_cache_keeps_the_last_calendar_when_mongodb_is_unreachable(
    http: httpx.AsyncClient,
    keys: dict[str, str],
    rt: ServiceRuntime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await put_2027(http, keys)
    cache = CalendarCache()
    good = await cache.get(rt.mongo[AUTH_DB])
    assert not good.is_provisional(2027)

    away: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1", serverSelectionTimeoutMS=200, connectTimeoutMS=200
    )
    try:
        cache.invalidate()
        with caplog.at_level(logging.WARNING, logger="fazhi.store.calendar"):
            served = await cache.get(away[AUTH_DB])
        assert served is good
        assert any("MongoDB unreachable" in r.getMessage() for r in caplog.records)
        clock = start_clock("disclosure.reply", date(2027, 9, 30), calendar=served)
        assert (clock.due_on, clock.provisional) == (date(2027, 11, 3), False)

        # A cache that never reached MongoDB still answers: official schedule, provisional years.
        cold = await CalendarCache().get(away[AUTH_DB])
        assert cold.is_provisional(2027)
        assert not cold.is_provisional(2026)
    finally:
        await away.close()
