"""The dashboards over the hand-computed November of ``test_kpis``: who may open which, the
figures each widget shows (from the rollups), drill-down links that open the same tickets,
and a customer's dashboard that shows nothing of another customer — counts included."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.test import Client

from erpcare.conftest import PASSWORD
from erpcare.core import clock
from erpcare.reports.rollups import roll_up_range
from erpcare.reports.tests.test_kpis import AFTER, november  # noqa: F401 (a fixture)
from erpcare.tickets.models import Ticket

pytestmark = pytest.mark.usefixtures("sla_defaults")
NOVEMBER = "period=custom&first=2026-11-01&last=2026-11-30"


def signed_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.fixture
def rolled(request):
    tickets = request.getfixturevalue("november")
    roll_up_range(date(2026, 10, 31), date(2026, 11, 30), now=AFTER)
    return tickets


def get(client: Client, url: str):
    with clock.frozen_at(AFTER):
        return client.get(url)


def chart(html: str) -> dict:
    data = re.search(
        r'<script id="chart-data-\w+" type="application/json">(.*?)</script>', html, re.S
    )
    assert data, html[:500]
    return json.loads(data.group(1))


@pytest.mark.parametrize("who", ["alice", "bob", "lina", "eric", "xu"])
def test_only_managers_admins_and_auditors_see_the_service_dashboard(cast, who):
    client = signed_in(getattr(cast, who))
    for url in (
        "/desk/dashboards/",
        "/desk/dashboards/widgets/tiles",
        "/desk/dashboards/widgets/trend",
    ):
        assert get(client, url).status_code == 404, url


@pytest.mark.parametrize("who", ["mona", "adam", "audra"])
def test_managers_admins_and_auditors_do(cast, who):
    client = signed_in(getattr(cast, who))
    page = get(client, "/desk/dashboards/")
    assert page.status_code == 200
    assert 'data-testid="widget-trend"' in page.content.decode()
    assert get(client, "/desk/dashboards/widgets/nonsense").status_code == 404


def test_the_tiles_add_up_the_month(cast, rolled):
    html = get(signed_in(cast.mona), f"/desk/dashboards/widgets/tiles?{NOVEMBER}").content.decode()
    figures = dict(re.findall(r'data-testid="tile-([\w-]+)".*?data-value="([^"]*)"', html, re.S))
    assert figures["created"] == "6"
    assert figures["resolved"] == "5"
    assert figures["backlog"] == "2"
    assert figures["response-sla"] == "80.0"  # 4 of 5
    assert figures["resolution-sla"] == "100.0"
    assert figures["l1"] == "80.0"
    assert figures["breaches"] == "1"
    assert figures["first-response"] == "992.5"  # minutes, as in test_kpis
    assert figures["resolution-time"] == "25.0"  # 125 h over 5 tickets
    assert figures["reopen"] == "20.0"
    assert figures["escalation"] == "16.7"


def test_one_customer_is_one_customers_figures(cast, rolled):
    client = signed_in(cast.mona)
    html = get(client, f"/desk/dashboards/widgets/tiles?{NOVEMBER}&customer=acme").content.decode()
    assert 'data-testid="tile-created"' in html
    assert re.search(r'data-testid="tile-created".*?data-value="2"', html, re.S)
    rows = get(client, f"/desk/dashboards/widgets/customers?{NOVEMBER}").content.decode()
    assert rows.count('data-testid="customer-row"') == 2
    assert "Globex Retail" in rows


def test_charts_drill_down_to_the_same_tickets(cast, rolled):
    client = signed_in(cast.mona)
    modules = chart(get(client, f"/desk/dashboards/widgets/modules?{NOVEMBER}").content.decode())
    assert modules["series"][0]["data"] == [3, 2, 1]  # none (T4 T6 T7), gl (T1 T3), ap (T2)
    assert modules["drill"][0] == ""  # "no module" is not a filter of the list
    drill = modules["drill"][1]
    assert "module=gl" in drill
    queue = get(client, drill + "&ordering=created").content.decode()
    numbers = set(re.findall(r"(?:INC|REQ|QST)-\d{4}-\d{6}", queue))
    expected = set(
        Ticket.objects.filter(module="gl", merged_into__isnull=True).values_list(
            "number", flat=True
        )
    )
    assert numbers == expected
    trend = chart(get(client, f"/desk/dashboards/widgets/trend?{NOVEMBER}").content.decode())
    tenth = trend["xAxis"]["data"].index("2026-11-10")
    assert trend["series"][0]["data"][tenth] == 2  # T3 and T4
    day = get(client, trend["drill"][tenth]).content.decode()
    assert set(re.findall(r"INC-\d{4}-\d{6}", day)) == {
        rolled["T3"].number,
        rolled["T4"].number,
    }


def test_bad_filters_are_named_and_show_no_figures(cast):
    client = signed_in(cast.mona)
    for query, message in (
        ("period=custom&first=2026-11-30&last=2026-11-01", "before the first"),
        ("period=custom&first=2026-11-01", "Give both"),
        ("period=custom&first=2025-01-01&last=2026-11-30", "at most"),
        ("period=decade", "not one of the available choices"),
        ("customer=nobody", "not one of the available choices"),
    ):
        response = get(client, f"/desk/dashboards/?{query}")
        assert response.status_code == 400, query
        assert message in response.content.decode(), query
        assert get(client, f"/desk/dashboards/widgets/tiles?{query}").status_code == 400
    from django.urls import reverse

    queue = get(client, reverse("desk:queue") + "?queue=all&created_from=2026-13-01")
    assert queue.status_code == 400
    assert "YYYY-MM-DD" in queue.content.decode()


def test_an_agent_sees_their_own_work(cast, rolled):
    html = get(signed_in(cast.lina), "/desk/dashboards/me").content.decode()
    assert re.search(r'data-testid="agent-open".*?data-value="0"', html, re.S)
    assert get(signed_in(cast.alice), "/desk/dashboards/me").status_code == 404


def test_a_customer_sees_only_their_organization(cast, rolled):
    acme = get(signed_in(cast.alice), "/portal/dashboard/").content.decode()
    assert re.search(r'data-testid="customer-created".*?data-value="2"', acme, re.S)
    assert "Acme SAP PRD" in acme
    assert "Globex" not in acme
    for number in Ticket.objects.filter(organization=cast.globex).values_list("number", flat=True):
        assert number not in acme
    globex = get(signed_in(cast.bob), "/portal/dashboard/").content.decode()
    assert re.search(r'data-testid="customer-created".*?data-value="5"', globex, re.S)
    assert "Acme" not in globex
    assert get(signed_in(cast.mona), "/portal/dashboard/").status_code == 404
    assert get(signed_in(cast.alice), "/desk/dashboards/operations").status_code == 404


def test_operations_counts_open_incidents(cast, rolled):
    html = get(signed_in(cast.mona), "/desk/dashboards/operations").content.decode()
    assert re.search(r'data-testid="ops-incidents".*?data-value="0"', html, re.S)
    assert 'data-testid="ops-backups"' in html


def test_the_figures_export_per_customer_and_in_total(cast, rolled):
    import csv
    import io

    from openpyxl import load_workbook

    from erpcare.audit.models import AuditEntry

    client = signed_in(cast.mona)
    response = get(client, f"/desk/dashboards/export?{NOVEMBER}&format=csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:4] == ["Customer", "New tickets", "Resolved", "Open at the end"]
    rows = {row[0]: row for row in table[1:]}
    assert rows["Acme 制造"][1:4] == ["2", "2", "0"]
    assert rows["Globex Retail"][1:4] == ["4", "3", "2"]
    assert rows["All customers"][1:5] == ["6", "5", "2", "80.0"]
    book = get(client, f"/desk/dashboards/export?{NOVEMBER}&format=xlsx&customer=acme")
    sheet = load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [row[0] for row in values] == ["Customer", "Acme 制造", "All customers"]
    assert values[2][1] == 2  # one customer chosen: its total, not everyone's
    assert AuditEntry.objects.filter(action="reports.exported").count() == 2
    bad = get(client, f"/desk/dashboards/export?{NOVEMBER}&format=pdf")
    assert bad.status_code == 400
    assert "csv or xlsx" in bad.content.decode()
    assert get(signed_in(cast.lina), "/desk/dashboards/export?format=csv").status_code == 404


def test_the_glossary_defines_every_kpi(cast):
    html = get(signed_in(cast.mona), "/desk/dashboards/glossary").content.decode()
    for code in ("fcr", "l1_share", "availability", "kb_deflection", "mttr", "nps"):
        assert f'data-testid="kpi-{code}"' in html
    assert "overlapping ones counted once" in html
