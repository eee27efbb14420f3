"""The trigger benchmark's floor: a bare aiokafka consumer that opens an item per finding.

It follows `supervision.events` from its end (no consumer group) and, for each
`supervision.finding.recorded` record (told by its `ce_type` header; every other record is read
and passed over), inserts one item document, the copy of `--template` (an item the worker
opened in the same run, in MongoDB extended JSON) with the finding's id as its source and an
`_id` of its own, into the `items` collection of `--db`. Nothing is validated, claimed,
recorded in a timeline or audited, and nothing is published: the least any consumer that
turns a trigger into a readable item does, so `bench/triggers.py` can time the api's item
query finding it beside the worker doing the same.

    .local/venv/bin/python bench/raw_items.py --kafka 127.0.0.1:19092 \
        --mongo mongodb://127.0.0.1:19017 --db bench_supervision_live --template item.json

Writes `ready` to stdout once its partitions are assigned and positioned; stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from bson import json_util
from pymongo import AsyncMongoClient

from fazhi.contracts import supervision as su
from fazhi.contracts import type_of

TOPIC = "supervision.events"
FINDING = type_of(su.FindingRecorded).encode()


async def _partitions(kafka: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics([TOPIC])
    finally:
        await admin.close()
    return [TopicPartition(TOPIC, p["partition"]) for d in described for p in d["partitions"]]


async def run(args: argparse.Namespace, template: dict[str, Any]) -> None:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(args.mongo)
    items = mongo[args.db]["items"]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=args.kafka, group_id=None, auto_offset_reset="latest"
    )
    await consumer.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        partitions = await _partitions(args.kafka)
        if not partitions:
            raise SystemExit(f"{TOPIC} has no partitions on {args.kafka}")
        consumer.assign(partitions)
        for tp in partitions:
            await consumer.position(tp)  # resolve "latest" now, before the triggers come
        print("ready", flush=True)
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=200)
            for records in fetched.values():
                for record in records:
                    if ("ce_type", FINDING) not in (record.headers or ()):
                        continue
                    event = orjson.loads(record.value)
                    now = datetime.now(UTC)
                    await items.insert_one(
                        {
                            **template,
                            "_id": f"raw-{event['subject']}",
                            "source_event_ids": [event["id"]],
                            "opened_at": now,
                            "triggered_at": now,
                        }
                    )
    finally:
        await consumer.stop()
        await mongo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("kafka", "mongo", "db", "template"):
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args()
    asyncio.run(run(args, json_util.loads(Path(args.template).read_text())))


if __name__ == "__main__":
    main()
