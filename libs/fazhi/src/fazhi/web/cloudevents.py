"""CloudEvents over HTTP: structured, batch and binary modes read into events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from fazhi.contracts.envelope import (
    BATCH,
    STRUCTURED,
    CloudEvent,
    EnvelopeError,
    EnvelopeFieldsError,
    parse_event,
)
from fazhi.contracts.strictjson import load_json

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
