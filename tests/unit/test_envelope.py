"""CloudEvents envelope: the three HTTP modes in, Kafka structured mode out and in."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi.contracts.envelope import (
    BATCH,
    CHINA_TZ,
    STRUCTURED,
    EnvelopeError,
    EnvelopeFieldsError,
    derived_id,
    from_kafka,
    kafka_headers,
    new_event,
)
from fazhi.contracts.strictjson import load_json
from fazhi.web.cloudevents import http_mode, parse_http, read_http

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


# ------------------------------------------------------------------ JSON read strictly and fast
# The envelope reads JSON with orjson; for strict JSON it reads exactly what the standard
# library reads (values and their types, integers beyond 64 bits included); everything the
# standard library would take leniently is refused, and nothing but an EnvelopeError escapes.

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
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


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_strict_json_is_read_as_the_standard_library_reads_it(
    value: object, ascii_only: bool
) -> None:
    # repr tells 1 from 1.0, so types are compared too.
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert repr(load_json(body)) == repr(json.loads(body))


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_any_bytes_are_read_as_the_standard_library_reads_them_or_refused(body: bytes) -> None:
    try:
        value = load_json(body)
    except EnvelopeError:
        return
    assert repr(value) == stdlib_outcome(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"n": NaN}', "not valid JSON"),
        (b'{"i": Infinity}', "not valid JSON"),
        (b'{"big": 1e400}', "not valid JSON"),
        (b'{"lone": "\\ud800"}', "not valid JSON"),
        (b'\xef\xbb\xbf{"bom": 1}', "not valid JSON"),
        ('{"utf16": "法治"}'.encode("utf-16"), "not valid JSON"),
        ('{"utf16": "法治"}'.encode("utf-16-le"), "not valid JSON"),
        ('{"utf32": "法治"}'.encode("utf-32"), "not valid JSON"),
        (b'{"a": "\x01"}', "not valid JSON"),
        (b'"\xff"', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"1 2", "not valid JSON"),
        (b'{"a": 1, "a": 2}', "key 'a' twice"),
        (b'{"d": {"k:1": "x", "k:1": "y"}}', "key 'k:1' twice"),
        (b'[{"a": "1:2:3"}, {"b": 1, "b": "\\u003a"}]', "key 'b' twice"),
        (b'{"n": 12345678901234567890123, "n": 1}', "key 'n' twice"),
        (b"[" * 17 + b"]" * 17, "deeper than 16 levels"),
        (b"[" * 1100 + b"]" * 1100, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "not valid JSON"),
    ],
)
def test_lenient_json_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError, match=message):
        load_json(body)


def test_json_nested_sixteen_levels_deep_is_read() -> None:
    assert load_json(b"[" * 16 + b"]" * 16) == json.loads(b"[" * 16 + b"]" * 16)


def test_integers_beyond_64_bits_are_read_exactly() -> None:
    assert load_json(b'{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890
    }
    assert load_json(b"18446744073709551616") == 18446744073709551616


def _spell(value: object, escape_colons: bool) -> str:
    """JSON text of `value`, whose objects are lists of pairs (so a key may be repeated)."""
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return (
            "{"
            + ",".join(f"{_spell(k, escape_colons)}:{_spell(v, escape_colons)}" for k, v in value)
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_spell(v, escape_colons) for v in value) + "]"
    text = json.dumps(value, ensure_ascii=False)
    return text.replace(":", "\\u003a") if escape_colons and isinstance(value, str) else text


def _repeats(value: object) -> bool:
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        names = [k for k, _ in value]
        return len(set(names)) != len(names) or any(_repeats(v) for _, v in value)
    if isinstance(value, list):
        return any(_repeats(v) for v in value)
    return False


KEYS = st.sampled_from(["a", "b", "a:b", ":", "::", "法治", ""])
SCALARS = st.none() | st.integers() | st.sampled_from(["x", ":", "a:b:c", "法:治", ""])
PAIRS_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.lists(st.tuples(KEYS, inner), min_size=1, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(value=PAIRS_VALUES, escape_colons=st.booleans())
def test_a_repeated_key_is_found_wherever_it_is(value: object, escape_colons: bool) -> None:
    body = _spell(value, escape_colons).encode()
    if _repeats(value):
        with pytest.raises(EnvelopeError, match="twice"):
            load_json(body)
    else:
        assert load_json(body) == json.loads(body)


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
@given(data=EVENT_DATA, extension=st.integers(min_value=-(2**31), max_value=2**31 - 1))
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


# ------------------------------------------------------------------ strict attributes


def structured(**changes: object) -> list[dict[str, str]]:
    """The errors of one structured event with `changes` (None removes an attribute)."""
    body = {k: v for k, v in {**EVENT, **changes}.items() if v is not None}
    with pytest.raises(EnvelopeFieldsError) as refused:
        parse_http(STRUCTURED, {}, json.dumps(body).encode())
    return refused.value.errors


@pytest.mark.parametrize(
    "value",
    [
        "a/b",
        "a b",
        " e-1",
        "e-1\r\nX-Injected: yes",
        "e-1\n",
        "e\x00",
        "e\u202e1",
        "\u200fe",
        "e\u200b1",
        "e\ufeff",
        "..",
        ".",
        "-e",
        "e%2F1",
        "e?x",
        "e#x",
        "e\\x",
        "事件",
        "x" * 129,
        "",
        1,
        True,
        None,
    ],
)
def test_ids_and_subjects_are_of_the_safe_characters(value: object) -> None:
    id_errors = structured(id=value) if value is not None else structured(id=None)
    assert [e["field"] for e in id_errors] == ["id"]
    subject_errors = structured(subject=value) if value is not None else structured(subject=None)
    assert [e["field"] for e in subject_errors] == ["subject"]


@pytest.mark.parametrize("value", ["M18-T1", "e.1", "a:b", "x~y", "A_1", "0", "x" * 128])
def test_safe_ids_are_taken_as_they_are(value: str) -> None:
    [event] = parse_http(
        STRUCTURED, {}, json.dumps({**EVENT, "id": value, "subject": value}).encode()
    )
    assert (event.id, event.subject) == (value, value)


@pytest.mark.parametrize(
    "value",
    [
        12345,
        1764208800.5,
        "12345",
        "1764208800",
        "2026-03-02T09:30:00",
        "2026-03-02 09:30:00+08:00",
        "2026-03-02T09:30+08:00",
        "2026-03-02T09:30:00+0800",
        "2026-03-02",
        "2026-02-30T09:30:00+08:00",
        "2026-03-02T24:00:00+08:00",
        "2026-03-02T09:30:00+24:00",
        "２０２６-03-02T09:30:00+08:00",
        True,
        None,
    ],
)
def test_time_is_an_rfc3339_string_with_its_zone(value: object) -> None:
    assert [e["field"] for e in structured(time=value)] == ["time"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-02T09:30:00+08:00", datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ)),
        ("2026-03-02T01:30:00Z", datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ)),
        (
            "2026-03-02T09:30:00.123456789+08:00",
            datetime(2026, 3, 2, 9, 30, 0, 123456, tzinfo=CHINA_TZ),
        ),
    ],
)
def test_rfc3339_times_are_read(value: str, expected: datetime) -> None:
    [event] = parse_http(STRUCTURED, {}, json.dumps({**EVENT, "time": value}).encode())
    assert event.time == expected


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"specversion": 1.0}, "specversion"),
        ({"specversion": "1"}, "specversion"),
        ({"source": "/units/just ice"}, "source"),
        ({"source": "/units/justice\r\n"}, "source"),
        ({"source": "/units/法治"}, "source"),
        ({"source": "/units/%zz"}, "source"),
        ({"type": "supervision task"}, "type"),
        ({"type": 7}, "type"),
        ({"datacontenttype": "text/plain"}, "datacontenttype"),
        ({"dataschema": "http://x/\u202e"}, "dataschema"),
        ({"data": [1]}, "data"),
        ({"data": "x"}, "data"),
    ],
)
def test_every_attribute_is_strict(changes: dict[str, object], field: str) -> None:
    assert [e["field"] for e in structured(**changes)] == [field]


@pytest.mark.parametrize(
    ("extensions", "fields"),
    [
        ({"Trace_Id": "x"}, ["Trace_Id"]),
        ({"traceparent": {"deep": 1}}, ["traceparent"]),
        ({"traceparent": [1]}, ["traceparent"]),
        ({"traceparent": 1.5}, ["traceparent"]),
        ({"seq": 2**31}, ["seq"]),
        ({"seq": -(2**31) - 1}, ["seq"]),
        ({"note": "a\r\nb"}, ["note"]),
        ({"note": "a\u202eb"}, ["note"]),
        ({"note": ""}, ["note"]),
        ({"note": "x" * 1001}, ["note"]),
        ({"a": {"x": 1}, "b": None, "ok": "fine"}, ["a", "b"]),
    ],
)
def test_extension_attribute_errors_name_the_attribute(
    extensions: dict[str, object], fields: list[str]
) -> None:
    body = json.dumps({**EVENT, **extensions}).encode()
    with pytest.raises(EnvelopeFieldsError) as refused:
        parse_http(STRUCTURED, {}, body)
    assert sorted(e["field"] for e in refused.value.errors) == sorted(fields)


def test_extension_attributes_of_the_three_kinds_are_kept() -> None:
    body = {**EVENT, "traceparent": "00-ab", "seq": 2**31 - 1, "replay": False}
    [event] = parse_http(STRUCTURED, {}, json.dumps(body).encode())
    assert {k: event.to_json()[k] for k in ("traceparent", "seq", "replay")} == {
        "traceparent": "00-ab",
        "seq": 2**31 - 1,
        "replay": False,
    }


def test_at_most_sixteen_extension_attributes() -> None:
    many = {f"x{i}": "v" for i in range(17)}
    assert [e["field"] for e in structured(**many)] == ["(event)"]


def test_a_batch_reports_every_bad_entry() -> None:
    bad_time = {**EVENT, "id": "e-2", "time": 12345}
    bad_id = {**EVENT, "id": "a/b", "Bad_Name": 1}
    body = json.dumps([EVENT, bad_time, "not an event", bad_id]).encode()
    with pytest.raises(EnvelopeFieldsError) as refused:
        parse_http(BATCH, {}, body)
    assert sorted(e["field"] for e in refused.value.errors) == [
        "[1].time",
        "[2]",
        "[3].Bad_Name",
        "[3].id",
    ]
    parsed = read_http(BATCH, {}, body)
    assert [e is not None for e in parsed.entries] == [True, False, False, False]


# ------------------------------------------------------------------ binary mode headers


def binary(**headers: str) -> list[dict[str, str]]:
    base = {f"ce-{k}": v for k, v in EVENT.items() if k != "data"}
    sent = {**base, **headers}
    with pytest.raises(EnvelopeFieldsError) as refused:
        parse_http("application/json", sent, json.dumps(EVENT["data"]).encode())
    return refused.value.errors


@pytest.mark.parametrize(
    "value",
    [
        "x%0d%0aX-Injected: yes",
        "x%0aY",
        "x%00",
        "x%E2%80%AE",
        "x%2Fy",
        "x%ff",
        "x%e6%b3",
        "法治",
        "x\u00e9",
    ],
)
def test_binary_mode_id_headers_are_checked_after_decoding(value: str) -> None:
    assert [e["field"] for e in binary(**{"ce-id": value})] == ["id"]


def test_binary_mode_headers_decode_percent_encoded_utf8() -> None:
    headers = {f"ce-{k}": v for k, v in EVENT.items() if k != "data"}
    headers["ce-note"] = "%E6%B3%95%E6%B2%BB"
    [event] = parse_http("application/json", headers, json.dumps(EVENT["data"]).encode())
    assert event.to_json()["note"] == "法治"


def test_binary_mode_refuses_a_header_given_twice_and_data_in_headers() -> None:
    class Repeated(dict[str, str]):
        def multi_items(self) -> list[tuple[str, str]]:
            return [*self.items(), ("ce-id", "e-9")]

    headers = Repeated({f"ce-{k}": v for k, v in EVENT.items() if k != "data"})
    with pytest.raises(EnvelopeFieldsError) as refused:
        parse_http("application/json", headers, json.dumps(EVENT["data"]).encode())
    assert [e["field"] for e in refused.value.errors] == ["id"]
    assert [e["field"] for e in binary(**{"ce-data": "{}"})] == ["data"]
    assert [e["field"] for e in binary(**{"ce-datacontenttype": "text/plain"})] == [
        "datacontenttype"
    ]
    with pytest.raises(EnvelopeFieldsError) as not_object:
        parse_http("application/json", {"ce-specversion": "1.0"}, b"[1]")
    assert "data" in {e["field"] for e in not_object.value.errors}
