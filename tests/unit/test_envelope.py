"""CloudEvents envelope: the three HTTP modes in, Kafka structured mode out and in."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi.envelope import (
    CHINA_TZ,
    EnvelopeError,
    EnvelopeFieldsError,
    _load_json,
    derived_id,
    from_kafka,
    http_mode,
    kafka_headers,
    new_event,
    parse_http,
)

EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/units/justice",
    "type": "supervision.task.progress_reported",
    "subject": "M18-T1",
    "time": "2026-03-02T09:30:00+08:00",
    "data": {"task_id": "M18-T1", "progress_pct": 40},
}


def test_structured_mode_parses_one_event() -> None:
    [event] = parse_http(
        "application/cloudevents+json; charset=utf-8", {}, json.dumps(EVENT).encode()
    )
    assert event.id == "e-1"
    assert event.unit == "justice"
    assert event.key == "/units/justice e-1"
    assert event.datacontenttype == "application/json"


def test_batch_mode_parses_every_event_in_order() -> None:
    body = json.dumps([EVENT, {**EVENT, "id": "e-2"}]).encode()
    events = parse_http("application/cloudevents-batch+json", {}, body)
    assert [e.id for e in events] == ["e-1", "e-2"]


def test_binary_mode_takes_attributes_from_ce_headers() -> None:
    headers = {f"ce-{k}": v for k, v in EVENT.items() if k != "data"}
    [event] = parse_http("application/json", headers, json.dumps(EVENT["data"]).encode())
    assert event.type == EVENT["type"]
    assert event.data == EVENT["data"]


@pytest.mark.parametrize(
    ("content_type", "headers", "mode"),
    [
        ("application/cloudevents+json", {}, "structured"),
        ("application/cloudevents-batch+json", {}, "batch"),
        ("application/json", {"ce-specversion": "1.0"}, "binary"),
        ("application/json", {}, None),
        ("text/plain", {"ce-specversion": "1.0"}, None),
        (None, {}, None),
    ],
)
def test_http_mode_refuses_other_content_types(
    content_type: str | None, headers: dict[str, str], mode: str | None
) -> None:
    assert http_mode(content_type, headers) == mode


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
    ],
)
def test_malformed_bodies_are_envelope_errors(body: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        parse_http("application/cloudevents+json", {}, body)


def test_an_empty_batch_or_a_non_list_batch_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="empty"):
        parse_http("application/cloudevents-batch+json", {}, b"[]")
    with pytest.raises(EnvelopeError, match="array"):
        parse_http("application/cloudevents-batch+json", {}, json.dumps(EVENT).encode())


def test_missing_and_invalid_attributes_are_named() -> None:
    broken = {k: v for k, v in EVENT.items() if k not in ("id", "source")}
    with pytest.raises(EnvelopeFieldsError) as missing:
        parse_http("application/cloudevents+json", {}, json.dumps(broken).encode())
    assert {e["field"] for e in missing.value.errors} == {"id", "source"}

    naive_time = {**EVENT, "time": "2026-03-02T09:30:00", "specversion": "0.3"}
    with pytest.raises(EnvelopeFieldsError) as invalid:
        parse_http(
            "application/cloudevents-batch+json", {}, json.dumps([EVENT, naive_time]).encode()
        )
    assert {e["field"] for e in invalid.value.errors} == {"[1].time", "[1].specversion"}


def test_extension_attributes_must_follow_cloudevents_naming() -> None:
    [event] = parse_http(
        "application/cloudevents+json", {}, json.dumps({**EVENT, "traceparent": "00-ab"}).encode()
    )
    assert event.to_json()["traceparent"] == "00-ab"
    with pytest.raises(EnvelopeFieldsError):
        parse_http(
            "application/cloudevents+json", {}, json.dumps({**EVENT, "Trace_Id": "x"}).encode()
        )


def test_kafka_round_trip_keeps_the_event_and_chinese_text() -> None:
    event = new_event(
        type="opengov.document.published",
        source="/units/gov-office",
        subject="D-1",
        data={"title": "关于公布2026年度重大行政决策事项目录的公告"},
    )
    assert event.time.utcoffset() == CHINA_TZ.utcoffset(None)
    value = event.to_bytes()
    assert "重大行政决策".encode() in value
    assert from_kafka(value) == event
    assert ("ce_id", event.id.encode()) in kafka_headers(event)


def test_kafka_records_without_a_cloudevent_are_envelope_errors() -> None:
    with pytest.raises(EnvelopeError):
        from_kafka(None)
    with pytest.raises(EnvelopeError):
        from_kafka(b"\xff\xfe")


def test_derived_ids_are_deterministic_per_cause_and_rule() -> None:
    first = derived_id("task M10-D1", "overdue")
    assert first == derived_id("task M10-D1", "overdue")
    assert first != derived_id("task M10-D1", "escalated")
    assert first != derived_id("task M10-D2", "overdue")


def test_a_source_outside_units_has_no_unit() -> None:
    event = new_event(
        type="t",
        source="/systems/x",
        subject="s",
        data={},
        time=datetime(2026, 1, 1, tzinfo=CHINA_TZ),
    )
    assert event.unit is None


# ------------------------------------------------------------------ JSON read and written fast
# The envelope reads and writes JSON with orjson; what it reads must be what the standard
# library reads (values, their types, and errors), and what it writes must read back the same.

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def stdlib_outcome(body: bytes) -> str:
    try:
        return repr(json.loads(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"the body is not valid JSON: {exc}"
    except RecursionError:
        return "RecursionError"


def envelope_outcome(body: bytes) -> str:
    try:
        return repr(_load_json(body))
    except EnvelopeError as exc:
        return str(exc)
    except RecursionError:
        return "RecursionError"


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_json_is_read_as_the_standard_library_reads_it(value: object, ascii_only: bool) -> None:
    # repr tells 1 from 1.0 and shows nan, so types and non-finite numbers are compared too.
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert envelope_outcome(body) == stdlib_outcome(body)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_malformed_json_fails_as_the_standard_library_fails(body: bytes) -> None:
    assert envelope_outcome(body) == stdlib_outcome(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"n": NaN, "i": Infinity, "m": -Infinity, "big": 1e400}',
        b'{"big": 123456789012345678901234567890, "neg": -9223372036854775809}',
        b'{"id": "610103199001011234567", "n": 18446744073709551615}',
        b'{"lone": "\\ud800", "pair": "\\ud83d\\ude00"}',
        b'\xef\xbb\xbf{"bom": 1}',
        '{"utf16": "法治"}'.encode("utf-16"),
        b'{"a": 1, "a": 2}',
        b"[" * 1100 + b"]" * 1100,
        b'{"a": "\x01"}',
        b'"\xff"',
        b"",
        b"1 2",
    ],
)
def test_json_that_only_the_standard_library_takes_reads_the_same(body: bytes) -> None:
    assert envelope_outcome(body) == stdlib_outcome(body)


EVENT_DATA = st.dictionaries(
    st.text(min_size=1),
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(data=EVENT_DATA, extension=st.integers(min_value=-(2**70), max_value=2**70))
def test_kafka_values_read_back_as_the_standard_library_reads_them(
    data: dict[str, object], extension: int
) -> None:
    # Floats may be spelled differently (0.0000625 for 6.25e-05), never read differently.
    event = new_event(
        type="t",
        source="/units/justice",
        subject="s",
        data=data,
        time=datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ),
    ).model_copy(update={"seq": extension})
    value = event.to_bytes()
    assert repr(json.loads(value)) == repr(event.to_json())
    assert from_kafka(value) == event
