"""Statutory terms: enumerations a department may send as the code (`general`) or as the term
the law uses (一般). The code is what is validated into, stored, published and returned."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Self

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

LABELS_KEY = "x-labels-zh"
"""The JSON-schema keyword mapping each code to its Chinese term."""


class Term(StrEnum):
    """A code with its statutory Chinese term `label_zh` and other wordings in use (`aliases`).

    Members are declared as `CODE = "code", "术语", "别称", ...`; `Grade("一般")` and
    `Grade("general")` are the same member, in Python as in pydantic (JSON input included).
    """

    _value_: str
    label_zh: str
    aliases: tuple[str, ...]

    def __new__(cls, code: str, label_zh: str = "", *aliases: str) -> Self:
        # Runs once per member, when the class is made; lookups go through `_missing_`.
        if not label_zh:
            raise TypeError(f"{cls.__name__} {code!r} needs its Chinese term")
        member = str.__new__(cls, code)
        member._value_ = code
        member.label_zh = label_zh
        member.aliases = aliases
        return member

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            for member in cls:
                if value == member.label_zh or value in member.aliases:
                    return member
        return None

    @property
    def terms(self) -> tuple[str, ...]:
        """Every wording accepted for this member besides its code, the statutory term first."""
        return (self.label_zh, *self.aliases)

    @classmethod
    def accepted(cls) -> str:
        """The accepted values as a refusal lists them: `general (一般), simplified (简易程序)`."""
        return ", ".join(f"{m.value} ({' / '.join(m.terms)})" for m in cls)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # pydantic's own enum validator calls `_missing_` for python and JSON input alike; the
        # wrap only replaces its message, which would list the codes without the terms.
        def validate(value: Any, inner: core_schema.ValidatorFunctionWrapHandler) -> Any:
            try:
                return inner(value)
            except ValidationError:
                raise PydanticCustomError(
                    "enum",
                    "Input should be a code or its statutory term: {expected}",
                    {"expected": cls.accepted()},
                ) from None

        return core_schema.no_info_wrap_validator_function(
            validate, handler(source), ref=f"{cls.__module__}.{cls.__qualname__}:term"
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Input (validation) schemas list codes and terms; output schemas the codes only."""
        codes = [m.value for m in cls]
        terms = [t for m in cls for t in m.terms]
        listing = "; ".join(f"{m.value} {m.label_zh}" for m in cls)
        about = f"Codes and statutory terms: {listing}. " + (
            "The code is what is published, stored and returned."
            if handler.mode == "serialization"
            else "Either is accepted; the code is published, stored and returned."
        )
        doc = (cls.__dict__.get("__doc__") or "").strip()
        return {
            "type": "string",
            "title": cls.__name__,
            "description": f"{doc}\n\n{about}" if doc else about,
            "enum": codes if handler.mode == "serialization" else [*codes, *terms],
            LABELS_KEY: {m.value: m.label_zh for m in cls},
        }


def with_labels(doc: dict[str, Any], terms: Mapping[str, type[Term]]) -> dict[str, Any]:
    """`doc` with `<field>_label_zh` beside each field of `terms` holding a known code."""
    for field, term in terms.items():
        value = doc.get(field)
        if not isinstance(value, str):
            continue
        try:
            doc[f"{field}_label_zh"] = term(value).label_zh
        except ValueError:
            continue
    return doc
