"""A service's event catalogue: the types of its topic's contract bound to its storage, as its
api (who may post what about which aggregate) and its worker (what to load) use them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from fazhi.contracts import POSTERS, EventContract, TopicContract
from fazhi.contracts.models import Payload
from fazhi.roles import Role
from fazhi.topology import dlq_topic as dlq_topic


@dataclass(frozen=True)
class Binding:
    """Where the owning service projects an event type's aggregate, and who may post about it."""

    collection: str
    """Where the aggregate is projected; its `owner_units` decide who may post about it."""
    creates: bool = False
    """Whether the event may create its aggregate (else the aggregate must exist)."""
    any_unit: bool = False
    """Whether any unit may post it about an aggregate another unit owns (an acknowledgement)."""


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
    version: int = 1
    """The current version of its payload (`fazhi.contracts.versions`)."""

    @classmethod
    def bind(cls, contract: EventContract, binding: Binding) -> EventType:
        return cls(
            name=contract.name,
            model=contract.model,
            aggregate=contract.aggregate,
            collection=binding.collection,
            creates=binding.creates,
            any_unit=binding.any_unit,
            derived=contract.derived,
            posters=contract.posters,
            version=contract.version,
        )

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

    @classmethod
    def bind(
        cls, contract: TopicContract, bindings: Mapping[type[Payload], Binding]
    ) -> EventCatalog:
        """The owning service's catalogue of `contract`'s topic, each type bound by its payload
        class; every type must be bound, and only those."""
        names = {t.model: name for name, t in contract.types.items()}
        by_name = {names.get(model, model.__name__): binding for model, binding in bindings.items()}
        unbound = sorted(contract.types.keys() - by_name.keys())
        unknown = sorted(by_name.keys() - contract.types.keys())
        if unbound or unknown:
            raise ValueError(
                f"{contract.owner} must bind every type of {contract.name} and only those: "
                f"unbound {unbound}, not in the contract {unknown}"
            )
        return cls.of(
            contract.owner,
            contract.name,
            (EventType.bind(t, by_name[name]) for name, t in contract.types.items()),
        )

    @property
    def dlq_topic(self) -> str:
        return dlq_topic(self.topic)

    def accepted_over_http(self) -> list[str]:
        return sorted(name for name, t in self.types.items() if not t.derived)
