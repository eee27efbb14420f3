"""The deliveries worker's work: a delivery per notice and matching subscription (stored before
its record's offset is committed, so none is lost), its attempts (each claimed by one insert,
so two workers never make the same one), retries on the schedule, and a subscription disabled
when its receiver keeps failing for the whole schedule (which opens a supervision item)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from prometheus_client import Counter, Histogram
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from fazhi.bus import Publisher
from fazhi.contracts import derived_event, topic_of
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.supervision import ItemKind, ItemLevel, ItemOpened
from fazhi.store import DUPLICATE_KEY, MasterKey
from supervision.deliveries import signing
from supervision.deliveries.domain import (
    Notice,
    RetrySchedule,
    day_slot,
    delivery_id,
    disable_after,
    minute_slot,
    scan_slots,
)
from supervision.deliveries.sending import Sender, Sent
from supervision.deliveries.store import ATTEMPTS, DELIVERIES, RETRY_MARK, SUBSCRIPTIONS
from supervision.items.flows import bounded_id
from supervision.store import WATCH

log = logging.getLogger(__name__)

KEPT_ATTEMPTS = 20
"""Attempts a delivery shows (the last ones): a redelivered one stays bounded."""
GUARD = timedelta(seconds=30)
"""While an attempt is in flight, its delivery falls due again this much later: if the worker
dies in the middle, the retry scan makes the attempt again."""
FIRST_LOOK = timedelta(hours=1)
SUCCESS_NOTED_EVERY = timedelta(seconds=5)
"""A subscription's `last_success_at` is written at most this often."""


@dataclass(frozen=True)
class DeliveryMetrics:
    attempts: Counter
    latency: Histogram
    disabled: Counter


@cache
def delivery_metrics() -> DeliveryMetrics:
    return DeliveryMetrics(
        attempts=Counter(
            "supervision_delivery_attempts",
            "Delivery attempts by outcome (delivered, failed, gave_up).",
            ["kind", "outcome"],
        ),
        latency=Histogram(
            "supervision_delivery_seconds",
            "From the cause's time to its delivery's first success.",
            ["kind"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400),
        ),
        disabled=Counter(
            "supervision_subscriptions_disabled", "Subscriptions disabled after failing."
        ),
    )


def _now() -> datetime:
    return datetime.now(CHINA_TZ)


@dataclass
class Dispatcher:
    db: AsyncDatabase[dict[str, Any]]
    sender: Sender
    master: MasterKey
    publisher: Publisher
    schedule: RetrySchedule
    concurrency: int = 64
    subscription_cache_s: float = 5.0
    clock: Callable[[], datetime] = _now
    _inflight: set[asyncio.Task[None]] = field(default_factory=set)
    _busy: set[str] = field(default_factory=set)
    _slots: asyncio.Semaphore | None = None
    _units: dict[str, tuple[float, list[dict[str, Any]]]] = field(default_factory=dict)
    _subs: dict[str, tuple[float, dict[str, Any] | None]] = field(default_factory=dict)
    _secrets: dict[tuple[str, bytes], str] = field(default_factory=dict)

    # --- from consumed records -------------------------------------------------------

    async def take(self, notices: Sequence[Notice]) -> int:
        """Store a delivery for each notice and subscription it concerns, and start the first
        attempt of each new one. Returns how many were new."""
        if not notices:
            return 0
        now = self.clock()
        docs: dict[str, dict[str, Any]] = {}
        for notice in notices:
            for sub in await self._subscriptions(notice):
                doc = self._delivery(sub, notice, now)
                docs.setdefault(doc["_id"], doc)
        if not docs:
            return 0
        fresh = await self._insert_new(list(docs.values()))
        for doc in fresh:
            await self.submit(doc)
        return len(fresh)

    def _delivery(self, sub: dict[str, Any], notice: Notice, now: datetime) -> dict[str, Any]:
        event = notice.event
        body = json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":"))
        due = now + GUARD
        return {
            "_id": delivery_id(sub["_id"], event),
            "subscription_id": sub["_id"],
            "unit": sub["unit"],
            "kind": str(notice.kind),
            "type": event.type,
            "event_id": event.id,
            "event_time": event.time,
            "body": body,
            "created_at": now,
            "status": "pending",
            "tries": 0,
            "attempts": [],
            "due_at": due,
            "retry_minute": minute_slot(due),
            "retry_day": day_slot(due),
        }

    async def _insert_new(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            await self.db[DELIVERIES].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            there = {e["index"] for e in errors}
            return [doc for i, doc in enumerate(docs) if i not in there]
        return docs

    async def _subscriptions(self, notice: Notice) -> list[dict[str, Any]]:
        key = notice.unit or "*"
        cached = self._units.get(key)
        if cached is None or time.monotonic() - cached[0] > self.subscription_cache_s:
            query = (
                {"unit": notice.unit, "status": "active"}
                if notice.unit is not None
                else {"kinds": "alerts", "status": "active"}
            )
            found = await self.db[SUBSCRIPTIONS].find(query).to_list(None)
            cached = (time.monotonic(), found)
            self._units[key] = cached
        return [
            sub
            for sub in cached[1]
            if notice.concerns(sub["unit"], sub.get("kinds", []), bool(sub.get("staff")))
        ]

    # --- attempts ----------------------------------------------------------------------

    async def submit(self, doc: dict[str, Any]) -> None:
        """Attempt `doc` in the background; waits while too many attempts are in flight."""
        if doc["_id"] in self._busy:
            return
        while len(self._inflight) >= self.concurrency * 4:
            await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
        self._busy.add(doc["_id"])
        task = asyncio.create_task(self._attempt_guarded(doc))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def drain(self) -> None:
        while self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _attempt_guarded(self, doc: dict[str, Any]) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        try:
            async with self._slots:
                await self.attempt(doc)
        except Exception as exc:  # the retry scan makes the attempt again
            log.warning(
                "delivery attempt failed", extra={"delivery": doc["_id"], "error": repr(exc)}
            )
        finally:
            self._busy.discard(doc["_id"])

    async def attempt(self, doc: dict[str, Any]) -> Sent | None:
        """Make the next attempt of `doc`, unless another worker claimed it; record it."""
        n = int(doc.get("tries", 0)) + 1
        now = self.clock()
        try:
            await self.db[ATTEMPTS].insert_one(
                {"_id": f"{doc['_id']}#{n}", "delivery_id": doc["_id"], "n": n, "at": now}
            )
        except DuplicateKeyError:
            return None
        sub = await self._subscription(doc["subscription_id"])
        if sub is None or sub.get("status") != "active":
            await self._close(doc, "failed", error="the subscription is disabled or removed")
            return None
        if n > 1:  # a retry: due again later while in flight (see GUARD)
            await self.db[DELIVERIES].update_one({"_id": doc["_id"]}, {"$set": _due(now + GUARD)})
        body = doc["body"].encode()
        at = datetime.now(UTC)
        headers = {
            "content-type": "application/cloudevents+json; charset=utf-8",
            "user-agent": "fazhi-deliveries/1",
            **signing.headers(doc["_id"], at, body, self._signing_secrets(sub, at)),
        }
        sent = await self.sender.post(sub["url"], body, headers)
        await self._record(doc, sub, n, now, sent)
        return sent

    async def _record(
        self, doc: dict[str, Any], sub: dict[str, Any], n: int, at: datetime, sent: Sent
    ) -> None:
        summary = {
            "n": n,
            "at": at,
            "status_code": sent.status,
            "latency_ms": round(sent.seconds * 1000, 1),
            "error": sent.error,
        }
        attempts = [*doc.get("attempts", []), summary][-KEPT_ATTEMPTS:]
        changes: dict[str, Any] = {"tries": n, "attempts": attempts}
        if n == 1 or "first_attempt_at" not in doc:
            changes["first_attempt_at"] = doc.get("first_attempt_at") or at
        metrics = delivery_metrics()
        kind = doc.get("kind", "")
        if sent.ok:
            changes.update(
                status="delivered", delivered_at=self.clock(), single=False, **_due(None)
            )
            await self.db[DELIVERIES].update_one({"_id": doc["_id"]}, {"$set": changes})
            metrics.attempts.labels(kind=kind, outcome="delivered").inc()
            if not doc.get("delivered_at") and isinstance(doc.get("event_time"), datetime):
                delay = (self.clock() - doc["event_time"]).total_seconds()
                metrics.latency.labels(kind=kind).observe(max(delay, 0.0))
            await self._succeeded(sub)
            return
        metrics.attempts.labels(kind=kind, outcome="failed").inc()
        following = None if doc.get("single") else self.schedule.next_at(n, at)
        if following is not None:
            changes.update(status="pending", **_due(following))
            await self.db[DELIVERIES].update_one({"_id": doc["_id"]}, {"$set": changes})
            return
        changes.update(status="failed", gave_up_at=at, single=False, **_due(None))
        await self.db[DELIVERIES].update_one({"_id": doc["_id"]}, {"$set": changes})
        metrics.attempts.labels(kind=kind, outcome="gave_up").inc()
        if not doc.get("single"):
            first = changes.get("first_attempt_at") or doc.get("first_attempt_at") or at
            await self._maybe_disable(sub, first, doc)

    async def _close(self, doc: dict[str, Any], status: str, *, error: str) -> None:
        await self.db[DELIVERIES].update_one(
            {"_id": doc["_id"]}, {"$set": {"status": status, "error": error, **_due(None)}}
        )

    async def _succeeded(self, sub: dict[str, Any]) -> None:
        last = sub.get("last_success_at")
        now = self.clock()
        if isinstance(last, datetime) and now - last < SUCCESS_NOTED_EVERY:
            return
        sub["last_success_at"] = now
        await self.db[SUBSCRIPTIONS].update_one(
            {"_id": sub["_id"]}, {"$set": {"last_success_at": now}}
        )

    async def _maybe_disable(
        self, sub: dict[str, Any], first_attempt: datetime, doc: dict[str, Any]
    ) -> None:
        fresh = await self.db[SUBSCRIPTIONS].find_one({"_id": sub["_id"]})
        if fresh is None or fresh.get("status") != "active":
            return
        if not disable_after(first_attempt, fresh.get("last_success_at")):
            return
        now = self.clock()
        reason = (
            f"每次推送均失败，已持续{self.schedule.span.total_seconds() / 3600:.1f}小时"
            f"（{doc['_id']}）"
        )
        result = await self.db[SUBSCRIPTIONS].update_one(
            {"_id": sub["_id"], "status": "active"},
            {"$set": {"status": "disabled", "disabled_at": now, "disabled_reason": reason}},
        )
        if result.modified_count != 1:
            return
        self._subs.pop(sub["_id"], None)
        self._units.clear()
        delivery_metrics().disabled.inc()
        log.warning(
            "subscription disabled", extra={"subscription": sub["_id"], "unit": sub["unit"]}
        )
        opened = ItemOpened(
            item_id=failing_item_id(sub["_id"]),
            kind=ItemKind.DELIVERY_FAILING,
            unit=sub["unit"],
            level=ItemLevel.BLUE,
            title=f"推送订阅{sub['_id']}接收失败，已停用：{reason}",
            source_event_id=doc["_id"],
            source_type="fazhi.delivery.failed",
            triggered_at=now,
        )
        event = derived_event(
            opened,
            cause=f"{sub['_id']} {now.isoformat()}",
            rule=opened.item_id,
            source=f"/units/{sub['unit']}",
            time=now,
        )
        await self.publisher.publish(topic_of(ItemOpened), [event])

    async def _subscription(self, sub_id: str) -> dict[str, Any] | None:
        cached = self._subs.get(sub_id)
        if cached is None or time.monotonic() - cached[0] > self.subscription_cache_s:
            found = await self.db[SUBSCRIPTIONS].find_one({"_id": sub_id})
            cached = (time.monotonic(), found)
            self._subs[sub_id] = cached
        return cached[1]

    def _signing_secrets(self, sub: dict[str, Any], at: datetime) -> list[str]:
        found = [self._secret(sub["_id"], sub["secret"])]
        previous = sub.get("previous_secret")
        until = sub.get("previous_until")
        if previous and isinstance(until, datetime) and until > at:
            found.append(self._secret(sub["_id"], previous))
        return found

    def _secret(self, sub_id: str, stored: dict[str, Any]) -> str:
        key = (sub_id, bytes(stored["kid"]))
        secret = self._secrets.get(key)
        if secret is None:
            secret = signing.unwrap(self.master, sub_id, stored)
            self._secrets[key] = secret
        return secret

    # --- the retry scan (the group's leader) ----------------------------------------------

    async def scan(self) -> int:
        """Attempt every pending delivery whose time came: one equality per minute since the
        last scan (per day after a long stop). Returns how many it started."""
        now = self.clock()
        mark = await self.db[WATCH].find_one({"_id": RETRY_MARK})
        through = mark.get("through") if mark else None
        since = datetime.fromisoformat(through) if isinstance(through, str) else now - FIRST_LOOK
        started = 0
        for slot_kind, slot in scan_slots(since, now):
            field_name = "retry_minute" if slot_kind == "minute" else "retry_day"
            async for doc in self.db[DELIVERIES].find({field_name: slot}):
                if doc.get("status") != "pending" or doc["due_at"] > now:
                    continue
                await self.submit(doc)
                started += 1
        await self.db[WATCH].replace_one(
            {"_id": RETRY_MARK}, {"through": now.isoformat()}, upsert=True
        )
        return started


def failing_item_id(subscription_id: str) -> str:
    return bounded_id("delivery", subscription_id)


def _due(at: datetime | None) -> dict[str, Any]:
    if at is None:
        return {"due_at": None, "retry_minute": None, "retry_day": None}
    return {"due_at": at, "retry_minute": minute_slot(at), "retry_day": day_slot(at)}


def redelivery(now: datetime) -> dict[str, Any]:
    """The fields that make a delivery due again now, for one attempt (a redelivery by id)."""
    return {"status": "pending", "single": True, **_due(now)}
