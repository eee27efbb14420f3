"""The projection benchmark's reference: a raw aiokafka consumer doing the worker's writes in bulk.

The best case of what `python -m supervision.worker` does with a batch of
`supervision.task.progress_reported` records, with nothing else: per batch (`getmany`, up to
`--batch` records) it parses the JSON values, folds the events of one task together (the last
one wins), and writes

- `bulk_write`s of `UpdateOne({"_id": task id}, {"$set": ...})` on `tasks` (as many updates
  in one as the worker sends, `fazhi.store.projection.UPDATE_BATCH`),
- one `insert_many` of timeline rows (one per event) into `task_history`,
- one `insert_many` of ledger rows (`_id` = the event's key) into `processed_events`,

then commits the offsets. No validation, no ownership or state guard, no dead letters, no
metrics. Run by `bench/projection.py` as a child process on the bench stack:

    python bench/raw_consumer.py --group GROUP --db DB
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from common import BENCH_KAFKA, BENCH_MONGO, LEDGER, TOPIC
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.errors import BulkWriteError

from fazhi.store.projection import UPDATE_BATCH  # the most updates the store takes in one command
from supervision.store import TASK_HISTORY, TASKS


async def project(db: Any, records: list[Any]) -> None:
    ledger, timeline, latest = [], [], {}
    for record in records:
        event = json.loads(record.value)
        data = event["data"]
        key = f"{event['source']} {event['id']}"
        reported_at = datetime.fromisoformat(data["reported_at"])
        latest[data["task_id"]] = (record.offset, data, reported_at)
        timeline.append(
            {
                "_id": key,
                "task_id": data["task_id"],
                "seq": record.offset,
                "event_id": event["id"],
                "type": event["type"],
                "source": event["source"],
                "time": datetime.fromisoformat(event["time"]),
                "progress_pct": data["progress_pct"],
                "note": data.get("note", ""),
            }
        )
        ledger.append(
            {
                "_id": key,
                "source": event["source"],
                "id": event["id"],
                "type": event["type"],
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "outcome": "applied",
            }
        )
    updates = [
        UpdateOne(
            {"_id": task_id},
            {
                "$set": {
                    "progress_pct": data["progress_pct"],
                    "status": "in_progress",
                    "reported_by": data["unit"],
                    "updated_at": reported_at,
                    "applied_offset": offset,
                }
            },
        )
        for task_id, (offset, data, reported_at) in latest.items()
    ]
    for start in range(0, len(updates), UPDATE_BATCH):
        await db[TASKS].bulk_write(updates[start : start + UPDATE_BATCH], ordered=False)
    await db[TASK_HISTORY].insert_many(timeline, ordered=False)
    now = datetime.now(UTC)
    with contextlib.suppress(BulkWriteError):  # a redelivered batch: its rows are there
        await db[LEDGER].insert_many(
            [{**row, "processed_at": now} for row in ledger], ordered=False
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--batch", type=int, default=500, help="most records per batch")
    args = parser.parse_args()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(BENCH_MONGO, tz_aware=True)
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=BENCH_KAFKA,
        group_id=args.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=30000,
        heartbeat_interval_ms=3000,
    )
    await consumer.start()
    try:
        db = mongo[args.db]
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=args.batch)
            records = [record for batch in batches.values() for record in batch]
            if records:
                await project(db, records)
                await consumer.commit()
    finally:
        await consumer.stop()
        await mongo.close()


if __name__ == "__main__":
    asyncio.run(main())
