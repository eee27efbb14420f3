"""Deliveries to the units' own systems: what concerns which unit, the bodies that leave, the URLs
that may receive them, the retry schedule, Standard Webhooks signatures, and the dispatcher on
an in-memory database with a fake receiver."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpcore
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from fazhi.bus.publisher import FakePublisher
from fazhi.bus.records import REFUSAL_HEADER
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent, kafka_headers, new_event
from fazhi.store.sealing import DEVELOPMENT_MASTER_KEY, MasterKey, MasterKeyError
from supervision.deliveries import signing
from supervision.deliveries.dispatch import Dispatcher
from supervision.deliveries.domain import (
    DEFAULT_RETRIES,
    REFUSED,
    Kind,
    RetrySchedule,
    UrlPolicy,
    UrlRefused,
    deliverable,
    delivery_id,
    disable_after,
    notices,
    record_notices,
    scan_slots,
)
from supervision.deliveries.sending import GuardedBackend, Sender, Sent
from supervision.deliveries.store import ATTEMPTS, DELIVERIES, SUBSCRIPTIONS
from tests.support.memorydb import MemoryDatabase

NOW = datetime(2026, 7, 20, 14, 5, 30, tzinfo=CHINA_TZ)
MASTER = MasterKey(DEVELOPMENT_MASTER_KEY)


def item_opened(unit: str, item_id: str = "task-M18-D1", title: str = "整改") -> CloudEvent:
    return new_event(
        type="supervision.item.opened",
        source=f"/units/{unit}",
        subject=item_id,
        time=NOW,
        data={
            "item_id": item_id,
            "kind": "task_overdue",
            "unit": unit,
            "level": "blue",
            "escalation": "supervise",
            "title": title,
            "source_event_id": "e1",
            "triggered_at": NOW.isoformat(),
        },
    )


def alert() -> CloudEvent:
    return new_event(
        type="emergency.alert.issued",
        source="/units/emergency-management",
        subject="A1",
        time=NOW,
        data={"alert_id": "A1", "msg_type": "alert", "level": "red"},
    )


def progress(unit: str) -> CloudEvent:
    return new_event(
        type="supervision.task.progress_reported",
        source=f"/units/{unit}",
        subject="M18-T1",
        time=NOW,
        data={"task_id": "M18-T1", "unit": unit, "note": "sealed:v1:abc"},
    )


# --- the unit filter -----------------------------------------------------------------------


def test_an_item_opened_against_a_unit_concerns_that_unit_only() -> None:
    (notice,) = notices(item_opened("justice"))
    assert (notice.unit, notice.kind) == ("justice", Kind.ITEMS)
    assert notice.concerns("justice", ["items"], staff=False)
    assert not notice.concerns("court", ["items"], staff=False)
    assert not notice.concerns("justice", ["tasks"], staff=False)


@pytest.mark.parametrize(
    ("type_", "kind"),
    [
        ("supervision.item.escalated", Kind.ITEMS),
        ("supervision.item.closed", Kind.ITEMS),
        ("supervision.task.due_soon", Kind.TASKS),
        ("supervision.task.overdue", Kind.TASKS),
        ("mediation.case.due_soon", Kind.CLOCKS),
        ("mediation.case.overdue", Kind.CLOCKS),
        ("opengov.request.due_soon", Kind.CLOCKS),
        ("opengov.request.overdue", Kind.CLOCKS),
    ],
)
def test_each_notice_type_goes_to_the_unit_its_data_names(type_: str, kind: Kind) -> None:
    event = new_event(type=type_, source="/units/x", subject="s", time=NOW, data={"unit": "court"})
    (notice,) = notices(event)
    assert (notice.unit, notice.kind) == ("court", kind)


def test_alerts_go_to_staff_subscriptions_of_any_unit_and_nothing_else_is_told() -> None:
    (notice,) = notices(alert())
    assert notice.unit is None
    assert notice.concerns("street-baishulin", ["alerts"], staff=True)
    assert not notice.concerns("street-baishulin", ["alerts"], staff=False)
    assert notices(progress("justice")) == []


def test_what_leaves_is_redacted_and_never_a_personal_field() -> None:
    body = deliverable(item_opened("justice", title="申请人张三，电话13991234567，未整改"))
    assert "13991234567" not in json.dumps(body.data, ensure_ascii=False)
    assert "张三" not in body.data["title"]
    sealed = deliverable(progress("justice"))
    assert sealed.data["note"] != "sealed:v1:abc"


def test_records_of_other_types_are_passed_over_on_their_header_unparsed() -> None:
    event = item_opened("justice")
    assert record_notices("supervision.events", kafka_headers(event), event.to_bytes(), NOW)
    headers = [("ce_type", b"supervision.task.progress_reported")]
    assert record_notices("supervision.events", headers, b"not json", NOW) == []


def test_a_dead_letter_of_the_owner_tells_the_posting_unit_its_refusal() -> None:
    refused = progress("justice")
    refusal = {"kind": "illegal-transition", "reason": "needs an art. 53 ground", "rule": "art. 53"}
    headers = [
        (REFUSAL_HEADER, json.dumps(refusal).encode()),
        ("fazhi-original-topic", b"mediation.events"),
        ("fazhi-original-partition", b"2"),
        ("fazhi-original-offset", b"41"),
    ]
    (notice,) = record_notices("mediation.events.dlq", headers, refused.to_bytes(), NOW)
    assert (notice.unit, notice.kind, notice.event.type) == ("justice", Kind.RECEIPTS, REFUSED)
    assert notice.event.data["problem"]["rule"] == "art. 53"
    assert notice.event.data["event_id"] == refused.id
    assert "note" not in json.dumps(notice.event.data)  # the event's data never leaves
    again = record_notices("mediation.events.dlq", headers, refused.to_bytes(), NOW)
    assert again[0].event.id == notice.event.id  # read twice, told once
    reaction = [h for h in headers if h[0] != REFUSAL_HEADER]
    assert record_notices("mediation.events.dlq", reaction, refused.to_bytes(), NOW) == []


def test_a_delivery_id_is_the_same_every_time_and_differs_per_subscription() -> None:
    event = item_opened("justice")
    assert delivery_id("sub_a", event) == delivery_id("sub_a", event)
    assert delivery_id("sub_a", event) != delivery_id("sub_b", event)
    assert delivery_id("sub_a", event).startswith("msg_")


# --- where deliveries may go ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://receiver.example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hook",
        "https://kafka.internal/hook",
        "https://intranet/hook",
        "https://user:pw@receiver.example.com/hook",
        "ftp://receiver.example.com/",
        "https:///nohost",
        "https://receiver.example.com/a b",
    ],
)
def test_urls_into_the_platform_s_own_network_are_refused(url: str) -> None:
    with pytest.raises(UrlRefused):
        UrlPolicy().check(url)


def test_a_public_https_url_is_taken() -> None:
    assert UrlPolicy().check("https://receiver.example.com:8443/hooks?x=1") == (
        "https://receiver.example.com:8443/hooks?x=1"
    )


def test_the_development_setting_lets_loopback_and_plain_http_through() -> None:
    policy = UrlPolicy(allow_private=True)
    assert policy.check("http://127.0.0.1:9999/hook") == "http://127.0.0.1:9999/hook"
    assert policy.address_allowed("192.168.1.5")
    assert not policy.address_allowed("0.0.0.0")
    assert not policy.address_allowed("224.0.0.1")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1::1", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("fd00::1", False),
        ("not an address", False),
    ],
)
def test_resolved_addresses_are_checked_at_delivery_time(address: str, allowed: bool) -> None:
    assert UrlPolicy().address_allowed(address) is allowed


# --- when a failed delivery is tried again -------------------------------------------------


def test_the_default_schedule_retries_for_more_than_a_day() -> None:
    schedule = RetrySchedule.parse(DEFAULT_RETRIES)
    assert schedule.span >= timedelta(hours=24)
    assert schedule.attempts == 8
    assert schedule.next_at(1, NOW) == NOW + timedelta(seconds=5)
    assert schedule.next_at(7, NOW) == NOW + timedelta(hours=10)
    assert schedule.next_at(8, NOW) is None


def test_a_schedule_is_seconds_comma_separated() -> None:
    assert RetrySchedule.parse("1,2.5").delays_s == (1.0, 2.5)
    for bad in ("", "-1", "a"):
        with pytest.raises(ValueError, match=r".+"):
            RetrySchedule.parse(bad)


def test_a_scan_looks_minute_by_minute_and_by_day_after_a_long_stop() -> None:
    assert scan_slots(NOW - timedelta(minutes=2), NOW) == [
        ("minute", "2026-07-20T14:03"),
        ("minute", "2026-07-20T14:04"),
        ("minute", "2026-07-20T14:05"),
    ]
    assert scan_slots(NOW - timedelta(days=2), NOW) == [
        ("day", "2026-07-18"),
        ("day", "2026-07-19"),
        ("day", "2026-07-20"),
    ]
    assert scan_slots(NOW, NOW - timedelta(minutes=1)) == []


def test_a_subscription_is_disabled_only_when_nothing_got_through_all_along() -> None:
    first = NOW - timedelta(hours=28)
    assert disable_after(first, None)
    assert disable_after(first, first - timedelta(minutes=1))
    assert not disable_after(first, first + timedelta(hours=3))


# --- signatures ----------------------------------------------------------------------------


def test_a_delivery_verifies_with_standardwebhooks_and_not_when_altered() -> None:
    secret = signing.new_secret()
    body = b'{"specversion":"1.0"}'
    at = datetime.now(UTC)
    headers = signing.headers("msg_1", at, body, [secret])
    assert Webhook(secret).verify(body, headers) == {"specversion": "1.0"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_while_a_secret_rotates_both_sign() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    body = b"{}"
    headers = signing.headers("msg_1", datetime.now(UTC), body, [new, old])
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_a_secret_is_stored_wrapped_and_only_the_master_key_opens_it() -> None:
    secret = signing.new_secret()
    stored = signing.wrap(MASTER, "sub_1", secret, NOW.date())
    assert secret.encode() not in repr(stored).encode()
    assert signing.unwrap(MASTER, "sub_1", stored) == secret
    with pytest.raises(MasterKeyError):
        signing.unwrap(MASTER, "sub_2", stored)  # bound to its subscription


# --- the dispatcher ------------------------------------------------------------------------


class FakeSender:
    """A receiver answering `statuses` in turn (then the last one for ever)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Sent:
        self.received.append((url, body, dict(headers)))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Sent(status, 0.001)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def subscription(unit: str, secret: str, **extra: Any) -> dict[str, Any]:
    return {
        "_id": f"sub_{unit}",
        "unit": unit,
        "url": f"https://{unit}.example/hook",
        "kinds": ["items", "receipts"],
        "staff": False,
        "status": "active",
        "secret": signing.wrap(MASTER, f"sub_{unit}", secret, NOW.date()),
        **extra,
    }


async def dispatcher(db: MemoryDatabase, sender: FakeSender, clock: Clock) -> Dispatcher:
    return Dispatcher(
        db=db,  # type: ignore[arg-type]
        sender=sender,  # type: ignore[arg-type]
        master=MASTER,
        publisher=FakePublisher(),
        schedule=RetrySchedule.parse("5,60"),
        subscription_cache_s=0,
        clock=clock,
    )


async def test_a_unit_s_notice_is_delivered_signed_to_its_subscription_only() -> None:
    db, sender, clock = MemoryDatabase(), FakeSender(200), Clock()
    secret = signing.new_secret()
    await db[SUBSCRIPTIONS].insert_many(
        [subscription("justice", secret), subscription("court", "whsec_" + "QUJD" * 8)]
    )
    work = await dispatcher(db, sender, clock)
    opened = item_opened("justice")
    assert await work.take(notices(opened)) == 1
    await work.drain()
    ((url, body, headers),) = sender.received
    assert url == "https://justice.example/hook"
    assert Webhook(secret).verify(body, headers)["data"]["unit"] == "justice"
    (doc,) = db[DELIVERIES].docs.values()
    assert doc["status"] == "delivered"
    assert doc["attempts"][0]["status_code"] == 200
    assert await work.take(notices(opened)) == 0  # read again: stored once


async def test_a_failed_delivery_is_tried_again_on_schedule_by_the_scan() -> None:
    db, sender, clock = MemoryDatabase(), FakeSender(500, 503, 200), Clock()
    await db[SUBSCRIPTIONS].insert_many([subscription("justice", signing.new_secret())])
    work = await dispatcher(db, sender, clock)
    await work.take(notices(item_opened("justice")))
    await work.drain()
    (doc,) = db[DELIVERIES].docs.values()
    assert (doc["status"], doc["tries"], doc["retry_minute"]) == ("pending", 1, "2026-07-20T14:05")
    assert await work.scan() == 0  # not due yet
    clock.now += timedelta(seconds=6)
    assert await work.scan() == 1
    await work.drain()
    assert db[DELIVERIES].docs[doc["_id"]]["retry_minute"] == "2026-07-20T14:06"
    clock.now += timedelta(seconds=61)
    await work.scan()
    await work.drain()
    done = db[DELIVERIES].docs[doc["_id"]]
    assert done["status"] == "delivered"
    assert [a["status_code"] for a in done["attempts"]] == [500, 503, 200]
    assert len({h["webhook-id"] for _, _, h in sender.received}) == 1
    assert sorted(db[ATTEMPTS].docs) == [f"{doc['_id']}#{n}" for n in (1, 2, 3)]


async def test_an_attempt_claimed_elsewhere_is_not_made_twice() -> None:
    db, sender, clock = MemoryDatabase(), FakeSender(500), Clock()
    await db[SUBSCRIPTIONS].insert_many([subscription("justice", signing.new_secret())])
    work = await dispatcher(db, sender, clock)
    await work.take(notices(item_opened("justice")))
    await work.drain()
    stale = {**next(iter(db[DELIVERIES].docs.values())), "tries": 0}
    assert await work.attempt(stale) is None
    assert len(sender.received) == 1


async def test_a_receiver_failing_for_the_whole_schedule_disables_it_and_opens_an_item() -> None:
    db, sender, clock = MemoryDatabase(), FakeSender(500), Clock()
    await db[SUBSCRIPTIONS].insert_many([subscription("justice", signing.new_secret())])
    work = await dispatcher(db, sender, clock)
    await work.take(notices(item_opened("justice")))
    await work.drain()
    for seconds in (6, 61):
        clock.now += timedelta(seconds=seconds)
        await work.scan()
        await work.drain()
    (doc,) = db[DELIVERIES].docs.values()
    assert (doc["status"], doc["tries"]) == ("failed", 3)
    sub = db[SUBSCRIPTIONS].docs["sub_justice"]
    assert sub["status"] == "disabled"
    assert isinstance(work.publisher, FakePublisher)
    ((topic, opened),) = work.publisher.published
    assert (topic, opened.type) == ("supervision.events", "supervision.item.opened")
    assert opened.data["unit"] == "justice"
    assert opened.data["kind"] == "delivery_failing"
    await work.take(notices(item_opened("justice", item_id="task-M19-D1")))
    await work.drain()
    assert len(sender.received) == 3  # nothing more to a disabled subscription


async def test_a_host_that_resolves_to_a_private_address_is_refused_at_connect_time() -> None:
    """The policy checked the name at subscription; the connection checks what it resolves to
    now (a public name can be pointed at 127.0.0.1 later)."""
    with pytest.raises(httpcore.ConnectError, match="not an address"):
        await GuardedBackend(UrlPolicy()).connect_tcp("localhost", 80)
    sender = Sender(UrlPolicy(), timeout_s=2)
    try:
        sent = await sender.post("http://localhost:9/hook", b"{}", {})
    finally:
        await sender.close()
    assert sent.status is None
    assert "not an address" in sent.error
