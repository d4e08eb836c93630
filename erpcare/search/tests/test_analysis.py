"""Text analysis: the same words on the index side and the query side."""

from __future__ import annotations

import pytest

from erpcare.search import analysis
from erpcare.search.analysis import highlight, index_terms, parse_query, query_terms


def test_erp_dictionary_keeps_compounds_and_indexes_their_parts():
    terms = index_terms("记账凭证无法保存")
    assert "记账凭证" in terms
    assert {"记账", "凭证"} <= set(terms)  # a document about 记账凭证 is found by 凭证


def test_three_way_match_stays_one_term():
    tokens = list(analysis.tokens("三单匹配失败", for_search=False))
    assert [token.terms for token in tokens] == [("三单匹配",), ("失败",)]
    assert "三" not in index_terms("三单匹配失败")
    assert "单" not in index_terms("三单匹配失败")


@pytest.mark.parametrize(
    "word",
    ["月结", "反结账", "总账", "科目余额表", "物料需求计划", "入库单", "红字发票", "序列号"],
)
def test_erp_terms_are_single_words(word):
    assert query_terms(word)[0] == word


def test_query_for_a_compound_also_looks_for_its_parts():
    (group,) = parse_query("记账凭证")
    assert group.primary == ("记账凭证",)
    assert ("凭证",) in group.weak
    assert "凭证" in query_terms("记账凭证")


def test_chinese_stop_words_go_but_negations_stay():
    terms = query_terms("为什么凭证不能审核")
    assert "为什么" not in terms
    assert {"凭证", "不能", "审核"} <= set(terms)
    assert "无法" in query_terms("凭证无法保存")


def test_english_is_stemmed_and_stop_words_dropped():
    assert index_terms("Goods receipts are not posted") == ["good", "receipt", "not", "post"]
    assert query_terms("receipts") == query_terms("receipt") == ["receipt"]
    assert query_terms("how to post") == ["post"]
    assert query_terms("the a of") == []


def test_codes_are_indexed_whole_and_in_parts():
    assert index_terms("ORA-00060: deadlock") == ["ora00060", "ora", "00060", "deadlock"]
    assert index_terms("INC-2026-000123")[:1] == ["inc2026000123"]
    assert {"inc", "2026", "000123"} <= set(index_terms("INC-2026-000123"))
    assert "gr" in index_terms("GR posted")
    assert "mrp" in index_terms("MRP run")
    (group,) = parse_query("ORA-00060")
    assert group.alternatives == [("ora00060",), ("ora", "00060")]


def test_full_width_input_is_normalised():
    assert index_terms("ＭＲＰ　ＯＲＡ－００060") == index_terms("MRP ORA-00060")
    assert query_terms("ＧＲ") == ["gr"]


def test_mixed_chinese_and_latin():
    assert index_terms("用友U8 GR单据") == ["用友", "u8", "gr", "单据"]


def test_the_word_being_typed_is_also_a_prefix():
    groups = parse_query("goods recei", prefix_last=True)
    assert ("recei*",) in groups[-1].alternatives
    # A finished word (followed by a space) is not a prefix.
    assert all(
        not alt[0].endswith("*")
        for g in parse_query("goods ", prefix_last=True)
        for alt in g.alternatives
    )


def test_queries_are_capped():
    long_query = " ".join(f"word{i} term{i}x" for i in range(2000))
    groups = parse_query(long_query)
    assert len(groups) <= analysis.MAX_GROUPS
    assert len({t for g in groups for t in g.terms()}) <= analysis.MAX_QUERY_TERMS
    assert parse_query("x" * 100_000) == []  # one 100,000-letter "word": longer than a term


def test_the_same_word_twice_is_one_group():
    assert len(parse_query("凭证 凭证 voucher voucher")) == 2


@pytest.mark.parametrize(
    "text",
    ['"', "*", "NEAR(a b)", "a:b", "-x", "(", '"unbalanced', "'; DROP TABLE x; --", "", "   "],
)
def test_syntax_characters_are_just_text(text):
    for group in parse_query(text, prefix_last=True):
        for alternative in group.alternatives:
            for term in alternative:
                assert term.rstrip("*").isalnum()


def test_highlight_marks_matches_in_the_best_window():
    text = (
        "无关的开头。" * 40
        + "月结之后记账凭证无法保存，处理方法是先反结账再修改凭证。"
        + "结尾。" * 40
    )
    snippet = highlight(text, ["凭证", "反结账", "保存"], max_len=60)
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert "<mark>反结账</mark>" in snippet
    assert "<mark>保存</mark>" in snippet
    assert snippet.count("<mark>凭证</mark>") == 2


def test_highlight_matches_stems_and_prefixes_in_the_original_text():
    snippet = highlight("Posting Goods Receipts (GR) in MIGO", ["good", "receipt", "gr", "mig*"])
    assert snippet == (
        "Posting <mark>Goods</mark> <mark>Receipts</mark> (<mark>GR</mark>) in <mark>MIGO</mark>"
    )


def test_highlight_escapes_html():
    snippet = highlight("<script>alert('凭证')</script> 凭证", ["凭证"])
    assert "<script" not in snippet
    assert "&lt;script" in snippet
    assert "<mark>凭证</mark>" in snippet


def test_highlight_without_matches_shows_the_start():
    assert highlight("a" * 50 + " tail", ["zzz"], max_len=20) == "a" * 20 + "…"
    assert highlight("", ["x"]) == ""


def test_surface_form_of_a_corrected_stem():
    assert analysis.surface("recievable", "receiv") == "receivable"
    assert analysis.surface("verifcation", "verif") == "verification"
