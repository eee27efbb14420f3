"""Chinese full-text search tokens for an indexed array field, so it works on any MongoDB server.

Pure functions; :func:`index_tokens`, :func:`query_tokens` and :func:`score` document the choices.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

__all__ = [
    "MAX_QUERY_TOKENS",
    "MAX_TOKENS",
    "MAX_WORD_CHARS",
    "index_tokens",
    "mongo_filter",
    "query_tokens",
    "score",
]

MAX_TOKENS = 4096
MAX_QUERY_TOKENS = 64
MAX_WORD_CHARS = 8

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# CJK runs, or runs of other letters and digits (latin, digits, kana…); everything else splits.
_RUN = re.compile(f"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\\W_])+)")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _runs(text: str) -> Iterator[tuple[bool, str]]:
    for m in _RUN.finditer(_normalise(text)):
        yield m.lastgroup == "cjk", m.group()


def _bigrams(run: str) -> Iterator[str]:
    for i in range(len(run) - 1):
        yield run[i : i + 2]


def _index_run(is_cjk: bool, run: str) -> Iterator[str]:
    if not is_cjk:
        yield run
        return
    if 2 <= len(run) <= MAX_WORD_CHARS:
        yield run
    yield from _bigrams(run)
    yield from run


def _dedup(tokens: Iterator[str], limit: int) -> list[str]:
    # dict keeps first-appearance order, which makes the output stable for equal input.
    out: dict[str, None] = {}
    for token in tokens:
        if len(out) >= limit:
            break
        out.setdefault(token, None)
    return list(out)


def index_tokens(*texts: str, limit: int = MAX_TOKENS) -> list[str]:
    """Deduplicated search tokens of a document made of ``texts`` (title first), ≤ ``limit``.

    Text is NFKC-normalised (full-width → half-width) and lower-cased; punctuation and spaces
    split it into runs. Tokens, in order of first appearance: for each run of CJK characters the
    whole run if it has 2-``MAX_WORD_CHARS`` characters (an exact short word, for ranking), its
    bigrams and its single characters; each run of other letters/digits as one word
    ("２０２６" → "2026"). Unigrams are indexed for every CJK character, not only one-character
    runs, so one-character queries work: a document has at most a few hundred distinct
    characters, fewer tokens than its bigrams. ``MAX_TOKENS`` (4096) bounds the array and its
    index entries; a body longer than that (~3000 distinct bigrams) loses its tail, never the
    title, because earlier texts are indexed first.
    """

    def generate() -> Iterator[str]:
        for text in texts:
            for is_cjk, run in _runs(text):
                yield from _index_run(is_cjk, run)

    return _dedup(generate(), limit)


def query_tokens(query: str) -> list[str]:
    """Tokens all of which a matching document must have; empty for a query of punctuation only.

    A CJK run gives its bigrams (a one-character run, that character), other runs one word each,
    at most ``MAX_QUERY_TOKENS``. So "复议" finds every document containing 复议; bigrams never span
    punctuation, and words match whole ("20" does not find "2026").
    """

    def generate() -> Iterator[str]:
        for is_cjk, run in _runs(query):
            if is_cjk and len(run) > 1:
                yield from _bigrams(run)
            else:
                yield run

    return _dedup(generate(), MAX_QUERY_TOKENS)


def mongo_filter(query: str, field: str = "tokens") -> dict[str, object]:
    """``{field: {"$all": query_tokens}}``; a query without tokens gets a filter matching nothing.

    ``{"$in": []}`` matches no document on MongoDB and FerretDB alike, so an empty or
    punctuation-only query returns no results instead of every document.
    """
    tokens = query_tokens(query)
    if not tokens:
        return {field: {"$in": []}}
    return {field: {"$all": tokens}}


def _phrase(text: str) -> str:
    """Runs joined by single spaces: the form in which an exact phrase is looked for."""
    return " ".join(run for _, run in _runs(text))


def score(query: str, doc_tokens: Sequence[str], *, title: str = "", body: str = "") -> float:
    """Rank of a document for ``query``; higher is better, 0.0 when nothing matches.

    The exact phrase in the title adds 2, in the body 1; without title and body, a whole-word
    token equal to the query adds 0.5. The fraction of query tokens the document has (0-1) orders
    documents within those tiers, so any exact-phrase match outranks any bigram-only match: for
    "行政复议", "…行政复议决定书" ranks above "行政处罚与复议程序" (which the ``$all`` filter does
    not even return, lacking 政复; a ``$in`` search would, ranked lower).
    """
    tokens = query_tokens(query)
    if not tokens:
        return 0.0
    have = set(doc_tokens)
    fraction = sum(token in have for token in tokens) / len(tokens)
    if fraction == 0.0:
        return 0.0
    phrase = _phrase(query)
    tier = 0.0
    if title and phrase in _phrase(title):
        tier += 2.0
    if body and phrase in _phrase(body):
        tier += 1.0
    if not tier and phrase in have:
        tier = 0.5
    return tier + fraction
