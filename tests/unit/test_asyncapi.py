"""`docs/asyncapi.json` is the AsyncAPI 3.0 document the contracts generate, and a valid one.

Validity is checked against the official JSON Schema of AsyncAPI 3.0.0, kept beside the tests
(`tests/support/asyncapi-3.0.0.schema.json`: `schemas/3.0.0-without-$id.json` of
github.com/asyncapi/spec-json-schemas, Apache-2.0), by jsonschema-rs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from fazhi.bus.asyncapi import DEAD_LETTER, DEAD_LETTER_HEADERS, document, render
from fazhi.bus.records import DeadLetter, Record
from fazhi.contracts import all_topics
from fazhi.contracts.envelope import kafka_headers, new_event

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "asyncapi.json"
ASYNCAPI_3 = ROOT / "tests" / "support" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref} does not resolve"
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_the_committed_document_is_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "docs/asyncapi.json is out of date: run `make asyncapi`"
    )


@pytest.fixture(scope="module")
def asyncapi_3() -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json.loads(ASYNCAPI_3.read_text(encoding="utf-8")))


def test_it_is_a_valid_asyncapi_3_document(
    spec: dict[str, Any], asyncapi_3: jsonschema_rs.Validator
) -> None:
    errors = [f"{list(e.instance_path)}: {e.message[:300]}" for e in asyncapi_3.iter_errors(spec)]
    assert errors == []
    assert spec["asyncapi"] == "3.0.0"
    assert {"info", "channels", "operations", "components"} <= set(spec)
    assert set(spec["components"]) == {"schemas", "messages"}


def test_the_validator_refuses_what_asyncapi_3_does_not_allow(
    spec: dict[str, Any], asyncapi_3: jsonschema_rs.Validator
) -> None:
    wrong_action = json.loads(json.dumps(spec))
    next(iter(wrong_action["operations"].values()))["action"] = "publish"  # AsyncAPI 2 wording
    assert not asyncapi_3.is_valid(wrong_action)
    assert not asyncapi_3.is_valid({**spec, "asyncapi": "2.6.0"})


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    refs = _refs(spec)
    assert refs
    for ref in refs:
        _resolve(spec, ref)


def test_operations_send_and_receive_messages_of_their_own_channel(
    spec: dict[str, Any],
) -> None:
    for name, operation in spec["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        channel = operation["channel"]["$ref"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel}/messages/"), (name, message)


def test_each_topic_and_its_dlq_is_a_channel_with_every_type_as_a_message(
    spec: dict[str, Any],
) -> None:
    channels = {c["address"]: c for c in spec["channels"].values() if c["address"] is not None}
    assert set(channels) == {name for topic in all_topics() for name in (topic.name, topic.dlq)}
    for topic in all_topics():
        assert list(channels[topic.name]["messages"]) == list(topic.types)
        assert list(channels[topic.dlq]["messages"]) == [DEAD_LETTER]
        for contract in topic.types.values():
            message = spec["components"]["messages"][contract.name]
            envelope, specific = message["payload"]["allOf"]
            assert envelope == {"$ref": "#/components/schemas/CloudEvent"}
            assert specific["properties"]["type"]["const"] == contract.name
            data = _resolve(spec, specific["properties"]["data"]["$ref"])
            assert data["title"] == contract.model.__name__
            assert list(data["properties"]) == list(contract.model.model_fields)
            assert data["additionalProperties"] is False


def test_published_vocabularies_are_codes_with_their_chinese_terms(spec: dict[str, Any]) -> None:
    grade = spec["components"]["schemas"]["Grade"]
    assert grade["enum"] == ["particularly_serious", "serious", "relatively_serious", "general"]
    assert grade["x-labels-zh"]["general"] == "一般"


def test_headers_are_the_ones_records_carry(spec: dict[str, Any]) -> None:
    event = new_event(
        type="supervision.task.completed", source="/units/justice", subject="T", data={}
    )
    message = spec["components"]["messages"]["supervision.task.completed"]
    assert set(message["headers"]["properties"]) == {name for name, _ in kafka_headers(event)}
    letter = DeadLetter(Record("supervision.events", 0, 0, b"k", b"v"), "error", 1)
    assert [name for name, _ in letter.headers()] == list(DEAD_LETTER_HEADERS)


def test_the_document_is_deterministic_json() -> None:
    assert json.loads(render()) == document()
    assert render() == render()


def test_a_unit_s_deliveries_are_a_channel_of_their_own_with_the_refused_receipt(
    spec: dict[str, Any],
) -> None:
    """HTTP POSTs to the URL a unit subscribed: no Kafka address, Standard Webhooks headers."""
    deliveries = spec["channels"]["unitDeliveries"]
    assert deliveries["address"] is None
    assert "fazhi.receipt.refused" in deliveries["messages"]
    assert "supervision.item.opened" in deliveries["messages"]
    refused = spec["components"]["messages"]["fazhi.receipt.refused"]
    assert set(refused["headers"]["required"]) == {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
