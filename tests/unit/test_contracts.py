"""The wire contracts stand apart from the services, and each service binds all of its own."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import BaseModel

from fazhi.contracts import EventContract, TopicContract, all_topics, module_of
from fazhi.contracts.emergency import CONTRACT as EMERGENCY
from fazhi.contracts.emergency import AlertIssued
from fazhi.contracts.supervision import CONTRACT as SUPERVISION
from fazhi.contracts.supervision import TaskCompleted
from fazhi.roles import Role
from fazhi.store.catalog import Binding, EventCatalog, EventType
from fazhi.topology import SERVICES

NOT_IN_A_CONTRACT = (
    "pymongo",
    "faust",
    "aiokafka",
    "fastapi",
    "supervision",
    "petition_mediation",
    "emergency",
    "open_government",
)


def test_contracts_load_without_storage_web_kafka_or_any_service() -> None:
    modules = ", ".join(module_of(service) for service in SERVICES)
    code = (
        f"import sys, {modules}; "
        f"print(sorted(m for m in {NOT_IN_A_CONTRACT!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_every_topic_of_the_topology_has_its_contract() -> None:
    assert [t.service for t in all_topics()] == list(SERVICES)
    assert [t.name for t in all_topics()] == [
        "supervision.events",
        "mediation.events",
        "emergency.events",
        "opengov.events",
    ]
    assert [t.dlq for t in all_topics()] == [s.dlq_topic for s in SERVICES]
    assert [t.owner for t in all_topics()] == [s.package for s in SERVICES]


@pytest.mark.parametrize("topic", all_topics(), ids=lambda t: t.name)
def test_every_service_binds_every_type_of_its_contract(topic: TopicContract) -> None:
    module = __import__(f"{topic.owner}.events", fromlist=["CATALOG"])
    catalog: EventCatalog = module.CATALOG
    assert catalog.service == topic.owner
    assert catalog.topic == topic.name
    assert list(catalog.types) == list(topic.types)
    for name, contract in topic.types.items():
        bound = catalog.types[name]
        assert (bound.model, bound.aggregate, bound.derived, bound.posters) == (
            contract.model,
            contract.aggregate,
            contract.derived,
            contract.posters,
        )
        assert bound.collection, f"{name} is bound to no collection"


@pytest.mark.parametrize("topic", all_topics(), ids=lambda t: t.name)
def test_type_names_are_prefixed_with_their_topic(topic: TopicContract) -> None:
    prefix = topic.name.removesuffix(".events") + "."
    assert all(name.startswith(prefix) for name in topic.types)
    assert all(t.summary for t in topic.types.values())


def test_a_binding_that_misses_a_type_or_adds_one_is_refused() -> None:
    bindings = {t.model: Binding("tasks") for t in SUPERVISION.types.values()}
    missing = dict(bindings)
    del missing[TaskCompleted]
    with pytest.raises(ValueError, match=r"unbound \['supervision.task.completed'\]"):
        EventCatalog.bind(SUPERVISION, missing)
    with pytest.raises(ValueError, match=r"not in the contract \['AlertIssued'\]"):
        EventCatalog.bind(SUPERVISION, {**bindings, AlertIssued: Binding("x")})


def test_storage_stays_with_the_binding_and_the_rest_with_the_contract() -> None:
    acknowledged = EMERGENCY.types["emergency.alert.acknowledged"]
    bound = EventType.bind(acknowledged, Binding("alerts", any_unit=True))
    assert bound == EventType(
        "emergency.alert.acknowledged",
        acknowledged.model,
        "alert_id",
        collection="alerts",
        any_unit=True,
        posters=frozenset({Role.STAFF, Role.OPERATOR}),
    )


def test_an_event_contract_names_its_payload_model() -> None:
    for topic in all_topics():
        for contract in topic.types.values():
            assert isinstance(contract, EventContract)
            assert issubclass(contract.model, BaseModel)
            assert contract.aggregate in contract.model.model_fields or hasattr(
                contract.model, contract.aggregate
            )
