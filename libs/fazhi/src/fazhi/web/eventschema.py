"""The JSON schema (OpenAPI 3.1) of the CloudEvents `POST /v1/events` takes.

One variant per event type the service takes over HTTP, each with every attribute typed as the
envelope checks it (`fazhi.contracts.envelope`: patterns, the zone of `time`, the extension attributes)
and the `data` of its type (the payload model's schema, inlined). What JSON Schema cannot say
is in the descriptions and refused with 422: `subject` equals the aggregate id in `data`,
`data.unit` is the source's unit, and the payload models' own cross-field rules.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from fazhi.contracts.envelope import (
    DATACONTENTTYPE_PATTERN,
    EXTENSION_NAME_PATTERN,
    ID_MAX_LENGTH,
    ID_PATTERN,
    INT32_MAX,
    INT32_MIN,
    MAX_EXTENSION_CHARS,
    MAX_EXTENSIONS,
    RFC3339_PATTERN,
    URI_REFERENCE_PATTERN,
)
from fazhi.rules.units import all_units
from fazhi.store.catalog import EventCatalog

__all__ = ["event_schema", "inline_schema"]

# The envelope's UNSAFE_CHARACTERS as a JSON-schema pattern (lone surrogates cannot be sent in
# UTF-8 JSON at all).
_EXTENSION_TEXT = (
    "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u202a-\\u202e"
    "\\u2060-\\u2069\\ufeff\\ufff9-\\ufffb]+$"
)
_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": ID_MAX_LENGTH,
    "pattern": ID_PATTERN,
}
_URI_REFERENCE = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": URI_REFERENCE_PATTERN,
}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The validation JSON schema of `model` with its `$defs` inlined (payloads are not
    recursive), so it can be placed anywhere in an OpenAPI document."""
    schema = model.model_json_schema(mode="validation")
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return {**resolve(defs[ref.removeprefix("#/$defs/")]), **resolve(rest)}
        return {key: resolve(value) for key, value in node.items()}

    resolved = resolve(schema)
    assert isinstance(resolved, dict)
    return resolved


def _attributes() -> dict[str, dict[str, Any]]:
    return {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": {
            **_ID,
            "description": "Unique per source: 1-128 ASCII letters, digits and . _ ~ : -, "
            "starting with a letter or digit. Posting the same source and id again is "
            "accepted and applied once.",
        },
        "source": {
            "type": "string",
            "enum": [f"/units/{unit.code}" for unit in all_units()],
            "description": "/units/<the key's unit> (operators: any unit; see GET /v1/units)",
        },
        "subject": {
            **_ID,
            "description": "The aggregate id: equal to the id in data that names the aggregate "
            "(task_id, case_id, incident_id, request_id, document_id; for alerts the first "
            "alert of the chain).",
        },
        "time": {
            "type": "string",
            "format": "date-time",
            "pattern": RFC3339_PATTERN,
            "description": "RFC 3339 with its zone, e.g. 2026-11-27T10:00:00+08:00",
        },
        "datacontenttype": {
            "type": "string",
            "maxLength": 100,
            "pattern": DATACONTENTTYPE_PATTERN,
            "default": "application/json",
        },
        "dataschema": {"anyOf": [_URI_REFERENCE, {"type": "null"}]},
    }


_EXTENSION_VALUE = {
    "description": "An extension attribute: a string, a 32-bit integer or a boolean.",
    "anyOf": [
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_EXTENSION_CHARS,
            "pattern": _EXTENSION_TEXT,
        },
        {"type": "integer", "minimum": INT32_MIN, "maximum": INT32_MAX},
        {"type": "boolean"},
    ],
}


def event_schema(catalog: EventCatalog) -> dict[str, Any]:
    """The schema of one CloudEvent the service takes: one variant per accepted type."""
    attributes = _attributes()
    variants = []
    for name in catalog.accepted_over_http():
        event_type = catalog.types[name]
        data = inline_schema(event_type.model)
        if event_type.aggregate:
            data["description"] = (
                f"The payload of {name}; data.{event_type.aggregate} names the aggregate "
                "(the event's subject)."
            )
        variants.append(
            {
                "title": name,
                "type": "object",
                "required": ["specversion", "id", "source", "type", "subject", "time", "data"],
                "properties": {
                    **attributes,
                    "type": {"type": "string", "const": name},
                    "data": data,
                },
                "propertyNames": {"pattern": EXTENSION_NAME_PATTERN},
                "additionalProperties": _EXTENSION_VALUE,
                "maxProperties": len(attributes) + 2 + MAX_EXTENSIONS,
            }
        )
    return {
        "description": "A CloudEvent (specversion 1.0) of a type this service takes; other "
        "members are extension attributes (names of 1-20 lower-case letters or digits).",
        "oneOf": variants,
    }
