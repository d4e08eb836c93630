"""Problems: numbers, linking incidents, root-cause analysis, known error, actions,
resolve and close — each with its audit entry; staff write, auditors read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.problems import services
from erpcare.problems.models import Problem, ProblemIncident
from erpcare.problems.tests.helpers import audit_actions, change, incident, refused

pytestmark = pytest.mark.django_db

WHYS = [
    {"question": "Why did saving time out?", "answer": "The insert scanned the lines table."},
    {"question": "Why did it scan?", "answer": "The index on order_id was missing."},
    {"question": "Why was it missing?", "answer": "The upgrade script dropped it."},
]


@pytest.fixture
def problem(cast):
    return services.create_problem(
        cast.eric, title="采购订单保存超时", description="Saving orders times out.",
        module="purchasing",
    )  # fmt: skip


def test_numbers_follow_the_year_in_the_server_time_zone(cast, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with clock.frozen_at(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)):  # 2027-01-01 in Shanghai
        first = services.create_problem(cast.eric, title="A")
    second = services.create_problem(cast.eric, title="B")
    assert first.number == "PRB-2027-000001"
    assert second.number == f"PRB-{clock.now().year}-000001"
    assert (first.status, first.owner, first.created_by) == ("new", cast.eric, cast.eric)
    assert audit_actions(first) == ["problem.created"]


def test_bad_input_is_refused_and_changes_nothing(cast, problem):
    with refused(ActionError, "Title is required"):
        services.create_problem(cast.eric, title="  ")
    with refused(ActionError, "not a valid ERP module"):
        services.create_problem(cast.eric, title="x", module="payroll-x")
    with refused(ActionError, "owner must be an active member of the support staff"):
        services.create_problem(cast.eric, title="x", owner=cast.alice)
    with refused(ActionError, "Unknown field: status"):
        services.update_problem(cast.eric, problem, status="closed")
    with refused(ActionError, "not a valid fishbone category"):
        services.record_rca(cast.eric, problem, fishbone=["weather"])
    with refused(ActionError, "Why 2 must have a question and an answer"):
        services.record_rca(cast.eric, problem, five_whys=[WHYS[0], {"q": "x", "a": "y"}])
    with refused(ActionError, "Why 2: answer is required"):
        services.record_rca(cast.eric, problem, five_whys=[WHYS[0], {"question": "q"}])
    with refused(ActionError, "five whys must be a list"):
        services.record_rca(cast.eric, problem, five_whys="why?")
    with refused(ActionError, "Why 1: answer is required"):
        services.record_rca(cast.eric, problem, five_whys=[{"question": "q", "answer": " "}])
    with refused(ActionError, "Nothing to record"):
        services.record_rca(cast.eric, problem)
    with refused(ActionError, "not a valid action kind"):
        services.add_action(cast.eric, problem, kind="urgent", description="x", owner=cast.xu)
    with refused(ActionError, "owner must be an active member"):
        services.add_action(cast.eric, problem, kind="corrective", description="x", owner=cast.bob)
    with refused(ActionError, "not a change number"):
        services.resolve_problem(cast.eric, problem, change_number="CHANGE-7")


def test_only_staff_write_and_auditors_read(cast, problem):
    for user in (cast.audra, cast.alice):
        with refused(NotAllowed, "read-only|Only support staff"):
            services.create_problem(user, title="x")
        with refused(NotAllowed, "read-only|Only support staff"):
            services.record_rca(user, problem, root_cause="x")
    assert services.get_problem_for(cast.audra, problem.number) == problem
    assert services.get_problem_for(cast.lina, str(problem.pk)) == problem
    with pytest.raises(NotFound):
        services.get_problem_for(cast.alice, problem.number)
    assert list(services.visible_problems(cast.bob)) == []


def test_link_incidents_derives_the_customers(cast, problem):
    acme = incident(cast)
    globex = incident(cast, "Purchase order save fails", organization=cast.globex)
    services.link_incidents(cast.eric, problem, [acme, globex])
    assert set(problem.incidents.values_list("ticket__number", flat=True)) == {
        acme.number,
        globex.number,
    }
    assert list(problem.organizations()) == sorted([cast.acme, cast.globex], key=str)
    assert audit_actions(problem)[-1] == "problem.incidents_linked"
    # vera's team serves only Acme: she sees one of the two
    assert list(services.incidents_of(cast.vera, problem)) == [acme]


def test_link_rules(cast, problem):
    request = incident(cast, "New user for purchasing", type="request")
    with refused(ActionError, "is not an incident"):
        services.link_incidents(cast.eric, problem, [request])
    hidden = incident(cast, "Globex only", organization=cast.globex)
    with refused(NotFound, "Ticket not found"):
        services.link_incidents(cast.vera, problem, [hidden])  # vera serves Acme only
    with refused(ActionError, "at least one incident"):
        services.link_incidents(cast.eric, problem, [])
    ticket = incident(cast)
    services.link_incidents(cast.eric, problem, [ticket])
    with refused(Conflict, "already linked to"):
        services.link_incidents(cast.eric, problem, [ticket])
    other = services.create_problem(cast.eric, title="Another")
    with refused(Conflict, f"already belongs to {problem.number}"):
        services.link_incidents(cast.eric, other, [ticket])
    services.unlink_incident(cast.eric, problem, ticket)
    assert not ProblemIncident.objects.exists()
    with refused(Conflict, "is not linked to"):
        services.unlink_incident(cast.eric, problem, ticket)
    services.link_incidents(cast.eric, other, [ticket])
    assert ticket.problem_link.problem == other


def test_rca_known_error_actions_resolve_close(cast, problem):
    problem = services.record_rca(
        cast.eric, problem, five_whys=WHYS, fishbone=["vendor", "code", "code"]
    )
    assert problem.status == "investigating"
    assert problem.five_whys == WHYS
    assert problem.fishbone == ["code", "vendor"]  # the category order, no duplicates
    with refused(ActionError, "Record the root cause before resolving"):
        services.resolve_problem(cast.eric, problem)
    with refused(ActionError, "Workaround is required"):
        services.mark_known_error(cast.eric, problem, workaround=" ")
    problem = services.mark_known_error(
        cast.eric, problem, workaround="Save in batches of 50 lines."
    )
    assert (problem.status, problem.known_error) == ("known_error", True)
    with refused(Conflict, "cannot go from Known error to Known error"):
        services.mark_known_error(cast.eric, problem, workaround="again")
    action = services.add_action(
        cast.eric, problem, kind="corrective", description="Recreate the index.",
        owner=cast.xu, due_on=date(2026, 12, 10),
    )  # fmt: skip
    services.add_action(
        cast.eric, problem, kind="preventive", description="Check indexes after upgrades.",
        owner=cast.eric,
    )  # fmt: skip
    done = services.complete_action(cast.xu, action)
    assert done.done_at is not None
    with refused(Conflict, "already done"):
        services.complete_action(cast.xu, action)
    problem = services.record_rca(
        cast.eric, problem, root_cause="The upgrade script dropped the order_id index."
    )
    assert problem.status == "known_error"  # recording keeps the state
    fix = change(cast)
    with refused(NotFound, "Change CHG-2026-999999 not found"):
        services.resolve_problem(cast.eric, problem, change_number="CHG-2026-999999")
    problem = services.resolve_problem(
        cast.eric, problem, resolution="Index recreated.", change_number=fix.number.lower()
    )
    assert (problem.status, problem.resolving_change) == ("resolved", fix.number)
    assert problem.change == fix
    assert problem.resolved_at is not None
    with refused(Conflict, "is resolved; reopen the investigation"):
        services.record_rca(cast.eric, problem, root_cause="other")
    problem = services.close_problem(cast.mona, problem)
    assert problem.status == "closed"
    with refused(Conflict, "cannot go from Closed"):
        services.start_investigation(cast.eric, problem)
    late = incident(cast)
    with refused(Conflict, "is closed"):
        services.link_incidents(cast.eric, problem, [late])
    assert audit_actions(problem) == [
        "problem.created",
        "problem.rca_recorded",
        "problem.known_error",
        "problem.action_added",
        "problem.action_added",
        "problem.action_done",
        "problem.rca_recorded",
        "problem.resolved",
        "problem.closed",
    ]


def test_closing_without_resolving_needs_a_reason(cast, problem):
    with refused(ActionError, "Say why the problem is closed"):
        services.close_problem(cast.eric, problem)
    services.close_problem(cast.eric, problem, note="Duplicate of PRB-2026-000002.")
    assert Problem.objects.get().status == "closed"


def test_a_resolved_problem_that_comes_back_is_investigated_again(cast, problem):
    services.record_rca(cast.eric, problem, root_cause="Missing index.")
    services.resolve_problem(cast.eric, problem)
    problem = services.start_investigation(cast.eric, problem, note="It came back.")
    assert (problem.status, problem.resolved_at) == ("investigating", None)
