"""The search API: shapes checked against the OpenAPI document, errors as JSON, roles."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from erpcare.search.models import SearchQuery, Synonym

S = "/api/v1/search"
JSON = "application/json"


def client_for(cast, user) -> Client:
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


@pytest.fixture
def spec(db) -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


def documented(spec, method: str, path: str, response) -> Any:
    """The response's JSON, after checking it against the document (objects closed)."""
    operation = spec["paths"][path][method]
    content = operation["responses"][str(response.status_code)].get("content")
    body = response.json() if response.content else None
    if content is None:
        return body
    components = copy.deepcopy(spec["components"])
    for schema in components.get("schemas", {}).values():
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    root = {**content[JSON]["schema"], "components": components}
    Draft202012Validator(root, format_checker=FormatChecker()).validate(body)
    return body


def test_search_answers_the_documented_shape(cast, docs, spec):
    response = client_for(cast, cast.alice).get(S, {"q": "invoice verifcation", "page_size": 2})
    assert response.status_code == 200
    body = documented(spec, "get", S, response)
    assert body["corrected_query"] == "invoice verification"
    assert body["page"] == 1
    assert body["page_size"] == 2
    assert body["has_next"] is True
    hit = body["items"][0]
    assert (hit["kind"], hit["object_id"], hit["type"]) == ("article", 14, "faq")
    assert "<mark>" in hit["title_html"]
    assert body["counts"]["article"] == body["total"]


def test_search_filters_and_pages(cast, docs, spec):
    client = client_for(cast, cast.adam)
    first = client.get(S, {"q": "凭证", "kind": "article", "module": "gl", "page_size": 2}).json()
    second = client.get(
        S, {"q": "凭证", "kind": "article", "module": "gl", "page_size": 2, "page": 2}
    ).json()
    seen = [h["object_id"] for h in first["items"] + second["items"]]
    assert len(set(seen)) == 4
    response = client.get(S, {"q": "goods receipt", "type": "case", "product": "SAP"})
    assert [h["object_id"] for h in documented(spec, "get", S, response)["items"]] == [13]


def test_page_one_is_recorded_for_the_gaps_report(cast, docs):
    client = client_for(cast, cast.bob)
    client.get(S, {"q": "宏观经济"})
    client.get(S, {"q": "宏观经济", "page": 2})
    assert list(SearchQuery.objects.values_list("query", "zero_results")) == [("宏观经济", True)]
    report = client_for(cast, cast.mona).get(f"{S}/zero-results", {"days": 7})
    assert report.status_code == 200
    assert [(g["query"], g["searches"]) for g in report.json()] == [("宏观经济", 1)]
    assert client.get(f"{S}/zero-results").status_code == 403


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"q": "x", "kind": "nonsense"}, 400, "Unknown kind"),
        ({"q": "x", "module": "astrology"}, 400, "Unknown ERP module"),
        ({"q": "x", "page": 0}, 422, "page"),
        ({"q": "x", "page": 11}, 422, "page"),
        ({"q": "x", "page_size": 500}, 422, "page_size"),
        ({"q": "x", "page": "two"}, 422, "page"),
    ],
)
def test_bad_parameters_get_a_json_error(cast, docs, params, status, message):
    response = client_for(cast, cast.alice).get(S, params)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_sign_in_is_required(db):
    response = Client().get(S, {"q": "凭证"})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_suggest_and_similar(cast, docs, spec):
    client = client_for(cast, cast.alice)
    response = client.get(f"{S}/suggest", {"q": "goods rec"})
    assert [s["object_id"] for s in documented(spec, "get", f"{S}/suggest", response)][:1] == [13]
    response = client.post(
        f"{S}/similar", {"text": "月结时提示有未审核凭证，无法结账"}, content_type=JSON
    )
    assert [h["object_id"] for h in documented(spec, "post", f"{S}/similar", response)][:1] == [2]
    response = client.post(f"{S}/similar", {"text": "x", "extra": 1}, content_type=JSON)
    assert response.status_code == 422


def test_synonyms_staff_read_managers_write(cast, docs, spec):
    seeded = Synonym.objects.count()
    assert seeded >= 40
    agent, manager, customer = (client_for(cast, u) for u in (cast.lina, cast.mona, cast.alice))
    listing = agent.get(f"{S}/synonyms", {"q": "voucher"})
    body = documented(spec, "get", f"{S}/synonyms", listing)
    assert any("凭证" in item["terms"] for item in body["items"])
    assert customer.get(f"{S}/synonyms").status_code == 403

    new = {"terms": ["循环引用", "circular reference"]}
    assert agent.post(f"{S}/synonyms", new, content_type=JSON).status_code == 403
    created = manager.post(f"{S}/synonyms", new, content_type=JSON)
    assert created.status_code == 201
    synonym_id = documented(spec, "post", f"{S}/synonyms", created)["id"]
    assert [h["object_id"] for h in agent.get(S, {"q": "circular reference"}).json()["items"]][
        :1
    ] == [5]

    changed = manager.put(
        f"{S}/synonyms/{synonym_id}", {"terms": ["循环引用", "loop"]}, content_type=JSON
    )
    assert documented(spec, "put", f"{S}/synonyms/{{synonym_id}}", changed)["terms"] == [
        "循环引用",
        "loop",
    ]
    assert (
        agent.put(
            f"{S}/synonyms/{synonym_id}", {"terms": ["a1", "b1"]}, content_type=JSON
        ).status_code
        == 403
    )
    assert agent.delete(f"{S}/synonyms/{synonym_id}").status_code == 403
    assert manager.delete(f"{S}/synonyms/{synonym_id}").status_code == 204
    assert manager.get(f"{S}/synonyms/{synonym_id}").status_code == 404
    assert Synonym.objects.count() == seeded


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"terms": ["only one"]}, 422, "terms"),
        ({"terms": ["凭证", "the"]}, 400, "no searchable word"),
        ({"terms": ["凭证", "voucher"], "note": "x"}, 422, "note"),
        ({"terms": "凭证 voucher"}, 422, "terms"),
        ({"terms": ["凭证", "x\u0000"]}, 422, "NUL"),
    ],
)
def test_bad_synonyms_get_a_json_error(cast, docs, body, status, message):
    before = Synonym.objects.count()
    response = client_for(cast, cast.mona).post(f"{S}/synonyms", body, content_type=JSON)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert Synonym.objects.count() == before


def test_every_search_operation_answers_as_documented(cast, docs, spec):
    """Each operation under /api/v1/search once, checked against the document (the
    project-wide coverage test in tickets/tests/test_openapi.py leaves these to us)."""
    staff, manager = client_for(cast, cast.lina), client_for(cast, cast.mona)
    group = Synonym.objects.order_by("id").first()
    calls = [
        ("get", S, staff.get(S, {"q": "凭证"})),
        ("get", f"{S}/suggest", staff.get(f"{S}/suggest", {"q": "凭证"})),
        ("post", f"{S}/similar", staff.post(f"{S}/similar", {"text": "凭证"}, content_type=JSON)),
        ("get", f"{S}/synonyms", staff.get(f"{S}/synonyms")),
        (
            "post",
            f"{S}/synonyms",
            manager.post(f"{S}/synonyms", {"terms": ["尾差", "rounding"]}, content_type=JSON),
        ),
        ("get", f"{S}/synonyms/{{synonym_id}}", staff.get(f"{S}/synonyms/{group.pk}")),
        (
            "put",
            f"{S}/synonyms/{{synonym_id}}",
            manager.put(f"{S}/synonyms/{group.pk}", {"terms": group.terms}, content_type=JSON),
        ),
        ("delete", f"{S}/synonyms/{{synonym_id}}", manager.delete(f"{S}/synonyms/{group.pk}")),
        ("get", f"{S}/zero-results", staff.get(f"{S}/zero-results")),
    ]
    for method, path, response in calls:
        assert response.status_code < 300, (method, path, response.content[:200])
        documented(spec, method, path, response)
    ours = {
        (method, path)
        for path, operations in spec["paths"].items()
        if path.startswith(S)
        for method in operations
    }
    assert ours == {(method, path) for method, path, _response in calls}
