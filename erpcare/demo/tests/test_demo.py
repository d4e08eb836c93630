"""The demo data set: what it contains, that it is real history, idempotent and stable."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from erpcare.accounts.models import Team, User
from erpcare.accounts.services import create_user
from erpcare.audit.models import AuditEntry
from erpcare.customers.models import Organization
from erpcare.demo import DEMO_PASSWORD, data
from erpcare.demo.plan import LOCAL, build_plan
from erpcare.demo.seed import seed_demo
from erpcare.tickets.models import (
    Comment,
    Ticket,
    TicketEvent,
    TicketLink,
)

# A Wednesday afternoon, so the assertions do not depend on the day the tests run.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=LOCAL)
CJK = re.compile(r"[\u4e00-\u9fff]")


def snapshot() -> dict[str, int]:
    return {
        "organizations": Organization.objects.count(),
        "users": User.objects.count(),
        "teams": Team.objects.count(),
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
        "comments": Comment.objects.count(),
        "links": TicketLink.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def ticket_rows() -> list[tuple[str, str, str, str]]:
    return list(
        Ticket.objects.order_by("id").values_list("number", "title", "status", "organization__code")
    )


@pytest.mark.django_db
def test_seeding_twice_adds_nothing():
    first = seed_demo(tickets=20, now=NOW)
    before = snapshot()
    rows = ticket_rows()
    second = seed_demo(tickets=50)
    assert first.created
    assert not second.created
    assert second.tickets == 20
    assert snapshot() == before
    assert ticket_rows() == rows


@pytest.mark.django_db
def test_two_fresh_databases_get_the_same_tickets():
    def seeded_rows() -> tuple[list[tuple[str, str, str, str]], dict[str, int]]:
        with transaction.atomic():
            seed_demo(tickets=40, now=NOW)
            rows, counts = ticket_rows(), snapshot()
            transaction.set_rollback(True)  # back to an empty database for the next run
        return rows, counts

    first_rows, first_counts = seeded_rows()
    assert Ticket.objects.count() == 0
    second_rows, second_counts = seeded_rows()
    assert first_rows == second_rows
    assert first_counts == second_counts
    assert len(first_rows) == 40


def test_ticket_content_does_not_depend_on_the_day():
    """The k-th ticket has the same title whenever the demo is built; only times move."""
    plan_a = build_plan(80, now=NOW)
    plan_b = build_plan(80, now=NOW + timedelta(days=17, hours=5))
    assert [t.title for t in plan_a.tickets] == [t.title for t in plan_b.tickets]
    assert [t.created for t in plan_a.tickets] != [t.created for t in plan_b.tickets]
    again = build_plan(80, now=NOW)
    assert [(t.title, t.created, len(t.steps)) for t in again.tickets] == [
        (t.title, t.created, len(t.steps)) for t in plan_a.tickets
    ]


def test_each_ticket_story_is_in_order_and_in_the_past():
    plan = build_plan(120, now=NOW)
    created = [ticket.created for ticket in plan.tickets]
    assert created == sorted(created)
    for ticket in plan.tickets:
        times = [step.at for step in ticket.steps]
        assert times == sorted(times)
        assert ticket.steps[0].action == "create"
        assert times[0] == ticket.created
        assert times[-1] <= NOW
        if ticket.partner is not None:
            assert ticket.partner < ticket.slot
    timeline = plan.timeline()
    assert [row[0] for row in timeline] == sorted(row[0] for row in timeline)


@pytest.mark.django_db
def test_the_command_prints_the_sign_ins_and_runs_once():
    out = io.StringIO()
    call_command("erpcare_seed_demo", tickets=15, stdout=out)
    text = out.getvalue()
    assert "15 tickets" in text
    for _role, email, _what in data.SIGN_INS:
        assert email in text
    assert DEMO_PASSWORD in text
    assert "/desk/" in text
    assert Ticket.objects.count() == 15

    out = io.StringIO()
    call_command("erpcare_seed_demo", stdout=out)
    assert "already exists" in out.getvalue()
    assert "admin@erpcare.demo" in out.getvalue()
    assert Ticket.objects.count() == 15

    quiet = io.StringIO()
    call_command("erpcare_seed_demo", quiet=True, stdout=quiet)
    assert quiet.getvalue() == ""


@pytest.mark.django_db
def test_the_command_refuses_a_database_that_has_demo_names_already():
    create_user(email="admin@erpcare.demo", display_name="Real admin", role_code="admin")
    with pytest.raises(CommandError, match=r"admin@erpcare\.demo"):
        call_command("erpcare_seed_demo", tickets=5, stdout=io.StringIO())
    assert not Organization.objects.exists()
    assert User.objects.count() == 1


def test_the_command_rejects_a_bad_ticket_count():
    with pytest.raises(CommandError, match="--tickets"):
        call_command("erpcare_seed_demo", tickets=0, stdout=io.StringIO())


@pytest.mark.django_db
def test_the_demo_inspects_an_instance_and_mails_its_report_weekly():
    from erpcare.core import clock
    from erpcare.inspections.models import InspectionRun, ReportSubscription
    from erpcare.inspections.services.mailing import due_period, mail_due_reports

    seed_demo(tickets=10, now=NOW)
    runs = InspectionRun.objects.order_by("created_at")
    assert runs.count() == 15  # two weeks of daily runs and today's
    assert (runs.first().rating, runs.last().rating) == ("green", "red")  # the negative stock
    subscription = ReportSubscription.objects.get()
    assert (subscription.frequency, subscription.language, subscription.is_active) == (
        "weekly",
        "zh-hans",
        True,
    )
    assert subscription.organization == runs.last().erp_instance.organization
    # Last week counts as sent: the demo's worker mails nothing until next Monday.
    assert due_period(subscription, clock.now()) is None
    assert mail_due_reports() == {"sent": 0, "failed": 0}


@pytest.mark.django_db
def test_the_demo_backs_up_its_erp_database_proves_a_restore_and_shows_a_missing_backup(
    settings, tmp_path, monkeypatch
):
    from erpcare.backups.models import BackupPlan, BackupPoint, RestoreTest
    from erpcare.backups.services.backup import store_for
    from erpcare.backups.services.health import plan_health
    from erpcare.demo.inspections import demo_erp_file

    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("ERPCARE_BACKUP_KEY", raising=False)
    monkeypatch.delenv("ERPCARE_BACKUP_KEY_FILE", raising=False)
    seed_demo(tickets=10, now=NOW)
    plan = BackupPlan.objects.get(kind="sqlite")
    assert not plan.encrypt  # no key configured
    assert plan.data_source.database == str(demo_erp_file(plan.erp_instance))
    assert plan.directory.startswith(str(tmp_path / "demo-backups"))
    points = list(plan.points.order_by("started_at"))
    assert [p.status for p in points] == ["ok", "ok"]
    assert points[1].started_at - points[0].started_at >= timedelta(hours=23)
    for point in points:
        assert store_for(plan).exists(point.artifact)
        assert set(point.stats["exact"]) == {"journal_line", "stock_level", "purchase_order"}
        assert point.stats["row_counts"]["journal_line"] == 80
    test = RestoreTest.objects.get()
    assert (test.point, test.status, test.scratch_dropped) == (points[1], "ok", True)
    checks = {c["check"]: c["status"] for c in test.checks}
    assert checks["row counts"] == "ok"
    assert checks["negative-stock"] == "warn"  # the live database has it too
    assert plan_health(plan).rating == "green"

    watched = BackupPlan.objects.get(kind="external")
    assert watched.erp_instance.product == "yonyou"
    health = plan_health(watched)
    assert health.rating == "red"
    assert "No file matches" in health.backup.message

    def backup_rows() -> tuple[int, int, int]:
        return BackupPlan.objects.count(), BackupPoint.objects.count(), RestoreTest.objects.count()

    before = backup_rows()
    assert not seed_demo(tickets=10).created
    assert backup_rows() == before == (2, 3, 1)
