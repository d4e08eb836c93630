"""Daily rollups add up to what the KPI module computes from the tickets themselves."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from erpcare.core import scheduler
from erpcare.reports import kpis
from erpcare.reports.models import DailyRollup
from erpcare.reports.rollups import (
    Filters,
    by_day,
    by_dimension,
    roll_up_day,
    roll_up_range,
    totals,
)
from erpcare.reports.tests.test_kpis import AFTER, november, scope  # noqa: F401

pytestmark = pytest.mark.usefixtures("sla_defaults", "november")
SH = ZoneInfo("Asia/Shanghai")
MONTH = Filters(first=date(2026, 11, 1), last=date(2026, 11, 30))


def test_a_month_of_rollups_matches_the_kpis(cast):
    assert roll_up_range(date(2026, 10, 31), date(2026, 11, 30), now=AFTER) > 0
    month = totals(MONTH)
    assert month["created"] == sum(kpis.volume(scope(), "type").values()) == 6
    assert month["resolved"] == 5
    assert month["resolved_at_l1"] == kpis.l1_resolution_share(scope()).numerator == 4
    assert (month["response_met"], month["response_breached"]) == (4, 1)
    assert (month["resolution_met"], month["resolution_breached"]) == (5, 0)
    assert month["reopened"] == 1
    assert month["escalated"] == 1
    assert month["responded"] == 4
    assert month["response_seconds"] == (10 + 30 + 60 + 3870) * 60
    assert month["resolution_seconds"] == (6 + 89 + 2 + 2 + 26) * 3600
    assert month["backlog"] == kpis.backlog(scope()).count == 2
    days = {row["day"]: row["created"] for row in by_day(MONTH, "created")}
    assert days[date(2026, 11, 10)] == 2
    assert date(2026, 10, 31) not in days
    modules = {row["module"]: row["created"] for row in by_dimension(MONTH, "module", "created")}
    assert modules == {"gl": 2, "ap": 1, "": 3}
    acme = Filters(MONTH.first, MONTH.last, organization_ids=frozenset({cast.acme.pk}))
    assert totals(acme)["created"] == 2
    assert totals(acme)["backlog"] == 0


def test_rolling_a_day_up_again_replaces_its_rows():
    first = roll_up_day(date(2026, 11, 10), now=AFTER)
    again = roll_up_day(date(2026, 11, 10), now=AFTER)
    assert first == again == DailyRollup.objects.filter(day=date(2026, 11, 10)).count()
    assert totals(Filters(date(2026, 11, 10), date(2026, 11, 10)))["created"] == 2


def test_the_worker_rolls_up_today_and_yesterday():
    assert "reports.rollup" in scheduler.registered_jobs()
    from erpcare.core import clock
    from erpcare.reports.jobs import roll_up

    with clock.frozen_at(datetime(2026, 11, 11, 9, 0, tzinfo=SH)):
        result = roll_up()
    assert result["days"] == 2
    assert set(DailyRollup.objects.values_list("day", flat=True)) == {
        date(2026, 11, 10),
        date(2026, 11, 11),
    }


def test_the_command_prints_the_month_and_rolls_days_up(cast):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from erpcare.core import clock

    out = io.StringIO()
    with clock.frozen_at(AFTER):
        call_command("reports", "kpis", "--month", "2026-11", "--customer", "acme", stdout=out)
    text = out.getvalue()
    assert "2026-11 (Asia/Shanghai)" in text
    assert "80.0 %" not in text  # acme's own figures, not everyone's
    assert "50.0 % (1/2)" in text  # acme's response SLA: T3 met, T4 breached
    assert "99.653 %" in text  # Acme SAP PRD
    out = io.StringIO()
    with clock.frozen_at(AFTER):
        call_command(
            "reports", "rollup", "--since", "2026-11-01", "--until", "2026-11-30", stdout=out
        )
    assert "30 days rolled up" in out.getvalue()
    for bad, message in (
        (["rollup", "--since", "2026/11/01"], "YYYY-MM-DD"),
        (["rollup", "--since", "2026-11-02", "--until", "2026-11-01"], "before"),
        (["kpis", "--month", "2026-13"], "1 to 12"),
        (["kpis", "--customer", "nobody"], "No customer"),
    ):
        with pytest.raises(CommandError, match=message):
            call_command("reports", *bad, stdout=io.StringIO())
