"""CloudEvents 1.0 envelope: HTTP structured, batch and binary modes in; Kafka structured mode.

Strict: what is not understood exactly is refused, never coerced or guessed.

- JSON is UTF-8 without a byte order mark, nests at most `MAX_DEPTH` levels, repeats no key
  within an object and spells no NaN or Infinity (`load_json`).
- `id` and `subject` are ids (`ID_PATTERN`): 1-128 ASCII letters, digits and `.` `_` `~` `:`
  `-`, starting with a letter or digit. No `/`, space, control, bidi or zero-width character can
  get in, so an id is one segment of its read URL (`GET /v1/tasks/{task_id}`), a Kafka key and a
  header value as it is.
- `source` and `dataschema` are URI references of RFC 3986 characters (`%` only as an escape);
  `type` is letters, digits, `.`, `_` and `-`.
- `time` is an RFC 3339 date-time string with its zone (`2026-11-27T10:00:00+08:00`, fractions
  of a second kept to the microsecond); a number or a zoneless time is refused.
- extension attributes are named as CloudEvents names them (1-20 lower-case letters or digits),
  at most `MAX_EXTENSIONS`, each a boolean, a 32-bit integer or a string of at most
  `MAX_EXTENSION_CHARS` printable characters.
- binary mode: `ce-*` header values are printable ASCII, percent-encoded UTF-8 beyond it; a
  header given twice, `ce-data` and `ce-datacontenttype` are refused.
- every bad entry of a batch is reported, each error named by its index (`[2].time`)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fazhi.contracts.strictjson import EnvelopeError as EnvelopeError
from fazhi.contracts.strictjson import load_json

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
CHINA_TZ = timezone(timedelta(hours=8), "CST")
SOURCE_PATTERN = re.compile(r"^/units/(?P<unit>[a-z0-9][a-z0-9:-]*)$")

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~:-]{0,127}$"
"""An id: 1-128 ASCII letters, digits and `.` `_` `~` `:` `-`, starting with a letter or digit."""
ID_MAX_LENGTH = 128
URI_REFERENCE_PATTERN = r"^(?:[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+$"
TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
RFC3339_PATTERN = (
    r"^(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
DATACONTENTTYPE_PATTERN = r"^application/(?:[A-Za-z0-9.-]+\+)?json$"
EXTENSION_NAME_PATTERN = r"^[a-z0-9]{1,20}$"
MAX_EXTENSIONS = 16
MAX_EXTENSION_CHARS = 1000
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_RFC3339 = re.compile(RFC3339_PATTERN)
_EXTENSION_NAME = re.compile(EXTENSION_NAME_PATTERN)
# C0 and C1 controls (CR and LF included), bidi marks, embeddings, overrides and isolates,
# zero-width characters, the byte order mark, interlinear annotations and lone surrogates.
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
NAMESPACE = uuid.UUID("6f1c2a8e-6c55-5b0e-9a55-2f4c0a7d3e11")
ATTRIBUTES = frozenset(
    ("specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema")
)
"""The context attributes Fazhi reads; any other name is an extension attribute."""
KEY_ID = "keyid"
"""The extension attribute naming the API key that posted an event (its id, never the key): set
by the api on every event it publishes, whatever the poster sent in it; none on derived events."""


class EnvelopeFieldsError(ValueError):
    """CloudEvents whose attributes are invalid: HTTP 422 naming the fields."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("invalid CloudEvent attributes")
        self.errors = errors


def rfc3339(value: object) -> object:
    """An RFC 3339 date-time string with its zone, read as an aware datetime (a datetime built
    in code passes as it is). Numbers and other ISO 8601 spellings are refused."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise PydanticCustomError(
                "rfc3339", "Input should be a valid date-time: {reason}", {"reason": str(exc)}
            ) from None
    raise PydanticCustomError(
        "rfc3339",
        "Input should be an RFC 3339 date-time string with its zone, e.g. 2026-11-27T10:00:00+08:00",
    )


Timestamp = Annotated[AwareDatetime, BeforeValidator(rfc3339)]
SafeId = Annotated[
    str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN)
]
UriReference = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=URI_REFERENCE_PATTERN)
]


def extension_error(name: str, value: object) -> str | None:
    """Why an extension attribute cannot be taken, or None."""
    if not _EXTENSION_NAME.match(name):
        return "an extension attribute's name is 1-20 lower-case letters or digits"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if INT32_MIN <= value <= INT32_MAX:
            return None
        return "an integer extension attribute is a 32-bit signed integer"
    if isinstance(value, str):
        if not value or len(value) > MAX_EXTENSION_CHARS:
            return f"a string extension attribute has 1-{MAX_EXTENSION_CHARS} characters"
        if UNSAFE_CHARACTERS.search(value):
            return "control, line break, bidi and zero-width characters are not allowed"
        return None
    return "an extension attribute is a string, an integer or a boolean"


class CloudEvent(BaseModel):
    """One CloudEvents 1.0 event; extension attributes are kept as they came (see the module)."""

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    specversion: Literal["1.0"]
    id: SafeId
    source: UriReference
    type: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TYPE_PATTERN)]
    subject: SafeId
    time: Timestamp
    datacontenttype: Annotated[
        str, StringConstraints(max_length=100, pattern=DATACONTENTTYPE_PATTERN)
    ] = "application/json"
    dataschema: UriReference | None = None
    data: dict[str, Any]

    @model_validator(mode="after")
    def _check_extensions(self) -> CloudEvent:
        extensions = self.model_extra or {}
        if len(extensions) > MAX_EXTENSIONS:
            raise ValueError(f"at most {MAX_EXTENSIONS} extension attributes")
        for name, value in extensions.items():
            reason = extension_error(name, value)
            if reason is not None:
                raise ValueError(f"extension attribute {name!r}: {reason}")
        return self

    @property
    def unit(self) -> str | None:
        """The unit code of a `/units/<code>` source, else None."""
        match = SOURCE_PATTERN.match(self.source)
        return match.group("unit") if match else None

    @property
    def key(self) -> str:
        """The identity of an event: CloudEvents makes `source` + `id` unique."""
        return f"{self.source} {self.id}"

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def to_bytes(self) -> bytes:
        """Compact UTF-8 JSON (what the standard library's `json` writes, read back the same)."""
        obj = self.to_json()
        try:
            return orjson.dumps(obj)
        except orjson.JSONEncodeError:
            # Integers beyond 64 bits (and lone surrogates, which fail here as well) are left
            # to the standard library, as before.
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def new_event(
    *,
    type: str,
    source: str,
    subject: str,
    data: Mapping[str, Any],
    id: str | None = None,
    time: datetime | None = None,
) -> CloudEvent:
    return CloudEvent(
        specversion="1.0",
        id=id or str(uuid.uuid4()),
        source=source,
        type=type,
        subject=subject,
        time=time or datetime.now(CHINA_TZ),
        data=dict(data),
    )


def derived_id(cause: str, rule: str) -> str:
    """A deterministic id for an event the platform derives, so a replay never doubles it."""
    return str(uuid.uuid5(NAMESPACE, f"{rule}\n{cause}"))


def _field(prefix: str, loc: tuple[int | str, ...]) -> str:
    return prefix + ".".join(str(p) for p in loc) if loc else prefix + "(event)"


def parse_event(obj: Any, *, index: int | None = None) -> CloudEvent:
    """One event from its JSON object; raises EnvelopeFieldsError naming every bad attribute."""
    prefix = f"[{index}]." if index is not None else ""
    if not isinstance(obj, dict):
        where = f"item {index}" if index is not None else "the body"
        raise EnvelopeError(f"{where} is not a JSON object")
    errors: list[dict[str, str]] = []
    extensions = [name for name in obj if name not in ATTRIBUTES and name != "data"]
    if len(extensions) > MAX_EXTENSIONS:
        errors.append(
            {
                "field": prefix + "(event)",
                "message": f"at most {MAX_EXTENSIONS} extension attributes, got {len(extensions)}",
            }
        )
    for name in extensions:
        reason = extension_error(name, obj[name])
        if reason is not None:
            errors.append({"field": prefix + name, "message": reason})
    try:
        event = CloudEvent.model_validate(obj)
    except ValidationError as exc:
        # The model's own check of the extensions (location "(event)") was reported above.
        errors += [
            {"field": _field(prefix, err["loc"]), "message": err["msg"]}
            for err in exc.errors()
            if err["loc"] or not errors
        ]
    if errors:
        raise EnvelopeFieldsError(errors)
    return event


# Kept for the callers and tests that knew it by this name.
_load_json = load_json


def from_kafka(value: bytes | None) -> CloudEvent:
    """Parse a Kafka record value (structured mode); raises EnvelopeError or EnvelopeFieldsError."""
    if value is None:
        raise EnvelopeError("the record has no value")
    return parse_event(load_json(value))


def kafka_headers(event: CloudEvent) -> list[tuple[str, bytes]]:
    return [
        ("content-type", STRUCTURED.encode()),
        ("ce_type", event.type.encode()),
        ("ce_source", event.source.encode()),
        ("ce_id", event.id.encode()),
    ]
