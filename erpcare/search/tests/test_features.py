"""What a person searching gets: Chinese words from the body, synonyms, typo correction,
highlights, filters, pages, suggestions, similar articles and the record of searches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.search import services
from erpcare.search.models import SearchQuery, Synonym
from erpcare.search.tests.conftest import NOW, ids


def test_chinese_query_finds_chinese_article_by_body_words(cast, docs):
    results = services.search(cast.alice, "保质期 拆分")
    assert ids(results) == [7]
    assert "保质期" not in results.hits[0].title
    assert "<mark>保质期</mark>" in results.hits[0].snippet_html
    assert "<mark>拆分</mark>" in results.hits[0].snippet_html


def test_seeded_synonyms_cross_languages(cast, docs):
    assert (
        ids(services.search(cast.adam, "voucher"))[:3]
        == ids(services.search(cast.adam, "凭证"))[:3]
    )
    assert 2 in ids(services.search(cast.adam, "voucher"))  # a Chinese article
    assert 13 in ids(services.search(cast.adam, "入库单"))  # "goods receipt"
    assert ids(services.search(cast.adam, "bill of materials"))[:1] == [5]  # 物料清单


def test_a_new_synonym_applies_at_once_and_a_deleted_one_stops(cast, docs):
    assert 5 not in ids(services.search(cast.adam, "circular reference"))
    synonym = services.create_synonym(cast.mona, ["循环引用", "circular reference"])
    assert ids(services.search(cast.adam, "circular reference"))[:1] == [5]
    services.delete_synonym(cast.mona, synonym)
    assert 5 not in ids(services.search(cast.adam, "circular reference"))
    actions = AuditEntry.objects.filter(action__startswith="search.synonym").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["search.synonym_created", "search.synonym_deleted"]


def test_a_synonym_changed_by_another_process_is_seen(cast, docs):
    """Another web process edits the table: this one notices by the table's version."""
    services.search(cast.adam, "circular reference")  # builds this process's table
    row = Synonym.objects.create(
        terms=["循环引用", "circular reference"], created_at=NOW, updated_at=NOW
    )
    assert ids(services.search(cast.adam, "circular reference"))[:1] == [5]
    later = Synonym.objects.order_by("-updated_at")[0].updated_at + timedelta(seconds=1)
    Synonym.objects.filter(pk=row.pk).update(
        terms=["循环引用", "loop in the structure"], updated_at=later
    )
    assert 5 not in ids(services.search(cast.adam, "circular reference"))


def test_only_managers_and_admins_edit_synonyms(cast, docs):
    with pytest.raises(NotAllowed):
        services.create_synonym(cast.lina, ["a1", "b1"])
    with pytest.raises(NotAllowed):
        services.create_synonym(cast.alice, ["a1", "b1"])
    services.create_synonym(cast.adam, ["批号", "lot number"])


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        (["凭证"], "at least two"),
        (["凭证", "凭证"], "at least two"),
        (["PO", "po"], "at least two"),
        (["凭证", "the"], "no searchable word"),
        (["凭证", "x" * 101], "at most 100"),
        ([f"t{i}" for i in range(21)], "at most 20"),
        (["凭证", "bad\x00"], "NUL"),
    ],
)
def test_bad_synonyms_are_refused(cast, docs, terms, message):
    before = Synonym.objects.count()
    with pytest.raises(ActionError, match=message):
        services.create_synonym(cast.mona, terms)
    assert Synonym.objects.count() == before


def test_typo_is_corrected_and_said(cast, docs):
    results = services.search(cast.alice, "invoice verifcation")
    assert ids(results)[:1] == [14]
    assert results.corrected_query == "invoice verification"
    assert services.search(cast.alice, "invoice verification").corrected_query is None


def test_short_and_chinese_words_are_not_corrected(cast, docs):
    assert services.search(cast.alice, "ivn").corrected_query is None
    assert services.search(cast.alice, "凭正").corrected_query is None


def test_title_and_snippet_are_highlighted(cast, docs):
    hit = services.search(cast.adam, "ORA-00060 deadlock").hits[0]
    assert (
        hit.title_html
        == "<mark>ORA-00060</mark> <mark>deadlock</mark> detected while posting journals"
    )
    results = services.search(cast.adam, "serialize batches")
    assert "<mark>Serialize</mark> the <mark>batches</mark>" in results.hits[0].snippet_html


def test_filters_by_module_type_and_product(cast, docs):
    assert set(ids(services.search(cast.adam, "凭证", module="gl"))) <= {1, 2, 3, 10, 16, 17}
    assert ids(services.search(cast.adam, "凭证", module="hr")) == []
    # 4 and 11 say 过账, a synonym of posting.
    assert set(ids(services.search(cast.adam, "posting", doc_type="case"))) == {4, 11, 13, 16}
    assert set(ids(services.search(cast.adam, "goods receipt", product="SAP"))) == {13, 14}
    assert set(ids(services.search(cast.adam, "goods receipt", product="sap s/4hana 2023"))) == {
        13,
        14,
    }
    assert ids(services.search(cast.adam, "goods receipt", product="SA")) == []


def test_pages(cast, docs):
    everything = ids(services.search(cast.adam, "凭证"))
    first = services.search(cast.adam, "凭证", limit=2)
    second = services.search(cast.adam, "凭证", limit=2, offset=2)
    assert ids(first) + ids(second) == everything[:4]
    assert first.has_next
    assert first.total == len(everything)
    last = services.search(cast.adam, "凭证", limit=2, offset=len(everything) - 1)
    assert not last.has_next
    assert len(last.hits) == 1
    assert services.search(cast.adam, "凭证", offset=10_000).hits == []


def test_counts_per_kind(cast, docs):
    results = services.search(cast.adam, "凭证")
    assert results.counts == {"article": results.total}


def test_suggestions_as_you_type(cast, docs):
    assert ids(services.suggest(cast.alice, "goods rec"))[:1] == [13]
    assert ids(services.suggest(cast.alice, "Serial num")) == [19]
    assert ids(services.suggest(cast.alice, "三单匹配"))[:1] == [4]
    assert services.suggest(cast.alice, "") == []
    hit = services.suggest(cast.alice, "serial num")[0]
    assert hit.title_html == "<mark>Serial</mark> <mark>numbers</mark> missing on deliveries"


def test_similar_articles_for_a_ticket_text(cast, docs):
    text = "月结的时候系统提示本期还有未审核的凭证，不能结账。请问怎么处理？"
    assert ids(services.similar_articles(cast.lina, text))[:1] == [2]
    text = "Goods receipt in MIGO fails: posting period closed"
    assert ids(services.similar_articles(cast.lina, text))[:1] == [13]
    assert services.similar_articles(cast.lina, "") == []


def test_searches_without_results_are_the_gaps(cast, docs, frozen_now):
    for _ in range(3):
        services.search(cast.alice, "  Kingdee  云星空 授权 ", record=True)
    services.search(cast.bob, "kingdee 云星空 授权", record=True)
    services.search(cast.bob, "宏观经济", record=True)
    services.search(cast.bob, "凭证", record=True)
    services.search(cast.bob, "凭证", offset=20, record=True)  # page 2 is not a new search
    services.search(cast.bob, "宏观经济")  # not recorded
    assert SearchQuery.objects.count() == 6
    row = SearchQuery.objects.filter(user=cast.alice).first()
    assert row.query == "Kingdee 云星空 授权"
    assert row.organization_id == cast.acme.pk
    gaps = services.zero_result_queries(NOW - timedelta(days=1))
    assert [(gap.query, gap.searches) for gap in gaps] == [
        ("kingdee 云星空 授权", 4),
        ("宏观经济", 1),
    ]
    assert services.zero_result_queries(NOW + timedelta(days=1)) == []


def test_the_backend_scores_the_newest_matches_first(cast, docs, monkeypatch):
    """A common word matching more than the window: the newest entries are the ones
    scored (entry ids follow indexing order, the corpus is indexed by id)."""
    from erpcare.search.backends import postgres, sqlite

    monkeypatch.setattr(sqlite, "WINDOW", 3)
    monkeypatch.setattr(postgres, "WINDOW", 3)
    assert sorted(ids(services.search(cast.adam, "凭证"))) == [10, 16, 17]
