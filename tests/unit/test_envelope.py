"""CloudEvents envelope: the three HTTP modes in, Kafka structured mode out and in."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from fazhi.envelope import (
    CHINA_TZ,
    EnvelopeError,
    EnvelopeFieldsError,
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
