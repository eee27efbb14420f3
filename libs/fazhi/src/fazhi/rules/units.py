"""Registry of the units (单位) the plan names, and the groups of units it addresses.

Every unit the plan names in its 牵头单位/责任单位 lines has a stable ASCII code (``justice``
for 区司法局, ``gov-office`` for 区政府办公室, ...) and keeps the plan's Chinese string as its
display name. Group strings such as 区级各相关部门 are groups (codes ``group:...``) that
resolve to sets of concrete unit codes. The data lives in ``fazhi/data/units.json`` and is
read lazily on first use, never at import time.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Literal

__all__ = [
    "Registry",
    "Unit",
    "UnitRegistryError",
    "UnknownUnitError",
    "all_groups",
    "all_units",
    "default_registry",
    "find_unit",
    "get_unit",
    "is_group_code",
    "is_unit_code",
    "resolve",
]

GROUP_PREFIX = "group:"
_UNIT_CODE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_GROUP_CODE = re.compile(r"^group:[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")

UnitKind = Literal["unit", "group"]


class UnknownUnitError(KeyError):
    """No unit or group has this code, name or alias."""

    def __init__(self, name_or_code: str) -> None:
        super().__init__(name_or_code)
        self.name_or_code = name_or_code

    def __str__(self) -> str:
        return (
            f"unknown unit {self.name_or_code!r}: not a unit or group code, "
            "Chinese name or alias in the units registry"
        )


class UnitRegistryError(ValueError):
    """The registry data is malformed (bad code, duplicate name, unknown group member...)."""


@dataclass(frozen=True)
class Unit:
    """A unit (or a group of units) named by the plan.

    ``members`` is empty for a concrete unit and holds the sorted member unit codes of a group.
    """

    code: str
    name: str
    kind: UnitKind
    aliases: tuple[str, ...] = ()
    members: tuple[str, ...] = ()

    @property
    def is_group(self) -> bool:
        return self.kind == "group"


class Registry:
    """An immutable, validated set of units and groups with lookup by code, name or alias."""

    def __init__(self, units: Iterable[Unit], groups: Iterable[Unit]) -> None:
        self._units = tuple(sorted(units, key=lambda u: u.code))
        self._groups = tuple(sorted(groups, key=lambda g: g.code))
        self._by_code: dict[str, Unit] = {}
        self._by_label: dict[str, Unit] = {}
        for entry in (*self._units, *self._groups):
            self._check_entry(entry)
            self._by_code[entry.code] = entry
        for entry in (*self._units, *self._groups):
            for label in (entry.name, *entry.aliases):
                other = self._by_label.get(label) or self._by_code.get(label)
                if other is not None and other is not entry:
                    raise UnitRegistryError(
                        f"label {label!r} of {entry.code!r} is already used by {other.code!r}"
                    )
                self._by_label[label] = entry
        for group in self._groups:
            for member in group.members:
                target = self._by_code.get(member)
                if target is None or target.is_group:
                    raise UnitRegistryError(
                        f"group {group.code!r} lists {member!r}, which is not a concrete unit code"
                    )

    def _check_entry(self, entry: Unit) -> None:
        pattern = _GROUP_CODE if entry.is_group else _UNIT_CODE
        if not pattern.fullmatch(entry.code):
            raise UnitRegistryError(f"bad {entry.kind} code {entry.code!r}")
        if entry.code in self._by_code:
            raise UnitRegistryError(f"duplicate code {entry.code!r}")
        if not entry.name.strip():
            raise UnitRegistryError(f"{entry.code!r} has an empty name")
        if entry.is_group and not entry.members:
            raise UnitRegistryError(f"group {entry.code!r} has no members")
        if not entry.is_group and entry.members:
            raise UnitRegistryError(f"unit {entry.code!r} cannot have members")

    @classmethod
    def from_mapping(cls, raw: object) -> Registry:
        """Build a registry from the parsed JSON document (``units`` and ``groups`` lists)."""
        if not isinstance(raw, Mapping):
            raise UnitRegistryError("units data must be a JSON object")
        units = [_entry(item, "unit") for item in _list(raw, "units")]
        groups = [_entry(item, "group") for item in _list(raw, "groups")]
        return cls(units, groups)

    def all_units(self) -> tuple[Unit, ...]:
        return self._units

    def all_groups(self) -> tuple[Unit, ...]:
        return self._groups

    def get_unit(self, code: str) -> Unit:
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownUnitError(code) from None

    def find_unit(self, name_or_code: str) -> Unit | None:
        key = name_or_code.strip()
        return self._by_code.get(key) or self._by_label.get(key)

    def resolve(self, name_or_code: str) -> frozenset[str]:
        entry = self.find_unit(name_or_code)
        if entry is None:
            raise UnknownUnitError(name_or_code)
        return frozenset(entry.members) if entry.is_group else frozenset({entry.code})

    def is_unit_code(self, code: str) -> bool:
        entry = self._by_code.get(code)
        return entry is not None and not entry.is_group

    def is_group_code(self, code: str) -> bool:
        entry = self._by_code.get(code)
        return entry is not None and entry.is_group


def _list(raw: Mapping[object, object], key: str) -> list[object]:
    value = raw.get(key)
    if not isinstance(value, list):
        raise UnitRegistryError(f"units data: {key!r} must be a list")
    return value


def _strings(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UnitRegistryError(f"{what} must be a list of strings")
    return tuple(str(v) for v in value)


def _entry(item: object, kind: UnitKind) -> Unit:
    if not isinstance(item, Mapping):
        raise UnitRegistryError(f"each {kind} must be a JSON object, got {item!r}")
    code, name = item.get("code"), item.get("name")
    if not isinstance(code, str) or not isinstance(name, str):
        raise UnitRegistryError(f"{kind} {item!r} needs string 'code' and 'name'")
    aliases = _strings(item.get("aliases", []), f"aliases of {code!r}")
    members = _strings(item.get("members", []), f"members of {code!r}")
    return Unit(
        code=code,
        name=name,
        kind=kind,
        aliases=aliases,
        members=tuple(sorted(set(members))),
    )


@functools.cache
def default_registry() -> Registry:
    """The registry shipped in ``fazhi/data/units.json`` (read once, on first use)."""
    text = resources.files("fazhi").joinpath("data", "units.json").read_text(encoding="utf-8")
    return Registry.from_mapping(json.loads(text))


def all_units() -> tuple[Unit, ...]:
    """Concrete units, sorted by code."""
    return default_registry().all_units()


def all_groups() -> tuple[Unit, ...]:
    """Groups of units, sorted by code."""
    return default_registry().all_groups()


def get_unit(code: str) -> Unit:
    """The unit or group with this code; raises ``UnknownUnitError`` if there is none."""
    return default_registry().get_unit(code)


def find_unit(name_or_code: str) -> Unit | None:
    """The unit or group with this code, Chinese name or alias, or None."""
    return default_registry().find_unit(name_or_code)


def resolve(name_or_code: str) -> frozenset[str]:
    """Concrete unit codes: ``{code}`` for a unit, the member codes for a group.

    Raises ``UnknownUnitError`` for an unknown code, name or alias.
    """
    return default_registry().resolve(name_or_code)


def is_unit_code(code: str) -> bool:
    """True if ``code`` is the code of a concrete unit (not a group, not a name)."""
    return default_registry().is_unit_code(code)


def is_group_code(code: str) -> bool:
    """True if ``code`` is the code of a group of units."""
    return default_registry().is_group_code(code)
