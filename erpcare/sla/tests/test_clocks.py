"""The ticket clocks follow the ticket: start, response, pause, resolve, reopen, re-target."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from erpcare.core import clock
from erpcare.customers.models import Contract, Organization
from erpcare.sla.models import BusinessCalendar, Metric, Outcome, SlaEvent, SlaPause, SlaPolicy
from erpcare.sla.services.explain import explain
from erpcare.sla.services.policies import policy_for
from erpcare.tickets.models import Channel, Priority, SlaState, Status, Ticket
from erpcare.tickets.services import (
    add_comment,
    assign_ticket,
    create_ticket,
    reopen_ticket,
    transition_ticket,
    update_ticket,
)

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("sla_defaults")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def new_ticket(cast, when: datetime, *, org=None, priority=Priority.P1, actor=None) -> Ticket:
    with clock.frozen_at(when):
        return create_ticket(
            actor or cast.lina,
            title="凭证无法保存",
            organization=org or cast.globex,
            priority=priority,
        )


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("sla").get(pk=ticket.pk)


def test_standard_p1_opened_friday_evening_is_due_monday(cast):
    # Globex: standard contract; P1 = 2 h / 4 working hours in China working hours.
    ticket = fresh(new_ticket(cast, at(2026, 11, 20, 17, 30)))
    sla = ticket.sla
    assert sla.policy.name == "Standard P1"
    # 17:30–18:00 Friday, then Monday 09:00–10:30.
    assert sla.response_due_at == at(2026, 11, 23, 10, 30)
    # … and for resolution Monday 09:00–12:00 and 13:30–14:00.
    assert sla.resolution_due_at == at(2026, 11, 23, 14, 0)
    assert ticket.response_due_at == sla.response_due_at
    assert ticket.sla_due_at == at(2026, 11, 23, 10, 30)
    assert ticket.sla_state == SlaState.OK
    assert sla.next_check_at == at(2026, 11, 23, 10, 0)  # 75 % of 2 h: 90 min → Monday 10:00


def test_vip_p0_counts_every_minute(cast):
    ticket = fresh(new_ticket(cast, at(2026, 11, 21, 23, 50), org=cast.acme, priority=0))
    assert ticket.sla.policy.name == "VIP P0"
    assert ticket.response_due_at == at(2026, 11, 22, 0, 5)
    assert ticket.resolution_due_at == at(2026, 11, 22, 3, 50)


def test_first_public_staff_reply_stops_the_response_clock(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0))
    with clock.frozen_at(at(2026, 11, 23, 9, 30)):
        add_comment(cast.lina, ticket, body="内部备注", internal=True)
    assert fresh(ticket).sla.response_stopped_at is None
    with clock.frozen_at(at(2026, 11, 23, 9, 40)):
        add_comment(cast.bob, ticket, body="还有问题吗?")
    assert fresh(ticket).sla.response_stopped_at is None  # a customer does not answer himself
    with clock.frozen_at(at(2026, 11, 23, 9, 45)):
        add_comment(cast.lina, ticket, body="我们正在检查。")
    ticket = fresh(ticket)
    assert ticket.sla.response_stopped_at == at(2026, 11, 23, 9, 45)
    assert ticket.sla.response_overrun == timedelta(0)
    assert ticket.response_due_at is None  # queues now count toward resolution
    assert ticket.sla_due_at == ticket.resolution_due_at


def test_a_recorded_phone_call_is_a_first_response(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0))
    with clock.frozen_at(at(2026, 11, 23, 9, 5)):
        add_comment(
            cast.lina, ticket, body="电话沟通:已确认现象", internal=True, channel=Channel.PHONE
        )
    assert fresh(ticket).sla.response_stopped_at == at(2026, 11, 23, 9, 5)


def test_waiting_for_the_customer_pauses_resolution_exactly(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0))  # Monday; 4 working hours → 14:30
    assert fresh(ticket).resolution_due_at == at(2026, 11, 23, 14, 30)
    with clock.frozen_at(at(2026, 11, 23, 10, 0)):
        transition_ticket(cast.lina, ticket, to=Status.WAITING_CUSTOMER)
    ticket = fresh(ticket)
    assert ticket.sla.paused_since == at(2026, 11, 23, 10, 0)
    assert ticket.resolution_due_at is None
    # The response clock keeps running while the resolution clock waits.
    assert ticket.sla_state == SlaState.OK
    # The customer answers next morning: 10:00–12:00 and 13:30–18:00 Monday (6.5 h) and
    # Tuesday 09:00–09:30 were paused: 7 working hours.
    with clock.frozen_at(at(2026, 11, 24, 9, 30)):
        add_comment(cast.bob, ticket, body="补充了截图")
    ticket = fresh(ticket)
    assert ticket.status == Status.OPEN
    assert ticket.sla.paused_since is None
    assert ticket.sla.paused_time == timedelta(hours=7)
    # 1 h used before the pause; 3 h left from 09:30 Tuesday: 09:30–12:00, 13:30–14:00.
    assert ticket.resolution_due_at == at(2026, 11, 24, 14, 0)
    (pause,) = SlaPause.objects.filter(ticket_sla=ticket.sla)
    assert pause.reason == SlaPause.Reason.WAITING_CUSTOMER
    assert pause.working_time == timedelta(hours=7)


def test_waiting_for_the_vendor_does_not_pause_by_default(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0))
    with clock.frozen_at(at(2026, 11, 23, 10, 0)):
        transition_ticket(cast.lina, ticket, to=Status.WAITING_VENDOR)
    assert fresh(ticket).sla.paused_since is None
    policy = SlaPolicy.objects.get(name="Standard P2")
    policy.pause_when_waiting_vendor = True
    policy.save()
    other = new_ticket(cast, at(2026, 11, 23, 9, 0), priority=Priority.P2)
    with clock.frozen_at(at(2026, 11, 23, 10, 0)):
        transition_ticket(cast.lina, other, to=Status.WAITING_VENDOR)
    assert fresh(other).sla.paused_since == at(2026, 11, 23, 10, 0)


def test_resolving_stops_and_reopening_resumes_the_clock(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0))
    with clock.frozen_at(at(2026, 11, 23, 9, 10)):
        add_comment(cast.lina, ticket, body="已收到")
    with clock.frozen_at(at(2026, 11, 23, 11, 0)):
        transition_ticket(
            cast.lina, ticket, to=Status.RESOLVED, resolution_code="fixed", resolution="重建索引"
        )
    ticket = fresh(ticket)
    assert ticket.sla.outcome == Outcome.MET
    assert ticket.sla_state == SlaState.MET
    assert ticket.sla_due_at is None
    with clock.frozen_at(at(2026, 11, 23, 14, 0)):
        reopen_ticket(cast.bob, ticket, reason="又出现了")
    ticket = fresh(ticket)
    assert ticket.sla.outcome == Outcome.PENDING
    assert ticket.sla.resolution_stopped_at is None
    pause = SlaPause.objects.get(ticket_sla=ticket.sla)
    assert pause.reason == SlaPause.Reason.RESOLVED
    assert pause.working_time == timedelta(hours=1, minutes=30)  # 11–12 and 13:30–14
    # 2 h used, 2 h left from 14:00: 16:00.
    assert ticket.resolution_due_at == at(2026, 11, 23, 16, 0)


def test_late_resolution_records_the_breach_and_the_overrun(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0))  # resolution due 14:30
    with clock.frozen_at(at(2026, 11, 23, 16, 0)):
        transition_ticket(
            cast.lina, ticket, to=Status.RESOLVED, resolution_code="fixed", resolution="ok"
        )
    sla = fresh(ticket).sla
    # No reply ever: resolving is the first response, late as well.
    assert sla.response_stopped_at == at(2026, 11, 23, 16, 0)
    # 09:00–12:00 and 13:30–16:00 are 5.5 working hours: 3.5 h over 2 h, 1.5 h over 4 h.
    assert sla.response_overrun == timedelta(hours=3, minutes=30)
    assert sla.resolution_overrun == timedelta(hours=1, minutes=30)
    assert sla.outcome == Outcome.BOTH_BREACHED
    assert set(SlaEvent.objects.filter(ticket_sla=sla).values_list("metric", "kind")) == {
        (Metric.RESPONSE, "breach"),
        (Metric.RESOLUTION, "breach"),
    }
    assert fresh(ticket).sla_state == SlaState.MISSED


def test_priority_change_retargets_from_creation(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0), priority=Priority.P3)
    assert fresh(ticket).sla.policy.name == "Standard P3"
    with clock.frozen_at(at(2026, 11, 23, 9, 20)):
        update_ticket(cast.lina, ticket, priority=Priority.P1)
    ticket = fresh(ticket)
    assert ticket.sla.policy.name == "Standard P1"
    assert ticket.response_due_at == at(2026, 11, 23, 11, 0)  # 2 h from 09:00, not from 09:20
    event = SlaEvent.objects.get(ticket_sla=ticket.sla, kind=SlaEvent.Kind.RETARGETED)
    assert "P3" in event.note
    assert "P1" in event.note


def test_policy_comes_from_the_active_contract_then_the_default(cast):
    today = date(2026, 11, 23)
    assert policy_for(cast.acme.pk, 1, today).name == "VIP P1"
    assert policy_for(cast.acme.pk, 1, date(2027, 1, 5)).name == "Default P1"  # contract over
    newcomer = Organization.objects.create(code="newco", name="NewCo")
    assert policy_for(newcomer.pk, 2, today).name == "Default P2"
    contract = Contract.objects.get(organization=cast.globex)
    special = SlaPolicy.objects.create(
        name="Globex special P1",
        contract=contract,
        priority=1,
        response_minutes=60,
        resolution_minutes=120,
        calendar=BusinessCalendar.objects.get(name="24×7"),
    )
    assert policy_for(cast.globex.pk, 1, today) == special
    assert policy_for(cast.globex.pk, 2, today).name == "Standard P2"


def test_editing_a_policy_does_not_move_running_promises(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0))
    SlaPolicy.objects.filter(name="Standard P1").update(response_minutes=10)
    with clock.frozen_at(at(2026, 11, 23, 9, 5)):
        assign_ticket(cast.lina, ticket, assignee=cast.lina)
    assert fresh(ticket).response_due_at == at(2026, 11, 23, 11, 0)


def test_explain_lists_the_inputs(cast):
    ticket = new_ticket(cast, at(2026, 11, 23, 9, 0))
    with clock.frozen_at(at(2026, 11, 23, 10, 0)):
        transition_ticket(cast.lina, ticket, to=Status.WAITING_CUSTOMER)
    with clock.frozen_at(at(2026, 11, 23, 11, 0)):
        add_comment(cast.bob, ticket, body="好的")
    info = explain(ticket, now=at(2026, 11, 23, 11, 30))
    assert info is not None
    assert info.calendar.name.startswith("China working hours")
    assert info.resolution.used == timedelta(hours=1, minutes=30)
    assert info.resolution.remaining == timedelta(hours=2, minutes=30)
    assert info.response.used == timedelta(hours=2, minutes=30)
    assert [p.reason for p in info.pauses] == ["waiting_customer"]
    assert info.paused_time == timedelta(hours=1)
