"""What a worker consumes and what becomes of it: records, outcomes, dead letters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from fazhi.rules.redaction import mask_for_log
from fazhi.store.catalog import dlq_topic


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    time: datetime | None = None
    """The record's timestamp (when the broker's producer made it), if known."""


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    error: str
    attempts: int
    group: str = ""
    """The consumer group that gave up on the record (several groups may read one topic)."""
    refusal: Mapping[str, Any] | None = None
    """Why the owner of the event refused it, as its receipt says (`fazhi.receipts`); None for
    a reaction of another service, which refuses nothing the department sent."""

    @property
    def topic(self) -> str:
        return dlq_topic(self.record.topic)

    def headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("fazhi-error", mask_for_log(self.error[:2000]).encode()),
            ("fazhi-consumer-group", self.group.encode()),
            ("fazhi-attempts", str(self.attempts).encode()),
            ("fazhi-original-topic", self.record.topic.encode()),
            ("fazhi-original-partition", str(self.record.partition).encode()),
            ("fazhi-original-offset", str(self.record.offset).encode()),
        ]
        if self.refusal is not None:
            headers.append((REFUSAL_HEADER, json.dumps(self.refusal, ensure_ascii=False).encode()))
        return headers


REFUSAL_HEADER = "fazhi-refusal"
"""On a dead letter of the event's owner: the refusal, as JSON (what the unit is told)."""


class PoisonError(Exception):
    """The record itself is bad; retrying cannot help."""
