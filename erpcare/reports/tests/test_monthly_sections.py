"""The monthly report's instance section with a real inspection run and a real backup plan,
a KPI that is not available (shown with its reason, never 0), an empty month, and the
number of queries not growing with the number of tickets."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from erpcare.backups.models import BackupKind, BackupPlan
from erpcare.backups.services.health import plan_health
from erpcare.conftest import PASSWORD
from erpcare.core import clock
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.tests import helpers
from erpcare.reports import kpis, monthly
from erpcare.reports.monthly import build_report
from erpcare.reports.periods import Period
from erpcare.reports.tests.monthly_fixtures import AFTER, NOVEMBER, SH, build_month
from erpcare.tickets.models import TicketType
from erpcare.tickets.services import create_ticket

pytestmark = pytest.mark.usefixtures("sla_defaults")


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    return client


def test_inspection_findings_and_backup_plans_of_the_customers_instances(
    cast: Any, tmp_path: Path
) -> None:
    erp_file = helpers.erp_sqlite(tmp_path / "erp.sqlite")
    source = helpers.sqlite_source(cast.acme_erp, erp_file)
    assigned = helpers.assign(source, helpers.check())
    with clock.frozen_at(datetime(2026, 11, 10, 6, tzinfo=SH)):
        run_checks([assigned])
    helpers.unbalance(erp_file)
    with clock.frozen_at(datetime(2026, 11, 20, 6, tzinfo=SH)):
        run_checks([assigned])
    with clock.frozen_at(datetime(2026, 12, 2, 6, tzinfo=SH)):  # December's run is not November's
        run_checks([assigned])
    BackupPlan.objects.create(
        erp_instance=cast.acme_erp, name="Acme nightly", kind=BackupKind.SQLITE,
        data_source=source, directory=str(tmp_path / "backups"), created_at=AFTER,
    )  # fmt: skip

    report = build_report(cast.acme, NOVEMBER, language="en", now=AFTER)
    (acme,) = report.instances
    assert (acme.rating, acme.checks, acme.failing) == ("red", 1, 1)
    assert acme.findings == ["Critical: Unbalanced journal entries"]
    [plan] = acme.backups
    assert plan.plan == "Acme nightly"
    assert plan.rating == plan_health(BackupPlan.objects.get()).rating  # not backed up yet
    assert plan.backup
    html = signed_in(cast.mona).get("/desk/reports/acme/2026-11/").content.decode()
    assert "Critical: Unbalanced journal entries" in html
    assert "Acme nightly" in html


def test_a_kpi_that_is_not_available_says_why_and_is_never_zero(
    cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_month(cast)
    reason = "Surveys are not installed yet."
    monkeypatch.setattr(kpis, "csat", lambda scope: kpis.NotAvailable(reason))
    monkeypatch.setattr(kpis, "nps", lambda scope: kpis.NotAvailable(reason))
    with clock.frozen_at(AFTER):
        client = signed_in(cast.mona)
        html = client.get("/desk/reports/acme/2026-11/").content.decode()
        data = client.get("/desk/reports/acme/2026-11/xlsx").content
    assert html.count(f"not available: {reason}") == 2
    rows = [
        list(r)
        for r in load_workbook(io.BytesIO(data), read_only=True)["Satisfaction"].iter_rows(
            values_only=True
        )
    ]
    assert rows[1:] == [["CSAT", "not available", reason], ["NPS", "not available", reason]]


def test_an_empty_month_shows_dashes_not_zeros_for_rates(cast: Any) -> None:
    period = Period.month(2026, 3, "Asia/Shanghai")
    report = build_report(cast.globex, period, language="en", now=AFTER)
    assert report.created == 0
    assert report.sla[0].response == kpis.Ratio(0, 0)
    assert report.sla[1:] == []
    assert report.top_tickets == []
    assert report.mttr is None
    with clock.frozen_at(AFTER):
        response = signed_in(cast.mona).get("/desk/reports/globex/2026-03/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "No ticket was created this month." in html
    assert "No ticket was resolved this month." in html
    assert not re.search(r"(?<![0-9.])0 %", html)  # "—" where nothing was measured
    assert signed_in(cast.mona).get("/desk/reports/globex/2026-03/pdf").status_code == 200


def test_queries_do_not_grow_with_the_tickets(cast: Any) -> None:
    build_month(cast)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            monthly.build_report(cast.acme, NOVEMBER, language="en", now=AFTER)
        return len(queries)

    before = count()
    for day in range(1, 25):
        with clock.frozen_at(datetime(2026, 11, day, 11, tzinfo=SH)):
            create_ticket(
                cast.alice, title=f"more {day}", type=TicketType.QUESTION, impact=3, urgency=3
            )
    # Percentiles read one or two rows depending on the count's parity: at most a few more.
    assert count() <= before + 6
    assert before < 150
