"""The wire contract of the platform's topics: every event type, its payload model and the
vocabularies (statutory terms) it uses, one module per topic.

Pure (pydantic only): a service imports any topic's contract without importing the service
that owns it. Where events are stored is the owner's business (its `events.py` binds each type
to a collection); `python -m fazhi.bus.asyncapi` writes the AsyncAPI document of them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from fazhi.contracts.envelope import CloudEvent, derived_id, new_event
from fazhi.contracts.models import Payload
from fazhi.contracts.terms import Term
from fazhi.contracts.versions import schema_uri
from fazhi.roles import Role
from fazhi.topology import SERVICES, ServiceTopology

__all__ = [
    "POSTERS",
    "EventContract",
    "Term",
    "TopicContract",
    "all_topics",
    "carriers",
    "contract_of",
    "derived_event",
    "module_of",
    "topic_of",
    "topic_of_type",
    "type_of",
]

POSTERS = frozenset({Role.DEPARTMENT, Role.OPERATOR})


@dataclass(frozen=True)
class EventContract:
    """One event type as it travels: its name (the CloudEvents `type`) and payload model."""

    name: str
    model: type[Payload]
    aggregate: str
    """The attribute of `data` naming the aggregate; the event's `subject` must equal it, so
    every event of one aggregate shares a partition and keeps its order."""
    summary: str
    derived: bool = False
    """Derived types are produced by the platform itself and refused over HTTP."""
    posters: frozenset[Role] = POSTERS
    """The roles that may post it (operators may post every type that is not derived)."""
    version: int = 1
    """The version of its payload (`fazhi.contracts.versions`): raised by a change of the
    payload, with an upcaster registered from the previous one."""

    @property
    def dataschema(self) -> str:
        """The CloudEvents `dataschema` of its events: the type and the payload's version."""
        return schema_uri(self.name, self.version)


@dataclass(frozen=True)
class TopicContract:
    """A service's topic (`fazhi.topology`) and the event types on it, which that service
    alone publishes."""

    service: ServiceTopology
    summary: str
    types: Mapping[str, EventContract]

    @classmethod
    def of(
        cls, service: ServiceTopology, summary: str, types: Iterable[EventContract]
    ) -> TopicContract:
        return cls(service=service, summary=summary, types={t.name: t for t in types})

    @property
    def name(self) -> str:
        return self.service.topic

    @property
    def owner(self) -> str:
        """The owning service's package (`petition_mediation`)."""
        return self.service.package

    @property
    def dlq(self) -> str:
        return self.service.dlq_topic


def module_of(service: ServiceTopology) -> str:
    """The module holding the contract of `service`'s topic, named after the topic."""
    return f"fazhi.contracts.{service.topic.removesuffix('.events')}"


def all_topics() -> list[TopicContract]:
    """The contract of every service's topic, in the topology's order (this imports them all)."""
    topics: list[TopicContract] = []
    for service in SERVICES:
        contract = importlib.import_module(module_of(service)).CONTRACT
        assert isinstance(contract, TopicContract)
        topics.append(contract)
    return topics


Carriers = Mapping[type[Payload], Sequence[tuple[TopicContract, EventContract]]]


def carriers(topics: Iterable[TopicContract]) -> Carriers:
    """Each payload class with the types (and their topics) that carry it: one, for every
    class of the platform's contracts."""
    found: dict[type[Payload], list[tuple[TopicContract, EventContract]]] = {}
    for topic in topics:
        for contract in topic.types.values():
            found.setdefault(contract.model, []).append((topic, contract))
    return found


@cache
def _platform() -> Carriers:
    return carriers(all_topics())


def _carrier(model: type[Payload]) -> tuple[TopicContract, EventContract]:
    found = _platform().get(model, ())
    if len(found) != 1:
        names = ", ".join(contract.name for _, contract in found) or "none"
        raise ValueError(f"{model.__name__} must be the payload of one event type: {names}")
    return found[0]


def contract_of(model: type[Payload]) -> EventContract:
    """The contract of the one event type whose payload `model` is."""
    return _carrier(model)[1]


def type_of(model: type[Payload]) -> str:
    """The CloudEvents `type` of the events whose payload `model` is."""
    return _carrier(model)[1].name


def topic_of(model: type[Payload]) -> str:
    """The topic the events whose payload `model` is travel on."""
    return _carrier(model)[0].name


@cache
def topic_of_type(name: str) -> str:
    """The topic an event type travels on."""
    for topic in all_topics():
        if name in topic.types:
            return topic.name
    raise ValueError(f"no topic carries {name}")


def derived_event(
    data: Payload, *, cause: str, rule: str = "", source: str, time: datetime | None = None
) -> CloudEvent:
    """The event the platform derives from `cause` (an event's key, or what a timer found) by
    `rule`: its type and subject follow from the payload's contract, its id from the cause, the
    type and the rule (`derived_id(cause, "<type>/<rule>")`, or the type alone), so the same
    derivation, replayed or looked at again, gives the same id. `time` defaults to now."""
    contract = contract_of(type(data))
    event = new_event(
        type=contract.name,
        source=source,
        subject=str(getattr(data, contract.aggregate)),
        id=derived_id(cause, f"{contract.name}/{rule}" if rule else contract.name),
        time=time,
        data=data.model_dump(mode="json"),
    )
    return event.model_copy(update={"dataschema": contract.dataschema})
