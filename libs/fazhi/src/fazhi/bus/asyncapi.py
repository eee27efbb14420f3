"""The AsyncAPI 3.0 document of the platform's topics, generated from the contracts:
`python -m fazhi.bus.asyncapi > docs/asyncapi.json` (`make asyncapi`)."""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic.json_schema import models_json_schema

from fazhi.contracts import (
    EventContract,
    TopicContract,
    all_topics,
    emergency,
    mediation,
    opengov,
    supervision,
    type_of,
)
from fazhi.contracts.envelope import STRUCTURED, CloudEvent
from fazhi.receipts.refusals import REFUSED_TYPE, RefusedReceipt
from fazhi.store.sealing import PREFIX

VERSION = "0.1.0"
SCHEMAS = "#/components/schemas/"
MESSAGES = "#/components/messages/"
DEAD_LETTER = "DeadLetter"
DEAD_LETTER_HEADERS = {
    "fazhi-error": "Why the record was given up (personal data masked).",
    "fazhi-consumer-group": "The consumer group that gave up on it.",
    "fazhi-attempts": "How many times its handler was tried.",
    "fazhi-original-topic": "The topic it was read from.",
    "fazhi-original-partition": "Its partition there.",
    "fazhi-original-offset": "Its offset there.",
}
REFUSAL_HEADER = {
    "fazhi-refusal": "On a dead letter of the event's owner only: the refusal as JSON "
    "(`RefusalProblem`), what its receipt and the unit's `fazhi.receipt.refused` delivery say."
}
DELIVERY_HEADERS = {
    "webhook-id": "The delivery's id (`msg_…`): the same on every attempt; drop duplicates by it.",
    "webhook-timestamp": "When this attempt was signed (Unix seconds).",
    "webhook-signature": "`v1,<base64 HMAC-SHA256>` per the Standard Webhooks specification, "
    "one per secret in force (two while a secret is rotated), space-separated.",
}
_KAFKA_KEY = {
    "type": "string",
    "description": "The event's subject, its aggregate's id: all events of one aggregate share "
    "a partition and keep their order.",
}


def document() -> dict[str, Any]:
    """The whole document; the payload schemas are pydantic's, as the events are published."""
    topics = all_topics()
    contracts = [c for topic in topics for c in topic.types.values()]
    models = list(dict.fromkeys(c.model for c in contracts))
    refs, defs = models_json_schema(
        [(model, "serialization") for model in models], ref_template=SCHEMAS + "{model}"
    )
    schemas: dict[str, Any] = {
        "CloudEvent": CloudEvent.model_json_schema(mode="serialization"),
        SEALED: _sealed(),
        **{name: _as_sealed(schema) for name, schema in defs["$defs"].items()},
    }
    messages: dict[str, Any] = {
        c.name: _message(c, refs[(c.model, "serialization")]) for c in contracts
    }
    messages[DEAD_LETTER] = _dead_letter()
    refused_ref, refused_defs = models_json_schema(
        [(RefusedReceipt, "serialization")], ref_template=SCHEMAS + "{model}"
    )
    schemas.update(refused_defs["$defs"])
    messages[REFUSED_TYPE] = _refused(refused_ref[(RefusedReceipt, "serialization")])
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topics:
        channels.update(_channels(topic))
        operations.update(_operations(topic))
    channels.update(_deliveries(contracts))
    operations["deliverToUnits"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/unitDeliveries"},
        "summary": "supervision's deliveries worker POSTs each delivery to the subscribed URL, "
        "signed, at least once (retried for 27 h).",
        "messages": [
            {"$ref": f"#/channels/unitDeliveries/messages/{name}"} for name in _delivered(contracts)
        ],
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Fazhi events",
            "version": VERSION,
            "description": (
                "The topics of the Fazhi platform and every event type on them, as CloudEvents "
                "1.0 in structured mode (the record value), keyed by subject. Each topic is "
                "owned by one service: its api publishes what units post (`POST /v1/events`, "
                "after validation: statutory terms posted in Chinese travel as their codes), "
                "its worker publishes the types the platform derives, and its worker projects "
                "them; records a consumer cannot apply go to the topic's `.dlq` twin. "
                "Fields that can carry personal data (`x-personal`) travel sealed (`Sealed`): "
                "only the owning service reads them; every other consumer reads them as erased. "
                "Generated from `fazhi.contracts`."
            ),
        },
        "defaultContentType": STRUCTURED,
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


SEALED = "Sealed"


def _sealed() -> dict[str, Any]:
    return {
        "title": SEALED,
        "type": "string",
        "pattern": f"^{PREFIX}[A-Za-z0-9_-]+$",
        "description": "A personal field as the topic carries it: AES-256-GCM under the data key "
        "of the event's aggregate, which only the owning service's store holds (base64url of "
        "the key generation, the nonce and the ciphertext of the field's JSON value, "
        "authenticated with the event's source, id and type and the field's name). Once the "
        "key is deleted (retention, erasure) nobody can read it again.",
    }


def _as_sealed(schema: dict[str, Any]) -> dict[str, Any]:
    """A payload schema as its topic carries it: each personal field a `Sealed` string, the
    plain field's schema kept under `x-plain` (what the owner reads, and what units post)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not any(
        p.get("x-personal") for p in properties.values()
    ):
        return schema
    sealed: dict[str, Any] = {}
    for name, prop in properties.items():
        if prop.get("x-personal"):
            plain = {k: v for k, v in prop.items() if k != "x-personal"}
            prop = {"allOf": [{"$ref": SCHEMAS + SEALED}], "x-personal": True, "x-plain": plain}
        sealed[name] = prop
    return {**schema, "properties": sealed}


def _channel_id(topic: TopicContract) -> str:
    return topic.name.removesuffix(".events") + "Events"


def _channels(topic: TopicContract) -> dict[str, Any]:
    key = _channel_id(topic)
    return {
        key: {
            "address": topic.name,
            "title": topic.name,
            "summary": topic.summary,
            "description": f"Owned by the `{topic.owner}` service.",
            "messages": {name: {"$ref": MESSAGES + name} for name in topic.types},
        },
        f"{key}Dlq": {
            "address": topic.dlq,
            "title": topic.dlq,
            "summary": f"The records of {topic.name} that a consumer could not apply.",
            "messages": {DEAD_LETTER: {"$ref": MESSAGES + DEAD_LETTER}},
        },
    }


def _operations(topic: TopicContract) -> dict[str, Any]:
    key = _channel_id(topic)
    name = key[0].upper() + key[1:]
    events = [{"$ref": f"#/channels/{key}/messages/{t}"} for t in topic.types]
    return {
        f"publish{name}": {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"The `{topic.owner}` api publishes what units post (202 once the broker "
            "acknowledged); its worker publishes the derived types.",
            "messages": events,
        },
        f"project{name}": {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"The `{topic.owner}` worker projects each event once (consumer group "
            f"`{topic.owner}-worker` by default).",
            "messages": events,
        },
        f"deadLetter{name}": {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}Dlq"},
            "summary": "A consumer puts here a record it cannot apply, with the reason.",
            "messages": [{"$ref": f"#/channels/{key}Dlq/messages/{DEAD_LETTER}"}],
        },
    }


def _message(contract: EventContract, data: dict[str, Any]) -> dict[str, Any]:
    who = (
        "Derived by the platform; refused over HTTP."
        if contract.derived
        else f"Posted by keys with the role {' or '.join(sorted(contract.posters))}."
    )
    return {
        "name": contract.name,
        "title": contract.name,
        "summary": contract.summary,
        "description": f"{who} The subject is the aggregate `data.{contract.aggregate}`.",
        "contentType": STRUCTURED,
        "headers": {
            "type": "object",
            "properties": {
                "content-type": {"type": "string", "const": STRUCTURED},
                "ce_type": {"type": "string", "const": contract.name},
                "ce_source": {"type": "string"},
                "ce_id": {"type": "string"},
            },
            "required": ["content-type", "ce_type", "ce_source", "ce_id"],
        },
        "payload": {
            "allOf": [
                {"$ref": SCHEMAS + "CloudEvent"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "const": contract.name},
                        "data": data,
                    },
                },
            ]
        },
        "bindings": {"kafka": {"key": _KAFKA_KEY, "bindingVersion": "0.5.0"}},
    }


def _dead_letter() -> dict[str, Any]:
    return {
        "name": DEAD_LETTER,
        "title": "A record given up",
        "summary": "The original record's key and value, unchanged, with why it was given up.",
        "description": "Post the event again, corrected, with the same id to apply it.",
        "headers": {
            "type": "object",
            "properties": {
                name: {"type": "string", "description": about}
                for name, about in {**DEAD_LETTER_HEADERS, **REFUSAL_HEADER}.items()
            },
            "required": list(DEAD_LETTER_HEADERS),
        },
        "payload": {
            "description": "The original record's value: usually one of the topic's events, "
            "possibly not a CloudEvent at all (which may be why it is here)."
        },
        "bindings": {"kafka": {"key": _KAFKA_KEY, "bindingVersion": "0.5.0"}},
    }


DELIVERED_TYPES = tuple(
    type_of(kind)
    for kind in (
        supervision.ItemOpened,
        supervision.ItemEscalated,
        supervision.ItemClosed,
        supervision.TaskDueSoon,
        supervision.TaskOverdue,
        mediation.CaseDueSoon,
        mediation.CaseOverdue,
        opengov.RequestDueSoon,
        opengov.RequestOverdue,
        emergency.AlertIssued,
        emergency.AlertEscalated,
        emergency.AlertExpired,
    )
)
"""What a unit's subscription may deliver besides its refusals (`supervision.deliveries`)."""


def _delivered(contracts: list[EventContract]) -> list[str]:
    known = {c.name for c in contracts}
    return [REFUSED_TYPE, *(name for name in DELIVERED_TYPES if name in known)]


def _deliveries(contracts: list[EventContract]) -> dict[str, Any]:
    return {
        "unitDeliveries": {
            "address": None,
            "title": "A unit's webhook deliveries",
            "summary": "HTTP POSTs to the URL a unit subscribed (`POST /v1/subscriptions` on "
            "supervision): one CloudEvent each, structured mode, signed per Standard Webhooks.",
            "description": "The events as their topics carry them, with every personal field "
            "erased and free texts redacted, for the unit they name (`data.unit`; alerts for "
            "staff subscriptions), and `fazhi.receipt.refused` for the unit's own events its "
            "owner refused. A receiver answers 2xx; anything else is retried (5 s, 5 min, "
            "30 min, 2 h, 5 h, 10 h, 10 h). Headers: "
            + "; ".join(f"`{k}`: {v}" for k, v in DELIVERY_HEADERS.items()),
            "messages": {name: {"$ref": MESSAGES + name} for name in _delivered(contracts)},
        }
    }


def _refused(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": REFUSED_TYPE,
        "title": REFUSED_TYPE,
        "summary": "A unit's event was refused by the service that owns it.",
        "description": "Delivered to the unit's subscriptions (kind `receipts`); the subject is "
        "the refused event's.",
        "contentType": STRUCTURED,
        "headers": {
            "type": "object",
            "properties": {
                name: {"type": "string", "description": about}
                for name, about in DELIVERY_HEADERS.items()
            },
            "required": list(DELIVERY_HEADERS),
        },
        "payload": {
            "allOf": [
                {"$ref": SCHEMAS + "CloudEvent"},
                {
                    "type": "object",
                    "properties": {"type": {"type": "string", "const": REFUSED_TYPE}, "data": data},
                },
            ]
        },
    }


def render() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    sys.stdout.buffer.write(render().encode())


if __name__ == "__main__":
    main()
