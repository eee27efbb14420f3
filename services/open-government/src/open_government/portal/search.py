"""Chinese full-text search over everything published: the query's tokens (`fazhi.textsearch`),
the most selective one found by an indexed equality (with the kind, unit and year filters), the
bounded set it returns checked for every token, ranked, and highlighted."""

from __future__ import annotations

import asyncio
import html
import re
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.textsearch import query_tokens, score
from open_government.store import DOCUMENTS

PROBE_CAP = 2000
"""How far each token's matches are counted when choosing the most selective one."""
CANDIDATE_CAP = 5000
"""The most documents ranked for one query: a query whose every token is in more documents is
ranked over the first 5,000 its most selective token finds (narrow it with a filter)."""
MAX_PROBES = 6
LISTED = {
    "_id": 1,
    "title": 1,
    "number": 1,
    "doc_kind": 1,
    "issuing_unit": 1,
    "published_on": 1,
    "year": 1,
    "validity": 1,
    "tokens": 1,
}
SNIPPET_BEFORE, SNIPPET_AFTER = 30, 90


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    unit: str | None = None
    year: int | None = None

    def query(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.kind:
            found["doc_kind"] = self.kind
        if self.unit:
            found["issuing_unit"] = self.unit
        if self.year:
            found["year"] = self.year
        return found


@dataclass
class Hit:
    doc: dict[str, Any]
    score: float
    title_html: str = ""
    snippet_html: str = ""


@dataclass
class Results:
    query: str
    total: int
    hits: list[Hit] = field(default_factory=list)
    token: str | None = None
    """The token the candidates were found by (the most selective one)."""
    capped: bool = False


async def search(
    db: AsyncDatabase[dict[str, Any]],
    query: str,
    filters: Filters = Filters(),
    *,
    limit: int = 20,
    offset: int = 0,
) -> Results:
    tokens = query_tokens(query)
    if not tokens:
        return Results(query=query, total=0)
    where = filters.query()
    best = await _most_selective(db, tokens, where)
    found = (
        await db[DOCUMENTS]
        .find({"tokens": best, **where}, LISTED)
        .limit(CANDIDATE_CAP + 1)
        .to_list(None)
    )
    capped = len(found) > CANDIDATE_CAP
    ranked: list[Hit] = []
    for doc in found[:CANDIDATE_CAP]:
        have = doc.pop("tokens", [])
        if not set(tokens) <= set(have):
            continue
        ranked.append(Hit(doc, score(query, have, title=doc.get("title", ""))))
    ranked.sort(key=lambda hit: (-hit.score, _newest_first(hit.doc)))
    page = ranked[offset : offset + limit]
    await _with_bodies(db, best, where, page)
    for hit in page:
        hit.title_html = highlight(hit.doc.get("title", ""), query)
        hit.snippet_html = snippet(hit.doc.pop("body", "") or "", query)
    return Results(query=query, total=len(ranked), hits=page, token=best, capped=capped)


def _newest_first(doc: dict[str, Any]) -> tuple[int, ...]:
    on = doc.get("published_on") or "0000-00-00"
    return tuple(-int(part) for part in on.split("-"))


async def _most_selective(
    db: AsyncDatabase[dict[str, Any]], tokens: list[str], where: dict[str, Any]
) -> str:
    """The token with the fewest matches, each counted by one indexed equality up to the cap.
    Longer tokens first: a word is usually rarer than its bigrams."""
    probes = sorted(tokens, key=len, reverse=True)[:MAX_PROBES]
    if len(probes) == 1:
        return probes[0]

    async def count(token: str) -> int:
        rows = (
            await db[DOCUMENTS]
            .find({"tokens": token, **where}, {"_id": 1})
            .limit(PROBE_CAP)
            .to_list(None)
        )
        return len(rows)

    counts = await asyncio.gather(*(count(t) for t in probes))
    return min(zip(counts, range(len(probes)), probes, strict=True))[2]


async def _with_bodies(
    db: AsyncDatabase[dict[str, Any]], token: str, where: dict[str, Any], page: list[Hit]
) -> None:
    """The page's bodies, for snippets: `$in` over the page, bounded by the same equality."""
    if not page:
        return
    ids = [hit.doc["_id"] for hit in page]
    rows = (
        await db[DOCUMENTS]
        .find({"tokens": token, **where, "_id": {"$in": ids}}, {"body": 1})
        .to_list(None)
    )
    bodies = {row["_id"]: row.get("body", "") for row in rows}
    for hit in page:
        hit.doc["body"] = bodies.get(hit.doc["_id"], "")


def _needles(query: str) -> list[str]:
    """What to mark: the query's runs, and the bigrams of its CJK runs (longest first)."""
    runs = [m.group() for m in re.finditer(r"\w+", query) if m.group()]
    pieces = set(runs) | set(query_tokens(query))
    return sorted((p for p in pieces if p), key=len, reverse=True)


def _pattern(query: str) -> re.Pattern[str] | None:
    needles = _needles(query)
    if not needles:
        return None
    return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)


def highlight(text: str, query: str) -> str:
    """`text` HTML-escaped, with what matches the query inside `<mark>`."""
    pattern = _pattern(query)
    if pattern is None:
        return html.escape(text)
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last : m.start()]))
        out.append(f"<mark>{html.escape(m.group())}</mark>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def snippet(body: str, query: str) -> str:
    """A highlighted excerpt of `body` around the first match (its start when none)."""
    pattern = _pattern(query)
    found = pattern.search(body) if pattern else None
    start = max(0, found.start() - SNIPPET_BEFORE) if found else 0
    end = min(len(body), (found.end() if found else 0) + SNIPPET_AFTER)
    text = body[start:end].replace("\n", " ")
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(body) else ""
    return prefix + highlight(text, query) + suffix
