"""The monthly report's sections against the hand-computed November of
``monthly_fixtures`` (Acme's month, with Globex's tickets around it), and bad inputs."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from erpcare.reports import kpis, svg
from erpcare.reports.monthly import ReportError, build_report, month_period, report_title
from erpcare.reports.periods import Period
from erpcare.reports.tests.monthly_fixtures import AFTER, NOVEMBER, ROOT_CAUSE, SECRET, build_month

pytestmark = pytest.mark.usefixtures("sla_defaults")
H = timedelta(hours=1)


@pytest.fixture
def month(cast):
    return build_month(cast)


@pytest.fixture
def report(cast, month):
    return build_report(cast.acme, NOVEMBER, language="en", now=AFTER)


def counts(rows) -> dict[str, int]:
    return {r.key: r.count for r in rows}


def test_volumes_count_only_this_customers_month(report):
    assert report.created == 3
    assert report.resolved == 2
    assert counts(report.volumes["type"]) == {"incident": 1, "request": 1, "question": 1}
    assert counts(report.volumes["priority"]) == {"0": 1, "2": 1, "3": 1}
    assert [r.label for r in report.volumes["priority"]] == ["P0", "P2", "P3"]
    assert counts(report.volumes["channel"]) == {"portal": 2, "web": 1}
    assert counts(report.volumes["module"]) == {"gl": 1, "ap": 1, "": 1}
    assert [c.key for c in report.top_modules] == ["ap", "gl"]  # ties by label; no "" module
    assert counts(report.top_categories)["data_issue"] == 1


def test_sla_against_the_previous_month(report):
    overall = report.sla[0]
    assert overall.key == "all"
    assert overall.response == kpis.Ratio(2, 2)
    assert overall.resolution == kpis.Ratio(2, 2)
    assert overall.response_previous == kpis.Ratio(1, 1)  # A0 in October
    by_priority = {r.key: r for r in report.sla[1:]}
    assert set(by_priority) == {"0", "2"}  # A3 is still running; A0 was P2
    assert by_priority["0"].response == kpis.Ratio(1, 1)
    assert by_priority["0"].response_previous == kpis.Ratio(0, 0)
    assert by_priority["2"].resolution_previous == kpis.Ratio(1, 1)


def test_six_months_of_trend(report):
    assert [p.label for p in report.trend] == [
        "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
    ]  # fmt: skip
    october, november = report.trend[-2], report.trend[-1]
    assert (october.created, october.resolved) == (1, 1)
    assert october.mttr is None  # no incident in October: no MTTR, not zero
    assert october.resolution_median == 2 * H
    assert (november.created, november.resolved) == (3, 2)
    assert november.mttr == 2 * H
    assert november.resolution_median == 4 * H
    assert report.trend[0].resolution_median is None


def test_top_tickets_with_their_resolution(report, month):
    assert [t.number for t in report.top_tickets] == [
        month.tickets["A2"].number,
        month.tickets["A1"].number,
    ]
    top = report.top_tickets[0]
    assert top.time_to_resolve == 6 * H
    assert top.resolution_code == "data_corrected"
    assert top.resolution_label == "Data corrected"
    assert top.root_cause == ROOT_CAUSE
    assert top.priority == "P2"


def test_knowledge_added_is_what_this_customer_can_read(report, month):
    assert [a.number for a in report.articles] == [
        month.articles["public"].number,
        month.articles["acme"].number,
    ]


def test_instances_availability_backlog_and_surveys(report, cast):
    (acme,) = report.instances
    assert acme.name == "Acme SAP PRD"
    assert acme.availability is not None
    assert acme.availability.downtime == 2 * H
    assert acme.availability.percent == round((1 - 2 / 720) * 100, 3)
    assert acme.rating == "grey"
    assert acme.checks == 0
    assert acme.backups == []
    assert report.backlog.count == 1
    assert report.backlog.by_priority == {3: 1}
    assert report.csat.responses == 0
    assert report.csat.satisfied_share is None
    assert report.nps.score is None


def test_nothing_of_the_other_customer(report):
    text = repr(report)
    assert SECRET not in text
    assert "Globex" not in text


def test_charts_are_svg_with_escaped_labels(report):
    chart = report.charts["trend_time"]
    assert chart.startswith("<svg")
    assert chart.endswith("</svg>")
    assert "2026-11" in chart
    bars = svg.bar_chart(["<b>x</b>"], [svg.Series("s", [3])], title="A & B")
    assert "<b>" not in bars
    assert "&lt;b&gt;" in bars
    assert "A &amp; B" in bars
    assert svg.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert svg.nice_ticks(0) == [0, 1]
    assert svg.nice_ticks(3, integers=True) == [0, 1, 2, 3]  # no 0.75 tickets
    gaps = svg.line_chart(["a", "b", "c"], [svg.Series("s", [1, None, 2])], title="t")
    assert "<polyline" not in gaps  # a missing month breaks the line instead of a zero
    assert gaps.count("<circle") == 2


def test_a_chinese_report(cast, month):
    report = build_report(cast.acme, NOVEMBER, language="zh-hans", now=AFTER)
    assert report.title == "服务月报"
    assert report_title("en") == "Monthly service report"


def test_commentary_is_sanitised_markdown(cast, month):
    report = build_report(
        cast.acme, NOVEMBER, language="en", now=AFTER,
        commentary="**Done**: <script>alert(1)</script> [x](javascript:alert(1))",
    )  # fmt: skip
    assert "<strong>Done</strong>" in report.commentary_html
    assert "<script>" not in report.commentary_html
    assert 'href="javascript' not in report.commentary_html


def test_the_month_is_the_customers(cast, month):
    cast.acme.time_zone = "America/New_York"
    cast.acme.save(update_fields=["time_zone"])
    period = month_period(cast.acme, "2026-11", now=AFTER)
    assert period.time_zone == "America/New_York"
    assert period.start.utcoffset() == timedelta(0)
    assert period.start.hour == 4  # midnight EDT on 1 November


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "A month is a number from 1 to 12 (got 13)"),
        ("2026-00", "A month is a number from 1 to 12 (got 0)"),
        ("2026/11", "Give the month as YYYY-MM"),
        ("", "Give the month as YYYY-MM"),
        ("november", "Give the month as YYYY-MM"),
        ("0-11", "The year must be between 2000 and 2999"),
        ("2027-01", "2027-01 has not started yet"),
    ],
)
def test_bad_months_are_named(cast, text, message):
    with pytest.raises(ReportError, match=re.escape(message)):
        month_period(cast.acme, text, now=AFTER)


def test_build_report_refuses_what_is_not_a_month(cast):
    with pytest.raises(ReportError, match="one whole month"):
        build_report(cast.acme, Period(date(2026, 11, 2), date(2026, 11, 30), "UTC"), language="en")
    with pytest.raises(ReportError, match="Unknown language"):
        build_report(cast.acme, NOVEMBER, language="fr", now=AFTER)
    with pytest.raises(ReportError, match="has not started yet"):
        build_report(cast.acme, Period.month(2027, 2, "Asia/Shanghai"), language="en", now=AFTER)
