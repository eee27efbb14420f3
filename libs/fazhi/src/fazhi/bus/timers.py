"""Worker timers: the periodic `Timer` and the `DayScan` that looks at the documents due on each day since its last look."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.bus.publisher import Publisher
from fazhi.contracts import topic_of_type
from fazhi.contracts.envelope import CHINA_TZ, CloudEvent
from fazhi.settings import ServiceSettings

log = logging.getLogger(__name__)

Derived = CloudEvent | Iterable[CloudEvent] | None

S = TypeVar("S", bound=ServiceSettings)
S_contra = TypeVar("S_contra", bound=ServiceSettings, contravariant=True)
"""A timer for any settings is a timer for a service's own."""
PUBLISH_CHUNK = 500
"""The most events a timer hands the producer at once."""


def _now() -> datetime:
    return datetime.now(CHINA_TZ)


@dataclass
class TimerContext(Generic[S]):
    """What a worker timer gets: its service's settings (typed), database and publisher, and the
    clock. A timer publishes what it derives with `publish`."""

    settings: S
    db: AsyncDatabase[dict[str, Any]]
    publisher: Publisher
    clock: Callable[[], datetime] = field(default=_now, repr=False)
    name: str = ""
    """The timer's name (its log lines)."""
    _sent: set[str] = field(default_factory=set, repr=False)
    _sent_on: date | None = field(default=None, repr=False)

    def now(self) -> datetime:
        return self.clock().astimezone(CHINA_TZ)

    async def publish(self, events: Iterable[CloudEvent]) -> int:
        """Publish derived events (`fazhi.contracts.derived_event`: deterministic ids, so a
        second look or a second worker publishes the same ones, which consumers take once), each
        on its type's topic, in chunks. An event this timer published already today is left out:
        a timer looks again until its event is projected, and would only repeat it. Returns how
        many were published."""
        today = self.now().date()
        if self._sent_on != today:
            self._sent, self._sent_on = set(), today
        by_topic: dict[str, list[CloudEvent]] = {}
        for event in events:
            if event.id not in self._sent:
                by_topic.setdefault(topic_of_type(event.type), []).append(event)
        published = 0
        for topic, fresh in by_topic.items():
            for start in range(0, len(fresh), PUBLISH_CHUNK):
                chunk = fresh[start : start + PUBLISH_CHUNK]
                await self.publisher.publish(topic, chunk)
                self._sent.update(event.id for event in chunk)
                published += len(chunk)
        if published:
            log.info("timer published", extra={"timer": self.name, "events": published})
        return published


@dataclass(frozen=True)
class Timer(Generic[S_contra]):
    """A periodic job of the worker (a faust timer run by the group's leader only): it derives
    events from time passing and publishes them with `TimerContext.publish`."""

    name: str
    interval_s: Callable[[S_contra], float]
    run: Callable[[TimerContext[S_contra]], Awaitable[None]]


@dataclass(frozen=True)
class DayLook(Generic[S]):
    """One day of a `DayScan`'s look: the day whose documents it found, and when it looks."""

    settings: S
    day: date
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


def _today(settings: ServiceSettings, today: date) -> date:
    return today


@dataclass(frozen=True)
class DayScan(Generic[S_contra]):
    """A timer that looks at the documents due on each day since its last look: one equality on
    an indexed day field (`"YYYY-MM-DD"`) per day, never a range. Each look goes from the last
    day of the previous look (it may have filled since) to its `last_day`; the first ever starts
    `first_look_days` before it. Once what it found is published, its watermark is stored in the
    service's `marks` collection (`{"_id": name, "through": last day}`), so a stopped worker
    catches up from there. Run by the group's leader, like every timer; what `found` derives
    must carry deterministic ids."""

    name: str
    interval_s: Callable[[S_contra], float]
    collection: str
    day_field: str
    found: Callable[[dict[str, Any], DayLook[S_contra]], Derived]
    marks: str
    """The service's collection of timer watermarks, one document per timer."""
    first_look_days: int = 0
    """How many days before its last day the first look ever starts."""
    last_day: Callable[[S_contra, date], date] = _today
    """The last day a look takes, from the settings and today (default today)."""
    max_back_days: int | None = None
    """A look never starts further back than this before its last day (None: no bound)."""
    fields: Mapping[str, int] | None = None
    """The fields `found` needs (None: whole documents)."""

    async def look(
        self, t: TimerContext[S_contra], now: datetime | None = None
    ) -> list[CloudEvent]:
        """What a look at `now` (default the clock's) derives; it publishes nothing and leaves
        the watermark where it is."""
        return (await self._look(t, now or t.now()))[0]

    async def run(self, t: TimerContext[S_contra]) -> int:
        """One look: publish what it derives, then move the watermark. Returns how many events
        were published."""
        events, last = await self._look(t, t.now())
        published = await t.publish(events)
        await t.db[self.marks].replace_one(
            {"_id": self.name}, {"through": last.isoformat()}, upsert=True
        )
        return published

    def window(self, through: date | None, settings: S_contra, today: date) -> tuple[date, date]:
        """The first and last day of a look, given the watermark."""
        last = self.last_day(settings, today)
        first = through if through is not None else last - timedelta(days=self.first_look_days)
        if self.max_back_days is not None:
            first = max(first, last - timedelta(days=self.max_back_days))
        return first, last

    async def _look(
        self, t: TimerContext[S_contra], now: datetime
    ) -> tuple[list[CloudEvent], date]:
        now = now.astimezone(CHINA_TZ)
        mark = await t.db[self.marks].find_one({"_id": self.name})
        through = mark.get("through") if mark else None
        first, last = self.window(
            date.fromisoformat(through) if isinstance(through, str) else None,
            t.settings,
            now.date(),
        )
        events: list[CloudEvent] = []
        day = first
        while day <= last:
            look = DayLook(t.settings, day, now)
            async for doc in t.db[self.collection].find(
                {self.day_field: day.isoformat()}, self.fields
            ):
                found = self.found(doc, look)
                if isinstance(found, CloudEvent):
                    events.append(found)
                elif found is not None:
                    events.extend(found)
            day += timedelta(days=1)
        return events, last
