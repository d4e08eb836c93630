"""Moving a ticket between support tiers L1 → L2 → L3 and back, always with a reason."""

from __future__ import annotations

import pytest

from erpcare.accounts.models import Team
from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import Status, Ticket, TicketEvent
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

WATCHED = (Ticket, TicketEvent, AuditEntry)

db_state, refused = state_checks(*WATCHED)


@pytest.fixture
def ticket(cast):
    ticket = services.create_ticket(cast.alice, title="Interface to bank times out")
    services.assign_ticket(cast.lina, ticket, assignee=cast.lina, team=cast.l1_desk)
    return Ticket.objects.get(pk=ticket.pk)


def reload(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def test_l1_escalates_to_l2_which_escalates_to_l3_and_l3_hands_back(cast, ticket):
    services.escalate_ticket(cast.lina, ticket, tier=2, reason="needs SQL trace")
    step1 = reload(ticket)
    assert (step1.tier, step1.team, step1.assignee) == (2, cast.l2_platform, None)

    services.escalate_ticket(
        cast.eric, ticket, tier=3, reason="bug in the bank adapter", assignee=cast.xu
    )
    step2 = reload(ticket)
    assert (step2.tier, step2.team, step2.assignee) == (3, cast.l3_experts, cast.xu)

    services.escalate_ticket(cast.xu, ticket, tier=1, reason="patched; please confirm with user")
    step3 = reload(ticket)
    assert (step3.tier, step3.team, step3.assignee) == (1, cast.l1_desk, None)

    tiers = TicketEvent.objects.filter(ticket=ticket, field="tier").order_by("id")
    assert [(e.kind, e.old_value, e.new_value, e.note) for e in tiers] == [
        ("escalated", "1", "2", "needs SQL trace"),
        ("escalated", "2", "3", "bug in the bank adapter"),
        ("de_escalated", "3", "1", "patched; please confirm with user"),
    ]
    assert AuditEntry.objects.filter(action="ticket.escalated").count() == 3


def test_escalation_to_a_named_team_of_that_tier(cast, ticket):
    second_l2 = Team.objects.create(code="l2-finance", name="财务二线", tier=2)
    services.escalate_ticket(cast.lina, ticket, tier=2, reason="posting logic", team=second_l2)
    assert reload(ticket).team == second_l2


def test_escalating_a_new_ticket_opens_it(cast):
    ticket = services.create_ticket(cast.alice, title="new one")
    services.escalate_ticket(cast.lina, ticket, tier=2, reason="clearly a database issue")
    assert reload(ticket).status == Status.OPEN


@pytest.mark.parametrize("reason", ["", "   "])
def test_reason_is_required(cast, ticket, reason):
    with refused(ActionError, "Reason is required"):
        services.escalate_ticket(cast.lina, ticket, tier=2, reason=reason)


def test_team_of_another_tier_is_refused(cast, ticket):
    with refused(ActionError, "专家组 does not work at this tier"):
        services.escalate_ticket(cast.lina, ticket, tier=2, reason="x", team=cast.l3_experts)


def test_team_that_does_not_serve_the_customer_is_refused(cast):
    globex = services.create_ticket(cast.bob, title="POS")
    services.escalate_ticket(cast.lina, globex, tier=2, reason="db")
    with refused(ActionError, "Acme 驻场组 does not serve this customer"):
        services.escalate_ticket(cast.eric, globex, tier=1, reason="back", team=cast.l1_acme)


def test_assignee_must_be_in_the_receiving_team(cast, ticket):
    with refused(ActionError, "Xu Ming is not a member of 平台组"):
        services.escalate_ticket(cast.lina, ticket, tier=2, reason="x", assignee=cast.xu)


def test_same_tier_is_refused(cast, ticket):
    with refused(ActionError, "already at this tier"):
        services.escalate_ticket(cast.lina, ticket, tier=1, reason="x")


def test_unknown_tier_is_refused(cast, ticket):
    with refused(ActionError, "not a valid support tier"):
        services.escalate_ticket(cast.lina, ticket, tier=4, reason="x")


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_resolved_or_closed_ticket_cannot_be_escalated(cast, ticket, status):
    Ticket.objects.filter(pk=ticket.pk).update(status=status)
    with refused(Conflict, "Only open tickets can be escalated"):
        services.escalate_ticket(cast.lina, ticket, tier=2, reason="x")


@pytest.mark.parametrize("who", ["alice", "audra"])
def test_customers_and_auditors_cannot_escalate(cast, ticket, who):
    with refused(NotAllowed, "support staff|read-only"):
        services.escalate_ticket(getattr(cast, who), ticket, tier=2, reason="please hurry")


def test_agent_cannot_escalate_a_ticket_they_cannot_see(cast):
    globex = services.create_ticket(cast.bob, title="POS")
    with refused(NotFound, "Ticket not found"):
        services.escalate_ticket(cast.vera, globex, tier=2, reason="x")


def test_escalation_puts_work_in_progress_back_in_the_queue_of_the_new_tier(cast, ticket):
    services.transition_ticket(cast.lina, ticket, to=Status.IN_PROGRESS)
    services.escalate_ticket(cast.lina, reload(ticket), tier=2, reason="needs a DBA")
    assert (reload(ticket).status, reload(ticket).assignee) == (Status.OPEN, None)


def test_escalation_to_a_named_engineer_keeps_the_work_in_progress(cast, ticket):
    services.transition_ticket(cast.lina, ticket, to=Status.IN_PROGRESS)
    services.escalate_ticket(
        cast.lina, reload(ticket), tier=2, reason="eric knows it", assignee=cast.eric
    )
    assert (reload(ticket).status, reload(ticket).assignee) == (Status.IN_PROGRESS, cast.eric)
