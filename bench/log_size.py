"""What keeping the log for good costs: disk per million events on the broker.

Produces `--events` (100,000) `supervision.task.progress_reported` events as the api publishes
them (the envelope, key and `ce_*` headers of `fazhi.contracts.envelope`, the personal `note` sealed as at
ingest) to a fresh 6-partition topic of the benchmarks' Kafka, then measures the disk its
partition directories take (allocated blocks: segments and their indexes). Reference, same run:
the records' own bytes (value, key and headers) — the ratio is Kafka's overhead per record.

    .local/venv/bin/python bench/log_size.py [--events 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH_KAFKA,
    BENCH_LOCAL,
    bench_stack_up,
    figure,
    kafka_record,
    machine,
    producer,
    progress_event,
    say,
)


def sealed(event: Any) -> Any:
    """The event as the api publishes it: its personal fields sealed under a data key."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from fazhi.contracts.supervision import TaskProgressReported
    from fazhi.store.sealing import DataKey, seal

    key = DataKey(id=f"tasks:{event.subject}", kid=os.urandom(8), aead=AESGCM(os.urandom(32)))
    return seal(event, TaskProgressReported, key)


def disk_bytes(topic: str) -> int:
    data = BENCH_LOCAL / "kafka" / "data"
    return sum(
        entry.stat().st_blocks * 512
        for directory in data.glob(f"{topic}-*")
        for entry in directory.iterdir()
        if entry.is_file()
    )


async def run(events: int) -> dict[str, Any]:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"bench.logsize.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=BENCH_KAFKA)
    await admin.start()
    await admin.create_topics(
        [
            NewTopic(
                topic, num_partitions=6, replication_factor=1, topic_configs={"retention.ms": "-1"}
            )
        ]
    )
    sender = producer(BENCH_KAFKA)
    await sender.start()
    record_bytes = 0
    started = time.monotonic()
    try:
        pending = []
        for n in range(events):
            event = sealed(progress_event(str(uuid.uuid4()), f"M{n % 31 + 1}-T{n % 7 + 1}", n))
            value, key, headers = kafka_record(event)
            record_bytes += len(value) + len(key) + sum(len(k) + len(v) for k, v in headers)
            pending.append(await sender.send(topic, value, key=key, headers=headers))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        produced_s = time.monotonic() - started
        await asyncio.sleep(1.0)
        on_disk = disk_bytes(topic)
    finally:
        await sender.stop()
        await admin.delete_topics([topic])
        await admin.close()
    per_million_mb = on_disk / events * 1_000_000 / 1e6
    say(f"log size: {events} events, {on_disk / 1e6:.1f} MB on disk, {per_million_mb:.0f} MB/M")
    return {
        "events": events,
        "produce_seconds": round(produced_s, 1),
        "figures": [
            figure(
                "disk per million events",
                round(per_million_mb, 1),
                "MB",
                reference="the records' own bytes (value, key, headers) per million",
                reference_value=round(record_bytes / events * 1_000_000 / 1e6, 1),
                lower_is_better=True,
            )
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with bench_stack_up():
        result = asyncio.run(run(args.events))
    print(
        json.dumps(
            {"benchmark": "log_size", "machine": machine(), **result}, ensure_ascii=False, indent=2
        )
    )


if __name__ == "__main__":
    main()
