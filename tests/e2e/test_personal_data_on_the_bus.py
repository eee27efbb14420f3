"""Personal data never readable outside its store: after a realistic load on the four services
(applicants, free texts naming people with their ID numbers, phones and addresses, poison events
that go to the dead-letter topics, ids that are refused), every topic and every dead-letter
topic read raw holds none of it; the owning workers still project it into their private parts;
shredding a case's key erases it for the read endpoint and for a re-projection."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from pymongo import AsyncMongoClient, MongoClient

from fazhi.bus.consumer import EventProcessor
from fazhi.bus.publisher import FakePublisher
from fazhi.bus.records import Outcome, Record
from fazhi.contracts.models import ERASED_TEXT, personal_fields
from fazhi.metrics import service_metrics
from fazhi.settings import ServiceSettings
from fazhi.store.connect import keyring
from fazhi.store.projection import ERASED, PERSONAL_DATA, MongoStore
from fazhi.store.sealing import DATA_KEYS, is_sealed
from fazhi.topology import SERVICES as TOPOLOGY
from petition_mediation.events import CATALOG as MEDIATION
from petition_mediation.worker import WORKER as MEDIATION_WORKER
from tests.conftest import client_for
from tests.support.kafka import end_offsets, read_topic
from tests.support.people import People, Person
from tests.support.processes import (
    CST,
    MONGO,
    ROOT,
    SERVICES,
    ServiceProcesses,
    event,
    wait_until,
)
from tests.support.samples import catalogs

pytestmark = pytest.mark.e2e

BATCH = "application/cloudevents-batch+json"
TOPICS = [name for t in TOPOLOGY for name in t.topics]
NOW = datetime.now(CST)
CASE_TYPES = ("reconsideration", "petition", "mediation", "adjudication")


@dataclass
class Load:
    tag: str
    people: list[Person] = field(default_factory=list)
    posted: dict[str, int] = field(default_factory=dict)
    """Events accepted, by topic."""
    poison: dict[str, int] = field(default_factory=dict)
    """Accepted events each owning worker must dead-letter, by topic."""
    cases: list[tuple[str, Person]] = field(default_factory=list)
    since: dict[str, dict[int, int]] = field(default_factory=dict)
    records: dict[str, list[ConsumerRecord[bytes, bytes]]] = field(default_factory=dict)


def _at(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def _post(service: str, key: str, events: list[dict[str, Any]]) -> None:
    with client_for(SERVICES[service], key) as client:
        for start in range(0, len(events), 25):
            body = json.dumps(events[start : start + 25], ensure_ascii=False).encode()
            answer = client.post("/v1/events", content=body, headers={"content-type": BATCH})
            assert answer.status_code == 202, answer.text


def _mediation(load: Load, new: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    for i in range(60):
        p, case_id = new(), f"C-{load.tag}-{i}"
        load.cases.append((case_id, p))
        case_type = CASE_TYPES[i % len(CASE_TYPES)]
        filed = {
            "case_id": case_id,
            "case_type": case_type,
            "category": f"{p.name}诉行政处罚",
            "applicant": p.applicant(),
            "respondent_unit": "market-regulation",
            "summary": f"申请人{p.name}（身份证号{p.id_number}，电话{p.phone_written}，住{p.address}）"
            "不服区市场监管局作出的行政处罚决定，请求撤销。",
            "filed_at": _at(3),
        }
        events.append(event("mediation.case.filed", "justice", case_id, filed))
        if i % 3 == 2:
            continue
        accepted = {"case_id": case_id, "accepted_at": _at(2), "procedure": "general"}
        later.append(event("mediation.case.accepted", "justice", case_id, accepted))
        if i % 3 == 1:
            decided = {
                "case_id": case_id,
                "decision": f"撤销对{p.name}的行政处罚决定",
                "decided_at": _at(1),
                "document_text": f"申请人{p.name}，身份证号{p.id_number}，联系电话{p.landline}，"
                f"住{p.address}。本机关经审理，决定撤销被申请人作出的行政处罚决定。",
            }
            if case_type == "reconsideration":
                decided["outcome"] = "revoked"
            later.append(event("mediation.case.decided", "justice", case_id, decided))
    poison: list[dict[str, Any]] = []
    for i in range(5):  # filed again: the worker refuses a case filed twice
        case_id = load.cases[i][0]
        p = new()
        again = {
            **events[i]["data"],
            "applicant": p.applicant(),
            "summary": f"申请人{p.name}再次申请",
        }
        poison.append(event("mediation.case.filed", "justice", case_id, again))
    for i in range(5):  # decided before it exists
        p, case_id = new(), f"C-{load.tag}-missing-{i}"
        decided = {
            "case_id": case_id,
            "decision": f"驳回{p.name}的申请",
            "decided_at": _at(1),
            "document_text": f"申请人{p.name}，电话{p.phone}，身份证号{p.id_number}。驳回申请。",
        }
        poison.append(event("mediation.case.decided", "justice", case_id, decided))
    load.poison[MEDIATION.topic] = len(poison)
    return events + later + poison


def _opengov(load: Load, new: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for i in range(50):
        p, request_id = new(), f"R-{load.tag}-{i}"
        received = {
            "request_id": request_id,
            "applicant": p.applicant(),
            "content": f"本人{p.name}，电话{p.phone}，申请公开本人户籍地{p.address}的征收补偿方案。",
            "channel": "online",
            "received_at": _at(3),
        }
        events.append(event("opengov.request.received", "justice", request_id, received))
        if i % 2 == 0:
            third = new()
            answered = {
                "request_id": request_id,
                "answer_type": "not_disclosed",
                "answered_at": _at(1),
                "reason": f"涉及第三人{third.name}（电话{third.phone_written}）的个人隐私",
            }
            answers.append(event("opengov.request.answered", "justice", request_id, answered))
    poison = []
    for i in range(5):  # answered before it exists
        third = new()
        answered = {
            "request_id": f"R-{load.tag}-missing-{i}",
            "answer_type": "not_disclosed",
            "answered_at": _at(1),
            "reason": f"涉及第三人{third.name}身份证号{third.id_number}",
        }
        poison.append(
            event("opengov.request.answered", "justice", answered["request_id"], answered)
        )
    load.poison[TOPOLOGY[3].topic] = len(poison)
    return events + answers + poison


def _emergency(load: Load, new: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    levels: list[dict[str, Any]] = []
    for i in range(40):
        p, incident_id = new(), f"I-{load.tag}-{i}"
        reported = {
            "incident_id": incident_id,
            "category": "事故灾难",
            "grade": "general",
            "title": f"{p.name}家中燃气泄漏，报警电话{p.phone}",
            "location": p.address,
            "occurred_at": _at(1),
        }
        events.append(
            event("emergency.incident.reported", "emergency-management", incident_id, reported)
        )
        if i % 2:
            level = {"incident_id": incident_id, "level": "IV", "changed_at": _at(0.5)}
            levels.append(
                event(
                    "emergency.response.level_changed", "emergency-management", incident_id, level
                )
            )
    poison = [
        event(
            "emergency.response.level_changed",
            "emergency-management",
            f"I-{load.tag}-missing-{i}",
            {"incident_id": f"I-{load.tag}-missing-{i}", "level": "IV", "changed_at": _at(0.5)},
        )
        for i in range(3)
    ]
    load.poison[TOPOLOGY[2].topic] = len(poison)
    return events + levels + poison


def _supervision(load: Load, new: Any) -> list[dict[str, Any]]:
    events = []
    for i in range(40):
        p, task_id = new(), f"T-{load.tag}-{i % 20}"
        if i < 30:
            data = {
                "task_id": task_id,
                "unit": "justice",
                "progress_pct": 10 + i,
                "note": f"联系人{p.name}，电话{p.phone_written}，座机{p.landline}，已走访当事人。",
                "reported_at": _at(1),
            }
            events.append(event("supervision.task.progress_reported", "justice", task_id, data))
        else:
            data = {
                "task_id": task_id,
                "unit": "justice",
                "completed_at": _at(0.5),
                "evidence": f"验收人{p.name}（身份证号{p.id_number}）签字确认。",
            }
            events.append(event("supervision.task.completed", "justice", task_id, data))
    poison = []
    for i in range(3):  # progress on a completed task: the task's machine refuses it
        p, task_id = new(), f"T-{load.tag}-{10 + i}"
        data = {
            "task_id": task_id,
            "unit": "justice",
            "progress_pct": 99,
            "note": f"补充：联系人{p.name}，电话{p.phone}",
            "reported_at": _at(0.2),
        }
        poison.append(event("supervision.task.progress_reported", "justice", task_id, data))
    load.poison[TOPOLOGY[0].topic] = len(poison)
    return events + poison


def _texts(record: ConsumerRecord[bytes, bytes]) -> Iterator[str]:
    """Everything a record holds, as written and with JSON escapes read."""
    for raw in (record.key or b"", record.value or b"", *(v for _, v in record.headers)):
        text = raw.decode("utf-8", errors="replace")
        yield text
        with contextlib.suppress(ValueError):
            yield json.dumps(json.loads(text), ensure_ascii=False)


def _tagged(load: Load, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    return [r for r in load.records[topic] if load.tag in (r.key or b"").decode(errors="replace")]


@pytest.fixture(scope="module")
def load(
    services_up: ServiceProcesses, keys: dict[str, str], mongo: MongoClient[dict[str, Any]]
) -> Load:
    tag = uuid.uuid4().hex[:6]
    people = People(int(tag, 16))
    result = Load(tag)

    def new() -> Person:
        person = people.person()
        result.people.append(person)
        return person

    result.since = {topic: asyncio.run(end_offsets(topic)) for topic in TOPICS}
    batches = {
        "petition-mediation": ("justice", _mediation(result, new)),
        "open-government": ("justice", _opengov(result, new)),
        "emergency": ("emergency", _emergency(result, new)),
        "supervision": ("justice", _supervision(result, new)),
    }
    for service, (key, events) in batches.items():
        _post(service, keys[key], events)
        result.posted[SERVICES[service].topic] = len(events)
    # Refused at the door: ids that are an ID number or a phone never reach a record key.
    refused = new()
    with client_for(SERVICES["petition-mediation"], keys["justice"]) as client:
        bad = event(
            "mediation.case.filed",
            "justice",
            refused.id_number,
            {
                **batches["petition-mediation"][1][0]["data"],
                "case_id": refused.id_number,
            },
            id=refused.phone,
        )
        answer = client.post(
            "/v1/events", json=bad, headers={"content-type": "application/cloudevents+json"}
        )
        assert answer.status_code == 422, answer.text
        fields = {e["field"] for e in answer.json()["errors"]}
        assert {"id", "subject", "data.case_id"} <= fields
        assert "ID number" in answer.text
        assert "phone number" in answer.text

    def dead_lettered() -> bool:
        for topic, expected in result.poison.items():
            result.records[f"{topic}.dlq"] = asyncio.run(
                read_topic(f"{topic}.dlq", since=result.since[f"{topic}.dlq"])
            )
            if len(_tagged(result, f"{topic}.dlq")) < expected:
                return False
        return True

    wait_until(dead_lettered, timeout=120, what="the poison events in the dead-letter topics")
    db = SERVICES["supervision"].db
    wait_until(
        lambda: (
            mongo[db]["tasks"].count_documents(
                {"completed_at": {"$exists": True}, "_id": {"$regex": tag}}
            )
            >= 10
        ),
        timeout=120,
        what="the task completions projected",
    )
    for topic in TOPICS:
        result.records[topic] = asyncio.run(read_topic(topic, since=result.since[topic]))
    return result


def test_no_topic_or_dead_letter_topic_holds_a_name_id_number_or_phone(load: Load) -> None:
    for topic, posted in load.posted.items():
        assert len(_tagged(load, topic)) >= posted, f"{topic}: the load is not all there"
    for topic, poison in load.poison.items():
        assert len(_tagged(load, f"{topic}.dlq")) >= poison
    assert len(load.people) > 200
    assert sum(load.posted.values()) > 300
    secrets = {s for person in load.people for s in person.secrets}
    read = 0
    for topic in TOPICS:
        for record in load.records[topic]:
            read += 1
            for text in _texts(record):
                found = [s for s in secrets if s in text]
                assert not found, f"{topic} offset {record.offset} holds {found}"
    assert read >= sum(load.posted.values())


def test_the_owning_workers_still_project_the_personal_data_privately(
    load: Load, mongo: MongoClient[dict[str, Any]], keys: dict[str, str]
) -> None:
    case_id, person = load.cases[10]
    wait_until(
        lambda: mongo[SERVICES["petition-mediation"].db]["cases"].find_one({"_id": case_id}),
        timeout=60,
        what="the case projected",
    )
    doc = mongo[SERVICES["petition-mediation"].db]["cases"].find_one({"_id": case_id})
    assert doc is not None
    assert doc["private"]["applicant"]["name"] == person.name
    assert doc["private"]["applicant"]["id_number"] == person.id_number
    assert person.id_number in doc["private"]["summary"]
    with client_for(SERVICES["petition-mediation"], keys["supervisor"]) as client:
        answer = client.get(f"/v1/cases/{case_id}")
    assert answer.status_code == 200
    for secret in person.secrets:
        assert secret not in answer.text


def _cli_env(service: str) -> dict[str, str]:
    found = SERVICES[service]
    return {
        **os.environ,
        f"{found.prefix}_MONGO_URL": MONGO,
        f"{found.prefix}_MONGO_DB": found.db,
    }


async def _reproject(load: Load, case_id: str, scratch: str) -> dict[str, Any]:
    """The case's records from the topic, applied anew by the owning worker's processor to a
    scratch database, with the data keys of the service's store."""
    topic = MEDIATION.topic
    records = [
        Record(topic, r.partition, r.offset, r.key, r.value)
        for r in load.records[topic]
        if r.key == case_id.encode()
    ]
    assert records
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True)
    try:
        settings = ServiceSettings()
        subscription = MEDIATION_WORKER.subscription()

        async def sink(_: Any) -> None:
            return None

        processor = EventProcessor(
            store=MongoStore(client[scratch]),
            catalogs=subscription.catalogs,
            handlers=subscription.handlers,
            dead_letter=sink,
            publisher=FakePublisher(),
            metrics=service_metrics("reprojection"),
            keyring=keyring(settings, client[SERVICES["petition-mediation"].db]),
            own_topic=topic,
        )
        outcomes = await processor.process_batch(records)
        assert outcomes[0] is Outcome.APPLIED
        doc = await client[scratch]["cases"].find_one({"_id": case_id})
        assert doc is not None
        return doc
    finally:
        await client.drop_database(scratch)
        await client.close()


def test_shredding_a_key_erases_the_case_for_the_read_endpoint_and_a_reprojection(
    load: Load, mongo: MongoClient[dict[str, Any]], keys: dict[str, str]
) -> None:
    (erased_id, person), (kept_id, kept) = load.cases[1], load.cases[4]
    db = mongo[SERVICES["petition-mediation"].db]
    assert db[DATA_KEYS].find_one({"_id": f"cases:{erased_id}"}) is not None
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fazhi.cli",
            "personal-data",
            "erase",
            "--service",
            "petition-mediation",
            "cases",
            erased_id,
        ],
        cwd=ROOT,
        env=_cli_env("petition-mediation"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert db[DATA_KEYS].find_one({"_id": f"cases:{erased_id}"}) is None
    stored = db["cases"].find_one({"_id": erased_id})
    assert stored is not None
    assert "private" not in stored
    with client_for(SERVICES["petition-mediation"], keys["supervisor"]) as client:
        answer = client.get(f"/v1/cases/{erased_id}")
    assert answer.status_code == 200
    assert answer.json()[PERSONAL_DATA] == ERASED

    again = asyncio.run(_reproject(load, erased_id, f"test_reproject_{load.tag}_a"))
    assert again[PERSONAL_DATA] == ERASED
    assert again["private"]["applicant"]["name"] == ERASED_TEXT
    assert again["summary"] == ERASED_TEXT
    for secret in person.secrets:
        assert secret not in str(again)
    control = asyncio.run(_reproject(load, kept_id, f"test_reproject_{load.tag}_b"))
    assert control["private"]["applicant"]["name"] == kept.name
    assert PERSONAL_DATA not in control


def test_every_personal_field_travels_sealed_and_nothing_else_does(load: Load) -> None:
    types = {name: t for c in catalogs().values() for name, t in c.types.items()}
    checked = 0
    for topic in load.posted:
        for record in _tagged(load, topic):
            value = json.loads(record.value or b"{}")
            model = types[value["type"]].model
            for name, field_value in value["data"].items():
                assert is_sealed(field_value) == (name in personal_fields(model)), (
                    f"{value['type']} data.{name}"
                )
                checked += name in personal_fields(model)
    assert checked > 400
