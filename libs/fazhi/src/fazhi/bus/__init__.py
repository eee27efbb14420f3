"""The event backbone: publishing to Kafka, the worker's batched idempotent consumer, its
reactions and timers, the api's live tail, the AsyncAPI document.

What services use is exported here, imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "HandlerContext": "batch",
    "KafkaPublisher": "publisher",
    "PublishError": "publisher",
    "Publisher": "publisher",
    "Reactions": "reactions",
    "merge_reactions": "reactions",
    "PoisonError": "records",
    "REFUSAL_HEADER": "records",
    "DayLook": "timers",
    "DayScan": "timers",
    "Timer": "timers",
    "TimerContext": "timers",
    "WorkerEntry": "worker",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fazhi.bus' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fazhi.bus.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from fazhi.bus.batch import HandlerContext as HandlerContext
    from fazhi.bus.publisher import KafkaPublisher as KafkaPublisher
    from fazhi.bus.publisher import Publisher as Publisher
    from fazhi.bus.publisher import PublishError as PublishError
    from fazhi.bus.reactions import Reactions as Reactions
    from fazhi.bus.reactions import merge_reactions as merge_reactions
    from fazhi.bus.records import REFUSAL_HEADER as REFUSAL_HEADER
    from fazhi.bus.records import PoisonError as PoisonError
    from fazhi.bus.timers import DayLook as DayLook
    from fazhi.bus.timers import DayScan as DayScan
    from fazhi.bus.timers import Timer as Timer
    from fazhi.bus.timers import TimerContext as TimerContext
    from fazhi.bus.worker import WorkerEntry as WorkerEntry
