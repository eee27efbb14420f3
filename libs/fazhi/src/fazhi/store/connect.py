"""Connecting a process to its store: the MongoDB client and the data keys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, ExecutionTimeout, OperationFailure

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.settings import ServiceSettings
from fazhi.store.sealing import Keyring, MongoDataKeys

IndexSetup = Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]
"""Creates a service's indexes (idempotently) in its database."""


UNAVAILABLE_CODES = frozenset({6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})
"""MongoDB's codes of a server that is away or not the primary for now (HostUnreachable,
HostNotFound, NetworkTimeout, ShutdownInProgress, PrimarySteppedDown, ExceededTimeLimit,
SocketException, NotWritablePrimary, InterruptedAtShutdown, InterruptedDueToReplStateChange,
NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary)."""

BACKEND_AWAY = (
    "failed to connect to",
    "connection refused",
    "SQLSTATE 57P0",  # PostgreSQL shutting down, terminated by the administrator, starting up
    "SQLSTATE 08",  # PostgreSQL connection exceptions
    "conn closed",
    "unexpected EOF",
    "context canceled",  # FerretDB itself stopping: it cancels the queries in flight
)
"""What FerretDB says (an InternalError, code 1) when its PostgreSQL is away, or when FerretDB
itself is shutting down."""


def store_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the store is away for now (the request was fine): MongoDB unreachable
    or failing over, or FerretDB whose PostgreSQL restarts. Such a failure is retried, never
    blamed on the record."""
    if isinstance(exc, ConnectionFailure | ExecutionTimeout):
        return True
    if isinstance(exc, OperationFailure):
        if exc.code in UNAVAILABLE_CODES:
            return True
        message = str(exc)
        return exc.code == 1 and any(sign in message for sign in BACKEND_AWAY)
    return False


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
