"""Post-incident reviews: required before closing a P0/P1 incident (manual close refused,
auto-close skips and says so), allowed once the review is completed; the policy setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.problems import services
from erpcare.problems.models import PostIncidentReview
from erpcare.problems.tests.helpers import FULL_REVIEW, audit_actions, incident, refused, resolve
from erpcare.tickets import services as tickets
from erpcare.tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 9, 10, 4, 0, tzinfo=UTC)


@pytest.fixture
def major(cast):
    return resolve(cast, incident(cast, "ERP down: 无法登录", priority=0))


def test_the_policy(cast, settings):
    p0 = incident(cast, priority=0)
    p1 = incident(cast, priority=1)
    p2 = incident(cast, priority=2)
    request = incident(cast, type="request", priority=1)
    assert services.required_priorities() == {0, 1}  # the default
    assert [services.review_required(t) for t in (p0, p1, p2, request)] == [
        True, True, False, False,
    ]  # fmt: skip
    settings.ERPCARE_PIR_REQUIRED_PRIORITIES = ""
    assert not services.review_required(p0)
    settings.ERPCARE_PIR_REQUIRED_PRIORITIES = "P0, 2"
    assert [services.review_required(t) for t in (p0, p1, p2)] == [True, False, True]
    settings.ERPCARE_PIR_REQUIRED_PRIORITIES = "0,high"
    with pytest.raises(ImproperlyConfigured, match="ERPCARE_PIR_REQUIRED_PRIORITIES"):
        services.review_required(p0)


def test_closing_a_major_incident_without_a_completed_review_is_refused(cast, major):
    with refused(Conflict, "complete its post-incident review before closing it"):
        tickets.transition_ticket(cast.lina, major, to="closed")
    with refused(Conflict, "P0 incident"):
        tickets.transition_ticket(cast.alice, major, to="closed")  # the customer confirming
    services.save_review(cast.eric, major, timeline="09:02 alert", impact="All users")
    with refused(Conflict, "post-incident review"):  # written, not completed
        tickets.transition_ticket(cast.lina, major, to="closed")
    with refused(ActionError, "missing: detection, response, root cause, what went well"):
        services.complete_review(cast.eric, major)
    services.save_review(cast.eric, major, **FULL_REVIEW)
    review = services.complete_review(cast.eric, major)
    assert review.completed_at is not None
    assert review.author == cast.eric
    closed = tickets.transition_ticket(cast.lina, major, to="closed")
    assert closed.status == Status.CLOSED
    assert audit_actions(major)[-3:] == [
        "problem.pir_updated",
        "problem.pir_completed",
        "ticket.transitioned",
    ]


def test_other_tickets_close_as_before(cast):
    minor = resolve(cast, incident(cast, priority=2))
    assert tickets.transition_ticket(cast.lina, minor, to="closed").status == Status.CLOSED


def test_the_rule_can_be_switched_off(cast, major, settings):
    settings.ERPCARE_PIR_REQUIRED_PRIORITIES = ""
    assert tickets.transition_ticket(cast.lina, major, to="closed").status == Status.CLOSED


def test_auto_close_skips_major_incidents_awaiting_review_and_says_so(cast, settings):
    settings.ERPCARE_AUTO_CLOSE_DAYS = 7
    with clock.frozen_at(NOW - timedelta(days=10)):
        major = resolve(cast, incident(cast, "ERP down", priority=0))
        reviewed = resolve(cast, incident(cast, "ERP down again", priority=1))
        minor = resolve(cast, incident(cast, "Slow report", priority=3))
        services.save_review(cast.eric, reviewed, **FULL_REVIEW)
        services.complete_review(cast.eric, reviewed)
    with clock.frozen_at(NOW):
        result = tickets.auto_close_resolved()
    assert result == 2
    assert result.awaiting_review == [major.number]
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses == {
        major.pk: Status.RESOLVED,
        reviewed.pk: Status.CLOSED,
        minor.pk: Status.CLOSED,
    }
    # once its review is completed, the next run closes it
    services.save_review(cast.eric, major, **FULL_REVIEW)
    services.complete_review(cast.eric, major)
    with clock.frozen_at(NOW):
        again = tickets.auto_close_resolved()
    assert (again, again.awaiting_review) == (1, [])
    major.refresh_from_db()
    assert major.status == Status.CLOSED


def test_who_writes_reviews_and_for_what(cast, major):
    with refused(NotAllowed, "read-only"):
        services.save_review(cast.audra, major, **FULL_REVIEW)
    with refused(NotAllowed, "Only support staff"):
        services.save_review(cast.alice, major, **FULL_REVIEW)
    hidden = resolve(cast, incident(cast, "Globex down", priority=0, organization=cast.globex))
    with refused(NotFound, "Ticket not found"):
        services.save_review(cast.vera, hidden, **FULL_REVIEW)  # vera serves Acme only
    minor = incident(cast, priority=3)
    with refused(ActionError, "is not a major incident"):
        services.save_review(cast.eric, minor, **FULL_REVIEW)
    with refused(ActionError, "Unknown field: summary"):
        services.save_review(cast.eric, major, summary="x")
    with refused(ActionError, "What went well is too long|what went well is too long"):
        services.save_review(cast.eric, major, went_well="x" * 20_001)
    with refused(ActionError, "Write the post-incident review"):
        services.complete_review(cast.eric, major)
    services.save_review(cast.eric, major, **FULL_REVIEW)
    services.complete_review(cast.eric, major)
    with refused(Conflict, "already completed"):
        services.complete_review(cast.eric, major)
    assert services.review_of(cast.audra, major) == PostIncidentReview.objects.get()
    with pytest.raises(NotFound):
        services.review_of(cast.alice, major)


def test_tickets_awaiting_review_do_not_fill_the_batch(cast, settings):
    settings.ERPCARE_AUTO_CLOSE_DAYS = 7
    with clock.frozen_at(NOW - timedelta(days=20)):
        oldest = resolve(cast, incident(cast, "ERP down", priority=0))
    with clock.frozen_at(NOW - timedelta(days=10)):
        minor = resolve(cast, incident(cast, "Slow report", priority=3))
    with clock.frozen_at(NOW):
        result = tickets.auto_close_resolved(batch=1)
    assert (result, result.awaiting_review) == (1, [oldest.number])
    minor.refresh_from_db()
    assert minor.status == Status.CLOSED
