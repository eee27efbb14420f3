"""Domain objects as stored: a frozen dataclass (an aggregate's rules-state) as a document
and back, by its type hints.

Dates and times are ISO strings (BSON has no dates, and keeps no zone), enums their codes, tuples lists, a statutory
clock its rule and events: replayed on the current calendar when read, so an operator's holiday
schedule moves its due date.
"""

from __future__ import annotations

import dataclasses
import types
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from fazhi.rules.clocks import Clock, ClockEvent, EventKind, replay_clock

T = TypeVar("T")


def encode(value: Any) -> Any:
    """A document (or a value inside one) of `value`."""
    return _encode(value)


def decode(kind: type[T], raw: dict[str, Any]) -> T:
    """The `kind` dataclass that `encode` stored as `raw`."""
    value = _decode(kind, raw)
    assert isinstance(value, kind)
    return value


def clock_summary(clock: Clock | None) -> dict[str, Any] | None:
    """What a reader wants of the running clock: its rule, due date and whether it may move."""
    if clock is None:
        return None
    return {
        "name": clock.rule.name,
        "due_date": clock.due_on.isoformat(),
        "provisional": clock.provisional,
    }


def _encode(value: Any) -> Any:
    if isinstance(value, Clock):
        return {
            "rule": value.rule.name,
            "events": [{"kind": str(e.kind), "on": e.on.isoformat()} for e in value.events],
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    return value


def _decode(kind: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(kind) if a is not type(None)]
        return _decode(inner, raw)
    if origin is tuple:
        return tuple(_decode(get_args(kind)[0], v) for v in raw)
    if kind is Clock:
        events = [
            ClockEvent(EventKind(e["kind"]), date.fromisoformat(e["on"])) for e in raw["events"]
        ]
        return replay_clock(raw["rule"], events)
    if kind is datetime:
        return datetime.fromisoformat(raw)
    if kind is date:
        return date.fromisoformat(raw)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(raw)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        return kind(
            **{
                f.name: _decode(hints[f.name], raw[f.name])
                for f in dataclasses.fields(kind)
                if f.init and f.name in raw
            }
        )
    return raw
