#!/usr/bin/env python3
"""Create Fazhi's Kafka topics, idempotently.

The topics are those of ``fazhi.topology``: each service's event topic and its dead-letter
twin (``supervision.events``, ``supervision.events.dlq``, ...), each with the partitions the
registry gives it (6), unless ``KAFKA_TOPIC_PARTITIONS`` (or ``--partitions``) asks for another
count for all of them; replication factor ``KAFKA_TOPIC_REPLICATION`` (default 1). Each gets
the configuration the registry gives it (``topology.topic_configs``: event topics keep every event
for good, dead-letter topics ``KAFKA_DLQ_RETENTION_DAYS``, replicated ones
``min.insync.replicas``), set again on topics that already exist. A topic that already exists
counts as success; one with fewer partitions than wanted is grown (partitions are never removed).

Usage::

    python scripts/topics.py [--bootstrap HOST:PORT] [--timeout SECONDS]
    python scripts/topics.py --check      # one metadata round trip, exit 0 if the broker answers

or from Python (tests, fixtures)::

    from topics import ensure_topics          # with scripts/ on sys.path
    ensure_topics("127.0.0.1:9092")           # -> {"supervision.events": "created", ...}
    await ensure_topics_async("127.0.0.1:9092")

The bootstrap address defaults to the ``KAFKA_BOOTSTRAP`` environment variable, else
``127.0.0.1:9092``. Needs ``aiokafka``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from fazhi import topology
except ImportError:  # a python without the workspace installed: the registry is plain Python
    sys.path.append(str(Path(__file__).resolve().parents[1] / "libs" / "fazhi" / "src"))
    from fazhi import topology

if TYPE_CHECKING:
    from aiokafka.admin import AIOKafkaAdminClient

TOPICS: tuple[str, ...] = topology.TOPICS

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_REPLICATION = topology.REPLICATION

log = logging.getLogger("fazhi.topics")


def default_bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP") or DEFAULT_BOOTSTRAP


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


async def _admin(bootstrap: str, request_timeout_ms: int) -> AIOKafkaAdminClient:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="fazhi-topics",
        request_timeout_ms=request_timeout_ms,
    )
    try:
        await admin.start()
    except BaseException:
        await admin.close()
        raise
    return admin


async def check_async(bootstrap: str | None = None, max_wait: float = 5.0) -> dict[str, Any]:
    """One metadata round trip; returns the cluster description or raises."""
    bootstrap = bootstrap or default_bootstrap()
    ms = max(1000, int(max_wait * 1000))

    async def run() -> dict[str, Any]:
        admin = await _admin(bootstrap, ms)
        try:
            info: dict[str, Any] = await admin.describe_cluster()
            return info
        finally:
            await admin.close()

    return await asyncio.wait_for(run(), max_wait)


async def _partition_counts(admin: AIOKafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in await admin.describe_topics(list(names)):
        if t.get("error_code", 0) == 0:
            counts[t["topic"]] = len(t.get("partitions") or [])
    return counts


async def _ensure_once(
    admin: AIOKafkaAdminClient,
    topics: dict[str, int],
    replication: int,
    warm_coordinator: bool,
    result: dict[str, str],
) -> dict[str, str]:
    """One attempt; ``result`` carries what earlier attempts achieved (e.g. "created")."""
    from aiokafka.admin import NewPartitions, NewTopic
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
    from aiokafka.errors import TopicAlreadyExistsError, for_code

    configs = topology.topic_configs(
        replication, _env_int("KAFKA_DLQ_RETENTION_DAYS", topology.DLQ_RETENTION_DAYS)
    )
    existing = set(await admin.list_topics())
    missing = [t for t in topics if t not in existing]
    if missing:
        resp = await admin.create_topics(
            [
                NewTopic(
                    t,
                    num_partitions=topics[t],
                    replication_factor=replication,
                    topic_configs=configs.get(t, {}),
                )
                for t in missing
            ],
            timeout_ms=15000,
        )
        failures = []
        first_error: type[Exception] | None = None
        for entry in resp.topic_errors:
            name, code = entry[0], entry[1]
            message = entry[2] if len(entry) > 2 else None
            if code == 0:
                result[name] = "created"
            elif code == TopicAlreadyExistsError.errno:
                result.setdefault(name, "exists")
            else:
                err = for_code(code)
                first_error = first_error or err
                failures.append(f"{name}: {err.__name__} {message or ''}".strip())
        if failures:
            # raised as the broker's error class, so the caller can retry the retriable ones
            # (controller not ready yet, request timed out) and give up on the others
            raise (first_error or RuntimeError)("could not create topics: " + "; ".join(failures))

    # existing topics: make sure none has fewer partitions than wanted
    present = [t for t in topics if t not in missing]
    if present:
        counts = await _partition_counts(admin, present)
        grow = {t: NewPartitions(topics[t]) for t, n in counts.items() if n < topics[t]}
        if grow:
            await admin.create_partitions(grow, timeout_ms=15000)
        configured = [t for t in present if t in configs]
        if configured:
            await admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t, configs[t]) for t in configured]
            )
        for t in present:
            if t in grow:
                result[t] = f"grown {counts[t]}->{topics[t]}"
            elif t in counts:
                result.setdefault(t, "exists")
            else:
                raise RuntimeError(f"topic {t} listed but not described")
    if warm_coordinator:
        # The first FindCoordinator makes the broker create __consumer_offsets; doing it here means
        # the first real consumer group after a fresh format does not meet
        # GroupCoordinatorNotAvailable (raised here as retriable, so the caller retries).
        await admin.find_coordinator("fazhi-topics-warmup")
    return {t: result[t] for t in topics}


async def ensure_topics_async(
    bootstrap: str | None = None,
    *,
    topics: Iterable[str] | None = None,
    partitions: int | None = None,
    replication: int | None = None,
    max_wait: float = 60.0,
    warm_coordinator: bool = True,
) -> dict[str, str]:
    """Create ``topics`` (default: every topic of ``fazhi.topology``) if missing; returns
    ``{topic: "created" | "exists" | "grown a->b"}``.

    Each topic gets the partitions the registry gives it (6 for a topic it does not know), or
    ``partitions`` (default ``$KAFKA_TOPIC_PARTITIONS``) when given.

    Retries (until ``max_wait`` seconds) while the broker is unreachable or still electing its
    controller, so it is safe to call right after the broker was started. With
    ``warm_coordinator`` it also waits until the group coordinator answers (creating
    ``__consumer_offsets`` on a fresh broker).
    """
    from aiokafka.errors import BrokerNotAvailableError, KafkaError, KafkaTimeoutError

    bootstrap = bootstrap or default_bootstrap()
    override = partitions or _env_int("KAFKA_TOPIC_PARTITIONS", 0)
    replication = replication or _env_int("KAFKA_TOPIC_REPLICATION", DEFAULT_REPLICATION)
    registry = topology.topic_partitions()
    wanted = {
        t: override or registry.get(t, topology.PARTITIONS)
        for t in (TOPICS if topics is None else topics)
    }
    deadline = time.monotonic() + max_wait
    delay = 0.25
    result: dict[str, str] = {}
    while True:
        admin = None
        try:
            admin = await _admin(bootstrap, 10000)
            return await _ensure_once(admin, wanted, replication, warm_coordinator, result)
        except (TimeoutError, KafkaError, OSError) as exc:
            # KafkaTimeoutError and BrokerNotAvailableError are not flagged retriable by aiokafka
            # but are what a broker that is still starting looks like
            transient = getattr(exc, "retriable", True) or isinstance(
                exc, (KafkaTimeoutError, BrokerNotAvailableError)
            )
            if not transient:
                raise
            if time.monotonic() + delay > deadline:
                raise RuntimeError(
                    f"topics on {bootstrap}: giving up after {max_wait:.0f} s: {exc!r}"
                ) from exc
            log.info("topics on %s not ready yet (%r); retrying", bootstrap, exc)
        finally:
            if admin is not None:
                await admin.close()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 3.0)


def ensure_topics(bootstrap: str | None = None, **kwargs: Any) -> dict[str, str]:
    """Synchronous wrapper of :func:`ensure_topics_async`; also works inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(ensure_topics_async(bootstrap, **kwargs))

    # called from async code (e.g. a fixture): run on a private loop in a helper thread
    box: dict[str, object] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(ensure_topics_async(bootstrap, **kwargs))
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=worker, name="fazhi-ensure-topics")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create Fazhi's Kafka topics (idempotent).")
    parser.add_argument(
        "--bootstrap", default=None, help=f"default $KAFKA_BOOTSTRAP or {DEFAULT_BOOTSTRAP}"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to keep retrying (default 60)"
    )
    parser.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="for every topic (default $KAFKA_TOPIC_PARTITIONS, else each topic's own, 6)",
    )
    parser.add_argument(
        "--check", action="store_true", help="only check that the broker answers a metadata request"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    bootstrap = args.bootstrap or default_bootstrap()

    if args.check:
        try:
            info = asyncio.run(check_async(bootstrap, args.timeout))
        except Exception as exc:  # any failure means "not ready"
            print(f"kafka {bootstrap}: not ready: {exc!r}", file=sys.stderr)
            return 1
        brokers = ", ".join(
            f"{b['node_id']}@{b['host']}:{b['port']}" for b in info.get("brokers", [])
        )
        print(f"kafka {bootstrap}: cluster {info.get('cluster_id')} brokers [{brokers}]")
        return 0

    try:
        result = ensure_topics(bootstrap, partitions=args.partitions, max_wait=args.timeout)
    except Exception as exc:
        print(f"topics: {exc}", file=sys.stderr)
        return 1
    created = [t for t, s in result.items() if s == "created"]
    other = [f"{t} ({s})" for t, s in result.items() if s not in ("created", "exists")]
    print(
        f"topics on {bootstrap}: {len(result)} ok"
        + (f"; created {', '.join(created)}" if created else "; all existed")
        + (f"; {', '.join(other)}" if other else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
