"""Opening a ticket: numbers, priority, who may open what for whom, and bad input."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from erpcare.audit.models import AuditEntry
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed, NotFound
from erpcare.tickets import services
from erpcare.tickets.models import (
    Impact,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketNumberSequence,
    Urgency,
)

pytestmark = pytest.mark.django_db

WATCHED = (Ticket, TicketEvent, AuditEntry, Tag, TicketNumberSequence, Ticket.watchers.through)


def db_state():
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in WATCHED}


@contextmanager
def refused(error, match):
    """The action raises ``error`` with a message matching ``match`` and changes nothing."""
    before = db_state()
    with pytest.raises(error, match=match):
        yield
    assert db_state() == before


# --- numbers ---------------------------------------------------------------------------


def test_number_is_prefix_year_and_six_digits(cast):
    with clock.frozen_at(datetime(2026, 5, 4, 3, 0, tzinfo=UTC)):
        incident = services.create_ticket(cast.alice, title="Cannot post invoice")
        request = services.create_ticket(cast.alice, title="New user", type="request")
        question = services.create_ticket(
            cast.alice, title="How to close a period", type="question"
        )
    assert incident.number == "INC-2026-000001"
    assert request.number == "REQ-2026-000001"
    assert question.number == "QST-2026-000001"
    for ticket in (incident, request, question):
        assert re.fullmatch(r"(INC|REQ|QST)-\d{4}-\d{6}", ticket.number)


def test_each_type_counts_on_its_own_sequence(cast):
    with clock.frozen_at(datetime(2026, 5, 4, 3, 0, tzinfo=UTC)):
        numbers = [
            services.create_ticket(cast.lina, title="t", organization=cast.acme, type=kind).number
            for kind in ["incident", "request", "incident", "question", "incident"]
        ]
    assert numbers == [
        "INC-2026-000001",
        "REQ-2026-000001",
        "INC-2026-000002",
        "QST-2026-000001",
        "INC-2026-000003",
    ]


def test_year_in_number_is_the_local_year_and_restarts_the_count(cast):
    # 2026-12-31 17:30 UTC is already 2027-01-01 in Asia/Shanghai.
    with clock.frozen_at(datetime(2026, 12, 31, 15, 0, tzinfo=UTC)):
        last_of_2026 = services.create_ticket(cast.alice, title="before midnight")
    with clock.frozen_at(datetime(2026, 12, 31, 17, 30, tzinfo=UTC)):
        first_of_2027 = services.create_ticket(cast.alice, title="after midnight")
    assert last_of_2026.number == "INC-2026-000001"
    assert first_of_2027.number == "INC-2027-000001"


# --- priority --------------------------------------------------------------------------

MATRIX = [
    (Impact.HIGH, Urgency.HIGH, Priority.P0),
    (Impact.HIGH, Urgency.MEDIUM, Priority.P1),
    (Impact.MEDIUM, Urgency.HIGH, Priority.P1),
    (Impact.HIGH, Urgency.LOW, Priority.P2),
    (Impact.MEDIUM, Urgency.MEDIUM, Priority.P2),
    (Impact.LOW, Urgency.HIGH, Priority.P2),
    (Impact.MEDIUM, Urgency.LOW, Priority.P3),
    (Impact.LOW, Urgency.MEDIUM, Priority.P3),
    (Impact.LOW, Urgency.LOW, Priority.P3),
]


@pytest.mark.parametrize(("impact", "urgency", "priority"), MATRIX)
def test_priority_comes_from_impact_and_urgency(cast, impact, urgency, priority):
    ticket = services.create_ticket(cast.alice, title="x", impact=impact, urgency=urgency)
    assert ticket.priority == priority


def test_staff_may_set_the_priority_directly(cast):
    ticket = services.create_ticket(
        cast.lina, title="x", organization=cast.acme, impact=3, urgency=3, priority=Priority.P0
    )
    assert ticket.priority == Priority.P0


def test_unknown_priority_impact_or_urgency_is_refused(cast):
    with refused(ActionError, "not a valid priority"):
        services.create_ticket(cast.lina, title="x", organization=cast.acme, priority=7)
    with refused(ActionError, "not a valid impact"):
        services.create_ticket(cast.lina, title="x", organization=cast.acme, impact=0)
    with refused(ActionError, "not a valid urgency"):
        services.create_ticket(cast.lina, title="x", organization=cast.acme, urgency=4)


# --- customers -------------------------------------------------------------------------


def test_customer_ticket_is_for_own_organization_with_self_as_requester(cast):
    ticket = services.create_ticket(cast.alice, title="Stock count differs")
    assert ticket.organization == cast.acme
    assert ticket.requester == cast.alice
    assert ticket.status == Status.NEW
    assert ticket.tier == 1
    assert list(ticket.watchers.all()) == [cast.alice]


def test_customer_cannot_open_a_ticket_for_another_customer(cast):
    with refused(NotFound, "Customer not found"):
        services.create_ticket(cast.alice, title="x", organization=cast.globex)


def test_customer_opens_tickets_in_their_own_name(cast):
    assert services.create_ticket(cast.alice, title="x").requester == cast.alice
    assert (
        services.create_ticket(cast.alice, title="y", requester=cast.alice).requester == cast.alice
    )
    with refused(NotAllowed, "in their own name"):
        services.create_ticket(cast.alice, title="z", requester=cast.alice2)


@pytest.mark.parametrize("field", ["priority", "team", "assignee"])
def test_customer_cannot_set_priority_team_or_assignee(cast, field):
    value = {"priority": Priority.P0, "team": cast.l1_acme, "assignee": cast.vera}[field]
    with refused(NotAllowed, "set by the support team"):
        services.create_ticket(cast.alice, title="x", **{field: value})


def test_erp_instance_of_another_customer_is_refused(cast):
    with refused(ActionError, "ERP instance belongs to another customer"):
        services.create_ticket(cast.alice, title="x", erp_instance=cast.globex_erp)
    with refused(ActionError, "ERP instance belongs to another customer"):
        services.create_ticket(
            cast.lina, title="x", organization=cast.acme, erp_instance=cast.globex_erp
        )


def test_own_erp_instance_is_kept(cast):
    ticket = services.create_ticket(cast.alice, title="x", erp_instance=cast.acme_erp)
    assert ticket.erp_instance == cast.acme_erp


def test_requester_of_another_customer_is_refused(cast):
    with refused(ActionError, "requester works for another customer"):
        services.create_ticket(cast.lina, title="x", organization=cast.acme, requester=cast.bob)


def test_inactive_customer_gets_no_new_tickets(cast):
    cast.globex.is_active = False
    cast.globex.save()
    with refused(ActionError, "inactive"):
        services.create_ticket(cast.lina, title="x", organization=cast.globex)


# --- staff -----------------------------------------------------------------------------


def test_staff_must_name_the_customer(cast):
    with refused(ActionError, "Choose the customer"):
        services.create_ticket(cast.lina, title="x")


def test_agent_opens_tickets_only_for_customers_their_teams_serve(cast):
    services.create_ticket(cast.vera, title="ok", organization=cast.acme)
    with refused(NotFound, "Customer not found"):
        services.create_ticket(cast.vera, title="x", organization=cast.globex)


def test_staff_ticket_with_team_and_assignee_starts_open_at_the_teams_tier(cast):
    ticket = services.create_ticket(
        cast.mona,
        title="Payroll run fails",
        organization=cast.acme,
        requester=cast.alice2,
        team=cast.l2_platform,
        assignee=cast.eric,
        channel="phone",
    )
    assert ticket.status == Status.OPEN
    assert ticket.tier == 2
    assert ticket.team == cast.l2_platform
    assert ticket.assignee == cast.eric
    assert ticket.requester == cast.alice2
    assert ticket.channel == "phone"


def test_ticket_cannot_be_given_to_a_team_that_does_not_serve_the_customer(cast):
    with refused(ActionError, "does not serve this customer"):
        services.create_ticket(cast.lina, title="x", organization=cast.globex, team=cast.l1_acme)


def test_ticket_cannot_be_assigned_to_someone_outside_the_team(cast):
    with refused(ActionError, "not a member of"):
        services.create_ticket(
            cast.lina, title="x", organization=cast.acme, team=cast.l2_platform, assignee=cast.xu
        )


def test_ticket_cannot_be_assigned_to_an_agent_who_does_not_serve_the_customer(cast):
    with refused(ActionError, "does not serve this customer"):
        services.create_ticket(cast.lina, title="x", organization=cast.globex, assignee=cast.vera)


@pytest.mark.parametrize("who", ["alice", "audra"])
def test_ticket_can_only_be_assigned_to_support_staff(cast, who):
    with refused(ActionError, "support staff"):
        services.create_ticket(
            cast.lina, title="x", organization=cast.acme, assignee=getattr(cast, who)
        )


def test_auditor_cannot_open_tickets(cast):
    with refused(NotAllowed, "read-only"):
        services.create_ticket(cast.audra, title="x", organization=cast.acme)


# --- input -----------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", "   ", None])
def test_empty_title_is_refused(cast, title):
    with refused(ActionError, "Title is required"):
        services.create_ticket(cast.alice, title=title)


def test_title_longer_than_200_characters_is_refused(cast):
    with refused(ActionError, "Title is too long"):
        services.create_ticket(cast.alice, title="账" * 201)
    assert len(services.create_ticket(cast.alice, title="账" * 200).title) == 200


def test_title_is_trimmed(cast):
    assert services.create_ticket(cast.alice, title="  GL posting  ").title == "GL posting"


def test_description_longer_than_100000_characters_is_refused(cast):
    with refused(ActionError, "Description is too long"):
        services.create_ticket(cast.alice, title="x", description="d" * 100_001)


@pytest.mark.parametrize("field", ["title", "description"])
def test_text_with_nul_characters_is_refused(cast, field):
    values = {"title": "ok", "description": "", field: "bad\x00text"}
    with refused(ActionError, "NUL character"):
        services.create_ticket(cast.alice, **values)


def test_tags_with_nul_characters_are_refused(cast):
    with refused(ActionError, "NUL character"):
        services.create_ticket(cast.alice, title="x", tags=["ok", "b\x00d"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "bug"), ("channel", "fax"), ("category", "misc"), ("module", "crm")],
)
def test_unknown_choice_is_refused(cast, field, value):
    with refused(ActionError, f"{value} is not a valid"):
        services.create_ticket(cast.alice, title="x", **{field: value})


def test_tags_are_lowercased_deduplicated_and_limited_to_20(cast):
    ticket = services.create_ticket(cast.alice, title="x", tags=["GL", "gl", " Month-End "])
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["gl", "month-end"]
    with refused(ActionError, "at most 20 tags"):
        services.create_ticket(cast.alice, title="x", tags=[f"t{i}" for i in range(21)])


# --- what is written -------------------------------------------------------------------


def test_creation_writes_one_created_event_and_one_audit_row(cast):
    ticket = services.create_ticket(cast.alice, title="x", channel="email", tags=["gl"])
    events = list(TicketEvent.objects.filter(ticket=ticket))
    assert [(e.kind, e.new_value, e.note, e.actor) for e in events] == [
        ("created", ticket.number, "email", cast.alice)
    ]
    audit = AuditEntry.objects.get(action="ticket.created")
    assert audit.actor == cast.alice
    assert audit.target_type == "tickets.ticket"
    assert audit.target_id == str(ticket.pk)
    assert audit.data == {
        "number": ticket.number,
        "channel": "email",
        "priority": ticket.priority,
        "tags": ["gl"],
    }


def test_a_phoned_in_ticket_given_to_a_team_and_agent_shows_that_in_its_timeline(cast):
    ticket = services.create_ticket(
        cast.lina, title="Payroll run fails", organization=cast.acme, channel="phone",
        team=cast.l1_desk, assignee=cast.lina,
    )  # fmt: skip
    events = list(ticket.events.order_by("id").values_list("kind", "field", "new_value"))
    assert events == [
        ("created", "", ticket.number),
        ("assigned", "team", str(cast.l1_desk)),
        ("assigned", "assignee", str(cast.lina)),
    ]
