"""The freeze periods and standard change templates pages (managers and administrators
add, engineers read, auditors read, customers get 404) and a change's Edit and
Reschedule forms: every bad input is named and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from erpcare.changes.models import Change, ChangeTemplate, FreezePeriod
from erpcare.changes.tests.test_maintenance import PLANNED, START, scheduled
from erpcare.changes.tests.test_workflow import new_change
from erpcare.conftest import Cast
from erpcare.core import clock

pytestmark = pytest.mark.django_db


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def freeze_input(cast: Cast, **fields: Any) -> dict[str, Any]:
    return {
        "name": "Month-end close",
        "organization": cast.acme.pk,
        "instances": [cast.acme_erp.pk],
        "starts_at": "2026-11-30T00:00",
        "ends_at": "2026-12-02T00:00",
        "policy": "block",
        "reason": "Finance closes the books.",
        **fields,
    }


def test_managers_add_and_end_freeze_periods_in_their_time_zone(cast: Cast, settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    cast.mona.time_zone = "Asia/Shanghai"
    cast.mona.save()
    cast.eric.time_zone = "UTC"
    cast.eric.save()
    mona, eric = client(cast.mona), client(cast.eric)
    url = "/desk/changes/freezes/"
    with clock.frozen_at(PLANNED):
        page = mona.get(url)
        assert page.status_code == 200
        assert 'data-testid="freeze-form"' in page.content.decode()
        assert 'data-testid="no-freezes"' in page.content.decode()
        bad_inputs = {
            "ends_at": (
                freeze_input(cast, ends_at="2026-11-29T00:00"),
                "The freeze period must end after it starts.",
            ),
            "other customer's instance": (
                freeze_input(cast, instances=[cast.globex_erp.pk]),
                "These ERP instances do not belong to",
            ),
            "instances without a customer": (
                freeze_input(cast, organization=""),
                "Name the customer whose instances are frozen.",
            ),
            "policy": (freeze_input(cast, policy="freeze"), "Select a valid choice."),
            "start": (freeze_input(cast, starts_at="30/11/2026"), "Enter a valid date/time."),
            "name": (freeze_input(cast, name=""), "This field is required."),
        }
        for what, (data, message) in bad_inputs.items():
            bad = mona.post(url, data)
            assert bad.status_code == 400, what
            assert message in bad.content.decode(), what
        assert not FreezePeriod.objects.exists()
        refused = eric.post(url, freeze_input(cast))
        assert refused.status_code == 403
        assert "Only managers and administrators" in refused.content.decode()
        assert client(cast.audra).post(url, freeze_input(cast)).status_code == 404
        assert client(cast.alice).post(url, freeze_input(cast)).status_code == 404
        assert not FreezePeriod.objects.exists()

        assert mona.post(url, freeze_input(cast)).status_code == 302
        freeze = FreezePeriod.objects.get()
        # Midnight in Shanghai is 16:00 UTC the day before.
        assert freeze.starts_at == datetime.fromisoformat("2026-11-29T16:00:00+00:00")
        assert freeze.ends_at == datetime.fromisoformat("2026-12-01T16:00:00+00:00")
        assert list(freeze.erp_instances.all()) == [cast.acme_erp]
        assert freeze.policy == "block"
        assert freeze.organization == cast.acme

        shown = mona.get(url).content.decode()
        assert "2026-11-30 00:00" in shown
        assert "2026-12-02 00:00" in shown
        assert "Finance closes the books." in shown
        read_only = eric.get(url).content.decode()
        assert "Month-end close" in read_only
        assert "2026-11-29 16:00" in read_only  # eric reads it in UTC
        assert 'data-testid="freeze-form"' not in read_only
        assert 'data-testid="freeze-end"' not in read_only
        assert client(cast.audra).get(url).status_code == 200
        assert client(cast.alice).get(url).status_code == 404

        end = f"{url}{freeze.pk}/end"
        assert eric.post(end).status_code == 403
        assert FreezePeriod.objects.get().is_active
        assert client(cast.alice).post(end).status_code == 404
        assert mona.post(f"{url}999999/end").status_code == 404
        assert mona.post(end).status_code == 302
        assert not FreezePeriod.objects.get().is_active
        ended = mona.get(url).content.decode()
        assert "Freeze period “Month-end close” ended." in ended  # the message
        assert 'data-testid="freeze-row"' not in ended


def test_past_freeze_periods_are_not_listed(cast: Cast) -> None:
    FreezePeriod.objects.create(
        name="Last year's close", starts_at=START - timedelta(days=400),
        ends_at=START - timedelta(days=399), created_at=START,
    )  # fmt: skip
    with clock.frozen_at(PLANNED):
        assert "Last year" not in client(cast.mona).get("/desk/changes/freezes/").content.decode()


def template_input(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Restart the print spooler",
        "title": "Restart the SAP print spooler",
        "modules": [],
        "expected_downtime_minutes": "5",
        "implementation_plan": "SPAD → restart.",
        "rollback_plan": "Nothing to roll back; restart again.",
        **fields,
    }


def test_managers_add_standard_change_templates(cast: Cast) -> None:
    url = "/desk/changes/templates/"
    adam = client(cast.adam)
    page = adam.get(url)
    assert page.status_code == 200
    assert 'data-testid="template-form"' in page.content.decode()
    for what, (data, message) in {
        "rollback plan": (template_input(rollback_plan=""), "This field is required."),
        "downtime": (
            template_input(expected_downtime_minutes="-1"),
            "Ensure this value is greater than or equal to 0.",
        ),
        "module": (template_input(modules=["spaceship"]), "Select a valid choice."),
        "title": (template_input(title=""), "This field is required."),
    }.items():
        bad = adam.post(url, data)
        assert bad.status_code == 400, what
        assert message in bad.content.decode(), what
    assert not ChangeTemplate.objects.exists()
    assert client(cast.eric).post(url, template_input()).status_code == 403
    assert client(cast.audra).post(url, template_input()).status_code == 404
    assert client(cast.alice).get(url).status_code == 404
    assert not ChangeTemplate.objects.exists()

    assert adam.post(url, template_input()).status_code == 302
    template = ChangeTemplate.objects.get()
    assert template.expected_downtime_minutes == 5
    assert template.created_by == cast.adam
    twice = client(cast.mona).post(url, template_input())
    assert twice.status_code == 400
    assert "A template named “Restart the print spooler” exists already." in twice.content.decode()
    assert ChangeTemplate.objects.count() == 1
    listed = client(cast.eric).get(url).content.decode()
    assert "Restart the SAP print spooler" in listed
    assert 'data-testid="template-form"' not in listed
    nav = client(cast.eric).get("/desk/changes/").content.decode()
    assert 'href="/desk/changes/templates/"' in nav
    assert 'href="/desk/changes/freezes/"' in nav


def edit_input(cast: Cast, **fields: Any) -> dict[str, Any]:
    return {
        "title": "Apply SAP note 3312345 (revised)",
        "description": "",
        "instances": [cast.acme_erp.pk],
        "modules": ["gl"],
        "planned_start": "2026-11-10T15:00",
        "planned_end": "2026-11-10T18:00",
        "expected_downtime_minutes": "30",
        "implementation_plan": "1. Import transport. 2. Activate. 3. Check.",
        "test_evidence": "",
        "tested_at": "",
        "rollback_plan": "Re-import the previous transport version.",
        "communication_plan": "",
        **fields,
    }


def test_the_edit_form_calls_update_change(cast: Cast, settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    with clock.frozen_at(PLANNED):
        change = new_change(cast)
        url = f"/desk/changes/{change.number}/"
        eric = client(cast.eric)
        assert 'data-testid="change-edit"' in eric.get(url).content.decode()
        form = eric.get(url + "edit")
        assert form.status_code == 200
        assert "Apply SAP note 3312345 (posting period lock)" in form.content.decode()
        for what, (data, message) in {
            "window": (
                edit_input(cast, planned_end="2026-11-10T14:00"),
                "The planned end must be after the planned start.",
            ),
            "downtime": (
                edit_input(cast, expected_downtime_minutes="600"),
                "The expected downtime is longer than the planned window.",
            ),
            "title": (edit_input(cast, title=""), "This field is required."),
            "instance": (edit_input(cast, instances=["999999"]), "Select a valid choice."),
        }.items():
            bad = eric.post(url + "edit", data)
            assert bad.status_code == 400, what
            assert message in bad.content.decode(), what
        unchanged = Change.objects.get(pk=change.pk)
        assert unchanged.title == change.title
        assert unchanged.planned_end == change.planned_end
        assert client(cast.alice).post(url + "edit", edit_input(cast)).status_code == 404
        assert client(cast.audra).post(url + "edit", edit_input(cast)).status_code == 404

        assert eric.post(url + "edit", edit_input(cast)).status_code == 302
        edited = Change.objects.get(pk=change.pk)
        assert edited.title == "Apply SAP note 3312345 (revised)"
        # 15:00 in Shanghai is 07:00 UTC.
        assert edited.planned_start == datetime.fromisoformat("2026-11-10T07:00:00+00:00")
        assert edited.planned_end == datetime.fromisoformat("2026-11-10T10:00:00+00:00")
        assert edited.events.filter(kind="updated").exists()


def test_a_scheduled_change_is_not_edited_but_rescheduled(cast: Cast, settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    change = scheduled(cast)  # Nov 10, 15:00–17:00 Shanghai
    url = f"/desk/changes/{change.number}/"
    eric = client(cast.eric)
    with clock.frozen_at(PLANNED):
        page = eric.get(url).content.decode()
        assert 'data-testid="change-edit"' not in page
        assert 'data-testid="change-reschedule"' in page
        assert (
            "Only a change in draft or assessment can be edited."
            in eric.get(url + "edit").content.decode()
        )
        assert eric.post(url + "edit", edit_input(cast)).status_code == 409
        assert Change.objects.get(pk=change.pk).title == change.title

        FreezePeriod.objects.create(
            name="Audit week", organization=cast.acme, policy="block", created_at=PLANNED,
            starts_at=datetime.fromisoformat("2026-11-12T00:00:00+08:00"),
            ends_at=datetime.fromisoformat("2026-11-13T00:00:00+08:00"),
        )  # fmt: skip
        FreezePeriod.objects.create(
            name="Quarter close", organization=cast.acme, policy="warn", created_at=PLANNED,
            starts_at=datetime.fromisoformat("2026-11-14T00:00:00+08:00"),
            ends_at=datetime.fromisoformat("2026-11-15T00:00:00+08:00"),
        )  # fmt: skip
        blocked = eric.post(
            url + "reschedule",
            {"planned_start": "2026-11-12T10:00", "planned_end": "2026-11-12T12:00"},
        )
        assert blocked.status_code == 409
        assert "Audit week" in blocked.content.decode()
        for data, message in (
            (
                {"planned_start": "2026-11-12T10:00", "planned_end": "2026-11-12T09:00"},
                "The change must end after it starts.",
            ),
            ({"planned_start": "", "planned_end": "2026-11-12T09:00"}, "This field is required."),
            (
                {"planned_start": "tomorrow", "planned_end": "2026-11-12T09:00"},
                "Enter a valid date/time.",
            ),
        ):
            bad = eric.post(url + "reschedule", data)
            assert bad.status_code == 400
            assert message in bad.content.decode()
        window = {"planned_start": "2026-11-14T10:00", "planned_end": "2026-11-14T12:00"}
        assert client(cast.alice).post(url + "reschedule", window).status_code == 404
        assert client(cast.audra).post(url + "reschedule", window).status_code == 403
        same = Change.objects.get(pk=change.pk)
        assert (same.planned_start, same.planned_end) == (change.planned_start, change.planned_end)

        assert eric.post(url + "reschedule", window).status_code == 302
        moved = Change.objects.get(pk=change.pk)
        assert moved.planned_start == datetime.fromisoformat("2026-11-14T02:00:00+00:00")
        assert moved.state == "scheduled"
        shown = eric.get(url).content.decode()
        assert 'data-testid="change-warnings"' in shown
        assert "Quarter close" in shown
        assert "2026-11-14 10:00" in shown
