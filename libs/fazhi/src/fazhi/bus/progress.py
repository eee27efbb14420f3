"""How far a worker group has got: its committed offsets, read from Kafka."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient

from fazhi.kafkaclient import KafkaClient, kafka_options


class WorkerProgress:
    """The committed offsets of consumer group `group`: per (topic, partition), the offset of
    the next record the group will take. A worker commits a batch's offsets only once the
    batch is applied (`fazhi.bus.worker`), so every record before it has its ledger entry.

    One admin connection, opened on first use and again after a failure; a call that cannot
    answer within `timeout_s` raises."""

    def __init__(self, bootstrap: str | KafkaClient, group: str, *, timeout_s: float = 2.0):
        self.bootstrap = bootstrap
        self.group = group
        self.timeout_s = timeout_s
        self._admin: AIOKafkaAdminClient | None = None

    async def __call__(self) -> Mapping[tuple[str, int], int]:
        try:
            async with asyncio.timeout(self.timeout_s):
                if self._admin is None:
                    admin = AIOKafkaAdminClient(
                        **kafka_options(self.bootstrap),
                        request_timeout_ms=int(self.timeout_s * 1000),
                    )
                    await admin.start()
                    self._admin = admin
                committed = await self._admin.list_consumer_group_offsets(self.group)
        except BaseException:
            await self.close()
            raise
        return {
            (tp.topic, tp.partition): meta.offset
            for tp, meta in committed.items()
            if meta is not None and meta.offset >= 0
        }

    async def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()
