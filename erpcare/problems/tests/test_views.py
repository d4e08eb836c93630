"""The problem pages: list, new (also from a cluster), detail forms, recurring incidents,
post-incident review; customers get 404, auditors read without forms, errors re-render."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from erpcare.problems import services
from erpcare.problems.models import PostIncidentReview, Problem
from erpcare.problems.tests.helpers import FULL_REVIEW, incident, resolve

pytestmark = pytest.mark.django_db

D = "/desk/problems/"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_customers_get_404_and_auditors_read_without_forms(cast):
    problem = services.create_problem(cast.eric, title="采购订单保存超时")
    alice = signed_in(cast.alice)
    for path in (D, f"{D}new", f"{D}recurring", f"{D}{problem.number}/"):
        assert alice.get(path).status_code == 404
    page = signed_in(cast.audra).get(f"{D}{problem.number}/").content.decode()
    assert "采购订单保存超时" in page
    assert 'data-testid="rca-form"' not in page
    response = signed_in(cast.audra).post(f"{D}{problem.number}/act", {"action": "rca"})
    assert response.status_code == 403
    assert "read-only" in response.content.decode()


def test_a_problem_through_the_pages(cast):
    first = incident(cast)
    second = incident(cast, "保存采购订单时报错超时")
    eric = signed_in(cast.eric)
    response = eric.post(
        f"{D}new", {"title": "采购订单保存超时", "module": "purchasing", "incidents": first.number}
    )
    problem = Problem.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{D}{problem.number}/"
    act = f"{D}{problem.number}/act"
    assert eric.post(act, {"action": "link", "tickets": second.number}).status_code == 302
    response = eric.post(
        act,
        {
            "action": "rca",
            "why_question": ["Why slow?", ""],
            "why_answer": ["No index.", ""],
            "fishbone": ["code", "configuration"],
            "root_cause": "Missing index.",
        },
    )
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.five_whys == [{"question": "Why slow?", "answer": "No index."}]
    assert problem.fishbone == ["code", "configuration"]
    response = eric.post(act, {"action": "known_error", "workaround": ""})
    assert response.status_code == 400
    assert "Workaround is required." in response.content.decode()
    eric.post(act, {"action": "known_error", "workaround": "Save in batches."})
    response = eric.post(
        act, {"action": "add_action", "kind": "preventive", "description": "Check indexes.",
              "owner": str(cast.xu.pk), "due_on": "2026-13-01"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode()
    eric.post(
        act, {"action": "add_action", "kind": "preventive", "description": "Check indexes.",
              "owner": str(cast.xu.pk), "due_on": "2026-12-20"},
    )  # fmt: skip
    assert problem.actions.get().owner == cast.xu
    assert eric.post(act, {"action": "publish"}).status_code == 302
    problem.refresh_from_db()
    page = eric.get(f"{D}{problem.number}/").content.decode()
    assert problem.article.number in page
    assert first.number in page
    assert second.number in page
    assert eric.post(act, {"action": "fly"}).status_code == 400
    listed = eric.get(D, {"status": "known_error"}).content.decode()
    assert problem.number in listed
    assert eric.get(D, {"status": "nope"}).status_code == 400


def test_recurring_incidents_offer_a_prefilled_problem(cast):
    for title in ("采购订单保存超时", "保存采购订单时报错超时", "采购订单无法保存 超时"):
        incident(cast, title)
    eric = signed_in(cast.eric)
    page = eric.get(f"{D}recurring", {"days": 7, "min": 3}).content.decode()
    assert page.count('data-testid="cluster"') == 1
    assert eric.get(f"{D}recurring", {"days": "x"}).status_code == 400
    assert eric.get(f"{D}recurring", {"days": 0}).status_code == 400


def test_the_review_page_completes_a_review(cast):
    major = resolve(cast, incident(cast, "ERP down", priority=0))
    eric = signed_in(cast.eric)
    url = f"{D}reviews/{major.number}"
    page = eric.get(url).content.decode()
    assert "Required before closing" in page
    response = eric.post(url, {"timeline": "09:00 down", "complete": "1"})
    assert response.status_code == 400
    assert "missing" in response.content.decode()
    assert "09:00 down" in response.content.decode()  # nothing typed is lost
    assert PostIncidentReview.objects.get().completed_at is None  # saved, not completed
    response = eric.post(url, {**FULL_REVIEW, "complete": "1"})
    assert response.status_code == 302
    assert PostIncidentReview.objects.get().completed_at is not None
    assert signed_in(cast.alice).get(url).status_code == 404


def test_the_desk_ticket_page_links_the_problem_and_the_review(cast):
    major = incident(cast, "ERP down", priority=0)
    minor = incident(cast)
    problem = services.create_problem(cast.eric, title="采购订单保存超时", incidents=[minor])
    page = signed_in(cast.audra).get(f"/desk/tickets/{major.number}/").content.decode()
    assert f'href="/desk/problems/reviews/{major.number}" data-testid="ticket-review"' in page
    assert 'data-testid="ticket-problem"' not in page
    page = signed_in(cast.lina).get(f"/desk/tickets/{minor.number}/").content.decode()
    assert f'href="/desk/problems/{problem.number}/" data-testid="ticket-problem"' in page
    assert 'data-testid="ticket-review"' not in page
    portal = signed_in(cast.alice).get(f"/portal/tickets/{major.number}/")
    assert portal.status_code == 200
    assert "/desk/problems/" not in portal.content.decode()
