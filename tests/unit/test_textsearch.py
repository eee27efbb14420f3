"""Unit and property tests of fazhi.rules.textsearch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi.rules.textsearch import (
    MAX_QUERY_TOKENS,
    MAX_TOKENS,
    index_tokens,
    mongo_filter,
    query_tokens,
    score,
)

PROPERTY = settings(max_examples=200, deadline=None)

TITLES = (
    "碑林区人民政府关于印发《碑林区法治政府建设实施方案（2021—2025年）》的通知",
    "关于公布2026年度重大行政决策事项目录的公告",
    "区市场监管局行政处罚决定书",
    "碑林区行政复议决定书（碑政复决字〔2026〕12号）",
    "关于开展安全生产大检查的通知",
    "行政处罚与复议程序",
)

DOCS = {title: index_tokens(title) for title in TITLES}


def _matches(flt: dict[str, object], tokens: list[str]) -> bool:
    """The two operators ``mongo_filter`` uses, as a MongoDB server evaluates them on arrays."""
    (condition,) = flt.values()
    assert isinstance(condition, dict)
    if "$all" in condition:
        return bool(condition["$all"]) and all(t in tokens for t in condition["$all"])
    return any(t in tokens for t in condition["$in"])


def search(query: str) -> list[str]:
    """What the store does: the ``$all`` filter, then Python ranking with ``score``."""
    flt = mongo_filter(query)
    found = [title for title, tokens in DOCS.items() if _matches(flt, tokens)]
    return sorted(found, key=lambda t: -score(query, DOCS[t], title=t))


def search_any(query: str) -> list[str]:
    """The looser variant: any query token (``$in``), ranked by ``score``."""
    tokens = set(query_tokens(query))
    found = [title for title, doc in DOCS.items() if tokens & set(doc)]
    return sorted(found, key=lambda t: -score(query, DOCS[t], title=t))


# ---------------------------------------------------------------- tokens


def test_index_tokens_of_a_title() -> None:
    tokens = index_tokens("区市场监管局行政处罚决定书")
    assert tokens[0] == "区市"
    assert {"区市", "市场", "监管", "行政", "处罚", "决定", "定书"} <= set(tokens)
    assert {"区", "书"} <= set(tokens)
    # 13 characters: too long to be a whole-word token.
    assert "区市场监管局行政处罚决定书" not in tokens


def test_whole_runs_of_two_to_eight_characters_are_words() -> None:
    tokens = index_tokens("通知：关于开展安全生产，关于开展安全生产大检查；复议")
    assert "通知" in tokens
    assert "关于开展安全生产" in tokens  # 8 characters
    assert "关于开展安全生产大检查" not in tokens  # 11 characters
    assert "复议" in tokens


def test_punctuation_splits_runs_and_is_dropped() -> None:
    tokens = index_tokens("印发《碑林区》“通知”〔2026〕")
    assert "发碑" not in tokens
    assert "林区" in tokens
    assert "2026" in tokens
    assert not any(ch in "".join(tokens) for ch in "《》“”〔〕")


def test_nfkc_and_lower_case() -> None:
    assert index_tokens("ＡＢＣ１２３") == ["abc123"]
    assert index_tokens("Fazhi Portal v2") == ["fazhi", "portal", "v2"]
    assert query_tokens("２０２６") == ["2026"]


def test_tokens_are_deduplicated_in_stable_order() -> None:
    tokens = index_tokens("复议复议", "复议")
    assert tokens == ["复议复议", "复议", "议复", "复", "议"]
    assert index_tokens(*TITLES) == index_tokens(*TITLES)
    assert len(set(index_tokens(*TITLES))) == len(index_tokens(*TITLES))


def test_single_character_runs_and_empty_texts() -> None:
    assert index_tokens("法") == ["法"]
    assert index_tokens("", "。，", "   ") == []


def test_token_count_is_capped_and_the_title_comes_first() -> None:
    body = "".join(chr(0x4E00 + i) for i in range(6000))
    tokens = index_tokens("复议决定", body)
    assert len(tokens) == MAX_TOKENS
    assert tokens[:3] == ["复议决定", "复议", "议决"]
    assert len(index_tokens(body, limit=10)) == 10


def test_query_tokens() -> None:
    assert query_tokens("行政复议") == ["行政", "政复", "复议"]
    assert query_tokens("复议") == ["复议"]
    assert query_tokens("法") == ["法"]
    assert query_tokens("2026年 复议") == ["2026", "年", "复议"]
    assert query_tokens("〔〕《》“”，。 ") == []
    assert query_tokens("") == []
    long_query = "".join(chr(0x4E00 + i) for i in range(200))
    assert len(query_tokens(long_query)) == MAX_QUERY_TOKENS


# ---------------------------------------------------------------- filter and ranking


def test_mongo_filter() -> None:
    assert mongo_filter("行政复议") == {"tokens": {"$all": ["行政", "政复", "复议"]}}
    assert mongo_filter("复议", field="search.tokens") == {"search.tokens": {"$all": ["复议"]}}


@pytest.mark.parametrize("query", ["", "   ", "《》〔〕“”", "，。！？"])
def test_query_without_tokens_matches_nothing(query: str) -> None:
    flt = mongo_filter(query)
    assert flt == {"tokens": {"$in": []}}
    assert search(query) == []
    assert score(query, DOCS[TITLES[0]], title=TITLES[0]) == 0.0


def test_two_character_word_finds_the_document() -> None:
    assert search("复议") == [
        "碑林区行政复议决定书（碑政复决字〔2026〕12号）",
        "行政处罚与复议程序",
    ]
    assert search("通知") == [TITLES[0], TITLES[4]]


def test_four_character_phrase_ranks_exact_match_first() -> None:
    exact, apart = TITLES[3], TITLES[5]
    assert search("行政复议") == [exact]  # the $all filter needs 政复 too
    # Matching any bigram finds both; the exact phrase still ranks first.
    ranked = search_any("行政复议")
    assert ranked[0] == exact
    assert apart in ranked
    assert score("行政复议", DOCS[exact], title=exact) > score("行政复议", DOCS[apart], title=apart)


@pytest.mark.parametrize("query", ["2026", "２０２６"])
def test_ascii_and_full_width_numbers_match(query: str) -> None:
    assert search(query) == [TITLES[1], TITLES[3]]


def test_numbers_match_whole() -> None:
    assert search("12号") == [TITLES[3]]
    assert search("20") == []


def test_single_character_query() -> None:
    assert search("罚") == [TITLES[2], TITLES[5]]


def test_query_with_no_match_is_empty() -> None:
    assert search("城市管理综合执法") == []
    assert search("xyz") == []


def test_phrase_across_punctuation() -> None:
    assert search("《碑林区法治政府建设实施方案") == [TITLES[0]]
    assert search("法治政府建设") == [TITLES[0]]


def test_score_tiers() -> None:
    title = "关于开展安全生产大检查的通知"
    body = "各街道办事处：为做好安全生产工作，现就开展大检查有关事项通知如下。"
    tokens = index_tokens(title, body)
    in_title = score("安全生产", tokens, title=title, body=body)
    in_body_only = score("工作", tokens, title=title, body=body)
    shared_only = score("生产检查", tokens, title=title, body=body)
    assert in_title == pytest.approx(3.0 + 1.0)  # title and body both hold it
    assert in_body_only == pytest.approx(1.0 + 1.0)
    assert 0.0 < shared_only < 1.0
    assert score("安全生产", tokens, title=title) == pytest.approx(2.0 + 1.0)
    assert score("安全生产", tokens, body=body) == pytest.approx(1.0 + 1.0)
    assert score("城管", tokens, title=title, body=body) == 0.0


def test_score_without_texts_uses_word_tokens() -> None:
    tokens = index_tokens("行政复议", "决定书")
    assert score("行政复议", tokens) == pytest.approx(1.5)
    assert score("复议决定", tokens) == pytest.approx(2 / 3)
    assert score("决定书", tokens) > score("复议决定", tokens)


def test_score_rewards_more_of_the_query() -> None:
    t1, t2 = "行政处罚决定书", "行政许可通知"
    assert score("行政处罚决定", index_tokens(t1)) > score("行政处罚决定", index_tokens(t2)) > 0


# ---------------------------------------------------------------- properties

CJK = st.sampled_from(
    list("碑林区人民政府关于印发法治建设实施方案行政复议决定书公告通知处罚检查安全生产年度")
)


@PROPERTY
@given(text=st.lists(CJK, min_size=2, max_size=60).map("".join), data=st.data())
def test_any_cjk_substring_is_found(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 2))
    end = data.draw(st.integers(start + 2, len(text)))
    tokens = set(index_tokens(text))
    assert set(query_tokens(text[start:end])) <= tokens
    assert _matches(mongo_filter(text[start:end]), index_tokens(text))


@PROPERTY
@given(text=st.text(max_size=80))
def test_a_text_finds_itself(text: str) -> None:
    tokens = index_tokens(text)
    assert set(query_tokens(text)) <= set(tokens)
    assert len(tokens) == len(set(tokens))
    if query_tokens(text):
        assert score(text, tokens, title=text) >= 3.0
