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
- every bad entry of a batch is reported, each error named by its index (`[2].time`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from urllib.parse import unquote

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
MAX_DEPTH = 16
"""How deeply arrays and objects may nest in a body (a batch of events with applicants: 4)."""
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


class EnvelopeError(ValueError):
    """A body that is not a CloudEvent at all (bad JSON, wrong shape): HTTP 400."""


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


# -------------------------------------------------------------------------------- JSON

# orjson reads integers beyond 64 bits as floats, silently: a body with such a run of digits
# (anywhere, strings included) is read again, exactly, by the standard library.
_LONG_DIGITS = re.compile(rb"\d{19}")
# A colon written as an escape inside a string; see `_shape`.
_ESCAPED_COLON = re.compile(rb"\\u003[aA]")


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _shape(value: Any, max_depth: int) -> tuple[int, int]:
    """Check the nesting of `value` (without recursion) and count its object keys and the colons
    in its strings (keys included).

    In JSON text, a colon outside strings separates a key from its value, and orjson keeps one
    entry of a repeated key. So the text repeats no key exactly when its colons number the keys
    read plus the colons inside the strings read, as long as no colon inside a string was
    written as an escape (then the standard library decides).
    """
    if type(value) is str:
        return 0, value.count(":")
    keys = colons = 0
    stack: list[tuple[Any, int]] = [(value, 1)] if type(value) in (dict, list) else []
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise EnvelopeError(f"the body nests arrays and objects deeper than {max_depth} levels")
        if type(node) is dict:
            keys += len(node)
            for key, item in node.items():
                colons += key.count(":")
                kind = type(item)
                if kind is str:
                    colons += item.count(":")
                elif kind is dict or kind is list:
                    stack.append((item, depth + 1))
        else:
            for item in node:
                kind = type(item)
                if kind is str:
                    colons += item.count(":")
                elif kind is dict or kind is list:
                    stack.append((item, depth + 1))
    return keys, colons


def load_json(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of `body`, read strictly: UTF-8 without a byte order mark, no NaN or
    Infinity, no lone surrogate, at most `max_depth` levels of arrays and objects, no key twice
    in one object, integers exact. Anything else is an EnvelopeError (HTTP 400)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"the body is not valid JSON (UTF-8, RFC 8259): {exc}") from exc
    keys, colons = _shape(value, max_depth)
    if (
        body.count(b":") != keys + colons
        or _LONG_DIGITS.search(body) is not None
        or _ESCAPED_COLON.search(body) is not None
    ):
        # Safe from deep recursion: the nesting was checked above.
        try:
            value = json.loads(body, object_pairs_hook=_unique_keys)
        except _DuplicateKey as exc:
            raise EnvelopeError(f"the body has the key {exc.key!r} twice in one object") from exc
        except ValueError as exc:
            raise EnvelopeError(f"the body is not valid JSON: {exc}") from exc
    return value


# Kept for the callers and tests that knew it by this name.
_load_json = load_json


# -------------------------------------------------------------------------------- HTTP


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_binary_mode(headers: Mapping[str, str]) -> bool:
    return "ce-specversion" in {k.lower() for k in headers}


@dataclass(frozen=True)
class HttpEvents:
    """The events of one request: each entry an event, or None where it was refused; `errors`
    names every refused attribute of every entry."""

    entries: list[CloudEvent | None]
    errors: list[dict[str, str]]
    batch: bool

    @property
    def events(self) -> list[CloudEvent]:
        return [event for event in self.entries if event is not None]


def _header_items(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every header with its value, repeated ones included (Starlette's `Headers` keeps them)."""
    multi = getattr(headers, "multi_items", None)
    return list(multi()) if callable(multi) else list(headers.items())


def _binary_attributes(headers: Mapping[str, str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The attributes of binary mode from its `ce-*` headers, and what is wrong with them."""
    attributes: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for header, raw in _header_items(headers):
        header = header.lower()
        if not header.startswith("ce-"):
            continue
        name = header[3:]
        if name in attributes or any(e["field"] == name for e in errors):
            errors.append({"field": name, "message": f"the header {header} is given twice"})
            continue
        if name in ("data", "datacontenttype"):
            where = "the body" if name == "data" else "the Content-Type header"
            errors.append({"field": name, "message": f"binary mode carries {name} in {where}"})
            continue
        # The HTTP binding percent-encodes header values (RFC 3986), so non-ASCII survives.
        if any(not " " <= c <= "~" for c in raw):
            errors.append(
                {
                    "field": name,
                    "message": f"the header {header} must be printable ASCII; percent-encode "
                    "other characters as UTF-8",
                }
            )
            continue
        try:
            attributes[name] = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            errors.append(
                {"field": name, "message": f"the header {header} is not percent-encoded UTF-8"}
            )
    return attributes, errors


def _unique_errors(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    return list({(e["field"], e["message"]): e for e in errors}.values())


def read_http(content_type: str | None, headers: Mapping[str, str], body: bytes) -> HttpEvents:
    """The events of an HTTP request in structured, batch or binary mode, every entry checked.

    Raises EnvelopeError for a body that is not JSON or not of the mode's shape. The caller has
    already refused unsupported content types (see `http_mode`).
    """
    mode = http_mode(content_type, headers)
    if mode == "batch":
        items = load_json(body)
        if not isinstance(items, list):
            raise EnvelopeError("a batch must be a JSON array of CloudEvents")
        if not items:
            raise EnvelopeError("the batch is empty")
        entries: list[CloudEvent | None] = []
        errors: list[dict[str, str]] = []
        for i, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise EnvelopeFieldsError(
                        [{"field": f"[{i}]", "message": "must be a JSON object (a CloudEvent)"}]
                    )
                entries.append(parse_event(item, index=i))
            except EnvelopeFieldsError as exc:
                entries.append(None)
                errors += exc.errors
        return HttpEvents(entries, errors, batch=True)
    if mode == "structured":
        try:
            return HttpEvents([parse_event(load_json(body))], [], batch=False)
        except EnvelopeFieldsError as exc:
            return HttpEvents([None], exc.errors, batch=False)
    attributes, header_errors = _binary_attributes(headers)
    attributes["datacontenttype"] = media_type(content_type)
    attributes["data"] = load_json(body)
    if not isinstance(attributes["data"], dict):
        header_errors.append({"field": "data", "message": "the body must be a JSON object"})
    try:
        event = parse_event(attributes)
    except EnvelopeFieldsError as exc:
        failed = {e["field"] for e in header_errors}
        more = [e for e in exc.errors if e["field"] not in failed]
        return HttpEvents([None], _unique_errors(header_errors + more), batch=False)
    if header_errors:
        return HttpEvents([None], header_errors, batch=False)
    return HttpEvents([event], [], batch=False)


def parse_http(
    content_type: str | None, headers: Mapping[str, str], body: bytes
) -> list[CloudEvent]:
    """Events of an HTTP request in structured, batch or binary mode; raises EnvelopeError or
    EnvelopeFieldsError (naming every bad attribute of every entry)."""
    parsed = read_http(content_type, headers, body)
    if parsed.errors:
        raise EnvelopeFieldsError(parsed.errors)
    return parsed.events


def http_mode(content_type: str | None, headers: Mapping[str, str]) -> str | None:
    """'structured', 'batch' or 'binary'; None for a content type Fazhi does not take."""
    kind = media_type(content_type)
    if kind == STRUCTURED:
        return "structured"
    if kind == BATCH:
        return "batch"
    if is_binary_mode(headers) and (kind == "application/json" or kind.endswith("+json")):
        return "binary"
    return None


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
