"""Tickets created before the SLA app get clocks that match their history."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from erpcare.core import clock
from erpcare.sla.models import Outcome, SlaPause, TicketSla
from erpcare.sla.services.backfill import backfill_clocks
from erpcare.tickets.models import SlaState, Status, Ticket
from erpcare.tickets.services import add_comment, create_ticket, transition_ticket, update_ticket

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("sla_defaults")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def history(cast) -> Ticket:
    with clock.frozen_at(at(2026, 11, 23, 9, 0)):
        ticket = create_ticket(cast.lina, title="库存不一致", organization=cast.globex, priority=3)
    with clock.frozen_at(at(2026, 11, 23, 9, 30)):
        update_ticket(cast.lina, ticket, priority=1)
    with clock.frozen_at(at(2026, 11, 23, 9, 40)):
        add_comment(cast.lina, ticket, body="请提供截图")
    with clock.frozen_at(at(2026, 11, 23, 10, 0)):
        transition_ticket(cast.lina, ticket, to=Status.WAITING_CUSTOMER)
    with clock.frozen_at(at(2026, 11, 23, 11, 0)):
        add_comment(cast.bob, ticket, body="截图已上传")
    with clock.frozen_at(at(2026, 11, 23, 15, 0)):
        transition_ticket(
            cast.lina, ticket, to=Status.RESOLVED, resolution_code="fixed", resolution="ok"
        )
    return ticket


def test_backfill_replays_the_history_like_the_live_clocks(cast):
    live = history(cast)
    expected = TicketSla.objects.get(pk=live.pk)
    expected_pauses = list(
        SlaPause.objects.filter(ticket_sla=expected).values_list("reason", "working_time")
    )
    # Forget the clocks, as for a ticket from before the SLA app.
    TicketSla.objects.all().delete()
    Ticket.objects.update(sla_state="", sla_due_at=None, response_due_at=None)
    assert backfill_clocks(now=at(2026, 11, 24, 9, 0)) == 1
    rebuilt = TicketSla.objects.get(pk=live.pk)
    for name in (
        "policy_id", "priority", "response_due_at", "response_stopped_at", "response_overrun",
        "resolution_stopped_at", "resolution_overrun", "paused_time", "outcome",
    ):  # fmt: skip
        assert getattr(rebuilt, name) == getattr(expected, name), name
    assert rebuilt.outcome == Outcome.MET
    assert rebuilt.paused_time == timedelta(hours=1)
    assert (
        list(SlaPause.objects.filter(ticket_sla=rebuilt).values_list("reason", "working_time"))
        == expected_pauses
    )
    assert Ticket.objects.get(pk=live.pk).sla_state == SlaState.MET


def test_backfill_command_is_idempotent(cast):
    history(cast)
    TicketSla.objects.all().delete()
    call_command("erpcare_sla_backfill", verbosity=0)
    call_command("erpcare_sla_backfill", verbosity=0)
    assert TicketSla.objects.count() == 1
