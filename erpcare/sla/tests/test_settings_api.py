"""Bad SLA settings are refused with a clear reason, and nothing changes."""

from __future__ import annotations

import pytest
from django.test import Client

from erpcare.audit.models import AuditEntry
from erpcare.sla.models import (
    BusinessCalendar,
    CalendarDay,
    EscalationStep,
    SlaPolicy,
    WorkingPeriod,
)

pytestmark = pytest.mark.usefixtures("sla_defaults")
S = "/api/v1/sla"


def rows() -> dict[str, list[dict]]:
    models = (BusinessCalendar, WorkingPeriod, CalendarDay, SlaPolicy, EscalationStep, AuditEntry)
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}


def signed_in(cast, user) -> Client:
    """A client with a token; made before a test's "before" snapshot (tokens are audited)."""
    return Client(headers={"Authorization": f"Bearer {cast.token(user)}"})


def call(cast, user, method, url, body=None, client=None):
    client = client or signed_in(cast, user)
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type="application/json")


def calendar_id(name: str = "24×7") -> int:
    return BusinessCalendar.objects.get(name=name).pk


def policy_body(**overrides):
    body = {
        "name": "Basic P3 new",
        "service_level": "basic",
        "priority": 3,
        "response_minutes": 60,
        "resolution_minutes": 600,
        "calendar_id": calendar_id(),
    }
    body.update(overrides)
    return body


BAD_POLICIES = {
    "negative response": ({"response_minutes": -5}, "more than 0 minutes"),
    "zero resolution": ({"resolution_minutes": 0, "response_minutes": 0}, "more than 0"),
    "warning 100": ({"warning_percent": 100}, "1 % to 99 %"),
    "warning 0": ({"warning_percent": 0}, "1 % to 99 %"),
    "resolution shorter": ({"response_minutes": 600, "resolution_minutes": 60}, "shorter"),
    "over a year": ({"resolution_minutes": 10**7}, "at most one year"),
    "unknown priority": ({"priority": 7}, "Unknown priority"),
    "unknown level": ({"service_level": "gold"}, "Unknown service level"),
    "unknown calendar": ({"calendar_id": 999_999}, "Unknown calendar"),
    "unknown contract": ({"contract_id": 999_999, "service_level": ""}, "Unknown contract"),
    "empty name": ({"name": "  "}, "Name is required"),
    "duplicate": ({"service_level": "vip", "priority": 0}, "already a policy"),
    "step over 1000 %": (
        {"steps": [{"metric": "response", "percent": 5000}]},
        "1 % to 1000 %",
    ),
    "step unknown clock": ({"steps": [{"metric": "lunch", "percent": 50}]}, "Unknown clock"),
    "step doing nothing": (
        {"steps": [{"metric": "response", "percent": 50, "notify_assignee": False}]},
        "notify someone",
    ),
    "two steps same point": (
        {"steps": [{"metric": "response", "percent": 50}, {"metric": "response", "percent": 50}]},
        "same point",
    ),
}


@pytest.mark.parametrize("case", list(BAD_POLICIES))
def test_bad_policy_is_refused_and_changes_nothing(cast, case):
    overrides, message = BAD_POLICIES[case]
    client = signed_in(cast, cast.mona)
    before = rows()
    response = call(cast, None, "post", f"{S}/policies", policy_body(**overrides), client)
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert rows() == before


def test_policy_update_that_is_bad_changes_nothing(cast):
    policy = SlaPolicy.objects.get(name="Standard P1")
    client = signed_in(cast, cast.mona)
    before = rows()
    body = policy_body(
        name="Standard P1", service_level="standard", priority=1, warning_percent=150
    )
    response = call(cast, None, "put", f"{S}/policies/{policy.pk}", body, client)
    assert response.status_code == 400
    assert rows() == before


BAD_CALENDARS = {
    "no working time": ({"hours": {}}, "at least one day"),
    "only empty days": ({"hours": {"0": "", "6": ""}}, "at least one day"),
    "inverted period": ({"hours": {"0": "18:00-09:00"}}, "end after it starts"),
    "overlap": ({"hours": {"0": "09:00-12:00, 11:00-13:00"}}, "overlap"),
    "not a range": ({"hours": {"0": "9 to 5"}}, "not a time range"),
    "bad time": ({"hours": {"0": "09:00-25:00"}}, "not a valid time"),
    "bad weekday": ({"hours": {"9": "09:00-17:00"}}, "Weekdays are 0"),
    "bad zone": ({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
    "bad country": ({"holiday_country": "XX"}, "unknown country"),
    "bad region": ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, "unknown subdivision"),
    "bad kind": ({"kind": "sometimes"}, "Unknown calendar kind"),
    "duplicate name": ({"name": "24×7"}, "exists already"),
    "bad make-up weekday": ({"makeup_weekday": 7}, "make-up day"),
}


@pytest.mark.parametrize("case", list(BAD_CALENDARS))
def test_bad_calendar_is_refused_and_changes_nothing(cast, case):
    overrides, message = BAD_CALENDARS[case]
    body = {"name": "Test", "hours": {"0": "09:00-17:00"}, **overrides}
    client = signed_in(cast, cast.mona)
    before = rows()
    response = call(cast, None, "post", f"{S}/calendars", body, client)
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert rows() == before


def test_removing_an_override_that_does_not_exist_is_refused(cast):
    client = signed_in(cast, cast.adam)
    before = rows()
    url = f"{S}/calendars/{calendar_id()}/days/2026-01-05"
    response = call(cast, None, "delete", url, client=client)
    assert response.status_code == 400
    assert rows() == before


@pytest.mark.parametrize("who", ["lina", "eric", "audra", "alice"])
def test_only_managers_and_admins_change_settings(cast, who):
    client = signed_in(cast, getattr(cast, who))
    before = rows()
    response = call(cast, None, "post", f"{S}/policies", policy_body(), client)
    assert response.status_code == 403
    assert rows() == before


def test_a_policy_in_use_cannot_be_deleted(cast):
    from erpcare.tickets.services import create_ticket

    create_ticket(cast.lina, title="x", organization=cast.globex, priority=1)
    policy = SlaPolicy.objects.get(name="Standard P1")
    response = call(cast, cast.mona, "delete", f"{S}/policies/{policy.pk}")
    assert response.status_code == 400
    assert "change its targets instead" in response.json()["detail"]
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_preview_of_standard_p1_opened_friday_evening(cast):
    policy = SlaPolicy.objects.get(name="Standard P1")
    response = call(
        cast,
        cast.lina,
        "get",
        f"{S}/policies/{policy.pk}/preview?opened_at=2026-11-20T17:30%2B08:00",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["response_due_at"].startswith("2026-11-23T02:30:00")  # Monday 10:30 Shanghai
    assert data["resolution_due_at"].startswith("2026-11-23T06:00:00")  # Monday 14:00
    naive = call(
        cast, cast.lina, "get", f"{S}/policies/{policy.pk}/preview?opened_at=2026-11-20T17:30"
    )
    assert naive.status_code == 400
