"""The search read model: a tantivy index of everything published, one per api replica.

What a published document becomes (`indexed`), how a query is asked (BM25 over title and body in
words, the title boosted, every clause matched by its grams, an exact phrase ranked first; kind,
unit, year and validity as fast filters), and what comes back (hits in a total order, facet
counts). Only the public, redacted fields of a stored document are read; its `private` part never.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tantivy

from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.opengov import DocKind
from open_government.search.analysis import (
    Clause,
    grams,
    is_single,
    normalise,
    phrase_terms,
    words,
)

FORMAT = 1
"""The schema and analysis of the index: an index of another format is rebuilt."""

TITLE_BOOST = 3.0
"""A word in the title counts three times one in the body."""
PHRASE_BOOST = 2.0
"""A clause found as it is (the query's words side by side) ranks above its words apart."""
TITLE_PHRASE_BOOST = 8.0
"""A clause found as it is in the title ranks above any match in the body alone."""
BODY_PHRASE_MAX = 5000
"""A clause of several words is ranked for standing as it is in a body only when at most this
many bodies may hold it: that check reads positions, and over tens of thousands of matches it
would cost more than the rest of the search (the title's is always checked)."""
READ_FIELDS = {
    name: 1
    for name in (
        "doc_kind",
        "title",
        "number",
        "issuing_unit",
        "body",
        "basis",
        "item_type",
        "category",
        "code",
        "published_at",
        "published_on",
        "year",
        "version",
        "validity",
        "notice_state",
        "_pos",
    )
}
"""What the index reads of a stored document (public, redacted texts and their metadata; never
the `private` part); `_pos` says which events it reflects."""
SHOWN = (
    "doc_kind",
    "title",
    "number",
    "issuing_unit",
    "published_on",
    "year",
    "version",
    "validity",
)
FACETS = ("kind", "unit", "year", "validity")
EPOCH = datetime(2000, 1, 1, tzinfo=CHINA_TZ).timestamp()
RECENCY_PER_DAY = 1e-5
WRITER_HEAP = 32_000_000


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    b.add_text_field("title_w", index_option="freq")
    b.add_text_field("body_w", index_option="freq")
    b.add_text_field("title_g", index_option="position")
    b.add_text_field("body_g", index_option="position")
    for name in ("kind", "unit", "validity"):
        b.add_text_field(name, tokenizer_name="raw", fast=True)
    b.add_integer_field("year", indexed=True, fast=True)
    b.add_float_field("recency", fast=True)
    b.add_integer_field("key", fast=True)
    b.add_bytes_field("shown", stored=True)
    return b.build()


SCHEMA = _schema()


def leaves_index(doc: Mapping[str, Any]) -> bool:
    """A withdrawn emergency notice leaves the index; everything else published stays (a
    repealed document too, its validity shown)."""
    return (
        doc.get("doc_kind") == DocKind.EMERGENCY_NOTICE and doc.get("notice_state") == "withdrawn"
    )


def _pre(text: str, terms: Iterable[tuple[str, int]]) -> tantivy.PreTokenizedString:
    tokens = [tantivy.Token(term, at, at, at + len(term)) for term, at in terms]
    return tantivy.PreTokenizedString(text, tokens)


def id_key(doc_id: str) -> int:
    """A stable number for a document id: the last tie-break of the order of hits."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest()) >> 1


def recency(doc: Mapping[str, Any]) -> float:
    """What a score is weighted by (`log2(2 + recency)`): 1e-5 a day since 2000, so a newer
    document ranks above an older one that scores the same (1 % more for 4 years newer), and
    hits rarely tie at all."""
    at = doc.get("published_at")
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at)
        except ValueError:
            at = None
    if not isinstance(at, datetime):
        return 0.0
    days = (at.timestamp() - EPOCH) / 86_400
    return max(days, 0.0) * RECENCY_PER_DAY


def indexed(doc: Mapping[str, Any]) -> tantivy.Document:
    """The index's document for a stored published item (as `READ_FIELDS` reads it)."""
    title = " ".join(str(doc[k]) for k in ("title", "number") if doc.get(k))
    body = "\n".join(
        str(doc[k]) for k in ("body", "basis", "item_type", "category", "code") if doc.get(k)
    )
    norm_title, norm_body = normalise(title), normalise(body)
    out = tantivy.Document()
    out.add_text("id", str(doc["_id"]))
    out.add_pre_tokenized_text("title_w", _pre(norm_title, words(norm_title)))
    out.add_pre_tokenized_text("body_w", _pre(norm_body, words(norm_body)))
    out.add_pre_tokenized_text("title_g", _pre(norm_title, grams(norm_title)))
    out.add_pre_tokenized_text("body_g", _pre(norm_body, grams(norm_body)))
    out.add_text("kind", str(doc.get("doc_kind") or ""))
    out.add_text("unit", str(doc.get("issuing_unit") or ""))
    if doc.get("validity"):
        out.add_text("validity", str(doc["validity"]))
    out.add_integer("year", int(doc.get("year") or 0))
    out.add_float("recency", recency(doc))
    out.add_integer("key", id_key(str(doc["_id"])))
    at = doc.get("published_at")
    shown = {name: doc.get(name) for name in SHOWN if doc.get(name) is not None}
    shown["published_at"] = at.astimezone(CHINA_TZ).isoformat() if isinstance(at, datetime) else at
    shown["body"] = doc.get("body") or ""
    out.add_bytes("shown", json.dumps(shown, ensure_ascii=False).encode())
    return out


# ---------------------------------------------------------------- queries


def _gram_query(fieldname: str, text: str) -> tantivy.Query:
    """`text` (normalised) where it stands in a field's grams."""
    terms = phrase_terms(text)
    if any(is_single(term) for _, term in terms):
        patterns = [
            (at, _single(term) if is_single(term) else _literal(term)) for at, term in terms
        ]
        if len(patterns) == 1:
            return tantivy.Query.regex_query(SCHEMA, fieldname, patterns[0][1])
        return tantivy.Query.regex_phrase_query(SCHEMA, fieldname, patterns)  # type: ignore[arg-type]
    if len(terms) == 1:
        return tantivy.Query.term_query(SCHEMA, fieldname, terms[0][1])
    return tantivy.Query.phrase_query(SCHEMA, fieldname, terms)  # type: ignore[arg-type]


def _single(char: str) -> str:
    return f"{_literal(char)}.?"


def _literal(term: str) -> str:
    return "".join(f"\\{c}" if not c.isalnum() else c for c in term)


def _anywhere(text: str, *, boost: float = 1.0, title_boost: float = 1.0) -> tantivy.Query:
    return tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Should, _boosted(_gram_query("title_g", text), title_boost)),
            (tantivy.Occur.Should, _boosted(_gram_query("body_g", text), boost)),
        ]
    )


def _boosted(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    unit: str | None = None
    year: int | None = None
    validity: str | None = None

    def active(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if value}

    def without(self, name: str) -> Filters:
        return Filters(**{**self.__dict__, name: None})

    def clauses(self) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        return [
            (tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, name, value))
            for name, value in self.active().items()
        ]


def matching(clauses: Sequence[Clause], filters: Filters) -> tantivy.Query:
    """The documents every clause finds (each unit of an unquoted clause, the exact text of a
    quoted one, in the title or the body) within the filters; scored by nothing."""
    must = [(tantivy.Occur.Must, _anywhere(unit)) for clause in clauses for unit in clause.units]
    return tantivy.Query.boolean_query([*must, *filters.clauses()])


def ranked(
    clauses: Sequence[Clause], filters: Filters, bodies: Callable[[str], int] | None = None
) -> tantivy.Query:
    """`matching`, scored by BM25: each unit a clause asks for (a jieba word, or a word with
    its lone characters) where it stands in the title (boosted) and the body; the clauses' other
    words (the words inside a longer unit, those of a quoted phrase) by the words fields; and
    each clause found as it is, in the title above all. `bodies` bounds how many bodies hold a
    gram (see `BODY_PHRASE_MAX`)."""
    scoring: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for clause in clauses:
        for unit in clause.units:
            found = _anywhere(unit, title_boost=TITLE_BOOST)
            scoring.append((tantivy.Occur.Must, found))
        for word in clause.words:
            if word in clause.units:
                continue
            for fieldname, boost in (("title_w", TITLE_BOOST), ("body_w", 1.0)):
                term = tantivy.Query.term_query(SCHEMA, fieldname, word)
                scoring.append((tantivy.Occur.Should, _boosted(term, boost)))
        if clause.units != (clause.text,):
            title = _gram_query("title_g", clause.text)
            scoring.append((tantivy.Occur.Should, _boosted(title, TITLE_PHRASE_BOOST)))
            if (
                bodies is None
                or min(bodies(t) for _, t in phrase_terms(clause.text)) <= BODY_PHRASE_MAX
            ):
                body = _gram_query("body_g", clause.text)
                scoring.append((tantivy.Occur.Should, _boosted(body, PHRASE_BOOST)))
        else:
            title = _gram_query("title_g", clause.text)
            scoring.append((tantivy.Occur.Should, _boosted(title, TITLE_PHRASE_BOOST)))
    return tantivy.Query.boolean_query([*scoring, *filters.clauses()])


# ---------------------------------------------------------------- the index


@dataclass(frozen=True, order=True)
class Ranked:
    """A hit's place in the order of results: its score (weighted by recency), then its id's
    key, so that the order is total."""

    sort: tuple[float, int]
    address: Any = field(compare=False)

    @property
    def score(self) -> float:
        return -self.sort[0]


@dataclass
class SearchIndex:
    """One tantivy index in a directory (or in memory), written by one writer at a time."""

    path: Path | None
    index: tantivy.Index = field(init=False)
    _writer: tantivy.IndexWriter | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        if self.path is None:
            self.index = tantivy.Index(SCHEMA)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self.index = tantivy.Index(SCHEMA, path=str(self.path), reuse=True)
        self.index.config_reader("manual")

    # writing: from one thread at a time (the caller's lock, or the projection's task)

    def put(self, docs: Iterable[Mapping[str, Any]]) -> int:
        """Index (or replace) each document; a withdrawn notice is removed. Uncommitted."""
        count = 0
        with self._lock:
            writer = self._writer_()
            for doc in docs:
                writer.delete_documents_by_term("id", str(doc["_id"]))
                if not leaves_index(doc):
                    writer.add_document(indexed(doc))
                count += 1
        return count

    def remove(self, doc_ids: Iterable[str]) -> None:
        with self._lock:
            writer = self._writer_()
            for doc_id in doc_ids:
                writer.delete_documents_by_term("id", doc_id)

    def commit(self) -> None:
        """Make what was written searchable."""
        with self._lock:
            if self._writer is not None:
                self._writer.commit()
        self.index.reload()

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.commit()
                self._writer.wait_merging_threads()
                self._writer = None

    def _writer_(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self.index.writer(WRITER_HEAP, 1)
        return self._writer

    # reading

    def size(self) -> int:
        return int(self.index.searcher().num_docs)

    def bodies(self, gram: str) -> int:
        """How many bodies hold a gram (a lone character: as many as documents)."""
        if is_single(gram):
            return self.size()
        return int(self.index.searcher().doc_freq("body_g", gram))

    def count(self, query: tantivy.Query) -> int:
        return _count(self.index.searcher().search(query, 1, count=True))

    def top(self, query: tantivy.Query, limit: int) -> tuple[list[Ranked], int]:
        """The best `limit` hits in the order of results, and how many match in all. Hits tied
        at the last place may be cut anywhere (a caller asks for more when that matters)."""
        searcher = self.index.searcher()
        found = searcher.search(query, limit, count=True, weight_by_field="recency")
        addresses = [address for _, address in found.hits]
        keys = searcher.fast_field_values("key", addresses) if addresses else []
        hits = sorted(
            Ranked((-float(score), int(k or 0)), address)
            for (score, address), k in zip(found.hits, keys, strict=True)
        )
        return hits, _count(found)

    def shown(self, address: Any) -> dict[str, Any]:
        doc = self.index.searcher().doc(address)
        shown: dict[str, Any] = json.loads(doc.get_first("shown") or b"{}")
        shown["_id"] = doc.get_first("id")
        return shown

    def facets(self, query: tantivy.Query) -> dict[str, dict[str, int]]:
        """The count of matching documents by kind, unit, year and validity."""
        spec = {name: {"terms": {"field": name, "size": 200}} for name in FACETS}
        found = self.index.searcher().aggregate(query, spec)
        return {
            name: {
                str(bucket["key"]): int(bucket["doc_count"])
                for bucket in found.get(name, {}).get("buckets", [])
                if str(bucket["key"]) not in ("", "0")
            }
            for name in FACETS
        }


def _count(found: tantivy.SearchResult) -> int:
    """How many matched (the stub leaves out the `count` the search was asked for)."""
    return int(getattr(found, "count", 0) or 0)
