"""The change workflow rules: rollback plan before approval, approvers by risk (CAB), no
approving one's own change, rejection, standard and emergency paths, freeze periods,
overlaps, audit entries, versions and patches, the calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from erpcare.accounts.models import User
from erpcare.accounts.services import add_team_member
from erpcare.audit.models import AuditEntry
from erpcare.changes.models import (
    Change,
    ChangeEvent,
    ChangeTemplate,
    FreezePeriod,
    PatchRecord,
)
from erpcare.changes.services import calendar as calendar_service
from erpcare.changes.services import risk, workflow
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.customers.models import ErpInstance

NOW = datetime.fromisoformat("2026-11-02T02:00:00+00:00")
START = datetime.fromisoformat("2026-11-10T07:00:00+00:00")
END = datetime.fromisoformat("2026-11-10T09:00:00+00:00")

LOW = {
    "tested": "yes",
    "done_before": "often",
    "complexity": "simple",
    "users": "few",
    "downtime": "none",
    "financial": "no",
}
MEDIUM = {**LOW, "complexity": "moderate", "users": "department"}
HIGH = {**LOW, "tested": "no", "users": "company"}


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with clock.frozen_at(NOW):
        yield


def shanghai(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def new_change(cast: Cast, actor: User | None = None, **fields: Any) -> Change:
    values: dict[str, Any] = {
        "type": "normal",
        "title": "Apply SAP note 3312345 (posting period lock)",
        "instances": [cast.acme_erp],
        "modules": ["gl"],
        "planned_start": START,
        "planned_end": END,
        "expected_downtime_minutes": 30,
        "implementation_plan": "1. Import transport. 2. Activate.",
        "test_evidence": "Ran in QAS with last month's data; postings unchanged.",
        "tested_at": NOW - timedelta(days=1),
        "rollback_plan": "Re-import the previous transport version.",
        "communication_plan": "Mail the finance key users a day before.",
        **fields,
    }
    return workflow.create_change(actor or cast.eric, **values)


def to_approval(cast: Cast, change: Change, answers: dict[str, str] = LOW) -> Change:
    workflow.submit_for_assessment(cast.eric, change)
    workflow.assess_change(cast.eric, change, answers)
    return workflow.request_approval(cast.eric, change)


def reload(change: Change) -> Change:
    return Change.objects.get(pk=change.pk)


# ---------------------------------------------------------------------------
# Creation, numbers, risk
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_change_gets_a_number_and_derives_its_customers(cast: Cast) -> None:
    change = new_change(cast, instances=[cast.acme_erp, cast.globex_erp])
    second = new_change(cast)
    assert change.number == "CHG-2026-000001"
    assert second.number == "CHG-2026-000002"
    assert change.state == "draft"
    assert change.owner == cast.eric
    assert [o.code for o in change.customers_affected()] == ["acme", "globex"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "big"}, "is not a change type"),
        ({"title": "  "}, "Title is required"),
        ({"modules": ["gl", "crm"]}, "“crm” is not an ERP module"),
        ({"planned_end": START}, "The planned end must be after the planned start"),
        ({"planned_end": None}, "Give both the planned start and the planned end"),
        ({"expected_downtime_minutes": 121}, "expected downtime is longer than the planned window"),
        ({"expected_downtime_minutes": -1}, "whole number of minutes"),
        ({"planned_start": datetime(2026, 11, 10, 7)}, "Planned start needs a time zone"),
        ({"tested_at": NOW + timedelta(hours=1)}, "test run cannot be in the future"),
        ({"instances": [999_999]}, "No ERP instance 999999"),
        ({"type": "standard"}, "made from a standard change template"),
    ],
)
def test_bad_input_is_named(cast: Cast, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ActionError, match=message):
        new_change(cast, **fields)
    assert not Change.objects.exists()


def test_risk_matrix_and_questionnaire_errors() -> None:
    assert (risk.assess(LOW).likelihood, risk.assess(LOW).impact, risk.assess(LOW).risk) == (
        1,
        1,
        "low",
    )
    assert risk.assess(MEDIUM).risk == "medium"
    assert risk.assess(HIGH).risk == "high"
    assert risk.assess({**LOW, "financial": "yes"}).risk == "medium"  # 1 × 3
    assert len(risk.MATRIX) == 9
    with pytest.raises(ActionError, match="Unknown risk question: colour"):
        risk.assess({**LOW, "colour": "red"})
    with pytest.raises(ActionError, match="Answer the risk question"):
        risk.assess({k: v for k, v in LOW.items() if k != "users"})
    with pytest.raises(ActionError, match="“maybe” is not an answer"):
        risk.assess({**LOW, "tested": "maybe"})


# ---------------------------------------------------------------------------
# Approval rules
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_request_for_approval_without_a_rollback_plan(cast: Cast) -> None:
    change = new_change(cast, rollback_plan="")
    workflow.submit_for_assessment(cast.eric, change)
    workflow.assess_change(cast.eric, change, LOW)
    with pytest.raises(ActionError, match="Write the rollback plan before asking for approval"):
        workflow.request_approval(cast.eric, change)
    assert reload(change).state == "assessment"
    workflow.update_change(cast.eric, change, rollback_plan="Restore the transport.")
    assert workflow.request_approval(cast.eric, change).state == "approval"


@pytest.mark.django_db
def test_no_request_for_approval_without_risk(cast: Cast) -> None:
    change = new_change(cast)
    workflow.submit_for_assessment(cast.eric, change)
    with pytest.raises(ActionError, match="Answer the risk questionnaire"):
        workflow.request_approval(cast.eric, change)


@pytest.mark.django_db
def test_approvers_cannot_approve_their_own_change(cast: Cast) -> None:
    change = new_change(cast, actor=cast.mona)
    workflow.submit_for_assessment(cast.mona, change)
    workflow.assess_change(cast.mona, change, LOW)
    workflow.request_approval(cast.mona, change)
    with pytest.raises(NotAllowed, match="You cannot approve your own change"):
        workflow.approve_change(cast.mona, change)
    owned = new_change(cast, owner=cast.adam)
    to_approval(cast, owned)
    with pytest.raises(NotAllowed, match="You cannot approve your own change"):
        workflow.approve_change(cast.adam, owned)
    with pytest.raises(NotAllowed, match="You cannot approve your own change"):
        workflow.approve_change(cast.eric, owned)
    assert not owned.approvals.exists()


@pytest.mark.django_db
def test_low_risk_needs_one_team_lead_medium_a_manager(cast: Cast) -> None:
    add_team_member(team=cast.l1_desk, user=cast.lina, is_lead=True)
    low = to_approval(cast, new_change(cast))
    with pytest.raises(NotAllowed, match="team lead, a manager or an administrator"):
        workflow.approve_change(cast.vera, low)  # an agent, not a lead
    workflow.approve_change(cast.lina, low)
    assert workflow.is_approved(reload(low))
    assert workflow.schedule_change(cast.eric, low).state == "scheduled"

    medium = to_approval(cast, new_change(cast, instances=[cast.globex_erp]), MEDIUM)
    with pytest.raises(NotAllowed, match="A manager or an administrator approves"):
        workflow.approve_change(cast.lina, medium)
    with pytest.raises(Conflict, match="has 0 of the 1 approvals"):
        workflow.schedule_change(cast.eric, medium)
    workflow.approve_change(cast.mona, medium)
    assert workflow.schedule_change(cast.eric, medium).state == "scheduled"


@pytest.mark.django_db
def test_high_risk_needs_the_cab_two_distinct_managers(cast: Cast) -> None:
    change = to_approval(cast, new_change(cast), HIGH)
    assert reload(change).risk == "high"
    workflow.approve_change(cast.mona, change, comment="OK from ops")
    with pytest.raises(Conflict, match="already approved"):
        workflow.approve_change(cast.mona, change)
    with pytest.raises(Conflict, match="has 1 of the 2 approvals"):
        workflow.schedule_change(cast.eric, change)
    with pytest.raises(NotAllowed):
        workflow.approve_change(cast.audra, change)  # auditors read only
    workflow.approve_change(cast.adam, change)
    assert workflow.schedule_change(cast.eric, change).state == "scheduled"


@pytest.mark.django_db
def test_a_rejection_sends_the_change_back_to_draft_and_resets_approvals(cast: Cast) -> None:
    change = to_approval(cast, new_change(cast), HIGH)
    workflow.approve_change(cast.mona, change)
    with pytest.raises(ActionError, match="Reason is required"):
        workflow.reject_change(cast.adam, change, reason=" ")
    workflow.reject_change(cast.adam, change, reason="Not during the audit week.")
    change = reload(change)
    assert change.state == "draft"
    event = change.events.get(kind="rejected")
    assert (event.from_state, event.to_state, event.note) == (
        "approval",
        "draft",
        "Not during the audit week.",
    )
    workflow.submit_for_assessment(cast.eric, change)
    workflow.request_approval(cast.eric, change)
    workflow.approve_change(cast.adam, change)
    with pytest.raises(Conflict, match="has 1 of the 2"):  # mona's earlier approval is void
        workflow.schedule_change(cast.eric, change)


@pytest.mark.django_db
def test_staff_only_auditors_read_customers_see_nothing(cast: Cast) -> None:
    with pytest.raises(NotAllowed, match="read-only"):
        new_change(cast, actor=cast.audra)
    with pytest.raises(NotAllowed, match="Only support staff"):
        new_change(cast, actor=cast.alice)
    change = new_change(cast)
    assert workflow.get_change_for(cast.audra, change.number) == change
    assert workflow.get_change_for(cast.lina, str(change.pk)) == change
    with pytest.raises(NotFound):
        workflow.get_change_for(cast.alice, change.number)
    with pytest.raises(NotFound):
        workflow.get_change_for(cast.eric, "CHG-2026-999999")
    assert list(Change.objects.visible_to(cast.alice)) == []
    # vera's team serves only Acme: a Globex-only change is not hers to see.
    globex_only = new_change(cast, instances=[cast.globex_erp])
    with pytest.raises(NotFound):
        workflow.get_change_for(cast.vera, globex_only.number)


# ---------------------------------------------------------------------------
# Standard and emergency paths
# ---------------------------------------------------------------------------


def template(**fields: Any) -> ChangeTemplate:
    values: dict[str, Any] = {
        "name": "Monthly security patch (Odoo)",
        "title": "Odoo monthly security patch",
        "modules": ["platform"],
        "implementation_plan": "Pull the patch release; restart workers.",
        "rollback_plan": "Redeploy the previous image.",
        "created_at": NOW,
        **fields,
    }
    return ChangeTemplate.objects.create(**values)


@pytest.mark.django_db
def test_a_standard_change_is_pre_approved(cast: Cast) -> None:
    change = workflow.create_change(
        cast.eric,
        type="standard",
        template=template(),
        instances=[cast.globex_erp],
        planned_start=START,
        planned_end=END,
    )
    assert (change.title, change.risk, change.rollback_plan) == (
        "Odoo monthly security patch",
        "low",
        "Redeploy the previous image.",
    )
    with pytest.raises(Conflict, match="pre-approved"):
        workflow.submit_for_assessment(cast.eric, change)
    workflow.schedule_change(cast.eric, change)
    change = reload(change)
    assert change.state == "scheduled"
    assert not change.approvals.exists()
    event = change.events.get(kind="scheduled")
    assert (event.from_state, event.to_state) == ("draft", "scheduled")
    assert "assessment and approval skipped" in event.note
    with pytest.raises(ActionError, match="no longer active"):
        workflow.create_change(
            cast.eric, type="standard", template=template(name="old", is_active=False)
        )
    with pytest.raises(ActionError, match="Only standard changes are made from a template"):
        workflow.create_change(cast.eric, type="normal", title="x", template=template(name="t2"))


@pytest.mark.django_db
def test_an_emergency_needs_retrospective_approval_before_review(cast: Cast) -> None:
    change = new_change(
        cast,
        type="emergency",
        planned_start=None,
        planned_end=NOW + timedelta(hours=2),
        expected_downtime_minutes=0,
    )
    workflow.start_change(cast.eric, change)
    change = reload(change)
    assert change.state == "in_progress"
    assert change.planned_start == NOW
    assert change.events.get(kind="started").from_state == "draft"
    workflow.complete_change(cast.eric, change, note="Index rebuilt.")
    with pytest.raises(Conflict, match="needs its retrospective approval \\(0 of 1\\)"):
        workflow.review_change(cast.eric, change, outcome="Fixed.", lessons="Monitor bloat.")
    with pytest.raises(NotAllowed, match="own change"):
        workflow.approve_change(cast.eric, change)
    approval = workflow.approve_change(cast.mona, change, comment="Right call.")
    assert approval.retrospective
    with pytest.raises(ActionError, match="Lessons learned is required"):
        workflow.review_change(cast.eric, change, outcome="Fixed.", lessons="")
    workflow.review_change(cast.eric, change, outcome="Fixed.", lessons="Monitor bloat.")
    change = reload(change)
    assert change.state == "reviewed"
    assert (change.outcome, change.lessons) == ("Fixed.", "Monitor bloat.")


@pytest.mark.django_db
def test_a_normal_change_cannot_start_from_draft(cast: Cast) -> None:
    change = new_change(cast)
    with pytest.raises(Conflict, match="is Draft; this needs it to be Scheduled"):
        workflow.start_change(cast.eric, change)


# ---------------------------------------------------------------------------
# Freeze periods and overlaps
# ---------------------------------------------------------------------------


def freeze(cast: Cast, policy: str, **fields: Any) -> FreezePeriod:
    values: dict[str, Any] = {
        "name": "Month-end close",
        "organization": cast.acme,
        # Shanghai midnight Nov 30 → Dec 3: 2026-11-29 16:00 UTC onwards.
        "starts_at": shanghai("2026-11-30T00:00:00"),
        "ends_at": shanghai("2026-12-03T00:00:00"),
        "policy": policy,
        "reason": "Closing the books.",
        "created_at": NOW,
        **fields,
    }
    instances = values.pop("instances", [])
    period = FreezePeriod.objects.create(**values)
    period.erp_instances.set(instances)
    return period


def approved(cast: Cast, start: datetime, end: datetime, **fields: Any) -> Change:
    change = to_approval(
        cast, new_change(cast, planned_start=start, planned_end=end, **fields), MEDIUM
    )
    workflow.approve_change(cast.mona, change)
    return change


@pytest.mark.django_db
def test_a_blocking_freeze_refuses_scheduling_across_shanghai_midnight(cast: Cast) -> None:
    freeze(cast, "block")
    # 23:00–24:00 Shanghai on Nov 29 ends exactly when the freeze begins: allowed.
    before = approved(cast, shanghai("2026-11-29T23:00:00"), shanghai("2026-11-30T00:00:00"))
    assert workflow.schedule_change(cast.eric, before).state == "scheduled"
    assert reload(before).warnings == []
    # 23:30–00:30 Shanghai reaches into it (15:30–16:30 UTC on Nov 29).
    inside = approved(
        cast,
        datetime.fromisoformat("2026-11-29T15:30:00+00:00"),
        datetime.fromisoformat("2026-11-29T16:30:00+00:00"),
    )
    with pytest.raises(Conflict, match=r"freeze period “Month-end close”.*blocks changes"):
        workflow.schedule_change(cast.eric, inside)
    assert reload(inside).state == "approval"
    # Another customer's freeze does not concern this change.
    other = approved(
        cast,
        shanghai("2026-12-01T10:00:00"),
        shanghai("2026-12-01T11:00:00"),
        instances=[cast.globex_erp],
    )
    assert workflow.schedule_change(cast.eric, other).state == "scheduled"


@pytest.mark.django_db
def test_a_warning_freeze_flags_the_change(cast: Cast) -> None:
    freeze(cast, "warn", name="Annual audit", organization=None)
    change = approved(cast, shanghai("2026-12-01T10:00:00"), shanghai("2026-12-01T11:00:00"))
    workflow.schedule_change(cast.eric, change)
    change = reload(change)
    assert change.state == "scheduled"
    assert change.is_flagged
    assert [w["text"] for w in change.warnings] == ["Inside the freeze period “Annual audit”."]


@pytest.mark.django_db
def test_a_freeze_on_other_instances_of_the_customer_does_not_apply(cast: Cast) -> None:
    second = ErpInstance.objects.create(
        organization=cast.acme, name="Acme BW", product="sap", version="7.5"
    )
    freeze(cast, "block", instances=[second])
    change = approved(cast, shanghai("2026-12-01T10:00:00"), shanghai("2026-12-01T11:00:00"))
    assert workflow.schedule_change(cast.eric, change).state == "scheduled"
    on_bw = approved(
        cast,
        shanghai("2026-12-01T10:00:00"),
        shanghai("2026-12-01T11:00:00"),
        instances=[second],
    )
    with pytest.raises(Conflict, match="Month-end close"):
        workflow.schedule_change(cast.eric, on_bw)


@pytest.mark.django_db
def test_an_emergency_in_a_blocking_freeze_is_flagged_not_refused(cast: Cast) -> None:
    freeze(cast, "block", starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(days=1))
    change = new_change(
        cast, type="emergency", planned_start=None, planned_end=NOW + timedelta(hours=1)
    )
    workflow.start_change(cast.eric, change)
    change = reload(change)
    assert change.state == "in_progress"
    assert ["emergency" in w["text"] for w in change.warnings] == [True]


@pytest.mark.django_db
def test_overlapping_changes_on_the_same_instance_are_flagged(cast: Cast) -> None:
    first = approved(cast, START, END)
    workflow.schedule_change(cast.eric, first)
    second = approved(cast, START + timedelta(hours=1), END + timedelta(hours=1))
    workflow.schedule_change(cast.eric, second)
    assert reload(second).warnings[0]["change"] == first.number
    elsewhere = approved(cast, START, END, instances=[cast.globex_erp])
    workflow.schedule_change(cast.eric, elsewhere)
    assert reload(elsewhere).warnings == []
    after = approved(cast, END + timedelta(hours=1), END + timedelta(hours=2))
    workflow.schedule_change(cast.eric, after)
    assert reload(after).warnings == []


@pytest.mark.django_db
def test_rescheduling_into_a_blocking_freeze_is_refused(cast: Cast) -> None:
    freeze(cast, "block")
    change = approved(cast, START, END)
    workflow.schedule_change(cast.eric, change)
    with pytest.raises(Conflict, match="Month-end close"):
        workflow.reschedule_change(
            cast.eric,
            change,
            planned_start=shanghai("2026-12-01T10:00:00"),
            planned_end=shanghai("2026-12-01T11:00:00"),
        )
    assert reload(change).planned_start == START


# ---------------------------------------------------------------------------
# Audit and timeline
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_transition_is_one_event_and_one_audit_entry(cast: Cast) -> None:
    change = approved(cast, START, END)
    workflow.schedule_change(cast.eric, change)
    workflow.start_change(cast.eric, change)
    workflow.fail_change(cast.eric, change, note="Transport import aborted.")
    workflow.review_change(cast.mona, change, outcome="Failed.", lessons="Check locks first.")
    transitions = list(
        ChangeEvent.objects.filter(change=change).exclude(to_state="").order_by("id")
    )
    assert [(e.from_state, e.to_state) for e in transitions] == [
        ("", "draft"),
        ("draft", "assessment"),
        ("assessment", "approval"),
        ("approval", "scheduled"),
        ("scheduled", "in_progress"),
        ("in_progress", "failed"),
        ("failed", "reviewed"),
    ]
    events = ChangeEvent.objects.filter(change=change).order_by("id")
    audits = AuditEntry.objects.filter(
        target_type="changes.change", target_id=str(change.pk)
    ).order_by("id")
    assert [a.action for a in audits] == [f"change.{e.kind}" for e in events]
    failed = audits.get(action="change.failed")
    assert failed.data["from"] == "in_progress"
    assert failed.data["to"] == "failed"
    assert failed.actor == cast.eric
    assert failed.data["number"] == change.number


@pytest.mark.django_db
def test_a_refused_action_leaves_no_trace(cast: Cast) -> None:
    change = new_change(cast, rollback_plan="")
    workflow.submit_for_assessment(cast.eric, change)
    workflow.assess_change(cast.eric, change, LOW)
    count = AuditEntry.objects.count(), ChangeEvent.objects.count()
    with pytest.raises(ActionError):
        workflow.request_approval(cast.eric, change)
    assert (AuditEntry.objects.count(), ChangeEvent.objects.count()) == count
    assert reload(change).approval_round == 0


# ---------------------------------------------------------------------------
# Versions and patches
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_completing_a_change_records_the_patch_and_the_version(cast: Cast) -> None:
    change = approved(cast, START, END, instances=[cast.acme_erp, cast.globex_erp])
    workflow.schedule_change(cast.eric, change)
    workflow.start_change(cast.eric, change)
    with pytest.raises(ActionError, match="is not part of this change"):
        workflow.complete_change(cast.eric, change, versions={999_999: "x"})
    with pytest.raises(ActionError, match="Version is required"):
        workflow.complete_change(cast.eric, change, versions={cast.acme_erp.pk: " "})
    with pytest.raises(ActionError, match="No knowledge article 424242"):
        workflow.complete_change(
            cast.eric, change, versions={cast.acme_erp: "S/4HANA 2023 FPS02"},
            kb_article_ids=[424242],
        )  # fmt: skip
    assert reload(change).state == "in_progress"
    workflow.complete_change(
        cast.eric, change, versions={cast.acme_erp: "S/4HANA 2023 FPS02"}, patch_name="FPS02"
    )
    cast.acme_erp.refresh_from_db()
    cast.globex_erp.refresh_from_db()
    assert cast.acme_erp.version == "S/4HANA 2023 FPS02"
    assert cast.globex_erp.version == "17.0"  # no new version given
    (patch,) = workflow.patch_history(cast.acme_erp)
    assert (patch.version_before, patch.version_after, patch.patch_name, patch.change) == (
        "S/4HANA 2023",
        "S/4HANA 2023 FPS02",
        "FPS02",
        change,
    )
    assert patch.applied_at == NOW
    # An older step taken over from before ERPCare does not move the current version.
    workflow.record_patch(
        cast.eric, cast.acme_erp, version_after="S/4HANA 2023", applied_at=NOW - timedelta(days=90)
    )
    cast.acme_erp.refresh_from_db()
    assert cast.acme_erp.version == "S/4HANA 2023 FPS02"
    assert [p.version_after for p in workflow.patch_history(cast.acme_erp)] == [
        "S/4HANA 2023 FPS02",
        "S/4HANA 2023",
    ]
    assert PatchRecord.objects.filter(erp_instance=cast.globex_erp).count() == 0


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_calendar_lists_changes_and_freezes_of_the_range(cast: Cast, settings: Any) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    month_end = freeze(cast, "warn")
    audit_week = freeze(cast, "warn", name="Globex audit", organization=cast.globex)
    in_nov = new_change(cast)  # Nov 10
    late = new_change(
        cast,
        planned_start=shanghai("2026-12-01T00:30:00"),  # Nov 30 16:30 UTC
        planned_end=shanghai("2026-12-01T01:30:00"),
    )
    cancelled = new_change(cast)
    workflow.cancel_change(cast.eric, cancelled, reason="Not needed.")
    november = calendar_service.calendar(cast.mona, date(2026, 11, 1), date(2026, 11, 30))
    assert november.changes == [in_nov]  # Dec 1 local is outside, although Nov 30 in UTC
    assert november.freezes == [month_end, audit_week]
    acme = calendar_service.calendar(
        cast.audra, date(2026, 11, 1), date(2026, 12, 31), organization=cast.acme
    )
    assert acme.changes == [in_nov, late]
    assert acme.freezes == [month_end]
    globex = calendar_service.calendar(
        cast.mona, date(2026, 11, 1), date(2026, 12, 31), instance=cast.globex_erp
    )
    assert (globex.changes, globex.freezes) == ([], [audit_week])
    with pytest.raises(NotAllowed):
        calendar_service.calendar(cast.alice, date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(ActionError, match="ends before it starts"):
        calendar_service.calendar(cast.mona, date(2026, 11, 30), date(2026, 11, 1))


# ---------------------------------------------------------------------------
# Freeze periods and templates (managers and administrators)
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_freeze_periods_and_templates_are_kept_by_managers(cast: Cast) -> None:
    from erpcare.changes.services import admin

    values: dict[str, Any] = {
        "name": "Month-end close",
        "starts_at": shanghai("2026-11-30T00:00:00"),
        "ends_at": shanghai("2026-12-03T00:00:00"),
        "policy": "block",
        "organization": cast.acme,
        "instances": [cast.acme_erp],
    }
    with pytest.raises(NotAllowed):
        admin.create_freeze_period(cast.eric, **values)
    with pytest.raises(ActionError, match="must end after it starts"):
        admin.create_freeze_period(cast.mona, **{**values, "ends_at": values["starts_at"]})
    with pytest.raises(ActionError, match="“strict” is not a freeze policy"):
        admin.create_freeze_period(cast.mona, **{**values, "policy": "strict"})
    with pytest.raises(ActionError, match="does not belong to Globex"):
        admin.create_freeze_period(cast.mona, **{**values, "organization": cast.globex})
    with pytest.raises(ActionError, match="needs a time zone"):
        admin.create_freeze_period(cast.mona, **{**values, "starts_at": datetime(2026, 11, 30)})
    period = admin.create_freeze_period(cast.mona, **values)
    assert period.starts_at == datetime.fromisoformat("2026-11-29T16:00:00+00:00")
    assert AuditEntry.objects.filter(action="change.freeze_created", actor=cast.mona).exists()
    admin.end_freeze_period(cast.adam, period)
    period.refresh_from_db()
    assert not period.is_active
    with pytest.raises(ActionError, match="Rollback plan is required"):
        admin.create_template(
            cast.mona, name="Patch", title="Patch", implementation_plan="x", rollback_plan=""
        )
    made = admin.create_template(
        cast.mona, name="Patch", title="Patch", implementation_plan="x", rollback_plan="y"
    )
    with pytest.raises(ActionError, match="exists already"):
        admin.create_template(
            cast.adam, name="Patch", title="Patch", implementation_plan="x", rollback_plan="y"
        )
    assert made.is_active


# ---------------------------------------------------------------------------
# Figures for the KPI module
# ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_outcomes_count_how_changes_ended_in_the_period(cast: Cast) -> None:
    from erpcare.changes.services.stats import outcomes

    def run_to(end: str, instances: list[Any], kind: str = "normal") -> Change:
        change = approved(cast, START, END, instances=instances, type=kind)
        workflow.schedule_change(cast.eric, change)
        workflow.start_change(cast.eric, change)
        if end == "completed":
            workflow.complete_change(cast.eric, change)
        elif end == "failed":
            workflow.fail_change(cast.eric, change, note="Broke.")
        else:
            workflow.roll_back_change(cast.eric, change, note="Reverted.")
        return change

    period = (NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert outcomes(*period).success_rate is None
    done = run_to("completed", [cast.acme_erp])
    run_to("failed", [cast.acme_erp])
    run_to("rolled_back", [cast.globex_erp])
    workflow.review_change(cast.mona, done, outcome="Fine.", lessons="None.")
    both = outcomes(*period)
    assert (both.completed, both.failed, both.rolled_back, both.total) == (1, 1, 1, 3)
    assert both.success_rate == pytest.approx(1 / 3)
    acme = outcomes(*period, organization_ids=[cast.acme.pk])
    assert (acme.completed, acme.failed, acme.rolled_back) == (1, 1, 0)
    assert outcomes(NOW + timedelta(days=1), NOW + timedelta(days=2)).total == 0


@pytest.mark.django_db
def test_an_emergency_approved_beforehand_needs_no_retrospective_approval(cast: Cast) -> None:
    change = approved(cast, START, END, type="emergency")
    workflow.schedule_change(cast.eric, change)
    workflow.start_change(cast.eric, change)
    workflow.complete_change(cast.eric, change)
    workflow.review_change(cast.eric, change, outcome="Done.", lessons="Plan earlier.")
    assert reload(change).state == "reviewed"
    assert not reload(change).approvals.filter(retrospective=True).exists()
