"""Dead letters as `fazhi dlq` reads and replays them (the Kafka round trip is in
tests/integration/test_dlq_replay.py)."""

from __future__ import annotations

import pytest

from fazhi.bus.dlq import REPLAYED_FROM, DeadLetter, choose, parse_positions, require_dlq
from fazhi.contracts.envelope import CloudEvent, kafka_headers, new_event


def progress_event() -> CloudEvent:
    return new_event(
        type="emergency.alert.acknowledged",
        source="/units/emergency-management",
        subject="A-1",
        data={"alert_id": "A-1", "staff_id": "S-7", "acknowledged_at": "2026-07-20T14:05:00+08:00"},
    )


def letter(offset: int, value: bytes | None) -> DeadLetter:
    return DeadLetter(
        topic="emergency.events.dlq",
        partition=2,
        offset=offset,
        timestamp_ms=0,
        key=b"A-1",
        value=value,
        headers=(
            ("fazhi-error", b"'A-1' does not exist (yet)"),
            ("fazhi-consumer-group", b"supervision-worker"),
            ("fazhi-original-topic", b"emergency.events"),
            ("fazhi-original-partition", b"2"),
            ("fazhi-original-offset", b"41"),
        ),
    )


def test_a_replay_goes_to_the_original_topic_with_the_events_own_headers() -> None:
    event = progress_event()
    dead = letter(7, event.to_bytes())
    assert dead.original_topic == "emergency.events"
    headers = dead.replay_headers()
    assert [h for h in headers if h[0].startswith("fazhi-") and h[0] != REPLAYED_FROM] == []
    assert headers[:-1] == kafka_headers(event)
    assert headers[-1] == (REPLAYED_FROM, b"emergency.events.dlq/2:7")
    assert dead.event == (event.type, event.id)
    assert dead.summary().startswith("2:7\temergency.events/2:41\t" + event.type)


def test_a_record_that_is_no_cloudevent_is_replayed_as_it_is() -> None:
    dead = letter(8, b"not json")
    assert dead.replay_headers() == [(REPLAYED_FROM, b"emergency.events.dlq/2:8")]
    assert dead.event[0] == "(not a CloudEvent)"


def test_chosen_positions_must_be_held() -> None:
    letters = [letter(7, b"x"), letter(8, b"y")]
    assert choose(letters, None) == letters
    assert choose(letters, parse_positions(["2:8"])) == [letters[1]]
    with pytest.raises(ValueError, match="nothing at 2:9"):
        choose(letters, parse_positions(["2:9"]))
    with pytest.raises(ValueError, match="partition:offset"):
        parse_positions(["2-9"])
    with pytest.raises(ValueError, match="not a dead-letter topic"):
        require_dlq("emergency.events")
