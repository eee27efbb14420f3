"""How text becomes search terms, for the index and the query alike. Pure functions.

Two kinds of terms, each at its character offset in the normalised text (NFKC, lower case):

- **words** for ranking: rjieba's search-mode segmentation (a long word and the dictionary
  words inside it: 行政复议 gives 行政, 复议 and 行政复议), so BM25 counts Chinese words;
- **grams** for matching: at every character of a CJK run, the two characters starting there
  (at the run's last character, that character alone); every run of other letters or digits
  is one term. A text of the query is then found wherever it stands in a document, however the
  document happens to be segmented: its grams at their relative offsets, as a phrase
  ("管理办法" is 管理 at 0 and 办法 at 2).

Punctuation and spaces split runs; a phrase spans them by its offsets (so "行政 复议" finds
行政，复议 too, one separator for one).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import rjieba

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# CJK runs, or runs of other letters and digits (latin, digits, kana…); everything else splits.
_RUN = re.compile(f"(?P<cjk>[{_CJK}]+)|(?P<word>(?:(?![{_CJK}])[^\\W_])+)")
_WORDLIKE = re.compile(r"[^\W_]")
_QUOTED = re.compile(r'"([^"]*)"?|“([^”]*)”?|「([^」]*)」?')
MAX_TERM_CHARS = 64
"""A run of letters or digits longer than this is cut (tantivy refuses terms over 64 KiB)."""
MAX_QUERY_CLAUSES = 16


def normalise(text: str) -> str:
    """Full-width to half-width, compatibility forms folded, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Run:
    text: str
    at: int
    cjk: bool


def runs(text: str) -> Iterator[Run]:
    """The runs of a normalised text: CJK characters, or other letters and digits."""
    for m in _RUN.finditer(text):
        yield Run(m.group()[:MAX_TERM_CHARS], m.start(), m.lastgroup == "cjk")


def grams(text: str) -> list[tuple[str, int]]:
    """`(term, offset)` of a normalised text: every CJK character's bigram (the run's last
    character alone), and every other run whole."""
    found: list[tuple[str, int]] = []
    for run in runs(text):
        if not run.cjk:
            found.append((run.text, run.at))
            continue
        found.extend((run.text[i : i + 2], run.at + i) for i in range(len(run.text)))
    return found


def words(text: str) -> list[tuple[str, int]]:
    """`(word, offset)` of a normalised text, by rjieba's search mode; punctuation left out."""
    return [
        (word, start)
        for word, start, _ in rjieba.tokenize(text, mode="search")
        if _WORDLIKE.search(word)
    ]


def phrase_terms(text: str) -> list[tuple[int, str]]:
    """The fewest grams that pin a normalised text down where it stands: `(offset, term)` from
    its first character, covering every character (管理办法: 管理 at 0, 办法 at 2; 管理办: 管理
    at 0, 理办 at 1). A one-character run is its character at the start of whatever gram holds
    it, which a caller asks for as a pattern (`is_single`)."""
    found: list[tuple[int, str]] = []
    origin: int | None = None
    for run in runs(text):
        if origin is None:
            origin = run.at
        at = run.at - origin
        if not run.cjk or len(run.text) == 1:
            found.append((at, run.text))
        else:
            starts = list(range(0, len(run.text) - 1, 2))
            if starts[-1] != len(run.text) - 2:
                starts.append(len(run.text) - 2)
            found.extend((at + i, run.text[i : i + 2]) for i in starts)
    return found


def is_single(term: str) -> bool:
    """A lone CJK character: found as the first character of a gram, not as a term."""
    return len(term) == 1 and _RUN.fullmatch(term) is not None and term >= "\u3400"


@dataclass(frozen=True)
class Clause:
    """One thing a query asks for: a text every result contains (`exact`: as it is, quoted;
    else each of its `units` somewhere), and the `words` it is ranked by."""

    text: str
    exact: bool
    units: tuple[str, ...]
    words: tuple[str, ...]


def _units(text: str) -> list[str]:
    """What an unquoted text must contain: its words of two characters or more, a lone
    character kept with the word before it (or after it), so 行政复议法 asks for 行政复议法,
    not for 法 anywhere; a text of one character is that character."""
    pieces = [w for w in rjieba.cut(text, False) if _WORDLIKE.search(w)]
    units: list[str] = []
    pending = ""
    for piece in pieces:
        if len(piece) == 1 and is_single(piece):
            if units and not pending:
                units[-1] += piece
            else:
                pending += piece
            continue
        units.append(pending + piece)
        pending = ""
    if pending:
        units.append(pending)
    return list(dict.fromkeys(units))


def parse(query: str) -> list[Clause]:
    """The clauses of a query: each quoted text (`"…"`, `“…”`, `「…」`) an exact phrase, each
    run of the rest a clause of its words. Empty for a query of punctuation only."""
    text = normalise(query)
    clauses: list[Clause] = []
    rest: list[str] = []
    last = 0
    for m in _QUOTED.finditer(text):
        rest.append(text[last : m.start()])
        last = m.end()
        quoted = next((g for g in m.groups() if g is not None), "").strip()
        if any(True for _ in runs(quoted)):
            clauses.append(Clause(quoted, True, (quoted,), _query_words(quoted)))
    rest.append(text[last:])
    for part in rest:
        for chunk in part.split():
            for run in runs(chunk):
                units = _units(run.text) if run.cjk else [run.text]
                clauses.append(Clause(run.text, False, tuple(units), _query_words(run.text)))
    unique = list(dict.fromkeys(clauses))
    return unique[:MAX_QUERY_CLAUSES]


def _query_words(text: str) -> tuple[str, ...]:
    """The words a text is ranked by: rjieba's precise segmentation (a long word whole)."""
    return tuple(dict.fromkeys(w for w in rjieba.cut(text, False) if _WORDLIKE.search(w)))


def needles(query: str) -> list[str]:
    """What to mark in a result, longest first: each clause's text, and (unquoted) its units."""
    found: set[str] = set()
    for clause in parse(query):
        found.add(clause.text)
        if not clause.exact:
            found.update(clause.units)
    return sorted((n for n in found if n), key=lambda n: (-len(n), n))
