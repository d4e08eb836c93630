"""Any query text is just text: never an error, never a 500, on both backends."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client

from erpcare.search import services
from erpcare.search.models import SearchEntry

BAD = {
    "empty": "",
    "spaces": "   \t\n ",
    "100 KB": "凭证 ORA-00060 " * 6_500,
    "100 KB one word": "x" * 100_000,
    "quote": '"',
    "star": "*",
    "near": "NEAR(a b)",
    "column": "a:b",
    "minus": "-x",
    "paren": "(",
    "unbalanced": '"goods receipt',
    "sql": "'; DROP TABLE x; --",
    "sql 2": "凭证' OR '1'='1",
    "fts operators": "goods AND OR NOT receipt ^title_terms : x",
    "tsquery operators": "goods & | ! <-> receipt :* 'x'",
    "nul": "凭证\x00保存",
    "backslash": "\\ \\\\ \\'",
    "emoji": "🙂 凭证 🧾",
    "control": "\x01\x02\x1b[31m",
    "scope token": "\ue000karticle \ue000apublic",  # the index's own scope tokens
}


@pytest.mark.parametrize("query", BAD.values(), ids=BAD.keys())
def test_service_never_raises(cast, docs, query):
    before = SearchEntry.objects.count()
    for user in (cast.alice, cast.lina, cast.adam):
        services.search(user, query, record=True)
        services.suggest(user, query)
        services.similar_articles(user, query)
    assert SearchEntry.objects.count() == before


@pytest.mark.parametrize("query", BAD.values(), ids=BAD.keys())
def test_api_answers_200(cast, docs, query):
    client = Client(headers={"Authorization": f"Bearer {cast.token(cast.alice)}"})
    for path in ("/api/v1/search", "/api/v1/search/suggest"):
        response = client.get(f"{path}?{urlencode({'q': query})}")
        assert response.status_code == 200, response.content[:200]
    response = client.post(
        "/api/v1/search/similar", {"text": query[:100_000]}, content_type="application/json"
    )
    # NUL characters are refused by name in request bodies, like every other body.
    assert response.status_code == (422 if "\x00" in query else 200)


def test_the_index_still_answers_afterwards(cast, docs):
    for query in BAD.values():
        services.search(cast.adam, query)
    assert [hit.object_id for hit in services.search(cast.adam, "三单匹配").hits][:1] == [4]
