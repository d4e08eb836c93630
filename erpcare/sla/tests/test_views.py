"""The SLA pages of the desk: badge, queues, the explain panel and the settings pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from erpcare.core import clock
from erpcare.sla.models import BusinessCalendar, EscalationStep, SlaPolicy, WorkingPeriod
from erpcare.sla.services.evaluator import evaluate_due
from erpcare.sla.templatetags.sla_tags import badge_level, badge_text, format_duration
from erpcare.tickets.models import Priority, SlaState, Status, Ticket
from erpcare.tickets.services import assign_ticket, create_ticket, transition_ticket

SH = ZoneInfo("Asia/Shanghai")
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sla_defaults")]


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def globex_ticket(cast, when: datetime, priority: int = Priority.P1, title: str = "MRP") -> Ticket:
    with clock.frozen_at(when):
        ticket = create_ticket(cast.lina, title=title, organization=cast.globex, priority=priority)
        assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    return Ticket.objects.get(pk=ticket.pk)


def policy(name: str = "Standard P1") -> SlaPolicy:
    return SlaPolicy.objects.select_related("calendar").get(name=name)


def china_hours() -> BusinessCalendar:
    return BusinessCalendar.objects.get(name__startswith="China working hours")


# ---------------------------------------------------------------------------
# The countdown badge
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "minutes_left", "level"),
    [
        (SlaState.OK, 90, "green"),  # 90 of 120 minutes left: 75 %
        (SlaState.OK, 50, "yellow"),  # 42 %
        (SlaState.OK, 20, "orange"),  # 17 %
        (SlaState.WARNING, 100, "orange"),  # the evaluator's warning wins
        (SlaState.OK, -5, "red"),  # overdue before the evaluator noticed
        (SlaState.BREACHED, -35, "red"),
        (SlaState.PAUSED, None, "grey"),
        (SlaState.MET, None, "muted"),
        (SlaState.MISSED, None, "muted"),
    ],
)
def test_badge_colour_follows_the_share_of_the_window_left(state, minutes_left, level):
    now = at(2026, 11, 23, 10, 0)
    created = now - timedelta(minutes=120 - (minutes_left or 0))
    due = None if minutes_left is None else now + timedelta(minutes=minutes_left)
    assert badge_level(state, due, created, now) == level


def test_badge_text_counts_down_and_up():
    now = at(2026, 11, 23, 10, 0)
    assert badge_text(SlaState.OK, now + timedelta(minutes=80), now) == "due in 1 h 20 min"
    assert badge_text(SlaState.BREACHED, now - timedelta(minutes=35), now) == "overdue 35 min"
    assert badge_text(SlaState.PAUSED, None, now) == "paused"
    assert format_duration(timedelta(days=2, hours=3, minutes=5)) == "2 d 3 h"
    assert format_duration(timedelta(seconds=20)) == "< 1 min"


def test_queue_and_ticket_page_show_the_badge_with_the_due_time_in_the_users_zone(cast):
    ticket = globex_ticket(cast, at(2026, 11, 20, 17, 30))  # response due Mon 10:30 Shanghai
    cast.lina.time_zone = "Europe/Berlin"
    cast.lina.save(update_fields=["time_zone"])
    client = signed_in(cast.lina)
    html = client.get("/desk/?queue=all").content.decode()
    assert 'data-testid="sla-badge"' in html
    assert f'data-sla-state="{ticket.sla_state}"' in html
    page = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert 'data-testid="ticket-sla"' in page
    assert "Due 2026-11-23 03:30 (Europe/Berlin)" in page  # 10:30 in Shanghai


def test_customer_pages_never_show_the_sla(cast):
    ticket = globex_ticket(cast, at(2026, 11, 20, 17, 30))
    client = signed_in(cast.bob)
    assert "sla-badge" not in client.get(f"/portal/tickets/{ticket.number}/").content.decode()
    assert "sla-badge" not in client.get("/portal/").content.decode()


# ---------------------------------------------------------------------------
# Queues
# ---------------------------------------------------------------------------


def sla_queue_setup(cast) -> dict[str, Ticket]:
    breached = globex_ticket(cast, at(2026, 11, 20, 9, 0), title="breached early")
    breached_later = globex_ticket(cast, at(2026, 11, 20, 10, 0), title="breached later")
    warned = globex_ticket(cast, at(2026, 11, 20, 17, 30), title="warned")  # warn Mon 10:00
    fine = globex_ticket(cast, at(2026, 11, 20, 17, 45), priority=Priority.P3, title="fine")
    done = globex_ticket(cast, at(2026, 11, 20, 9, 5), title="breached but resolved")
    evaluate_due(at(2026, 11, 23, 10, 5))
    with clock.frozen_at(at(2026, 11, 23, 10, 6)):
        transition_ticket(
            cast.lina, done, to=Status.RESOLVED, resolution_code="fixed", resolution="fixed"
        )
    return {
        "breached": breached,
        "breached_later": breached_later,
        "warned": warned,
        "fine": fine,
        "done": done,
    }


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [t.number for t in response.context["page"]["rows"]]


def test_breaching_soon_and_breached_queues(cast):
    made = sla_queue_setup(cast)
    client = signed_in(cast.lina)
    html = client.get("/desk/").content.decode()
    assert 'data-testid="queue-breaching"' in html
    assert 'data-testid="queue-breached"' in html
    assert numbers(client.get("/desk/?queue=breaching")) == [made["warned"].number]
    # Open breached tickets only, the longest overdue first.
    assert numbers(client.get("/desk/?queue=breached")) == [
        made["breached"].number,
        made["breached_later"].number,
    ]


def test_any_queue_sorts_by_sla_due_with_tickets_without_a_clock_last(cast):
    made = sla_queue_setup(cast)
    plain = create_ticket(cast.bob, title="no SLA: resolved at once")
    transition_ticket(
        cast.lina, plain, to=Status.RESOLVED, resolution_code="answered", resolution="ok"
    )
    rows = numbers(signed_in(cast.lina).get("/desk/?queue=all&ordering=sla_due"))
    due = [Ticket.objects.get(number=n).sla_due_at for n in rows]
    running = [d for d in due if d is not None]
    assert running == sorted(running)
    assert due[: len(running)] == running  # no-clock tickets after every due one
    assert rows[0] == made["breached"].number
    html = signed_in(cast.lina).get("/desk/?queue=open").content.decode()
    assert 'value="sla_due"' in html  # offered in the sort menu


def test_unknown_sla_filter_is_a_clear_error(cast):
    response = signed_in(cast.lina).get("/desk/?sla=late")
    assert response.status_code == 400
    assert "late is not a valid SLA state" in response.content.decode()


def test_sla_queue_query_count_does_not_grow(cast):
    client = signed_in(cast.lina)
    for i in range(2):
        globex_ticket(cast, at(2026, 11, 20, 9, i))
    evaluate_due(at(2026, 11, 23, 12, 0))
    with CaptureQueriesContext(connection) as few:
        assert client.get("/desk/?queue=breached").status_code == 200
    for i in range(12):
        globex_ticket(cast, at(2026, 11, 20, 10, i))
    evaluate_due(at(2026, 11, 23, 12, 0))
    with CaptureQueriesContext(connection) as many:
        assert client.get("/desk/?queue=breached").status_code == 200
    assert len(few) == len(many) <= 8


# ---------------------------------------------------------------------------
# The explain panel
# ---------------------------------------------------------------------------


def test_agent_sees_the_explained_clocks(cast):
    ticket = globex_ticket(cast, at(2026, 11, 20, 9, 0))
    with clock.frozen_at(at(2026, 11, 20, 9, 30)):
        transition_ticket(cast.lina, ticket, to=Status.WAITING_CUSTOMER, note="need a log")
    with clock.frozen_at(at(2026, 11, 20, 10, 30)):
        transition_ticket(cast.lina, ticket, to=Status.IN_PROGRESS)
    evaluate_due(at(2026, 11, 23, 12, 0))
    client = signed_in(cast.lina)
    page = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert 'data-testid="sla-explain"' in page
    assert f'hx-get="/desk/tickets/{ticket.number}/sla"' in page
    response = client.get(f"/desk/tickets/{ticket.number}/sla", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the fragment for htmx
    assert "Standard P1" in html
    assert "China working hours" in html
    assert "Asia/Shanghai" in html
    assert 'data-testid="sla-clock-response"' in html
    assert 'data-testid="sla-clock-resolution"' in html
    assert 'data-testid="sla-pause"' in html
    assert "Waiting for customer" in html
    assert html.count('data-testid="sla-event"') >= 2  # warning and breach at least
    assert 'data-kind="breach"' in html
    # Without htmx the same content is a page of its own.
    assert "<html" in client.get(f"/desk/tickets/{ticket.number}/sla").content.decode()


def test_explain_panel_is_scoped_like_the_ticket(cast):
    ticket = globex_ticket(cast, at(2026, 11, 20, 9, 0))
    url = f"/desk/tickets/{ticket.number}/sla"
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert signed_in(cast.bob).get(url).status_code == 404  # the ticket's own customer
    assert signed_in(cast.vera).get(url).status_code == 404  # L1 team serving only Acme
    assert signed_in(cast.audra).get(url).status_code == 200  # the auditor reads
    assert signed_in(cast.mona).get("/desk/tickets/INC-2026-999999/sla").status_code == 404


def test_ticket_without_sla_says_so(cast):
    ticket = globex_ticket(cast, at(2026, 11, 20, 9, 0))
    ticket.sla.delete()
    html = signed_in(cast.lina).get(f"/desk/tickets/{ticket.number}/sla").content.decode()
    assert 'data-testid="sla-none"' in html


# ---------------------------------------------------------------------------
# Settings: who may
# ---------------------------------------------------------------------------

SETTINGS_URLS = ["/desk/sla/", "/desk/sla/calendars/new/", "/desk/sla/policies/new/"]


@pytest.mark.parametrize("path", SETTINGS_URLS)
def test_settings_pages_are_for_managers_and_admins(cast, path):
    assert Client().get(path).status_code == 302
    assert signed_in(cast.alice).get(path).status_code == 404
    for agent in (cast.lina, cast.eric, cast.xu, cast.audra):
        assert signed_in(agent).get(path).status_code == 403
    for manager in (cast.mona, cast.adam):
        assert signed_in(manager).get(path).status_code == 200


def test_agents_cannot_post_settings_either(cast):
    p1 = policy()
    response = signed_in(cast.lina).post(f"/desk/sla/policies/{p1.pk}/", policy_data(p1))
    assert response.status_code == 403
    assert policy().response_minutes == p1.response_minutes


def test_settings_link_only_for_those_who_may(cast):
    assert 'data-testid="nav-sla"' in signed_in(cast.mona).get("/desk/").content.decode()
    assert 'data-testid="nav-sla"' not in signed_in(cast.lina).get("/desk/").content.decode()


def test_overview_lists_calendars_and_policies(cast):
    html = signed_in(cast.mona).get("/desk/sla/").content.decode()
    assert html.count('data-testid="policy-row"') == SlaPolicy.objects.count()
    assert html.count('data-testid="calendar-row"') == BusinessCalendar.objects.count()
    assert "09:00-12:00, 13:30-18:00" in html


# ---------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------


def policy_data(p: SlaPolicy, **changes: Any) -> dict[str, Any]:
    steps = list(EscalationStep.objects.filter(policy=p).order_by("metric", "percent"))
    data: dict[str, Any] = {
        "name": p.name,
        "priority": p.priority,
        "service_level": p.service_level,
        "contract": p.contract_id or "",
        "response_minutes": p.response_minutes,
        "resolution_minutes": p.resolution_minutes,
        "calendar": p.calendar_id,
        "warning_percent": p.warning_percent,
        "pause_when_waiting_customer": "on" if p.pause_when_waiting_customer else "",
        "steps-TOTAL_FORMS": len(steps) + 1,
        "steps-INITIAL_FORMS": len(steps),
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 20,
    }
    for i, step in enumerate(steps):
        data[f"steps-{i}-metric"] = step.metric
        data[f"steps-{i}-percent"] = step.percent
        for flag in ("notify_assignee", "notify_team_lead", "notify_managers", "raise_tier"):
            if getattr(step, flag):
                data[f"steps-{i}-{flag}"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def snapshot(p: SlaPolicy) -> tuple[Any, ...]:
    fresh = SlaPolicy.objects.get(pk=p.pk)
    steps = list(
        EscalationStep.objects.filter(policy=p).values_list("metric", "percent", "notify_managers")
    )
    return (
        fresh.name,
        fresh.response_minutes,
        fresh.resolution_minutes,
        fresh.warning_percent,
        sorted(steps),
    )


def test_manager_edits_a_policy_and_its_steps(cast):
    p1 = policy()
    data = policy_data(p1, response_minutes=90, **{"steps-2-metric": "resolution"})
    data.update({"steps-2-percent": 150, "steps-2-notify_managers": "on"})
    response = signed_in(cast.mona).post(f"/desk/sla/policies/{p1.pk}/", data)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == f"/desk/sla/policies/{p1.pk}/"
    _name, response_minutes, _res, _warn, steps = snapshot(p1)
    assert response_minutes == 90
    assert ("resolution", 150, True) in steps
    assert len(steps) == 3
    page = signed_in(cast.mona).get(f"/desk/sla/policies/{p1.pk}/").content.decode()
    assert 'value="90"' in page


def test_manager_removes_a_step(cast):
    p1 = policy()
    data = policy_data(p1, **{"steps-0-DELETE": "on"})
    assert signed_in(cast.adam).post(f"/desk/sla/policies/{p1.pk}/", data).status_code == 302
    assert EscalationStep.objects.filter(policy=p1).count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"response_minutes": -30}, "First response target must be more than 0 minutes."),
        ({"warning_percent": 100}, "The warning must come at 1 % to 99 % of the target."),
        (
            {"response_minutes": 300, "resolution_minutes": 240},
            "The resolution target cannot be shorter than the first response.",
        ),
        ({"priority": 2}, "There is already a policy for this service level and priority."),
        (
            {"steps-2-metric": "resolution", "steps-2-percent": 120},
            "An escalation step must notify someone or raise something.",
        ),
    ],
)
def test_bad_policy_shows_the_reason_and_changes_nothing(cast, changes, message):
    p1 = policy()
    before = snapshot(p1)
    response = signed_in(cast.mona).post(f"/desk/sla/policies/{p1.pk}/", policy_data(p1, **changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="form-error"' in html
    assert message in html
    assert snapshot(p1) == before


def test_manager_creates_a_contract_policy(cast):
    contract = cast.acme.contracts.get()
    data = {
        "name": "Acme P2 special",
        "priority": 2,
        "contract": contract.pk,
        "response_minutes": 60,
        "resolution_minutes": 480,
        "calendar": china_hours().pk,
        "warning_percent": 80,
        "steps-TOTAL_FORMS": 2,
        "steps-INITIAL_FORMS": 0,
        "steps-0-metric": "response",
        "steps-0-percent": 100,
        "steps-0-notify_team_lead": "on",
    }
    response = signed_in(cast.mona).post("/desk/sla/policies/new/", data)
    assert response.status_code == 302, response.content.decode()
    created = SlaPolicy.objects.get(name="Acme P2 special")
    assert created.contract == contract
    assert created.steps.count() == 1


def test_delete_a_policy_in_use_is_refused(cast):
    globex_ticket(cast, at(2026, 11, 20, 9, 0))
    p1 = policy()
    client = signed_in(cast.mona)
    response = client.post(f"/desk/sla/policies/{p1.pk}/delete", follow=True)
    assert "Tickets are measured against this policy" in response.content.decode()
    assert SlaPolicy.objects.filter(pk=p1.pk).exists()
    unused = policy("Basic P3")
    assert client.post(f"/desk/sla/policies/{unused.pk}/delete").status_code == 302
    assert not SlaPolicy.objects.filter(pk=unused.pk).exists()


def test_preview_standard_p1_opened_friday_evening(cast):
    # Standard P1: 2 h / 4 h of China working hours (09:00–12:00, 13:30–18:00).
    # Friday 17:30–18:00 counts 30 min; Monday 09:00–10:30 completes the response (2 h),
    # Monday 09:00–12:00 and 13:30–14:00 complete the resolution (30 min + 3 h + 30 min).
    p1 = policy()
    client = signed_in(cast.mona)
    url = f"/desk/sla/policies/{p1.pk}/preview?opened_at=2026-11-20T17:30"
    response = client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Mon 2026-11-23 10:30" in html  # first response due
    assert "Mon 2026-11-23 14:00" in html  # resolution due
    assert "Mon 2026-11-23 10:00" in html  # response warning at 75 % (90 min)
    result = response.context["result"]
    assert result.response_due_at == at(2026, 11, 23, 10, 30)
    assert result.resolution_due_at == at(2026, 11, 23, 14, 0)
    assert [(a.astimezone(SH).strftime("%a %H:%M"), b.astimezone(SH).strftime("%H:%M"))
            for a, b in result.working_days] == [
        ("Fri 17:30", "18:00"), ("Mon 09:00", "12:00"), ("Mon 13:30", "14:00"),
    ]  # fmt: skip
    assert html.count('data-testid="preview-interval"') == 3
    # The whole page when asked without htmx.
    page = client.get(url)
    assert page.status_code == 200
    assert "<html" in page.content.decode()


def test_preview_reads_the_time_in_the_users_zone(cast):
    cast.mona.time_zone = "Europe/Berlin"
    cast.mona.save(update_fields=["time_zone"])
    p1 = policy()
    # 10:30 in Berlin is 17:30 in Shanghai: the same Friday-evening case, shown in Berlin.
    url = f"/desk/sla/policies/{p1.pk}/preview?opened_at=2026-11-20T10:30"
    response = signed_in(cast.mona).get(url, headers={"HX-Request": "true"})
    assert response.context["result"].response_due_at == at(2026, 11, 23, 10, 30)
    assert "Mon 2026-11-23 03:30" in response.content.decode()


def test_preview_without_a_time_is_an_error(cast):
    p1 = policy()
    response = signed_in(cast.mona).get(
        f"/desk/sla/policies/{p1.pk}/preview?opened_at=friday", headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert 'data-testid="preview-error"' in response.content.decode()


# ---------------------------------------------------------------------------
# Calendars
# ---------------------------------------------------------------------------


def calendar_data(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Shenzhen plant",
        "kind": "business",
        "time_zone": "Asia/Shanghai",
        "holiday_country": "CN",
        "holiday_subdivision": "",
        "makeup_weekday": 0,
        **{f"hours_{d}": "08:30-12:00, 13:00-17:30" for d in range(5)},
        "hours_5": "09:00-12:00",
    }
    data.update(changes)
    return data


def test_manager_creates_and_edits_a_calendar(cast):
    client = signed_in(cast.mona)
    response = client.post("/desk/sla/calendars/new/", calendar_data())
    assert response.status_code == 302, response.content.decode()
    calendar = BusinessCalendar.objects.get(name="Shenzhen plant")
    assert WorkingPeriod.objects.filter(calendar=calendar).count() == 11
    page = client.get(f"/desk/sla/calendars/{calendar.pk}/").content.decode()
    assert 'value="08:30-12:00, 13:00-17:30"' in page
    assert 'data-testid="year-2026"' in page
    assert 'data-testid="year-2027"' in page
    assert 'data-date="2026-10-01"' in page  # National Day from the official schedule
    response = client.post(f"/desk/sla/calendars/{calendar.pk}/", calendar_data(hours_5=""))
    assert response.status_code == 302
    assert WorkingPeriod.objects.filter(calendar=calendar).count() == 10


def test_calendar_without_working_time_is_refused(cast):
    calendar = china_hours()
    before = list(calendar.periods.values_list("weekday", "starts", "ends"))
    empty = {f"hours_{d}": "" for d in range(7)}
    response = signed_in(cast.mona).post(
        f"/desk/sla/calendars/{calendar.pk}/", calendar_data(name=calendar.name, **empty)
    )
    assert response.status_code == 400
    assert "A working-hours calendar needs working time on at least one day." in (
        response.content.decode()
    )
    assert list(calendar.periods.values_list("weekday", "starts", "ends")) == before


def test_bad_hours_are_shown_on_their_day(cast):
    response = signed_in(cast.mona).post(
        "/desk/sla/calendars/new/", calendar_data(hours_2="9-12", hours_3="14:00-13:00")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="field-error-hours_2"' in html
    assert "is not a time range like 09:00-12:00" in html
    assert 'data-testid="field-error-hours_3"' in html
    assert not BusinessCalendar.objects.filter(name="Shenzhen plant").exists()


def test_unknown_region_is_refused(cast):
    response = signed_in(cast.mona).post(
        "/desk/sla/calendars/new/", calendar_data(holiday_subdivision="XX")
    )
    assert response.status_code == 400
    assert "unknown subdivision" in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Shenzhen plant").exists()


def test_override_days_are_added_and_removed(cast):
    calendar = china_hours()
    client = signed_in(cast.mona)
    url = f"/desk/sla/calendars/{calendar.pk}/days"
    response = client.post(url, {"date": "2026-12-24", "is_working": "0", "name": "Company day"})
    assert response.status_code == 302
    assert calendar.days.get().name == "Company day"
    page = client.get(f"/desk/sla/calendars/{calendar.pk}/").content.decode()
    assert 'data-testid="override"' in page
    assert "Company day" in page
    assert client.post(f"{url}/2026-12-24/remove").status_code == 302
    assert not calendar.days.exists()
    response = client.post(f"{url}/2026-12-24/remove", follow=True)
    assert "There is no override on this date." in response.content.decode()
    assert client.post(url, {"date": "someday", "is_working": "0"}).status_code == 400
    assert signed_in(cast.lina).post(url, {"date": "2026-12-25"}).status_code == 403
    assert not calendar.days.exists()


def test_year_without_official_china_schedule_is_flagged(cast):
    from erpcare.sla import holiday_sources

    this_year = datetime.now(SH).year
    gaps = holiday_sources.coverage_gaps("CN", range(this_year, this_year + 2))
    html = signed_in(cast.mona).get(f"/desk/sla/calendars/{china_hours().pk}/").content.decode()
    assert ('data-testid="coverage-gap"' in html) == bool(gaps)
    berlin = BusinessCalendar.objects.get(name__startswith="Germany")
    html = signed_in(cast.mona).get(f"/desk/sla/calendars/{berlin.pk}/").content.decode()
    assert 'data-testid="coverage-gap"' not in html
