"""What the search service gets from the knowledge base: documents for published
articles only, their audience, and the final visibility check on hits."""

from __future__ import annotations

import pytest

from erpcare.kb import services
from erpcare.kb.search import ArticleProvider
from erpcare.search.documents import Audience
from erpcare.search.registry import provider

pytestmark = pytest.mark.django_db


def test_the_provider_is_registered():
    assert isinstance(provider("article"), ArticleProvider)


def test_only_published_articles_are_documents(cast, library):
    docs = {doc.object_id: doc for doc in ArticleProvider().documents(a.pk for a in library.all())}
    assert set(docs) == {
        library.public.pk,
        library.internal.pk,
        library.acme_only.pk,
        library.globex_only.pk,
    }
    assert set(ArticleProvider().all_ids()) == set(docs)
    assert list(ArticleProvider().documents([])) == []


def test_a_document_carries_text_audience_and_ranking_hints(cast, library):
    services.update_article(
        cast.mona, library.acme_only, summary="Summary words", symptom="Printer says E-42",
        cause="Wrong paper tray", resolution="Choose tray 2", product="SAP S/4HANA 2023",
        module="sales", keywords="E-42, 交货单", type="case",
    )  # fmt: skip
    services.record_feedback(cast.alice, library.acme_only, helpful=True)
    (doc,) = ArticleProvider().documents([library.acme_only.pk])
    assert doc.kind == "article"
    assert doc.title == "Acme: printing delivery notes"
    for text in ("Summary words", "How to handle", "Printer says E-42", "Wrong paper tray",
                 "Choose tray 2"):  # fmt: skip
        assert text in doc.body
    assert (doc.audience, doc.organization_id) == (Audience.CUSTOMER, cast.acme.pk)
    assert (doc.module, doc.doc_type, doc.product) == ("sales", "case", "SAP S/4HANA 2023")
    assert doc.keywords == "E-42, 交货单"
    assert doc.helpfulness == pytest.approx(2 / 3)
    (public,) = ArticleProvider().documents([library.public.pk])
    (internal,) = ArticleProvider().documents([library.internal.pk])
    assert (public.audience, public.organization_id) == (Audience.PUBLIC, None)
    assert internal.audience == Audience.INTERNAL


def test_visible_ids_is_the_scoping_rule(cast, library):
    every = [a.pk for a in library.all()]
    assert ArticleProvider().visible_ids(cast.alice, every) == {
        library.public.pk,
        library.acme_only.pk,
    }
    assert ArticleProvider().visible_ids(cast.bob, every) == {
        library.public.pk,
        library.globex_only.pk,
    }
    # Hits are published articles only, also for staff (the index holds nothing else).
    assert ArticleProvider().visible_ids(cast.lina, every) == {
        library.public.pk,
        library.internal.pk,
        library.acme_only.pk,
        library.globex_only.pk,
    }
    assert ArticleProvider().visible_ids(cast.alice, []) == set()
