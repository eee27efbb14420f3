"""Connecting a process to its store: the MongoDB client and the data keys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.settings import ServiceSettings
from fazhi.store.sealing import Keyring, MongoDataKeys

IndexSetup = Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]
"""Creates a service's indexes (idempotently) in its database."""


def mongo_client(settings: ServiceSettings) -> AsyncMongoClient[dict[str, Any]]:
    """A client that fails fast when the server is away, so readiness and requests answer quickly."""
    return AsyncMongoClient(
        settings.mongo_url,
        tz_aware=True,
        tzinfo=CHINA_TZ,
        serverSelectionTimeoutMS=3000,
        connectTimeoutMS=3000,
        appname="fazhi",
    )


def keyring(settings: ServiceSettings, db: AsyncDatabase[dict[str, Any]]) -> Keyring:
    """The data keys of a service's database, unwrapped with its configured master key."""
    return Keyring(
        MongoDataKeys(db),
        settings.master(),
        max_entries=settings.data_key_cache_size,
        ttl_s=settings.data_key_cache_ttl_s,
    )
