"""GET /api/v1/tickets: filters, ordering, pagination and invalid filter values."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from erpcare.core import clock
from erpcare.tickets import services
from erpcare.tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets"
T0 = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


def client_for(cast, user):
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def assert_error(response, status, match=""):
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert re.search(match, detail), detail


@pytest.fixture
def desk(cast):
    """Five tickets with different attributes, created one minute apart."""

    def make(minute, actor, **fields):
        with clock.frozen_at(T0 + timedelta(minutes=minute)):
            return services.create_ticket(actor, **fields)

    tickets = {
        "gl": make(0, cast.alice, title="GL posting error", module="gl", impact=1, urgency=1),
        "ap": make(1, cast.alice2, title="AP invoice blocked", module="ap", urgency=1),
        "pos": make(
            2, cast.lina, title="POS sync", organization=cast.globex, module="sales",
            type="request", category="data_issue",
        ),
        "mrp": make(
            3, cast.mona, title="MRP slow", organization=cast.acme, team=cast.l2_platform,
            assignee=cast.eric, module="production", category="performance",
        ),
        "faq": make(4, cast.bob, title="How to print labels", type="question"),
    }  # fmt: skip
    services.assign_ticket(cast.lina, tickets["ap"], assignee=cast.lina)
    Ticket.objects.filter(pk=tickets["faq"].pk).update(status=Status.RESOLVED)
    return tickets


def numbers(response):
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["items"]]


def test_newest_first_by_default(cast, desk):
    assert numbers(client_for(cast, cast.mona).get(URL)) == [
        "How to print labels",
        "MRP slow",
        "POS sync",
        "AP invoice blocked",
        "GL posting error",
    ]


def test_list_items_have_the_summary_shape(cast, desk):
    item = client_for(cast, cast.mona).get(URL).json()["items"][1]
    assert item["number"] == desk["mrp"].number
    assert item["customer"] == {"code": "acme", "name": "Acme 制造"}
    assert item["team"] == {"code": "l2-platform", "name": "平台组"}
    assert item["assignee"] == {"id": cast.eric.pk, "name": "Eric Liu", "email": cast.eric.email}
    assert item["tier"] == 2
    assert "description" not in item


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=new", ["POS sync", "GL posting error"]),
        ("status=open", ["MRP slow", "POS sync", "AP invoice blocked", "GL posting error"]),
        ("status=resolved,new", ["How to print labels", "POS sync", "GL posting error"]),
        ("priority=P0", ["GL posting error"]),
        ("priority=p2,P0", ["AP invoice blocked", "GL posting error"]),
        ("customer=globex", ["How to print labels", "POS sync"]),
        ("customer=acme,globex", ["How to print labels", "MRP slow", "POS sync",
                                  "AP invoice blocked", "GL posting error"]),
        ("customer=nobody", []),
        ("module=gl,ap", ["AP invoice blocked", "GL posting error"]),
        ("category=performance", ["MRP slow"]),
        ("type=question", ["How to print labels"]),
        ("team=l2-platform", ["MRP slow"]),
        ("tier=2", ["MRP slow"]),
        ("tier=1&customer=acme", ["AP invoice blocked", "GL posting error"]),
        ("assignee=me", ["AP invoice blocked"]),
        ("assignee=none&status=open", ["POS sync", "GL posting error"]),
        ("assignee=ERIC@erpcare.example", ["MRP slow"]),
        ("q=invoice", ["AP invoice blocked"]),
        ("q=SYNC", ["POS sync"]),
        ("ordering=created", ["GL posting error", "AP invoice blocked", "POS sync", "MRP slow",
                              "How to print labels"]),
        ("ordering=priority&status=open", ["GL posting error", "AP invoice blocked", "MRP slow",
                                           "POS sync"]),
        # 09:00 on 1 April in Shanghai, the service's time zone.
        ("created_from=2026-04-01&created_to=2026-04-01&ordering=created",
         ["GL posting error", "AP invoice blocked", "POS sync", "MRP slow", "How to print labels"]),
        ("created_from=2026-04-02", []),
        ("created_to=2026-03-31", []),
    ],
)  # fmt: skip
def test_filters(cast, desk, query, expected):
    assert numbers(client_for(cast, cast.lina).get(f"{URL}?{query}")) == expected


def test_q_with_a_full_number_finds_exactly_that_ticket(cast, desk):
    number = desk["pos"].number
    assert numbers(client_for(cast, cast.lina).get(f"{URL}?q={number.lower()}")) == ["POS sync"]


def test_updated_ordering_follows_the_last_change(cast, desk):
    services.add_comment(cast.lina, desk["gl"], body="looking")
    titles = numbers(client_for(cast, cast.lina).get(f"{URL}?ordering=-updated"))
    assert titles[0] == "GL posting error"


def test_filters_never_widen_the_callers_scope(cast, desk):
    client = client_for(cast, cast.alice)
    assert numbers(client.get(f"{URL}?customer=globex")) == []
    assert numbers(client.get(f"{URL}?q=sync")) == []
    assert numbers(client_for(cast, cast.vera).get(f"{URL}?customer=globex")) == []


def test_pagination_says_whether_there_is_a_next_page(cast, desk):
    client = client_for(cast, cast.mona)
    first = client.get(f"{URL}?page_size=2").json()
    second = client.get(f"{URL}?page_size=2&page=2").json()
    third = client.get(f"{URL}?page_size=2&page=3").json()
    beyond = client.get(f"{URL}?page_size=2&page=4").json()
    assert (first["page"], first["page_size"], first["has_next"]) == (1, 2, True)
    assert [len(p["items"]) for p in (first, second, third, beyond)] == [2, 2, 1, 0]
    assert (second["has_next"], third["has_next"], beyond["has_next"]) == (True, False, False)
    seen = [i["number"] for p in (first, second, third) for i in p["items"]]
    assert len(set(seen)) == 5


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=done", "done is not a valid status"),
        ("priority=P5", "P5 is not a valid priority"),
        ("priority=high", "high is not a valid priority"),
        ("module=crm", "crm is not a valid ERP module"),
        ("category=misc", "misc is not a valid category"),
        ("type=bug", "bug is not a valid type"),
        ("ordering=title", "ordering must be one of: -created, created"),
        ("ordering=-id;drop", "ordering must be one of"),
        ("q=a%00b", "NUL"),
        ("customer=ac%00me", "NUL"),
        ("assignee=%00", "NUL"),
        ("created_from=2026-13-01", "YYYY-MM-DD"),
        ("created_to=yesterday", "YYYY-MM-DD"),
    ],
)
def test_invalid_filter_values_get_400(cast, desk, query, message):
    assert_error(client_for(cast, cast.lina).get(f"{URL}?{query}"), 400, message)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("tier=4", "tier"),
        ("tier=L2", "tier"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=10001", "page"),
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        (f"q={'x' * 201}", "q"),
        ("created_from=2026-04-01T00:00", "created_from"),
    ],
)
def test_malformed_paging_and_typed_filters_get_422(cast, desk, query, field):
    response = client_for(cast, cast.lina).get(f"{URL}?{query}")
    assert_error(response, 422, field)
    assert response.json()["errors"][0]["field"] == f"query.{field}"


def test_unknown_query_parameters_are_ignored(cast, desk):
    assert len(numbers(client_for(cast, cast.mona).get(f"{URL}?colour=red"))) == 5
