"""The portal's search, its pure parts: how text becomes terms and a query clauses, and how
matches are marked."""

from __future__ import annotations

from open_government.portal.search import highlight, snippet
from open_government.search.analysis import grams, needles, normalise, parse, phrase_terms, words


def test_every_character_of_a_run_holds_the_bigram_starting_there() -> None:
    assert grams("行政复议") == [("行政", 0), ("政复", 1), ("复议", 2), ("议", 3)]
    # Punctuation splits runs (no bigram across it) but keeps its offset; other runs whole.
    assert grams(normalise("印发《碑林区》２０２６Ab")) == [
        ("印发", 0),
        ("发", 1),
        ("碑林", 3),
        ("林区", 4),
        ("区", 5),
        ("2026ab", 7),
    ]


def test_a_phrase_is_the_fewest_grams_at_their_offsets() -> None:
    assert phrase_terms("管理办法") == [(0, "管理"), (2, "办法")]
    assert phrase_terms("管理办") == [(0, "管理"), (1, "理办")]
    assert phrase_terms("行政 复议") == [(0, "行政"), (3, "复议")]
    assert phrase_terms("2026年") == [(0, "2026"), (4, "年")]


def test_words_are_jieba_search_mode_words_with_their_offsets() -> None:
    found = words(normalise("中华人民共和国行政复议法"))
    assert ("行政复议", 7) in found
    assert ("行政", 7) in found
    assert ("复议", 9) in found
    assert all(w.strip("，。") for w, _ in words("关于，规范。"))


def test_a_query_is_clauses_of_words_and_quoted_phrases() -> None:
    (one,) = parse("管理办法")
    assert not one.exact
    assert one.units == ("管理", "办法")  # each somewhere, not necessarily side by side
    (quoted,) = parse("“管理办法”")
    assert quoted.exact
    assert quoted.units == ("管理办法",)
    assert [c.text for c in parse('共享单车 "行政 复议" 2026')] == ["行政 复议", "共享单车", "2026"]
    assert parse("，。！") == []


def test_a_lone_character_stays_with_its_word() -> None:
    (law,) = parse("行政复议法")
    assert law.units == ("行政复议法",)
    assert law.words == ("行政复议", "法")


def test_needles_are_the_clauses_and_their_words_longest_first() -> None:
    assert needles("管理办法") == ["管理办法", "办法", "管理"]
    assert needles('"行政复议"') == ["行政复议"]


def test_matches_are_marked_and_everything_else_escaped() -> None:
    assert highlight("碑林区<行政复议>规定", "复议") == "碑林区&lt;行政<mark>复议</mark>&gt;规定"
    assert highlight("关于共享单车的通告", "共享单车") == "关于<mark>共享单车</mark>的通告"


def test_a_snippet_is_cut_around_the_first_match() -> None:
    body = "甲" * 100 + "行政复议" + "乙" * 200
    cut = snippet(body, "复议")
    assert cut.startswith("…")
    assert cut.endswith("…")
    assert "<mark>复议</mark>" in cut
    assert len(cut) < 200
