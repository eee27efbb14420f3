"""The wire contract of the platform's topics: every event type, its payload model and the
vocabularies (statutory terms) it uses, one module per topic.

Pure (pydantic only): a service imports any topic's contract without importing the service
that owns it. Where events are stored is the owner's business (its `events.py` binds each type
to a collection); `python -m fazhi.contracts.asyncapi` writes the AsyncAPI document of them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fazhi.contracts.terms import Term
from fazhi.models import Payload
from fazhi.roles import Role
from fazhi.topology import SERVICES, ServiceTopology

__all__ = [
    "POSTERS",
    "EventContract",
    "Term",
    "TopicContract",
    "all_topics",
    "module_of",
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
