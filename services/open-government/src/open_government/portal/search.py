"""Chinese full-text search over everything published, on the api's own index
(`open_government.search`): the best hits in cursor pages, facets with their counts, the filters
to drop when nothing is found, and the query's words marked in titles and snippets."""

from __future__ import annotations

import hashlib
import html
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from pydantic import BaseModel, Field

from fazhi.contracts.opengov import DocKind, Validity
from fazhi.rules import get_unit, is_unit_code
from fazhi.web import Problem, decode_cursor, encode_cursor
from open_government.search.analysis import needles, normalise, parse
from open_government.search.index import FACETS, Filters, Ranked, SearchIndex, matching, ranked
from open_government.search.projection import SearchProjection

__all__ = ["Filters", "Results", "SearchDep", "answer", "highlight", "link", "search", "snippet"]

MAX_DEPTH = 5000
"""The deepest hit a cursor reaches: a query with more matches is refined with its facets."""
SNIPPET_BEFORE, SNIPPET_AFTER = 30, 90


async def projection(request: Request) -> SearchProjection:
    found = request.app.state.search
    assert isinstance(found, SearchProjection)
    return found


SearchDep = Annotated[SearchProjection, Depends(projection)]


@dataclass
class Hit:
    doc: dict[str, Any]
    score: float
    title_html: str = ""
    snippet_html: str = ""


@dataclass
class Results:
    query: str
    filters: Filters
    total: int
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    """By facet (kind, unit, year, validity), the count of matches for each value."""
    next: str | None = None
    complete: bool = True
    """False while the index is being rebuilt: some documents may be missing."""
    without: dict[str, int] = field(default_factory=dict)
    """When nothing matches: for each filter set, how many would match without it."""


def search(
    index: SearchIndex | None,
    query: str,
    filters: Filters = Filters(),
    *,
    limit: int = 20,
    cursor: str | None = None,
    complete: bool = True,
) -> Results:
    clauses = parse(query)
    if index is None or not clauses:
        return Results(query=query, filters=filters, total=0, complete=complete)
    fingerprint = _fingerprint(query, filters)
    after, shown = _after(cursor, fingerprint) if cursor else (None, 0)
    scored = ranked(clauses, filters, index.bodies)
    # tantivy lets go of the GIL while it searches: the counts by facet run beside the ranking.
    facets = _beside().submit(index.facets, matching(clauses, filters))
    page, total, more = _page(index, scored, after, shown, limit)
    hits = []
    pattern = _pattern(query)
    for hit in page:
        doc = index.shown(hit.address)
        body = doc.pop("body", "")
        hits.append(
            Hit(
                doc,
                hit.score,
                title_html=_marked(doc.get("title", ""), pattern),
                snippet_html=_snippet(body, pattern),
            )
        )
    found = Results(query=query, filters=filters, total=total, hits=hits, complete=complete)
    if more and page and shown + len(page) < MAX_DEPTH:
        found.next = encode_cursor(_key(fingerprint, page[-1], shown + len(page)), doc["_id"])
    found.facets = facets.result()
    if not total:
        found.without = {
            name: index.count(matching(clauses, filters.without(name))) for name in filters.active()
        }
    return found


@cache
def _beside() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-facets")


def _page(
    index: SearchIndex, query: Any, after: tuple[float, int] | None, shown: int, limit: int
) -> tuple[list[Ranked], int, bool]:
    """The `limit` hits after the cursor's place, whether more follow, and the total. tantivy
    cuts hits that tie with its last at random, so the fetch grows until the page stands
    clear of that place (or every match is fetched)."""
    want = shown + 2 * limit + 1
    while True:
        hits, total = index.top(query, want)
        rest = [h for h in hits if after is None or h.sort > after]
        every = len(hits) >= total
        clear = len(rest) >= limit and rest[limit - 1].sort[0] < hits[-1].sort[0]
        if every or clear or want >= MAX_DEPTH + limit:
            return rest[:limit], total, len(rest) > limit or not every
        want *= 4


def _fingerprint(query: str, filters: Filters) -> str:
    raw = repr((normalise(query).split(), sorted(filters.active().items())))
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _key(fingerprint: str, last: Ranked, shown: int) -> str:
    return f"{fingerprint}:{last.sort[0]!r}:{last.sort[1]}:{shown}"


def _after(cursor: str, fingerprint: str) -> tuple[tuple[float, int], int]:
    key, _ = decode_cursor(cursor)
    try:
        found, score, id_key, shown = str(key).split(":")
        if found != fingerprint:
            raise ValueError("another query's cursor")
        return (float(score), int(id_key)), int(shown)
    except ValueError as exc:
        raise Problem(
            400,
            "The cursor is not one this search gave: pass the `next` of the previous page of "
            "the same query and filters, or no cursor for the first page.",
            kind="bad-cursor",
        ) from exc


# ---------------------------------------------------------------- marks


def _pattern(query: str) -> re.Pattern[str] | None:
    found = needles(query)
    if not found:
        return None
    return re.compile("|".join(re.escape(n) for n in found), re.IGNORECASE)


def highlight(text: str, query: str) -> str:
    """`text` HTML-escaped, with what matches the query inside `<mark>`."""
    return _marked(text, _pattern(query))


def snippet(body: str, query: str) -> str:
    """A highlighted excerpt of `body` around the first match (its start when none)."""
    return _snippet(body, _pattern(query))


def _marked(text: str, pattern: re.Pattern[str] | None) -> str:
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


def _snippet(body: str, pattern: re.Pattern[str] | None) -> str:
    found = pattern.search(body) if pattern else None
    start = max(0, found.start() - SNIPPET_BEFORE) if found else 0
    end = min(len(body), (found.end() if found else 0) + SNIPPET_AFTER)
    text = body[start:end].replace("\n", " ")
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(body) else ""
    return prefix + _marked(text, pattern) + suffix


# ---------------------------------------------------------------- answers


def facet_label(name: str, value: str) -> str:
    """A facet value in words: 规范性文件, 区司法局, 2026年, 有效."""
    if name == "kind":
        return DocKind(value).label_zh if value in {str(k) for k in DocKind} else value
    if name == "unit":
        return get_unit(value).name if is_unit_code(value) else value
    if name == "validity":
        return Validity(value).label_zh if value in {str(v) for v in Validity} else value
    return f"{value}年"


FACET_NAMES = {"kind": "类别", "unit": "发布单位", "year": "年份", "validity": "效力"}


class FacetValue(BaseModel):
    value: str
    label_zh: str
    count: int


class SearchItem(BaseModel):
    document_id: str
    doc_kind: str
    title: str
    number: str = ""
    issuing_unit: str
    published_at: str | None = None
    published_on: str | None = None
    year: int | None = None
    version: int | None = None
    validity: str | None = Field(default=None, description="有效 / 失效 / 废止 (normative)")
    validity_label_zh: str | None = None
    score: float
    title_html: str = Field(description="The title, HTML-escaped, the query's words in <mark>")
    snippet_html: str = Field(description="An excerpt of the body around the first match")


class SearchAnswer(BaseModel):
    """One page of search results, best first."""

    query: str
    total: int = Field(description="How many documents match in all")
    complete: bool = Field(
        description="False while this replica's index is being rebuilt (results may be missing)"
    )
    items: list[SearchItem]
    next: str | None = Field(description="The cursor of the next page; null on the last")
    facets: dict[str, list[FacetValue]] = Field(
        description="kind, unit, year and validity: the matches' count for each value"
    )
    without: dict[str, int] = Field(
        description="When nothing matches: each filter given, and how many match without it"
    )


def answer(found: Results) -> SearchAnswer:
    items = []
    for hit in found.hits:
        doc = hit.doc
        validity = doc.get("validity")
        items.append(
            SearchItem(
                document_id=doc["_id"],
                doc_kind=doc.get("doc_kind", ""),
                title=doc.get("title", ""),
                number=doc.get("number") or "",
                issuing_unit=doc.get("issuing_unit", ""),
                published_at=doc.get("published_at"),
                published_on=doc.get("published_on"),
                year=doc.get("year"),
                version=doc.get("version"),
                validity=validity,
                validity_label_zh=facet_label("validity", validity) if validity else None,
                score=round(hit.score, 4),
                title_html=hit.title_html,
                snippet_html=hit.snippet_html,
            )
        )
    return SearchAnswer(
        query=found.query,
        total=found.total,
        complete=found.complete,
        items=items,
        next=found.next,
        facets={
            name: [
                FacetValue(value=value, label_zh=facet_label(name, value), count=count)
                for value, count in sorted(found.facets.get(name, {}).items(), key=_facet_order)
            ]
            for name in FACETS
        },
        without=found.without,
    )


def _facet_order(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def link(query: str, filters: Filters, **changes: Any) -> str:
    """The portal's search page for `query` with `filters` changed (None drops one)."""
    given: dict[str, Any] = {"q": query, **filters.active()}
    for name, value in changes.items():
        if value is None:
            given.pop(name, None)
        else:
            given[name] = value
    return "/search?" + urlencode(given)
