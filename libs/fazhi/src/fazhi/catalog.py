"""The event types a service owns: payload models, who may post them, and the service's topic."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from fazhi.auth import Role

POSTERS = frozenset({Role.DEPARTMENT, Role.OPERATOR})


@dataclass(frozen=True)
class EventType:
    name: str
    model: type[BaseModel]
    aggregate: str = ""
    """The attribute of `data` naming the aggregate; the event's `subject` must equal it, so
    every event of one aggregate shares a partition and keeps its order."""
    collection: str = ""
    """Where the aggregate is projected; its `owner_units` decide who may post about it."""
    creates: bool = False
    """Whether the event may create its aggregate (else the aggregate must exist)."""
    any_unit: bool = False
    """Whether any unit may post it about an aggregate another unit owns (an acknowledgement)."""
    derived: bool = False
    """Derived types are produced by the platform itself and refused over HTTP."""
    posters: frozenset[Role] = POSTERS

    def aggregate_id(self, data: BaseModel) -> str | None:
        return str(getattr(data, self.aggregate)) if self.aggregate else None


@dataclass(frozen=True)
class EventCatalog:
    service: str
    """The importable package name, also the metric prefix (`petition_mediation`)."""
    topic: str
    types: Mapping[str, EventType] = field(default_factory=dict)

    @classmethod
    def of(cls, service: str, topic: str, types: Iterable[EventType]) -> EventCatalog:
        return cls(service=service, topic=topic, types={t.name: t for t in types})

    @property
    def dlq_topic(self) -> str:
        return dlq_topic(self.topic)

    def accepted_over_http(self) -> list[str]:
        return sorted(name for name, t in self.types.items() if not t.derived)


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"
