"""What the demo data set contains: customers, staff, teams and 60 tickets of real history,
seeded once for the module (the read-only tests share it)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Count

from erpcare.accounts.models import Team, User
from erpcare.audit.models import AuditEntry
from erpcare.customers.models import Contract, Organization
from erpcare.demo import DEMO_PASSWORD, data
from erpcare.demo.plan import LOCAL
from erpcare.demo.seed import seed_demo
from erpcare.tickets.models import OPEN_STATUSES, Comment, Status, Ticket, TicketEvent, TicketLink

# A Wednesday afternoon, so the assertions do not depend on the day the tests run.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=LOCAL)
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """60 tickets' demo seeded once for the tests that only read it, in a transaction rolled
    back at the end of the module; each test runs in a savepoint inside it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo(tickets=60, now=NOW)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_demo_has_customers_staff_and_teams(demo):
    assert demo.created
    assert demo.tickets == 60

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
def test_every_documented_sign_in_works_with_the_demo_password(demo):
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
def test_tickets_are_real_history_made_by_the_services(demo):
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
def test_the_dashboards_have_the_demo_history_and_last_month_is_drafted(demo):
    from erpcare.reports.models import DailyRollup, MonthlyReport
    from erpcare.reports.rollups import Filters, local_today, totals

    today = local_today(NOW)
    history = totals(Filters(today - timedelta(days=120), today))
    assert history["created"] == Ticket.objects.filter(merged_into__isnull=True).count()
    assert history["backlog"] == Ticket.objects.filter(status__in=OPEN_STATUSES).count()
    assert DailyRollup.objects.filter(day=today).exists()
    drafts = MonthlyReport.objects.filter(status="draft")
    assert drafts.count() == Organization.objects.count()
    assert {d.month for d in drafts} == {date(2026, 10, 1)}  # NOW is in November
