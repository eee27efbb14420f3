"""Every event's `data` is strict: no coercion, RFC 3339 times, no control or bidi characters,
ids that round-trip through their read URL, and no document past MongoDB's 16 MiB."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import bson
import pytest
from pydantic import ValidationError

from fazhi.contracts.envelope import CHINA_TZ, ID_PATTERN, RFC3339_PATTERN, new_event
from fazhi.contracts.models import Payload
from fazhi.web.ingest import MAX_RECORD_BYTES
from tests.support.harness import Harness
from tests.support.samples import SAMPLES, catalogs, sample

TYPES = {
    name: (service, catalog)
    for service, catalog in catalogs().items()
    for name in catalog.accepted_over_http()
}


def model_of(event_type: str) -> type[Payload]:
    model = TYPES[event_type][1].types[event_type].model
    assert issubclass(model, Payload)
    return model


def fields(event_type: str) -> dict[str, dict[str, Any]]:
    """Each top-level field of the type's data with its JSON schema (optional ones unwrapped)."""
    schema = model_of(event_type).model_json_schema()
    out = {}
    for name, prop in schema["properties"].items():
        choices = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
        out[name] = choices[0] if len(choices) == 1 else prop
    return out


def refused(event_type: str, field: str, value: object) -> list[tuple[Any, ...]]:
    data = {**sample(event_type, "X-1"), field: value}
    with pytest.raises(ValidationError) as exc:
        model_of(event_type).model_validate(data)
    return [err["loc"] for err in exc.value.errors()]


def test_every_posted_type_has_a_valid_sample() -> None:
    assert set(SAMPLES) == set(TYPES)
    for name in TYPES:
        model_of(name).model_validate(sample(name, "X-1"))


def cases(kind: str) -> list[tuple[str, str]]:
    out = []
    for name in sorted(TYPES):
        for field, schema in fields(name).items():
            if kind == "integer" and schema.get("type") == "integer":
                out.append((name, field))
            if kind == "date-time" and schema.get("format") == "date-time":
                out.append((name, field))
            if kind == "id" and schema.get("pattern") == ID_PATTERN:
                out.append((name, field))
            if kind == "text" and schema.get("type") == "string" and "enum" not in schema:
                out.append((name, field))
    assert out, kind
    return out


@pytest.mark.parametrize(("event_type", "field"), cases("integer"))
@pytest.mark.parametrize("value", ["60", 60.0, True, None, [60]])
def test_integers_are_never_coerced(event_type: str, field: str, value: object) -> None:
    assert refused(event_type, field, value) == [(field,)]


@pytest.mark.parametrize(("event_type", "field"), cases("date-time"))
@pytest.mark.parametrize(
    "value",
    [
        12345,
        1764208800.0,
        "12345",
        "2026-11-27T10:00:00",
        "2026-11-27 10:00:00+08:00",
        "2026-11-27T10:00+08:00",
        "2026-11-27",
        "2026-11-31T10:00:00+08:00",
        True,
    ],
)
def test_times_are_rfc3339_strings_with_a_zone(event_type: str, field: str, value: object) -> None:
    assert refused(event_type, field, value) == [(field,)]


@pytest.mark.parametrize(("event_type", "field"), cases("id"))
@pytest.mark.parametrize("value", ["a/b", "a b", "a\r\nb", "a\u202eb", "a\u200bb", "..", "案-1"])
def test_ids_are_of_the_safe_characters(event_type: str, field: str, value: str) -> None:
    assert refused(event_type, field, value) == [(field,)]


@pytest.mark.parametrize(("event_type", "field"), cases("text"))
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x85", "\u202e", "\u2066", "\u200f"])
def test_text_holds_no_control_or_bidi_character(event_type: str, field: str, char: str) -> None:
    assert refused(event_type, field, f"正文{char}正文") == [(field,)]


@pytest.mark.parametrize(("event_type", "field"), cases("text"))
def test_text_is_a_string_not_a_number(event_type: str, field: str) -> None:
    assert refused(event_type, field, 12345) == [(field,)]


def test_long_text_keeps_its_line_breaks_and_short_text_is_one_line() -> None:
    data = sample("supervision.task.progress_reported", "T-1")
    note = "第一行\r\n第二行\n\t第三行"
    model = model_of("supervision.task.progress_reported").model_validate({**data, "note": note})
    assert model.note == note
    assert refused("emergency.incident.reported", "title", "暴雨\n内涝") == [("title",)]


def test_nested_personal_data_is_strict_too() -> None:
    applicant = {"name": "王五\u202e", "id_number": 610103198503021234}
    locs = refused("opengov.request.received", "applicant", applicant)
    assert sorted(locs) == [("applicant", "id_number"), ("applicant", "name")]


def test_data_built_in_code_with_datetimes_is_taken() -> None:
    data = sample("supervision.task.progress_reported", "T-1")
    data["reported_at"] = datetime(2026, 11, 27, 10, tzinfo=CHINA_TZ)
    model_of("supervision.task.progress_reported").model_validate(data)


def test_the_json_schema_states_the_rules() -> None:
    schema = fields("supervision.task.progress_reported")
    assert schema["reported_at"]["pattern"] == RFC3339_PATTERN
    assert "\\u0000" in schema["note"]["pattern"]
    assert schema["task_id"]["pattern"] == ID_PATTERN
    assert "justice" in schema["unit"]["enum"]


# ------------------------------------------------------------------ documents stay small

LONG_FIELDS = {
    name: [
        f
        for f, s in fields(name).items()
        if s.get("type") == "string"
        and "format" not in s
        and "enum" not in s
        and s.get("maxLength", MAX_RECORD_BYTES) > 1000
    ]
    for name in TYPES
}


def _cjk(n: int, seed: int) -> str:
    """`n` Chinese characters in an order that makes nearly every bigram distinct."""
    rng = random.Random(seed)
    return "".join(chr(0x4E00 + rng.randrange(20_000)) for _ in range(n))


def largest(event_type: str, aggregate: str, unit: str, seed: int) -> dict[str, Any]:
    """The sample with its long text fields filled, all together, to the most one record
    holds (and their own limits)."""
    data = sample(event_type, aggregate, unit)
    long = sorted(set(LONG_FIELDS[event_type]))
    if not long:
        return data
    limit = min(200_000, (MAX_RECORD_BYTES - 4_000) // (3 * len(long)))
    for i, field in enumerate(long):
        data[field] = _cjk(limit, seed + i)
    return data


LIFECYCLES = {
    "supervision": [
        "supervision.task.progress_reported",
        "supervision.task.progress_reported",
        "supervision.task.completed",
    ],
    "petition-mediation": [
        "mediation.case.filed",
        "mediation.case.accepted",
        "mediation.case.decided",
    ],
    "emergency": ["emergency.incident.reported", "emergency.response.level_changed"],
    "open-government": ["opengov.request.received", "opengov.request.answered"],
}
ALONE = {"emergency": ["emergency.alert.issued"], "open-government": ["opengov.document.published"]}


@pytest.mark.parametrize("service", sorted(LIFECYCLES))
async def test_no_document_passes_mongodbs_16_mib(service: str) -> None:
    """The largest events one record holds, applied in a lifecycle, make documents far below
    MongoDB's 16 MiB limit (a BSON document that passes it cannot be stored at all)."""
    from emergency.worker import WORKER as EMERGENCY
    from open_government.worker import WORKER as OPENGOV
    from petition_mediation.worker import WORKER as MEDIATION
    from supervision.worker import WORKER as SUPERVISION

    worker = {
        "supervision": SUPERVISION,
        "petition-mediation": MEDIATION,
        "emergency": EMERGENCY,
        "open-government": OPENGOV,
    }[service]
    h = Harness(worker)
    unit = "emergency-management" if service == "emergency" else "justice"
    runs = [LIFECYCLES[service], *([t] for t in ALONE.get(service, []))]
    for r, lifecycle in enumerate(runs):
        for i, name in enumerate(lifecycle):
            data = largest(name, f"BIG-{r}", unit, seed=10 * i)
            event = new_event(type=name, source=f"/units/{unit}", subject=f"BIG-{r}", data=data)
            assert len(event.to_bytes()) <= MAX_RECORD_BYTES, name
            [_outcome] = await h.run(event)
            assert not h.letters, h.errors
    biggest = max(
        len(bson.encode(doc)) for table in h.store.collections.values() for doc in table.values()
    )
    assert biggest < 8 * 1024 * 1024, f"{service}: a document of {biggest} bytes"
