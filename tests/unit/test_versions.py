"""Payload contracts carry a version (`dataschema`); an event of an older version is upcast to
the current one before a handler sees it: at the api, in the worker and so in a replay."""

from __future__ import annotations

from datetime import datetime

import pytest

from fazhi.bus.records import Outcome
from fazhi.contracts import all_topics
from fazhi.contracts.envelope import CHINA_TZ, new_event
from fazhi.contracts.supervision import TRAINING_RECORDED, TrainingRecorded
from fazhi.contracts.versions import (
    VersionError,
    missing_upcasters,
    schema_uri,
    upcast,
    version_of,
)
from fazhi.roles import Role
from fazhi.web.auth import Principal
from fazhi.web.ingest import _check_event, as_published
from fazhi.web.problems import Problem
from supervision.events import CATALOG
from supervision.worker import WORKER
from tests.support.harness import Harness

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=CHINA_TZ)
JUSTICE = Principal(key_id="k-justice", unit="justice", roles=frozenset({Role.DEPARTMENT}))
V1 = {
    "training_id": "TR-1",
    "unit": "justice",
    "kind": "study",
    "title": "行政复议法专题培训",
    "hours": 12,
    "held_on": "2026-11-20",
}


def training(data: dict[str, object], dataschema: str | None = None) -> object:
    event = new_event(
        type=TRAINING_RECORDED, source="/units/justice", subject="TR-1", time=NOW, data=data
    )
    return event.model_copy(update={"dataschema": dataschema}) if dataschema else event


def test_a_dataschema_names_the_type_and_version_and_none_is_version_1() -> None:
    assert version_of(TRAINING_RECORDED, None) == 1
    assert version_of(TRAINING_RECORDED, schema_uri(TRAINING_RECORDED, 2)) == 2
    assert schema_uri(TRAINING_RECORDED, 2) == "urn:fazhi:schema:supervision.training.recorded:v2"
    with pytest.raises(VersionError, match="not a schema of"):
        version_of(TRAINING_RECORDED, schema_uri("supervision.task.completed", 1))
    with pytest.raises(VersionError):
        version_of(TRAINING_RECORDED, "https://example.org/schema.json")


def test_version_1_of_a_training_record_is_upcast_to_version_2() -> None:
    assert CATALOG.types[TRAINING_RECORDED].version == 2
    upcast_data = upcast(TRAINING_RECORDED, 1, 2, V1)
    assert "hours" not in upcast_data
    assert TrainingRecorded.model_validate(upcast_data).study_hours == 12
    assert V1["hours"] == 12  # the event's own data is left as it is
    assert upcast(TRAINING_RECORDED, 2, 2, {"study_hours": 3}) == {"study_hours": 3}
    with pytest.raises(VersionError, match="newer"):
        upcast(TRAINING_RECORDED, 3, 2, {})


def test_every_raised_version_has_its_upcasters() -> None:
    versions = {t.name: t.version for topic in all_topics() for t in topic.types.values()}
    assert versions[TRAINING_RECORDED] == 2
    assert missing_upcasters(versions) == []
    assert missing_upcasters({"supervision.task.completed": 2}) == ["supervision.task.completed v1"]


async def test_the_worker_applies_a_version_1_event_as_version_2() -> None:
    h = Harness(WORKER)
    assert await h.run(training(V1)) == [Outcome.APPLIED]
    assert h.doc("trainings", "TR-1")["hours"] == 12
    v1_named = training({**V1, "training_id": "TR-1"}, schema_uri(TRAINING_RECORDED, 1))
    assert await h.run(v1_named.model_copy(update={"id": "again"})) == [Outcome.APPLIED]


async def test_a_version_the_worker_does_not_know_is_dead_lettered() -> None:
    h = Harness(WORKER)
    newer = training({**V1}, schema_uri(TRAINING_RECORDED, 3))
    assert await h.run(newer) == [Outcome.DEAD_LETTERED]
    assert "newer than the v2" in h.errors[0]


def test_the_api_takes_a_named_older_version_and_publishes_the_current_one() -> None:
    posted = training(V1, schema_uri(TRAINING_RECORDED, 1))
    event_type, data = _check_event(posted, None, CATALOG, JUSTICE)  # type: ignore[arg-type]
    published = as_published(posted, data, event_type, JUSTICE)  # type: ignore[arg-type]
    assert published.dataschema == schema_uri(TRAINING_RECORDED, 2)
    assert published.data["study_hours"] == 12
    assert "hours" not in published.data
    assert (published.model_extra or {})["keyid"] == "k-justice"


def test_the_api_reads_an_event_without_dataschema_as_the_current_version() -> None:
    with pytest.raises(Problem) as refused:
        _check_event(training(V1), None, CATALOG, JUSTICE)  # type: ignore[arg-type]
    assert refused.value.status == 422
