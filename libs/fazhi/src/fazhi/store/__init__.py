"""Storage: aggregates and their timelines in MongoDB, the in-memory store beside it, the
codec of domain objects, sealed personal data and its retention, holiday schedules.

What services use is exported here, imported on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "COLLECTION": "calendar",
    "Binding": "catalog",
    "EventCatalog": "catalog",
    "clock_summary": "codec",
    "decode": "codec",
    "encode": "codec",
    "mongo_client": "connect",
    "DUPLICATE_KEY": "projection",
    "Document": "projection",
    "HotQuery": "projection",
    "INTERNAL_FIELDS": "projection",
    "OWNERS": "projection",
    "UPDATE_BATCH": "projection",
    "VERSION": "projection",
    "applied_position": "projection",
    "MasterKey": "sealing",
    "NONCE_BYTES": "sealing",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fazhi.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"fazhi.store.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from fazhi.store.calendar import COLLECTION as COLLECTION
    from fazhi.store.catalog import Binding as Binding
    from fazhi.store.catalog import EventCatalog as EventCatalog
    from fazhi.store.codec import clock_summary as clock_summary
    from fazhi.store.codec import decode as decode
    from fazhi.store.codec import encode as encode
    from fazhi.store.connect import mongo_client as mongo_client
    from fazhi.store.projection import DUPLICATE_KEY as DUPLICATE_KEY
    from fazhi.store.projection import INTERNAL_FIELDS as INTERNAL_FIELDS
    from fazhi.store.projection import OWNERS as OWNERS
    from fazhi.store.projection import UPDATE_BATCH as UPDATE_BATCH
    from fazhi.store.projection import VERSION as VERSION
    from fazhi.store.projection import Document as Document
    from fazhi.store.projection import HotQuery as HotQuery
    from fazhi.store.projection import applied_position as applied_position
    from fazhi.store.sealing import NONCE_BYTES as NONCE_BYTES
    from fazhi.store.sealing import MasterKey as MasterKey
