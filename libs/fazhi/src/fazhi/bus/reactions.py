"""A worker's reactions: which handlers each event type sets off, keyed by the payload class of
the type's contract (`{AlertIssued: [open_alert_item]}`). From it the worker knows the topics it
consumes: its own, and those of the contracts its reactions name. A reaction to another
service's event touches the consuming service only: its registry names the payload class,
imported from `fazhi.contracts`.

The own topic's types are projected by the owner (every one must have a reaction, which a test
checks); another topic's events arrive without the owner's storage details, so they name no
aggregate of the consumer: a reaction records what it does in its own documents, idempotently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fazhi.bus.batch import Handler, HandlerContext
from fazhi.contracts import TopicContract, all_topics, carriers
from fazhi.contracts.models import Payload
from fazhi.store.catalog import Binding, EventCatalog, EventType

Reactions = Mapping[type[Payload], Sequence[Handler]]


def merge_reactions(*parts: Reactions) -> Reactions:
    """One registry of several (a service's features): a payload class several parts react to
    sets off the handlers of each, in the order of the parts."""
    merged: dict[type[Payload], list[Handler]] = {}
    for part in parts:
        for model, handlers in part.items():
            merged.setdefault(model, []).extend(handlers)
    return merged


@dataclass(frozen=True)
class Subscription:
    """What a worker consumes: the catalogs of its topics and a handler per event type."""

    catalogs: Mapping[str, EventCatalog]
    """By topic: the service's own catalog (bound to its store) and the foreign contracts."""
    handlers: Mapping[str, Handler]

    @property
    def topics(self) -> list[str]:
        return list(self.catalogs)


def subscribe(
    own: EventCatalog, reactions: Reactions, topics: Sequence[TopicContract] | None = None
) -> Subscription:
    """The subscription `reactions` amount to; a payload class no contract carries, or one that
    several types carry (a reaction would not know which it answers), is refused."""
    places = carriers(topics if topics is not None else all_topics())
    catalogs: dict[str, EventCatalog] = {own.topic: own}
    handlers: dict[str, Handler] = {}
    for model, reacting in reactions.items():
        found = places.get(model, ())
        if len(found) != 1:
            names = ", ".join(contract.name for _, contract in found) or "none"
            raise ValueError(f"{model.__name__} must be the payload of one event type: {names}")
        topic, contract = found[0]
        handlers[contract.name] = _each(reacting)
        if topic.name != own.topic:
            catalogs.setdefault(topic.name, _unbound(topic))
    return Subscription(catalogs=catalogs, handlers=handlers)


def _each(reacting: Sequence[Handler]) -> Handler:
    if len(reacting) == 1:
        return reacting[0]

    async def in_turn(ctx: HandlerContext, data: object) -> None:
        for handler in reacting:
            await handler(ctx, data)

    return in_turn


def _unbound(topic: TopicContract) -> EventCatalog:
    """Another service's topic as its consumers see it: the types, no storage."""
    return EventCatalog.of(
        topic.owner,
        topic.name,
        (EventType.bind(contract, Binding("")) for contract in topic.types.values()),
    )
