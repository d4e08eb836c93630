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

pytestmark = [pytest.mark.django_db, pytest.mark.urls("erpcare.changes.tests.desk_urls")]


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
