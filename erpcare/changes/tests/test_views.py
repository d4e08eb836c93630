"""The change pages: list, detail and calendar (month and week) for staff and auditors;
customers get 404; bad parameters are named with a 400."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from erpcare.changes.models import FreezePeriod
from erpcare.changes.tests.test_maintenance import START, scheduled
from erpcare.changes.tests.test_workflow import new_change
from erpcare.conftest import Cast
from erpcare.core import clock

pytestmark = pytest.mark.django_db


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_list_and_detail(cast: Cast) -> None:
    change = scheduled(cast)
    with clock.frozen_at(START - timedelta(days=1)):
        draft = new_change(cast, title="Draft for Globex", instances=[cast.globex_erp])
    mona = client(cast.mona)
    page = mona.get("/desk/changes/")
    assert page.status_code == 200
    assert change.number in page.content.decode()
    filtered = mona.get("/desk/changes/", {"state": "draft"}).content.decode()
    assert draft.number in filtered
    assert change.number not in filtered
    bad = mona.get("/desk/changes/", {"state": "open"})
    assert bad.status_code == 400
    assert "Unknown state “open”." in bad.content.decode()
    detail = client(cast.audra).get(f"/desk/changes/{change.number}/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Re-import the previous transport version." in html
    assert 'data-kind="scheduled"' in html
    assert "1 of 1" in html
    assert client(cast.alice).get(f"/desk/changes/{change.number}/").status_code == 404
    assert client(cast.alice).get("/desk/changes/").status_code == 404
    assert mona.get("/desk/changes/CHG-2026-999999/").status_code == 404


def test_the_calendar_by_month_and_week_with_freezes(cast: Cast, settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    change = scheduled(cast)  # Nov 10, 15:00–17:00 Shanghai
    FreezePeriod.objects.create(
        name="Month-end close", organization=cast.acme, policy="block", created_at=START,
        starts_at=datetime.fromisoformat("2026-11-30T00:00:00+08:00"),
        ends_at=datetime.fromisoformat("2026-12-02T00:00:00+08:00"),
    )  # fmt: skip
    mona = client(cast.mona)
    month = mona.get("/desk/changes/calendar/", {"date": "2026-11-15"})
    assert month.status_code == 200
    html = month.content.decode()
    day = html.split('data-date="2026-11-10"')[1].split("</td>")[0]
    assert change.number in day
    assert change.number not in html.split('data-date="2026-11-11"')[1].split("</td>")[0]
    nov30 = html.split('data-date="2026-11-30"')[1].split("</td>")[0]
    assert "Month-end close" in nov30
    assert "Month-end close" not in html.split('data-date="2026-11-29"')[1].split("</td>")[0]
    week = mona.get("/desk/changes/calendar/", {"date": "2026-11-11", "view": "week"})
    assert week.content.decode().count('data-testid="calendar-day"') == 7
    assert change.number in week.content.decode()
    globex = mona.get("/desk/changes/calendar/", {"date": "2026-11-15", "customer": "globex"})
    assert change.number not in globex.content.decode()
    assert "Month-end close" not in globex.content.decode()
    bad = mona.get("/desk/changes/calendar/", {"date": "2026-13-01", "view": "year"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "“2026-13-01” is not a date (YYYY-MM-DD)." in text
    assert "The view is “month” or “week”." in text
    assert client(cast.bob).get("/desk/changes/calendar/").status_code == 404


def test_a_change_walks_through_the_desk_forms(cast: Cast, settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    eric = client(cast.eric)
    cast.eric.time_zone = "Asia/Shanghai"
    cast.eric.save()
    bad = eric.post("/desk/changes/new", {"type": "normal", "title": ""})
    assert bad.status_code == 400
    assert "Title is required." in bad.content.decode()
    created = eric.post(
        "/desk/changes/new",
        {
            "type": "normal",
            "title": "Add index on stock moves",
            "instances": [cast.acme_erp.pk],
            "modules": ["inventory"],
            "planned_start": "2026-11-10T22:00",
            "planned_end": "2026-11-10T23:00",
            "implementation_plan": "CREATE INDEX CONCURRENTLY",
        },
    )
    assert created.status_code == 302, created.content.decode()
    from erpcare.changes.models import Change

    change = Change.objects.get(title="Add index on stock moves")
    # 22:00 in Shanghai is 14:00 UTC.
    assert change.planned_start == datetime.fromisoformat("2026-11-10T14:00:00+00:00")
    url = f"/desk/changes/{change.number}/"
    assert eric.post(url + "act", {"action": "submit"}).status_code == 302
    risk = eric.post(url + "assess", {"tested": "yes"})
    assert risk.status_code == 400
    assert "Answer the risk question" in risk.content.decode()
    answers = {
        "tested": "yes", "done_before": "often", "complexity": "simple", "users": "few",
        "downtime": "none", "financial": "no",
    }  # fmt: skip
    assert eric.post(url + "assess", answers).status_code == 302
    refused = eric.post(url + "act", {"action": "request_approval"})
    assert refused.status_code == 400
    assert "Write the rollback plan before asking for approval." in refused.content.decode()
    Change.objects.filter(pk=change.pk).update(rollback_plan="DROP INDEX CONCURRENTLY")
    assert eric.post(url + "act", {"action": "request_approval"}).status_code == 302
    own = eric.post(url + "act", {"action": "approve"})
    assert own.status_code == 403
    assert "You cannot approve your own change." in own.content.decode()
    audra = client(cast.audra).post(url + "act", {"action": "approve"})
    assert audra.status_code == 403
    page = client(cast.audra).get(url).content.decode()
    assert 'data-testid="change-actions"' not in page  # auditors get no buttons
    assert client(cast.alice).post(url + "act", {"action": "approve"}).status_code == 404
    assert (
        client(cast.mona).post(url + "act", {"action": "approve", "note": "OK"}).status_code == 302
    )
    assert eric.post(url + "act", {"action": "schedule"}).status_code == 302
    assert Change.objects.get(pk=change.pk).state == "scheduled"
    unknown = eric.post(url + "act", {"action": "explode"})
    assert unknown.status_code == 400
    assert "Unknown action “explode”." in unknown.content.decode()
