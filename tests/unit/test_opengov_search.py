"""The portal's search, its pure parts: which token is looked up, and how matches are marked."""

from __future__ import annotations

from open_government.portal.search import highlight, most_selective, snippet


def test_the_token_of_the_rarest_characters_is_looked_up() -> None:
    assert most_selective(["行政", "政复", "复议"]) == "复议"
    assert most_selective(["管理", "理办", "办法"]) in ("理办", "办法")
    assert most_selective(["单车"]) == "单车"


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
