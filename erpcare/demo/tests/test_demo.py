"""The demo data set: what it contains, that it is real history, idempotent and stable."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count

from erpcare.accounts.models import Team, User
from erpcare.accounts.services import create_user
from erpcare.audit.models import AuditEntry
from erpcare.customers.models import Contract, Organization
from erpcare.demo import DEMO_PASSWORD, data
from erpcare.demo.plan import LOCAL, build_plan
from erpcare.demo.seed import seed_demo
from erpcare.tickets.models import (
    OPEN_STATUSES,
    Comment,
    Status,
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
def test_the_demo_has_customers_staff_and_teams():
    result = seed_demo(tickets=40, now=NOW)
    assert result.created
    assert result.tickets == 40

    orgs = {org.code: org for org in Organization.objects.all()}
    assert set(orgs) == {spec.code for spec in data.ORGANIZATIONS}
    assert {org.tier for org in orgs.values()} == {"vip", "standard", "basic"}
    assert any(CJK.search(org.name) for org in orgs.values())
    assert any(not CJK.search(org.name) for org in orgs.values())
    today = NOW.date()
    for org in orgs.values():
        current = Contract.objects.filter(
            organization=org, starts_on__lte=today, ends_on__gte=today
        )
        assert current.count() == 1, org.code
        assert 1 <= org.erp_instances.count() <= 2
        assert all(instance.modules for instance in org.erp_instances.all())
        assert org.contacts.exists()
        assert 2 <= org.users.filter(role__code="customer").count() <= 4
    assert orgs["huadong"].erp_instances.filter(product="sap", environment="production").exists()
    assert orgs["huadong"].erp_instances.filter(environment="test").exists()

    staff = User.objects.exclude(role__code="customer")
    assert staff.count() >= 10
    per_role = dict(staff.values_list("role__code").annotate(n=Count("id")).order_by())
    assert per_role["l1_agent"] >= 3
    assert per_role["l2_engineer"] >= 2
    assert per_role["l3_expert"] >= 2
    assert per_role["manager"] == per_role["admin"] == per_role["auditor"] == 1

    teams = {team.code: team for team in Team.objects.all()}
    assert {team.tier for team in teams.values()} == {1, 2, 3}
    vip_team = teams["l1-huadong"]
    assert not vip_team.serves_all_customers
    assert list(vip_team.customers.values_list("code", flat=True)) == ["huadong"]
    assert all(team.members.exists() for team in teams.values())


@pytest.mark.django_db
def test_every_documented_sign_in_works_with_the_demo_password():
    seed_demo(tickets=12, now=NOW)
    for _role, email, _what in data.SIGN_INS:
        user = authenticate(None, username=email, password=DEMO_PASSWORD)
        assert user is not None, email
    assert authenticate(None, username="agent@erpcare.demo", password="wrong") is None
    customer = User.objects.get(email="customer@huadong.demo")
    assert customer.organization.tier == "vip"
    assert User.objects.get(email="agent@erpcare.demo").tier == 1
    assert User.objects.get(email="engineer@erpcare.demo").tier == 2
    assert User.objects.get(email="expert@erpcare.demo").tier == 3


@pytest.mark.django_db
def test_tickets_are_real_history_made_by_the_services():
    seed_demo(tickets=60, now=NOW)
    tickets = Ticket.objects.select_related("organization", "requester", "erp_instance")
    assert tickets.count() == 60

    # Every ticket was created through create_ticket: a "created" event and an audit row.
    created = TicketEvent.objects.filter(kind=TicketEvent.Kind.CREATED)
    assert created.values("ticket").distinct().count() == 60
    assert not tickets.filter(events__isnull=True).exists()
    assert AuditEntry.objects.filter(action="ticket.created", channel="demo").count() == 60

    # Created over the last 90 days, numbered in the order they were created.
    times = list(tickets.order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times)
    assert min(times) >= NOW - timedelta(days=90)
    assert max(times) <= NOW
    assert max(times) - min(times) > timedelta(days=60)
    for ticket in tickets:
        event_times = list(ticket.events.values_list("created_at", flat=True))
        assert min(event_times) == ticket.created_at
        assert max(event_times) <= NOW
        assert ticket.updated_at >= ticket.created_at
        if ticket.first_response_at is not None:
            assert ticket.first_response_at > ticket.created_at
        assert ticket.erp_instance.organization_id == ticket.organization_id
        if ticket.requester is not None:
            assert ticket.requester.organization_id == ticket.organization_id
        assert ticket.tags.exists()

    statuses = set(tickets.values_list("status", flat=True))
    assert {Status.CLOSED, Status.RESOLVED} <= statuses
    assert statuses & OPEN_STATUSES
    closed = tickets.filter(status=Status.CLOSED)
    assert closed.count() > 30
    assert not closed.filter(closed_at__isnull=True).exists()
    done = tickets.filter(status__in=[Status.RESOLVED, Status.CLOSED])
    assert not done.filter(resolution_code="").exists()
    assert not done.filter(resolved_at__isnull=True).exists()
    # Recent tickets are the ones still open; old ones are all finished.
    assert not tickets.filter(status__in=OPEN_STATUSES, created_at__lt=NOW - timedelta(days=30))

    titles = list(tickets.values_list("title", flat=True))
    assert any(CJK.search(title) for title in titles)
    assert any(not CJK.search(title) for title in titles)
    assert tickets.filter(description__contains="```").exists()  # Markdown code blocks

    assert tickets.filter(tier__gte=2).exists()
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED).exists()
    assert Comment.objects.filter(is_internal=True).exists()
    assert Comment.objects.filter(author__role__code="customer").exists()
    assert TicketLink.objects.filter(kind="caused_by").exists()
    merged = tickets.filter(merged_into__isnull=False)
    assert merged.count() >= 1
    for duplicate in merged:
        assert duplicate.status == Status.CLOSED
        assert duplicate.resolution_code == "duplicate"
        assert duplicate.merged_into.organization_id == duplicate.organization_id
        assert duplicate.merged_into.status in OPEN_STATUSES


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
