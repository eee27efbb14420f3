"""Payload pieces shared by the services' event models.

Every event's `data` is a `Payload`, and every `Payload` is strict, whatever its fields:

- no type coercion: an integer is a JSON integer (not `"60"`, `60.0` or `true`), a string a
  JSON string, a boolean `true` or `false`;
- a date-time is an RFC 3339 string with its zone (`fazhi.contracts.envelope.rfc3339`), never a number;
  a date is `YYYY-MM-DD`;
- no string holds a control character other than tab and line breaks, a bidi mark, embedding,
  override or isolate, or a lone surrogate (`TEXT_UNSAFE`);
- ids (`Id`) are of the envelope's id characters (`fazhi.contracts.envelope.ID_PATTERN`), so each one is
  one segment of its read URL;
- unknown fields are refused, so a typo is caught at the door.

Fields that can carry personal data are marked `Annotated[..., PERSONAL]` (`x-personal` in
their JSON schema): they travel sealed on the topics (see `fazhi.store.sealing`).

The rules are applied to the model's validation schema when the class is made (see
`Payload.__get_pydantic_core_schema__`), so they hold for the fields of every subclass, in
Python and JSON input alike, at the api and in the workers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from fazhi.contracts.envelope import ID_MAX_LENGTH, ID_PATTERN, RFC3339_PATTERN, rfc3339
from fazhi.rules.redaction import Party
from fazhi.rules.units import all_units, is_unit_code

_UNSAFE = (
    "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f"
    "\\u202a-\\u202e\\u2066-\\u2069\\ufff9-\\ufffb"
)
TEXT_UNSAFE = re.compile(f"[{_UNSAFE}\\ud800-\\udfff]")
"""Characters no text field holds: C0 controls but tab, LF and CR; C1 controls; bidi marks,
embeddings, overrides and isolates; interlinear annotations; lone surrogates."""
TEXT_PATTERN = f"^[^{_UNSAFE}]*$"
"""TEXT_UNSAFE as a JSON-schema pattern (lone surrogates cannot be sent in UTF-8 JSON)."""
SHORT_TEXT_PATTERN = f"^[^{_UNSAFE}\\u0009\\u000a\\u000d]*$"
"""One line of text: TEXT_PATTERN without tab, LF and CR."""
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_STRICT_MARK = "fazhi_strict"


def _known_unit(code: str) -> str:
    if not is_unit_code(code):
        raise ValueError(f"unknown unit code {code!r}; see GET /v1/units")
    return code


def _text(value: str) -> str:
    found = TEXT_UNSAFE.search(value)
    if found is not None:
        raise PydanticCustomError(
            "unsafe_character",
            "Control, bidi and unpaired surrogate characters are not allowed ({char} at {at})",
            {"char": f"U+{ord(found.group()):04X}", "at": found.start()},
        )
    return value


def _iso_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise PydanticCustomError(
                "iso_date", "Input should be a valid date: {reason}", {"reason": str(exc)}
            ) from None
    raise PydanticCustomError("iso_date", "Input should be a date string YYYY-MM-DD")


def _marked(schema: Mapping[str, Any], **json_schema: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {**(schema.get("metadata") or {}), _STRICT_MARK: True}
    if json_schema:
        # What the rule adds shows in the JSON schema (OpenAPI) too.
        metadata["pydantic_js_updates"] = json_schema
    return {**schema, "metadata": metadata}


def _strict(schema: Any, own: type) -> None:
    """Make `schema` (a pydantic-core validation schema) strict, in place (see the module)."""
    if isinstance(schema, list):
        for item in schema:
            _strict(item, own)
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if (schema.get("metadata") or {}).get(_STRICT_MARK):
        return  # made strict already (a nested model's schema, or a field seen twice)
    if kind == "model" and schema.get("cls") is not own:
        return  # another model: strict if it is a Payload, its own business if not
    for key, value in schema.items():
        if key not in ("metadata", "serialization", "cls", "ref", "function"):
            _strict(value, own)
    if kind in ("int", "bool", "float"):
        schema["strict"] = True
    elif kind == "str":
        inner = {**schema, "strict": True}
        shown = {} if "pattern" in inner else {"pattern": TEXT_PATTERN}
        schema.clear()
        schema.update(_marked(core_schema.no_info_after_validator_function(_text, inner), **shown))
    elif kind == "datetime":
        inner = dict(schema)
        schema.clear()
        schema.update(
            _marked(
                core_schema.no_info_before_validator_function(rfc3339, inner),
                pattern=RFC3339_PATTERN,
            )
        )
    elif kind == "date":
        inner = dict(schema)
        schema.clear()
        schema.update(_marked(core_schema.no_info_before_validator_function(_iso_date, inner)))


def _unit_codes(schema: dict[str, Any]) -> None:
    # Read when a JSON schema is made, not at import: the registry loads lazily.
    schema["enum"] = [unit.code for unit in all_units()]


UnitCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_known_unit),
    Field(json_schema_extra=_unit_codes),
]
"""A unit's code in the registry (`GET /v1/units`)."""
Id = Annotated[
    str,
    StringConstraints(
        strip_whitespace=False, min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN
    ),
]
"""An aggregate's or a person's id: ASCII letters, digits and `.` `_` `~` `:` `-`."""
ShortText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=500, pattern=SHORT_TEXT_PATTERN
    ),
]
"""One line of at most 500 characters."""
LongText = Annotated[str, StringConstraints(max_length=200_000)]
"""At most 200,000 characters (600 kB of Chinese text: an event stays under Kafka's 1 MB)."""


ERASED_TEXT = "[个人信息已删除]"
"""What a personal text reads as once its data key is gone (crypto-shredded)."""


@dataclass(frozen=True)
class PersonalData:
    """Marks a payload field that can carry personal data: a person's name, ID number, phone or
    address, or a raw text a department wrote about a person (`Annotated[LongText, PERSONAL]`).

    Such a field travels sealed on the topics, readable only by the owning service; its JSON
    schema says `x-personal: true`. `erased` is what it reads as where it cannot be unsealed
    (another service, or its data key shredded); by default `ERASED_TEXT`, or the `ERASED`
    value of the field's model (`Applicant.ERASED`)."""

    erased: Any = None

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        shown = handler(schema)
        if "$ref" in shown:
            shown = {"allOf": [shown]}
        return {**shown, "x-personal": True}


PERSONAL = PersonalData()


@cache
def personal_fields(model: type[BaseModel]) -> dict[str, Any]:
    """The fields of `model` marked `PERSONAL`, each with what it reads as once erased (the JSON
    form of a valid value: `ERASED_TEXT`, or the field's model's `ERASED`)."""
    found: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        marker = next((m for m in info.metadata if isinstance(m, PersonalData)), None)
        if marker is None:
            continue
        erased = marker.erased
        if erased is None:
            erased = getattr(info.annotation, "ERASED", ERASED_TEXT)
        found[name] = erased
    return found


class Payload(BaseModel):
    """Base of every event's `data`: strict, and unknown fields are refused (see the module)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        schema = handler(source)
        _strict(schema, cls)
        return schema


class Applicant(Payload):
    """A person or organisation applying: personal data, stored but never published or logged."""

    ERASED: ClassVar[dict[str, Any]] = {"name": ERASED_TEXT}
    """The applicant once their data is erased: no name, no numbers."""

    name: ShortText
    kind: str = Field(default="person", pattern="^(person|organisation)$")
    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)

    def party(self) -> Party:
        """The applicant as a known party, so redaction removes their name, numbers and address."""
        return Party(
            name="" if self.name == ERASED_TEXT else self.name,
            kind="organisation" if self.kind == "organisation" else "person",
            id_number=self.id_number,
            phone=self.phone,
            address=self.address,
        )
