"""Atom feeds of what is published (all, per kind, per unit), built with `feedgen`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator

from fazhi.contracts.opengov import DocKind
from fazhi.rules import get_unit

PORTAL_NAME = "碑林区政务公开"


def atom(
    *, base_url: str, path: str, title: str, items: list[dict[str, Any]], updated: datetime
) -> bytes:
    """An Atom 1.0 document of `items` (newest first), each linking to its portal page."""
    feed = FeedGenerator()
    feed.id(f"{base_url}{path}")
    feed.title(title)
    feed.subtitle(f"{PORTAL_NAME}：{title}")
    feed.author({"name": PORTAL_NAME})
    feed.link(href=f"{base_url}{path}", rel="self")
    feed.link(href=f"{base_url}/", rel="alternate")
    feed.language("zh-CN")
    latest = max((item["published_at"] for item in items), default=updated)
    feed.updated(latest)
    for item in reversed(items):  # feedgen prepends: the newest ends up first
        entry = feed.add_entry()
        url = f"{base_url}/documents/{item['_id']}"
        entry.id(url)
        entry.title(item.get("title") or item["_id"])
        entry.link(href=url, rel="alternate")
        entry.published(item.get("first_published_at") or item["published_at"])
        entry.updated(item["published_at"])
        kind = item.get("doc_kind")
        if kind:
            entry.category(term=kind, label=DocKind(kind).label_zh)
        unit = item.get("issuing_unit")
        if unit:
            entry.author({"name": get_unit(unit).name})
        parts = [item.get("number") or "", get_unit(unit).name if unit else ""]
        entry.summary(" ".join(p for p in parts if p) or (item.get("title") or ""))
    result: bytes = feed.atom_str(pretty=True)
    return result
