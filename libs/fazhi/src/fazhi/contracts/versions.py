"""Versions of the payload contracts: each event names the version of its `data` in its
CloudEvents `dataschema` (`urn:fazhi:schema:<type>:v<N>`); an event without one is of version 1
(the log before versions). A contract that changes its payload raises its version
(`EventContract.version`) and registers an upcaster from the previous one here, so an event
written before the change (in the log for good, replayed into any read model) reaches the
handlers as the current version: the worker and a replay upcast before they validate.

Upcasters are pure functions of the payload's JSON object, registered by the module of the
contract that changed (`@upcaster("supervision.training.recorded", 1)`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

UpcastFn = Callable[[dict[str, Any]], dict[str, Any]]

SCHEMA_PREFIX = "urn:fazhi:schema:"
_SCHEMA = re.compile(
    r"^urn:fazhi:schema:(?P<type>[A-Za-z0-9][A-Za-z0-9._-]*):v(?P<v>[1-9][0-9]{0,3})$"
)

_UPCASTERS: dict[tuple[str, int], UpcastFn] = {}


class VersionError(ValueError):
    """An event names a version of its payload that cannot be read as the current one."""


def schema_uri(event_type: str, version: int) -> str:
    """The `dataschema` of an event of `event_type` whose payload is of `version`."""
    return f"{SCHEMA_PREFIX}{event_type}:v{version}"


def version_of(event_type: str, dataschema: str | None) -> int:
    """The version an event's `dataschema` names (1 without one); VersionError for a schema of
    another type or not of this form."""
    if dataschema is None:
        return 1
    match = _SCHEMA.match(dataschema)
    if match is None:
        raise VersionError(
            f"dataschema {dataschema!r} is not {SCHEMA_PREFIX}<type>:v<version> (or leave it out)"
        )
    if match.group("type") != event_type:
        raise VersionError(f"dataschema {dataschema!r} is not a schema of {event_type}")
    return int(match.group("v"))


def upcaster(event_type: str, from_version: int) -> Callable[[UpcastFn], UpcastFn]:
    """Register the function that turns a payload of `from_version` into one of the next."""

    def register(fn: UpcastFn) -> UpcastFn:
        key = (event_type, from_version)
        if key in _UPCASTERS:
            raise ValueError(f"an upcaster of {event_type} v{from_version} is registered already")
        _UPCASTERS[key] = fn
        return fn

    return register


def upcast(event_type: str, version: int, current: int, data: dict[str, Any]) -> dict[str, Any]:
    """`data` of `version` as the `current` version, through each registered step in turn.
    VersionError for a version newer than the current one or a step that is missing."""
    if version > current:
        raise VersionError(f"{event_type} v{version} is newer than the v{current} known here")
    for step in range(version, current):
        fn = _UPCASTERS.get((event_type, step))
        if fn is None:
            raise VersionError(f"no upcaster of {event_type} from v{step} to v{step + 1}")
        data = fn(dict(data))
    return data


def missing_upcasters(versions: dict[str, int]) -> list[str]:
    """The steps an upcaster is missing for, given each type's current version."""
    return [
        f"{name} v{step}"
        for name, current in sorted(versions.items())
        for step in range(1, current)
        if (name, step) not in _UPCASTERS
    ]
