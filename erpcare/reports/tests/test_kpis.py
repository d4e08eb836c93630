"""Every KPI against a November 2026 that was computed by hand: tickets made through the
real actions at pinned times (Asia/Shanghai), the real SLA clocks on the default China
working-hours and 24×7 calendars, a pause while resolved, a reopening, an escalation, a
merged duplicate, overlapping P0 outages with a maintenance window, and tickets one second
either side of the month's midnight boundaries."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from erpcare.core import clock
from erpcare.kb.models import EventKind, KbEvent
from erpcare.monitoring.models import MaintenanceWindow
from erpcare.reports import kpis
from erpcare.reports.kpis import Durations, Ratio, Scope
from erpcare.reports.periods import Period, PeriodError
from erpcare.tickets.models import Channel, Status, Ticket, TicketType
from erpcare.tickets.services import (
    add_comment,
    assign_ticket,
    create_ticket,
    escalate_ticket,
    merge_tickets,
    reopen_ticket,
    transition_ticket,
)

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.usefixtures("sla_defaults")
NOVEMBER = Period.month(2026, 11, "Asia/Shanghai")
AFTER = datetime(2026, 12, 1, 12, 0, tzinfo=SH)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def resolve(actor, ticket: Ticket, when: datetime) -> None:
    with clock.frozen_at(when):
        transition_ticket(
            actor, ticket, to=Status.RESOLVED, resolution_code="fixed", resolution="ok"
        )


def reply(actor, ticket: Ticket, when: datetime) -> None:
    with clock.frozen_at(when):
        add_comment(actor, ticket, body="已处理，请确认")


@pytest.fixture
def november(cast) -> dict[str, Ticket]:
    """T1–T8 as in the module docstring; the comments give the hand-computed figures."""
    t: dict[str, Ticket] = {}
    # T1 globex (standard) P2 request from the portal, Mon 2 Nov 09:00; L1 answers at 10:00
    # (1 h wall, 1 h business) and resolves at 15:00 (6 h wall; 09–12 + 13:30–15 = 4.5 h).
    with clock.frozen_at(at(2026, 11, 2, 9, 0)):
        t["T1"] = create_ticket(
            cast.bob, title="凭证无法保存", type=TicketType.REQUEST, impact=2, urgency=2,
            module="gl", category="data_issue",
        )  # fmt: skip
        assign_ticket(cast.lina, t["T1"], assignee=cast.lina, team=cast.l1_desk)
    reply(cast.lina, t["T1"], at(2026, 11, 2, 10, 0))
    resolve(cast.lina, t["T1"], at(2026, 11, 2, 15, 0))
    # T2 globex P2 by e-mail, Fri 6 Nov 17:00; answered Mon 9 Nov 09:30 (64.5 h wall; Fri
    # 17–18 + Mon 09–09:30 = 1.5 h business); escalated to L2, resolved Tue 10 Nov 10:00
    # (89 h wall; 1 + 7.5 + 1 = 9.5 h business).
    with clock.frozen_at(at(2026, 11, 6, 17, 0)):
        t["T2"] = create_ticket(
            cast.lina, title="AP invoice stuck in workflow", organization=cast.globex,
            requester=cast.bob, type=TicketType.REQUEST, channel=Channel.EMAIL, priority=2,
            module="ap",
        )  # fmt: skip
    reply(cast.lina, t["T2"], at(2026, 11, 9, 9, 30))
    with clock.frozen_at(at(2026, 11, 9, 10, 0)):
        escalate_ticket(cast.lina, t["T2"], tier=2, reason="workflow engine", assignee=cast.eric)
    reply(cast.eric, t["T2"], at(2026, 11, 9, 11, 0))
    resolve(cast.eric, t["T2"], at(2026, 11, 10, 10, 0))
    # T3, T4 acme (vip) P0 incidents on Acme SAP PRD (24×7): down 08:00–10:00 and
    # 09:00–11:00 on 10 Nov; a maintenance window 10:30–11:00 → 2.5 h of downtime.
    with clock.frozen_at(at(2026, 11, 10, 8, 0)):
        t["T3"] = create_ticket(
            cast.lina, title="SAP PRD down", organization=cast.acme, erp_instance=cast.acme_erp,
            channel=Channel.MONITORING, priority=0, module="gl",
        )  # fmt: skip
    reply(cast.lina, t["T3"], at(2026, 11, 10, 8, 10))  # 10 min, within the 15-min target
    resolve(cast.lina, t["T3"], at(2026, 11, 10, 10, 0))
    with clock.frozen_at(at(2026, 11, 10, 9, 0)):
        t["T4"] = create_ticket(
            cast.lina, title="SAP PRD dialog work processes hang", organization=cast.acme,
            erp_instance=cast.acme_erp, channel=Channel.MONITORING, priority=0,
        )  # fmt: skip
    resolve(cast.lina, t["T4"], at(2026, 11, 10, 11, 0))  # no reply: response breached
    window = MaintenanceWindow.objects.create(
        name="kernel patch", organization=cast.acme, starts_at=at(2026, 11, 10, 10, 30),
        ends_at=at(2026, 11, 10, 11, 0), created_at=at(2026, 11, 9, 12, 0),
    )  # fmt: skip
    window.erp_instances.add(cast.acme_erp)
    # T5 at 23:59:59 on 31 October (October's), T6 at 23:59:59 on 30 November (November's,
    # still open at the end: the backlog, one second old).
    for key, when in (("T5", at(2026, 10, 31, 23, 59, 59)), ("T6", at(2026, 11, 30, 23, 59, 59))):
        with clock.frozen_at(when):
            t[key] = create_ticket(cast.bob, title=f"{key} 报表打不开", type=TicketType.QUESTION)
    # T7 globex P3 question, Tue 3 Nov 10:00: answered 10:30, resolved 11:00, reopened by
    # the customer on 4 Nov 10:00 and resolved again at 12:00 (26 h wall; 9.5 h working
    # minus the 6.5 h it stood resolved = 3 h business).
    with clock.frozen_at(at(2026, 11, 3, 10, 0)):
        t["T7"] = create_ticket(cast.bob, title="How to print a vendor statement?",
                                type=TicketType.QUESTION, impact=3, urgency=3)  # fmt: skip
        assign_ticket(cast.lina, t["T7"], assignee=cast.lina, team=cast.l1_desk)
    # T8: the same question again at 10:05, merged into T7 at 10:10 (not counted).
    with clock.frozen_at(at(2026, 11, 3, 10, 5)):
        t["T8"] = create_ticket(cast.bob, title="vendor statement print", type=TicketType.QUESTION)
    with clock.frozen_at(at(2026, 11, 3, 10, 10)):
        merge_tickets(cast.lina, t["T8"], t["T7"])
    reply(cast.lina, t["T7"], at(2026, 11, 3, 10, 30))
    resolve(cast.lina, t["T7"], at(2026, 11, 3, 11, 0))
    with clock.frozen_at(at(2026, 11, 4, 10, 0)):
        reopen_ticket(cast.bob, Ticket.objects.get(pk=t["T7"].pk), reason="still fails")
    resolve(cast.lina, Ticket.objects.get(pk=t["T7"].pk), at(2026, 11, 4, 12, 0))
    # Three portal visits that the knowledge base answered (globex), one in October.
    for when in (
        at(2026, 11, 5, 9),
        at(2026, 11, 20, 9),
        at(2026, 11, 30, 23, 59),
        at(2026, 10, 30, 9),
    ):
        KbEvent.objects.create(
            kind=EventKind.DEFLECTION, user=cast.bob, organization=cast.globex,
            query="打印对账单", created_at=when,
        )  # fmt: skip
    return {key: Ticket.objects.get(pk=ticket.pk) for key, ticket in t.items()}


def scope(**kw) -> Scope:
    return Scope(period=NOVEMBER, now=AFTER, **kw)


def test_the_month_is_cut_at_midnight_in_shanghai(november):
    assert NOVEMBER.start == datetime(2026, 10, 31, 16, 0, tzinfo=ZoneInfo("UTC"))
    assert kpis.volume(scope(), "type") == {"request": 2, "incident": 2, "question": 2}
    october = Scope(period=Period.month(2026, 10, "Asia/Shanghai"), now=AFTER)
    assert kpis.volume(october, "type") == {"question": 1}  # T5, one second before November
    # In Berlin T5 is 31 October 16:59:59 and T6 30 November 16:59:59: the same six.
    berlin = Scope(period=Period.month(2026, 11, "Europe/Berlin"), now=AFTER)
    assert sum(kpis.volume(berlin, "type").values()) == 6


def test_volume_by_channel_module_and_priority(november):
    assert kpis.volume(scope(), "channel") == {"portal": 3, "email": 1, "monitoring": 2}
    assert kpis.volume(scope(), "priority") == {"0": 2, "2": 2, "3": 2}
    assert kpis.volume(scope(), "module") == {"gl": 2, "ap": 1, "": 3}
    with pytest.raises(ValueError, match="not a volume dimension"):
        kpis.volume(scope(), "title")


def test_first_response_time_wall_clock_and_business_hours(november):
    timing = kpis.first_response(scope())
    # T1 1 h, T2 64.5 h, T3 10 min, T7 30 min (T4 never answered, T6 not yet).
    assert timing.wall_clock == Durations(
        count=4, median=45 * M, p90=H + (63.5 * H) * 0.7, mean=992.5 * M
    )
    # Business: T1 60, T2 90, T3 10 (24×7), T7 30 minutes.
    assert timing.business == Durations(count=4, median=45 * M, p90=81 * M, mean=47.5 * M)


def test_resolution_time_leaves_the_pause_out_of_business_hours(november):
    timing = kpis.resolution(scope())
    walls = sorted([6 * H, 89 * H, 2 * H, 2 * H, 26 * H])
    assert timing.wall_clock.count == 5
    assert timing.wall_clock.median == walls[2]
    assert timing.wall_clock.mean == sum(walls, timedelta(0)) / 5
    # Business: T1 4.5, T2 9.5, T3 2, T4 2, T7 3 hours.
    assert timing.business == Durations(
        count=5, median=3 * H, p90=4.5 * H + 5 * H * 0.6, mean=21 * H / 5
    )
    mttr = kpis.mttr(scope())
    assert (mttr.wall_clock.count, mttr.wall_clock.mean) == (2, 2 * H)


def test_sla_compliance_per_clock_priority_and_customer(november, cast):
    response = kpis.sla_compliance(scope(), "response")
    assert response.overall == Ratio(4, 5)  # T4 was never answered within 15 minutes
    assert response.by_priority == {0: Ratio(1, 2), 2: Ratio(2, 2), 3: Ratio(1, 1)}
    assert response.by_customer == {cast.acme.pk: Ratio(1, 2), cast.globex.pk: Ratio(3, 3)}
    resolution = kpis.sla_compliance(scope(), "resolution")
    assert resolution.overall == Ratio(5, 5)
    assert Ratio(4, 5).percent == 80.0
    assert Ratio(0, 0).value is None


def test_backlog_at_the_end_of_the_month(november):
    backlog = kpis.backlog(scope())
    # T6 (one second old at midnight) and T5, opened a month earlier and still open.
    assert backlog.count == 2
    assert backlog.by_priority == {3: 2}
    assert backlog.age.median == timedelta(days=15, seconds=1)
    assert backlog.age.p90 == timedelta(seconds=1) + timedelta(days=30) * 0.9
    # At the end of 2 November T1 was resolved; T5 was the only open ticket.
    second = Scope(period=Period(date(2026, 11, 2), date(2026, 11, 2), "Asia/Shanghai"), now=AFTER)
    assert kpis.backlog(second).count == 1


def test_reopen_fcr_l1_and_escalation(november):
    assert kpis.reopen_rate(scope()) == Ratio(1, 5)  # T7 of T1 T2 T3 T4 T7
    assert kpis.first_contact_resolution(scope()) == Ratio(3, 5)  # T1 T3 T4
    assert kpis.l1_resolution_share(scope()) == Ratio(4, 5)  # all but T2
    assert kpis.escalation_rate(scope()) == Ratio(1, 6)  # T2 of six created


def test_availability_counts_overlapping_outages_once_and_skips_maintenance(november, cast):
    by_instance = {a.erp_instance_id: a for a in kpis.availability(scope())}
    acme = by_instance[cast.acme_erp.pk]
    assert acme.downtime == 2.5 * H
    assert acme.measured == 30 * 24 * H
    assert acme.incidents == 2
    assert acme.percent == round((1 - 2.5 / 720) * 100, 3)
    assert by_instance[cast.globex_erp.pk].percent == 100.0


def test_kb_deflection_and_agent_workload(november, cast):
    assert kpis.kb_deflection(scope()) == Ratio(3, 6)  # 3 answered visits, 3 portal tickets
    loads = {a.user_id: a for a in kpis.agent_workload(scope())}
    assert loads[cast.lina.pk].public_replies == 4  # T1 T2 T3 T7
    assert loads[cast.lina.pk].resolved == 2  # T1 and T7 were assigned to her
    assert loads[cast.eric.pk].resolved == 1  # T2


def test_a_customer_scope_counts_only_that_customer(november, cast):
    acme = scope(organization_ids=frozenset({cast.acme.pk}))
    assert kpis.volume(acme, "type") == {"incident": 2}
    assert kpis.sla_compliance(acme, "response").overall == Ratio(1, 2)
    assert kpis.kb_deflection(acme) == Ratio(0, 0)
    assert [a.erp_instance_id for a in kpis.availability(acme)] == [cast.acme_erp.pk]
    assert kpis.first_response(acme).wall_clock.count == 1
    assert kpis.backlog(acme).count == 0


def test_kpis_without_their_data_say_so(november):
    assert kpis.change_success_rate(scope()) == Ratio(0, 0)  # no change ended: no rate
    assert Ratio(0, 0).percent is None
    assert {d.code for d in kpis.DEFINITIONS} >= {"fcr", "l1_share", "availability", "csat"}
    assert all(str(d.formula) for d in kpis.DEFINITIONS)


def test_periods_refuse_nonsense():
    with pytest.raises(PeriodError):
        Period.parse_month("2026/11")
    with pytest.raises(PeriodError):
        Period.month(2026, 13)
    with pytest.raises(PeriodError):
        Period(date(2026, 11, 2), date(2026, 11, 1), "Asia/Shanghai")
    with pytest.raises(PeriodError):
        Period.month(2026, 11, "Mars/Olympus")
    assert Period.parse_month("2026-12").previous() == Period.month(2026, 11)


def test_clocks_stopped_before_elapsed_was_recorded_are_filled_in(november):
    from erpcare.sla.models import TicketSla
    from erpcare.sla.services.backfill import fill_elapsed

    before = kpis.resolution(scope()).business
    expected = dict(TicketSla.objects.values_list("pk", "resolution_elapsed"))
    TicketSla.objects.update(response_elapsed=None, resolution_elapsed=None)
    assert kpis.resolution(scope()).business.count == 0
    assert fill_elapsed(limit=3) == 3
    assert fill_elapsed() > 0
    assert fill_elapsed() == 0
    assert dict(TicketSla.objects.values_list("pk", "resolution_elapsed")) == expected
    assert kpis.resolution(scope()).business == before


def test_a_nightly_maintenance_window_is_cut_into_its_nights(cast):
    from erpcare.monitoring.maintenance import intervals

    window = MaintenanceWindow(
        name="nightly", organization=cast.acme, starts_at=at(2026, 11, 1, 0, 0),
        ends_at=at(2026, 11, 4, 0, 0), cron="0 23 * * *", duration_minutes=120,
        time_zone="Asia/Shanghai", created_at=at(2026, 10, 30, 0, 0),
    )  # fmt: skip
    spans = intervals(window, at(2026, 11, 1, 0, 30), at(2026, 11, 3, 0, 0))
    assert spans == [
        (at(2026, 11, 1, 0, 30), at(2026, 11, 1, 1, 0)),  # the night before, still open
        (at(2026, 11, 1, 23, 0), at(2026, 11, 2, 1, 0)),
        (at(2026, 11, 2, 23, 0), at(2026, 11, 3, 0, 0)),  # cut at the end asked for
    ]
    window.cron = "not cron"
    assert intervals(window, at(2026, 11, 1), at(2026, 11, 3)) == []
