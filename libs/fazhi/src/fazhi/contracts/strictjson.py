"""Strict JSON: UTF-8 only, bounded depth, no duplicate keys, no NaN or unpaired surrogates; what every CloudEvent body, on HTTP or Kafka, is read with."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson


class EnvelopeError(ValueError):
    """A body that is not a CloudEvent at all (bad JSON, wrong shape): HTTP 400."""


MAX_DEPTH = 16
"""How deeply arrays and objects may nest in a body (a batch of events with applicants: 4)."""


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
