"""The periodic pass: warnings, breaches and escalation steps, each exactly once."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections, connection

from erpcare.accounts.models import TeamMembership
from erpcare.channels.models import Notification
from erpcare.core import clock
from erpcare.sla.models import Metric, SlaEvent, TicketSla
from erpcare.sla.services.evaluator import evaluate_due
from erpcare.tickets.models import Priority, SlaState, Ticket, TicketEvent
from erpcare.tickets.services import add_comment, assign_ticket, create_ticket

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def globex_p1(cast, when: datetime) -> Ticket:
    with clock.frozen_at(when):
        ticket = create_ticket(
            cast.lina, title="MRP 运行失败", organization=cast.globex, priority=Priority.P1
        )
        assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    return ticket


def notes(user) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", "title")
    )


@pytest.mark.usefixtures("sla_defaults")
def test_warning_then_breach_each_once(cast):
    lead = cast.eric
    TeamMembership.objects.create(team=cast.l1_desk, user=lead, is_lead=True)
    ticket = globex_p1(cast, at(2026, 11, 23, 9, 0))  # response: warn 10:30, due 11:00
    assert evaluate_due(at(2026, 11, 23, 10, 29)).checked == 0
    result = evaluate_due(at(2026, 11, 23, 10, 30))
    assert (result.checked, result.warnings, result.breaches) == (1, 1, 0)
    assert [k for k, _t in notes(cast.lina)] == ["sla_warning"]
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.WARNING
    # Running again, or later before the next threshold, records nothing new.
    assert evaluate_due(at(2026, 11, 23, 10, 30)).checked == 0
    assert evaluate_due(at(2026, 11, 23, 10, 59)).checked == 0

    result = evaluate_due(at(2026, 11, 23, 11, 0))
    assert (result.breaches, result.escalations) == (1, 1)  # Standard P1: step at 100 %
    # Breach and the step at the same moment: one message per person, the escalation.
    assert [k for k, _t in notes(cast.lina)] == ["sla_warning", "sla_escalation"]
    assert [k for k, _t in notes(lead)] == ["sla_escalation"]
    assert ticket.number in notes(lead)[0][1]
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.BREACHED
    kinds = sorted(
        SlaEvent.objects.filter(ticket_sla_id=ticket.pk).values_list("metric", "kind", "step")
    )
    assert kinds == [
        (Metric.RESPONSE, "breach", 0),
        (Metric.RESPONSE, "escalation", 100),
        (Metric.RESPONSE, "warning", 0),
    ]
    assert evaluate_due(at(2026, 11, 23, 11, 5)).checked == 0
    # The resolution clock is still armed: its warning comes at 3 h of 4, 12:00.
    sla = TicketSla.objects.get(pk=ticket.pk)
    assert sla.next_check_at == at(2026, 11, 23, 12, 0)


@pytest.mark.usefixtures("sla_defaults")
def test_answering_in_time_disarms_the_response_clock(cast):
    ticket = globex_p1(cast, at(2026, 11, 23, 9, 0))
    with clock.frozen_at(at(2026, 11, 23, 9, 20)):
        add_comment(cast.lina, ticket, body="正在处理")
    evaluate_due(at(2026, 11, 23, 11, 30))
    assert not SlaEvent.objects.filter(ticket_sla_id=ticket.pk, metric=Metric.RESPONSE).exists()
    assert Notification.objects.count() == 0


@pytest.mark.usefixtures("sla_defaults")
def test_vip_p0_unanswered_goes_to_l2_then_to_managers(cast):
    cast.acme.account_manager = cast.adam
    cast.acme.save()
    with clock.frozen_at(at(2026, 11, 23, 2, 0)):
        ticket = create_ticket(
            cast.vera, title="生产系统宕机", organization=cast.acme, priority=Priority.P0
        )
        assign_ticket(cast.vera, ticket, assignee=cast.vera, team=cast.l1_acme)
    evaluate_due(at(2026, 11, 23, 2, 15))  # 15 min: breach + step 100 % raises the tier
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.team, ticket.assignee) == (2, cast.l2_platform, None)
    assert ticket.priority == Priority.P0
    escalated = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.ESCALATED)
    assert escalated.actor is None
    assert "100" in escalated.note
    assert [k for k, _t in notes(cast.vera)] == ["sla_escalation"]
    assert notes(cast.mona) == []
    evaluate_due(at(2026, 11, 23, 2, 30))  # 200 %: managers and the account manager
    assert [k for k, _t in notes(cast.mona)] == ["sla_escalation"]
    assert [k for k, _t in notes(cast.adam)] == ["sla_escalation"]
    # The clock was not re-targeted by its own escalation.
    sla = TicketSla.objects.get(pk=ticket.pk)
    assert sla.response_minutes == 15
    assert sla.policy.name == "VIP P0"


@pytest.mark.usefixtures("sla_defaults")
def test_priority_raised_by_a_step_keeps_the_targets(cast):
    from erpcare.sla.models import EscalationStep, SlaPolicy

    policy = SlaPolicy.objects.get(name="Standard P2")
    EscalationStep.objects.create(
        policy=policy, metric=Metric.RESPONSE, percent=50, raise_priority=True
    )
    policy.save()  # touching the policy refreshes the cached steps
    with clock.frozen_at(at(2026, 11, 23, 9, 0)):
        ticket = create_ticket(
            cast.lina, title="报表慢", organization=cast.globex, priority=Priority.P2
        )
    evaluate_due(at(2026, 11, 23, 11, 0))  # 50 % of 4 h
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P1
    sla = TicketSla.objects.get(pk=ticket.pk)
    assert (sla.priority, sla.policy.name, sla.response_minutes) == (1, "Standard P2", 240)
    # A later action does not re-target either: the clock knows the raise was its own.
    with clock.frozen_at(at(2026, 11, 23, 11, 5)):
        add_comment(cast.lina, ticket, body="处理中")
    assert TicketSla.objects.get(pk=ticket.pk).policy.name == "Standard P2"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks between connections need a server database (the test SQLite is in memory)",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sla_defaults_tx")
def test_two_evaluators_racing_record_one_breach_and_one_notification():
    from erpcare.conftest import build_cast

    cast = build_cast()
    tickets = [globex_p1(cast, at(2026, 11, 23, 9, 0)) for _ in range(30)]
    now = at(2026, 11, 23, 11, 0)  # warning, breach and the 100 % step are all due
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(evaluate_due(now, batch=7))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    ids = [t.pk for t in tickets]
    breaches = SlaEvent.objects.filter(ticket_sla_id__in=ids, kind="breach")
    assert breaches.count() == 30
    assert sum(r.breaches for r in results) == 30
    # One message per ticket for the assignee: the escalation (breach merged into it).
    assert Notification.objects.filter(recipient=cast.lina).count() == 30
    assert (
        Notification.objects.filter(ticket_id__in=ids).values("ticket_id").distinct().count() == 30
    )
