"""Who owns an aggregate, remembered by the api for the ownership check at the door.

Owners are set when an aggregate is created and rarely change, so `POST /v1/events` keeps them in
a bounded in-process cache instead of asking MongoDB for every event. Only aggregates that exist
and have owners are remembered: an unknown one may be created a moment later, and the worker
checks ownership again anyway. Entries expire `ttl_s` seconds after they were read, so a change
of owners (e.g. the plan catalogue reloaded with other units) is seen within that time.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from fazhi.store.projection import LOAD_CONCURRENCY

Key = tuple[str, str]
"""(collection, aggregate id)"""

Fetch = Callable[[str, str], Awaitable[Sequence[str] | None]]
"""Reads the owners of one aggregate: None when it does not exist or has no owners."""


class OwnerCache:
    """A least-recently-used map of (collection, id) to owner units, each entry kept `ttl_s`.

    `ttl_s=0` or `max_entries=0` turns caching off: every lookup reads the database.
    """

    def __init__(
        self,
        *,
        max_entries: int = 20_000,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 0 or ttl_s < 0:
            raise ValueError("max_entries and ttl_s must not be negative")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, tuple[str, ...]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> tuple[str, ...] | None:
        """The cached owners of `key`, or None when unknown here or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, owners = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return owners

    def put(self, key: Key, owners: Iterable[str]) -> tuple[str, ...]:
        """Remember `owners` of `key` for `ttl_s`; evicts the least recently used entries."""
        # Unit codes are few: share one string per code among all entries.
        value = tuple(sys.intern(unit) for unit in owners)
        if self.max_entries == 0 or self.ttl_s == 0:
            return value
        self._entries[key] = (self._clock() + self.ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value

    def forget(self, key: Key) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    async def lookup(self, keys: Iterable[Key], fetch: Fetch) -> Mapping[Key, tuple[str, ...]]:
        """The owners of every key that has them; misses are read concurrently with `fetch`.

        Keys without owners (unknown aggregates) are absent from the answer and not cached.
        If a read fails, the first error is raised once every read has finished.
        """
        found: dict[Key, tuple[str, ...]] = {}
        misses: list[Key] = []
        for key in dict.fromkeys(keys):
            owners = self.get(key)
            if owners is None:
                misses.append(key)
            else:
                found[key] = owners
        if not misses:
            return found
        results: list[Sequence[str] | BaseException | None] = []
        for start in range(0, len(misses), LOAD_CONCURRENCY):
            results.extend(
                await asyncio.gather(
                    *(fetch(c, doc_id) for c, doc_id in misses[start : start + LOAD_CONCURRENCY]),
                    return_exceptions=True,
                )
            )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        for key, result in zip(misses, results, strict=True):
            if result is not None and not isinstance(result, BaseException):
                found[key] = self.put(key, result)
        return found
