"""CloudEvents 1.0 envelope: HTTP structured, batch and binary modes in; Kafka structured mode."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import unquote

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
CHINA_TZ = timezone(timedelta(hours=8), "CST")
SOURCE_PATTERN = re.compile(r"^/units/(?P<unit>[a-z0-9][a-z0-9:-]*)$")
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_REQUIRED = ("specversion", "id", "source", "type")
NAMESPACE = uuid.UUID("6f1c2a8e-6c55-5b0e-9a55-2f4c0a7d3e11")
# orjson reads integers beyond 64 bits as floats, silently; a body with such a run of digits
# (anywhere, strings included) is read by the standard library instead.
_LONG_DIGITS = re.compile(rb"\d{19}")


class EnvelopeError(ValueError):
    """A body that is not a CloudEvent at all (bad JSON, wrong shape): HTTP 400."""


class EnvelopeFieldsError(ValueError):
    """A CloudEvent whose attributes are invalid: HTTP 422 naming the fields."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("invalid CloudEvent attributes")
        self.errors = errors


class CloudEvent(BaseModel):
    """One CloudEvents 1.0 event; extension attributes are kept as strings."""

    model_config = ConfigDict(frozen=True, extra="allow", str_strip_whitespace=True)

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=200)
    time: AwareDatetime
    datacontenttype: str = "application/json"
    dataschema: str | None = None
    data: dict[str, Any]

    @model_validator(mode="after")
    def _check_extensions(self) -> CloudEvent:
        for name, value in (self.model_extra or {}).items():
            if not _EXTENSION_NAME.match(name):
                raise ValueError(
                    f"extension attribute {name!r} must be 1-20 lower-case letters or digits"
                )
            if not isinstance(value, str | int | bool):
                raise ValueError(
                    f"extension attribute {name!r} must be a string, integer or boolean"
                )
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


def parse_event(obj: Any, *, index: int | None = None) -> CloudEvent:
    if not isinstance(obj, dict):
        where = f"item {index}" if index is not None else "the body"
        raise EnvelopeError(f"{where} is not a JSON object")
    missing = [name for name in _REQUIRED if name not in obj]
    if missing:
        prefix = f"[{index}]." if index is not None else ""
        raise EnvelopeFieldsError(
            [{"field": prefix + name, "message": "Field required"} for name in missing]
        )
    try:
        return CloudEvent.model_validate(obj)
    except ValidationError as exc:
        prefix = f"[{index}]." if index is not None else ""
        raise EnvelopeFieldsError(
            [
                {
                    "field": prefix + ".".join(str(p) for p in err["loc"])
                    if err["loc"]
                    else prefix + "(event)",
                    "message": err["msg"],
                }
                for err in exc.errors()
            ]
        ) from exc


def _load_json(body: bytes) -> Any:
    """The JSON value of `body`, exactly as the standard library's `json.loads` reads it.

    orjson reads well-formed UTF-8 JSON faster and to the same values. What it refuses is
    either an error or something the standard library accepts (NaN and Infinity, a BOM,
    UTF-16/32, lone surrogates, deeper nesting): the standard library then decides, so errors
    keep their messages and lenient inputs their values.
    """
    if _LONG_DIGITS.search(body) is None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError(f"the body is not valid JSON: {exc}") from exc


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_binary_mode(headers: Mapping[str, str]) -> bool:
    return "ce-specversion" in {k.lower() for k in headers}


def parse_http(
    content_type: str | None, headers: Mapping[str, str], body: bytes
) -> list[CloudEvent]:
    """Events of an HTTP request in structured, batch or binary mode.

    The caller has already refused unsupported content types (see `http_mode`).
    """
    mode = http_mode(content_type, headers)
    if mode == "batch":
        items = _load_json(body)
        if not isinstance(items, list):
            raise EnvelopeError("a batch must be a JSON array of CloudEvents")
        if not items:
            raise EnvelopeError("the batch is empty")
        return [parse_event(item, index=i) for i, item in enumerate(items)]
    if mode == "structured":
        return [parse_event(_load_json(body))]
    # The HTTP binding percent-encodes header values (RFC 3986), so non-ASCII survives.
    attributes: dict[str, Any] = {
        name.lower()[3:]: unquote(value)
        for name, value in headers.items()
        if name.lower().startswith("ce-")
    }
    attributes["datacontenttype"] = media_type(content_type)
    attributes["data"] = _load_json(body)
    return [parse_event(attributes)]


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
    return parse_event(_load_json(value))


def kafka_headers(event: CloudEvent) -> list[tuple[str, bytes]]:
    return [
        ("content-type", STRUCTURED.encode()),
        ("ce_type", event.type.encode()),
        ("ce_source", event.source.encode()),
        ("ce_id", event.id.encode()),
    ]
