"""Chinese full-text search over everything published: the query's tokens (`fazhi.rules.textsearch`),
the most selective one found by an indexed equality (with the kind, unit and year filters), the
bounded set it returns checked for every token, ranked, and highlighted."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.rules import query_tokens, score
from open_government.store import DOCUMENTS

CANDIDATE_CAP = 100
"""The most documents ranked for one query: those of its most selective token, newest years
first. The local store reads every document it returns in full, so a bounded set is what keeps a
query on a common word fast; `Results.capped` says the ranking covered only that many."""
YEARS_BACK = 10
COMMON = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其最外没看天政区市县街道关规范管执务公共建设服信息案件办督查监审批准责任单位内容实施通知意见决策依照"
)
"""Characters so frequent in a government's texts that a token made of them finds too many
documents: the query's token with the fewest of them is the one looked up."""
LISTED = {"owner_units": 0, "_v": 0, "_pos": 0}
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
    best = most_selective(tokens)
    found = await _candidates(db, best, where, filters.year)
    capped = len(found) >= CANDIDATE_CAP
    ranked: list[Hit] = []
    for doc in found:
        have = doc.pop("tokens", [])
        if not set(tokens) <= set(have):
            continue
        ranked.append(Hit(doc, score(query, have, title=doc.get("title", ""))))
    ranked.sort(key=lambda hit: (-hit.score, _newest_first(hit.doc)))
    page = ranked[offset : offset + limit]
    for hit in page:
        hit.title_html = highlight(hit.doc.get("title", ""), query)
        hit.snippet_html = snippet(hit.doc.get("body", "") or "", query)
    for hit in ranked:
        hit.doc.pop("body", None)
    return Results(query=query, total=len(ranked), hits=page, token=best, capped=capped)


async def _candidates(
    db: AsyncDatabase[dict[str, Any]], token: str, where: dict[str, Any], year: int | None
) -> list[dict[str, Any]]:
    """The documents holding `token` (and the filters), newest years first, at most
    `CANDIDATE_CAP`: one indexed equality per year."""
    if year is not None:
        query = db[DOCUMENTS].find({"tokens": token, **where}, LISTED).limit(CANDIDATE_CAP)
        return await query.to_list(None)
    found: list[dict[str, Any]] = []
    this_year = datetime.now(CHINA_TZ).year
    for y in range(this_year + 1, this_year - YEARS_BACK, -1):
        rows = (
            await db[DOCUMENTS]
            .find({"tokens": token, "year": y, **where}, LISTED)
            .limit(CANDIDATE_CAP - len(found))
            .to_list(None)
        )
        found += rows
        if len(found) >= CANDIDATE_CAP:
            break
    return found


def most_selective(tokens: list[str]) -> str:
    """The token likely to find the fewest documents, without asking the store: the one with
    the fewest very common characters, then the longest, then the last (the query's end is
    usually its most specific part)."""
    ranked = sorted(
        enumerate(tokens),
        key=lambda it: (sum(ch in COMMON for ch in it[1]) / len(it[1]), -len(it[1]), -it[0]),
    )
    return ranked[0][1]


def _newest_first(doc: dict[str, Any]) -> tuple[int, ...]:
    on = doc.get("published_on") or "0000-00-00"
    return tuple(-int(part) for part in on.split("-"))


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
