"""Reads are scoped by unit: the four services' real read endpoints on an in-memory runtime (no
broker, no database), the rule of `fazhi.web.app.Scope`, and its documentation."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from emergency.api import create_app as emergency_app
from fazhi.bus.publisher import FakePublisher
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.roles import Role
from fazhi.settings import ServiceSettings
from fazhi.store.sealing import DEVELOPMENT_MASTER_KEY, Keyring, MasterKey, MemoryDataKeys
from fazhi.web.app import Scope, document_router
from fazhi.web.auth import Principal
from fazhi.web.problems import Problem
from fazhi.web.service import ServiceRuntime
from open_government.api import create_app as opengov_app
from petition_mediation.api import create_app as mediation_app
from supervision.api import create_app as supervision_app

README = Path(__file__).resolve().parents[2] / "README.md"
APPS: dict[str, Callable[..., FastAPI]] = {
    "supervision": supervision_app,
    "petition-mediation": mediation_app,
    "emergency": emergency_app,
    "open-government": opengov_app,
}
KEYS = {
    "justice": ("justice", {Role.DEPARTMENT}),
    "court": ("court", {Role.DEPARTMENT}),
    "street": ("street-baishulin", {Role.DEPARTMENT}),
    "market": ("market-regulation", {Role.DEPARTMENT}),
    "emergency": ("emergency-management", {Role.DEPARTMENT}),
    "staff": ("emergency-management", {Role.STAFF}),
    "justice-staff": ("justice", {Role.STAFF}),
    "supervisor": ("gov-office", {Role.SUPERVISOR}),
    "operator": ("rule-of-law-office", {Role.OPERATOR}),
}
SECRET = {"applicant": {"name": "张三", "phone": "13991234567"}}
SERVICE_TOPICS = {
    "supervision": "supervision.events",
    "petition-mediation": "mediation.events",
    "emergency": "emergency.events",
    "open-government": "opengov.events",
}
RECEIPTS = {
    f"/units/justice E-{service}": {
        "id": f"E-{service}",
        "source": "/units/justice",
        "type": "t",
        "topic": topic,
        "partition": 0,
        "offset": 1,
        "outcome": "applied",
    }
    for service, topic in SERVICE_TOPICS.items()
}
SUB = "sub_" + "0" * 24
MSG = "msg_" + "0" * 32
DOCS: dict[str, dict[str, dict[str, Any]]] = {
    "processed_events": RECEIPTS,
    "subscriptions": {SUB: {"unit": "justice", "url": "https://x.example/", "kinds": ["items"]}},
    "deliveries": {MSG: {"subscription_id": SUB, "status": "delivered"}},
    "tasks": {"T1": {"owner_units": ["justice", "gov-office"], "status": "in_progress"}},
    "items": {"alert-A1": {"owner_units": ["emergency-management"], "unit": "court"}},
    "cases": {
        "C1": {
            "owner_units": ["justice"],
            "respondent_unit": "market-regulation",
            "category": "行政处罚",
            "case": {"state": "filed"},
            "private": SECRET,
        }
    },
    "matters": {"L1": {"owner_units": ["justice"], "title": "清单"}},
    "incidents": {"I1": {"owner_units": ["emergency-management"], "private": SECRET}},
    "alerts": {
        "A1": {
            "owner_units": ["emergency-management"],
            "level": "red",
            "msg_type": "alert",
            "cap_status": "actual",
            "category": "气象",
            "headline": "暴雨红色预警",
            "sent": datetime(2026, 7, 20, 14, 0, tzinfo=CHINA_TZ),
            "effective": datetime(2026, 7, 20, 14, 0, tzinfo=CHINA_TZ),
            "expires": datetime(2026, 7, 20, 20, 0, tzinfo=CHINA_TZ),
        }
    },
    "plans": {"P1": {"owner_units": ["emergency-management"], "owner_unit": "court"}},
    "supplies": {"S1": {"owner_units": ["emergency-management"], "status": "low"}},
    "forces": {"F1": {"owner_units": ["emergency-management"], "private": SECRET}},
    "notices": {"N1": {"owner_units": ["emergency-management"], "state": "active"}},
    "requests": {"R1": {"owner_units": ["justice"], "request": {}, "private": SECRET}},
    "documents": {"D1": {"owner_units": ["justice"], "title": "办法", "tokens": ["办法"]}},
    "decisions": {"MD1": {"owner_units": ["gov-office"], "title": "老旧小区改造", "year": 2026}},
}


class FakeCursor:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def sort(self, *_: Any) -> FakeCursor:
        return self

    def limit(self, _: int) -> FakeCursor:
        return self

    async def to_list(self, length: int | None = None) -> list[dict[str, Any]]:
        return self.rows


class FakeCollection:
    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self.docs = docs

    async def find_one(
        self, query: Mapping[str, Any], projection: Mapping[str, int] | None = None
    ) -> dict[str, Any] | None:
        doc = self.docs.get(query["_id"])
        if doc is None:
            return None
        hidden = projection or {}
        return {"_id": query["_id"], **{k: v for k, v in doc.items() if k not in hidden}}

    def find(
        self, query: Mapping[str, Any], projection: Mapping[str, Any] | None = None
    ) -> FakeCursor:
        return FakeCursor([])


class FakeKeys:
    async def authenticate(self, authorization: str | None) -> Principal:
        token = (authorization or "").removeprefix("Bearer ")
        if token not in KEYS:
            raise Problem(401, "The API key is unknown or revoked.", kind="unauthenticated")
        unit, roles = KEYS[token]
        return Principal(key_id=token, unit=unit, roles=frozenset(roles))


class FakeDatabase(dict[str, FakeCollection]):
    def __missing__(self, name: str) -> FakeCollection:
        return FakeCollection({})  # a timeline's collection: no rows


def runtime(docs: dict[str, dict[str, dict[str, Any]]]) -> ServiceRuntime:
    collections = FakeDatabase({name: FakeCollection(found) for name, found in docs.items()})
    settings = ServiceSettings()
    return ServiceRuntime(
        settings=settings,
        mongo={settings.mongo_db: collections, settings.auth_db: FakeDatabase()},  # type: ignore[arg-type]
        publisher=FakePublisher(),
        keys=FakeKeys(),  # type: ignore[arg-type]
        data_keys=Keyring(MemoryDataKeys(), MasterKey(DEVELOPMENT_MASTER_KEY)),
    )


@pytest.fixture
def docs() -> dict[str, dict[str, dict[str, Any]]]:
    return copy.deepcopy(DOCS)


@pytest.fixture
async def clients(
    docs: dict[str, dict[str, dict[str, Any]]],
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    out = {}
    for name, create in APPS.items():
        app = create(publisher=FakePublisher())
        app.state.runtime = runtime(docs)
        out[name] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        )
    yield out
    for client in out.values():
        await client.aclose()


async def get(http: httpx.AsyncClient, path: str, key: str) -> httpx.Response:
    return await http.get(path, headers={"authorization": f"Bearer {key}"})


READERS = {
    ("supervision", "/v1/tasks/T1"): {"justice", "supervisor", "operator"},
    ("supervision", "/v1/items/alert-A1"): {"emergency", "court", "supervisor", "operator"},
    ("petition-mediation", "/v1/cases/C1"): {"justice", "market", "supervisor", "operator"},
    ("petition-mediation", "/v1/cases/C1/applicant"): {"justice", "market", "operator"},
    ("petition-mediation", "/v1/matters/L1"): set(KEYS),
    ("emergency", "/v1/incidents/I1"): {
        "emergency",
        "staff",
        "justice-staff",
        "supervisor",
        "operator",
    },
    ("emergency", "/v1/incidents/I1/persons"): {"staff", "justice-staff"},
    ("emergency", "/v1/notices/N1"): set(KEYS),
    ("emergency", "/v1/plans/P1"): {
        "emergency",
        "court",
        "staff",
        "justice-staff",
        "supervisor",
        "operator",
    },
    ("emergency", "/v1/supplies/S1"): {
        "emergency",
        "staff",
        "justice-staff",
        "supervisor",
        "operator",
    },
    ("emergency", "/v1/forces/F1"): {
        "emergency",
        "staff",
        "justice-staff",
        "supervisor",
        "operator",
    },
    ("emergency", "/v1/alerts/A1"): {
        "emergency",
        "staff",
        "justice-staff",
        "supervisor",
        "operator",
    },
    ("emergency", "/v1/alerts/A1.xml"): {
        "emergency",
        "staff",
        "justice-staff",
        "supervisor",
        "operator",
    },
    ("open-government", "/v1/requests/R1"): {"justice", "supervisor", "operator"},
    ("open-government", "/v1/documents/D1"): set(KEYS),
    ("open-government", "/v1/decisions/MD1"): set(KEYS),
    # An event's receipt: keys of the unit that posted it (operators name it with ?source=).
    **{(service, f"/v1/events/E-{service}"): {"justice", "justice-staff"} for service in APPS},
    ("supervision", f"/v1/subscriptions/{SUB}"): {"justice", "justice-staff", "operator"},
    ("supervision", f"/v1/subscriptions/{SUB}/deliveries"): {
        "justice",
        "justice-staff",
        "operator",
    },
    ("supervision", f"/v1/subscriptions/{SUB}/deliveries/{MSG}"): {
        "justice",
        "justice-staff",
        "operator",
    },
}


@pytest.mark.parametrize(("service", "path"), sorted(READERS))
@pytest.mark.parametrize("key", sorted(KEYS))
async def test_who_reads_what(
    clients: dict[str, httpx.AsyncClient], service: str, path: str, key: str
) -> None:
    response = await get(clients[service], path, key)
    assert response.status_code == (200 if key in READERS[service, path] else 404), response.text


async def test_a_document_not_readable_answers_exactly_as_an_unknown_id(
    clients: dict[str, httpx.AsyncClient], docs: dict[str, dict[str, dict[str, Any]]]
) -> None:
    http = clients["petition-mediation"]
    hidden = await get(http, "/v1/cases/C1", "court")
    del docs["cases"]["C1"]
    unknown = await get(http, "/v1/cases/C1", "justice")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.content == unknown.content
    assert hidden.headers == unknown.headers
    assert hidden.json()["detail"] == "No case 'C1' is known yet."


async def test_the_respondent_unit_reads_the_case_but_never_its_private_part(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    for key in ("market", "supervisor"):
        body = (await get(clients["petition-mediation"], "/v1/cases/C1", key)).json()
        assert body["case_id"] == "C1"
        assert body["respondent_unit"] == "market-regulation"
        assert "private" not in body
        assert "case" not in body
        assert "张三" not in str(body)
    incident = (await get(clients["emergency"], "/v1/incidents/I1", "staff")).json()
    assert "private" not in incident


async def test_no_key_is_401_before_any_scope(clients: dict[str, httpx.AsyncClient]) -> None:
    assert (await clients["petition-mediation"].get("/v1/cases/C1")).status_code == 401
    assert (await get(clients["petition-mediation"], "/v1/cases/C1", "nope")).status_code == 401


@pytest.mark.parametrize(
    ("who", "doc", "allowed"),
    [
        (("justice", {Role.DEPARTMENT}), {"owner_units": ["justice"]}, True),
        (("court", {Role.DEPARTMENT}), {"owner_units": ["justice"]}, False),
        (
            ("court", {Role.DEPARTMENT}),
            {"owner_units": ["justice"], "respondent_unit": "court"},
            True,
        ),
        (("court", {Role.DEPARTMENT}), {"respondent_unit": ["court", "audit"]}, True),
        (("court", {Role.STAFF}), {"owner_units": ["court"]}, False),
        (("court", {Role.STAFF, Role.DEPARTMENT}), {"owner_units": ["court"]}, True),
        (("court", {Role.DEPARTMENT}), {}, False),
        (("court", {Role.DEPARTMENT}), {"owner_units": "court-x"}, False),
        (("gov-office", {Role.SUPERVISOR}), {}, True),
        (("gov-office", {Role.OPERATOR}), {}, True),
    ],
)
def test_the_rule(who: tuple[str, set[Role]], doc: dict[str, Any], allowed: bool) -> None:
    scope = Scope(owners="the filing unit", parties=("respondent_unit",))
    principal = Principal(key_id="k", unit=who[0], roles=frozenset(who[1]))
    assert scope.allows(principal, doc) is allowed


def test_roles_and_public_scopes() -> None:
    staff = Principal(key_id="k", unit="justice", roles=frozenset({Role.STAFF}))
    assert Scope(owners="x", roles=frozenset({Role.STAFF})).allows(staff, {})
    assert not Scope(owners="x").allows(staff, {})
    assert Scope(owners="x", public=True).allows(staff, {})


def test_a_scope_cannot_read_hidden_fields() -> None:
    with pytest.raises(ValueError, match="hidden"):
        document_router(
            path="/v1/cases",
            collection="cases",
            id_name="case_id",
            tag="cases",
            summary="s",
            scope=Scope(owners="x", parties=("respondent_unit",)),
            hidden=("respondent_unit",),
        )


def _scoped_reads() -> list[tuple[str, str, str]]:
    found = []
    for name, create in APPS.items():
        for path, operations in create(publisher=FakePublisher()).openapi()["paths"].items():
            get_op = operations.get("get", {})
            if not get_op:
                continue  # a path for changes only (rotating a secret, a redelivery)
            if get_op.get("x-fazhi-public"):
                continue  # the portal's data: no key, nothing scoped (README, "The portal")
            if (
                "{" in path
                and path.startswith("/v1/")
                and "/calendar/" not in path
                and "/reports/" not in path
                and "/audit/" not in path  # the aggregate's own scope (README, "Audit trail")
            ):
                found.append((name, path, get_op.get("x-fazhi-read-scope", "")))
                assert get_op["description"].startswith("Who reads it: " + found[-1][2])
    return found


def test_every_read_endpoint_is_scoped_and_documented_in_the_readme() -> None:
    reads = _scoped_reads()
    assert len(reads) == len(READERS)
    section = README.read_text(encoding="utf-8").split("### Who reads what", 1)[1]
    rows = {
        (m[1], m[2]): m[3]
        for m in re.finditer(r"^\| (\S+) \| `GET (\S+)` \| (.+) \|$", section, re.M)
    }
    for service, path, scope in reads:
        assert scope, f"{service} GET {path} has no read scope"
        assert rows.get((service, path)) == scope, f"README row for {service} GET {path}"
    assert len(rows) == len(reads)
