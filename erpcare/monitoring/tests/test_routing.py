"""Routing rules, matchers and the month-end raise."""

from __future__ import annotations

from datetime import datetime

import pytest

from erpcare.conftest import Cast
from erpcare.core.errors import ActionError
from erpcare.monitoring.matchers import matches, validate
from erpcare.monitoring.models import RoutingRule
from erpcare.monitoring.routing import in_month_end, route
from erpcare.monitoring.sources import ParsedAlert
from erpcare.monitoring.tests.test_pipeline import T0, integration

NOV_30_SHANGHAI = datetime.fromisoformat("2026-11-29T17:00:00+00:00")  # 01:00 on the 30th
NOV_29_SHANGHAI = datetime.fromisoformat("2026-11-29T15:00:00+00:00")  # 23:00 on the 29th


def parsed(name: str = "JobFailed", severity: str = "warning", **labels: str) -> ParsedAlert:
    return ParsedAlert(identity="x", status="firing", name=name, severity=severity, labels=labels)


def rule(name: str, position: int = 100, **fields: object) -> RoutingRule:
    return RoutingRule.objects.create(name=name, position=position, **fields)


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        ({"label": "env", "op": "=", "value": "prod"}, {"env": "prod"}, True),
        ({"label": "env", "op": "=", "value": "prod"}, {"env": "production"}, False),
        ({"label": "env", "op": "!=", "value": "prod"}, {"env": "test"}, True),
        ({"label": "env", "op": "!=", "value": "prod"}, {}, True),
        ({"label": "env", "op": "=~", "value": "prod|stage"}, {"env": "stage"}, True),
        ({"label": "env", "op": "=~", "value": "prod"}, {"env": "production"}, False),  # anchored
        ({"label": "env", "op": "!~", "value": "prod.*"}, {"env": "production"}, False),
        ({"label": "env", "op": "!~", "value": "prod"}, {"env": "test"}, True),
        ({"label": "env", "op": "=", "value": ""}, {}, True),  # missing label is ""
        ({"label": "env", "op": "=~", "value": "(unclosed"}, {"env": "(unclosed"}, False),
        ({"label": "env", "op": "!~", "value": "(unclosed"}, {"env": "x"}, False),
    ],
)
def test_matchers_follow_alertmanager(
    matcher: dict[str, str], labels: dict[str, str], expected: bool
) -> None:
    assert matches([matcher], labels) is expected


def test_all_matchers_must_match() -> None:
    both = [
        {"label": "a", "op": "=", "value": "1"},
        {"label": "b", "op": "=~", "value": "2|3"},
    ]
    assert matches(both, {"a": "1", "b": "3"})
    assert not matches(both, {"a": "1", "b": "4"})
    assert matches([], {"anything": "x"})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"not": "a list"}, "must be a list"),
        (["x"], "not an object"),
        ([{"op": "=", "value": "x"}], "needs a label"),
        ([{"label": "a", "op": "==", "value": "x"}], "unknown operator"),
        ([{"label": "a", "op": "=~", "value": "(x"}], "not a valid regular expression"),
        ([{"label": "a", "op": "=", "value": 3}], "must be text"),
    ],
)
def test_validate_refuses_what_cannot_be_evaluated(bad: object, message: str) -> None:
    with pytest.raises(ActionError, match=message):
        validate(bad)


def test_validate_accepts_good_matchers() -> None:
    validate([{"label": "a", "op": "!~", "value": "x.*"}])


@pytest.mark.django_db
def test_integration_defaults_then_rules_in_order(cast: Cast) -> None:
    integ = integration(cast, team=cast.l1_desk)
    result = route(integ, parsed(), now=T0)
    assert result.organization == cast.acme
    assert result.erp_instance == cast.acme_erp
    assert result.team == cast.l1_desk
    assert result.priority == 2
    assert result.tier == 1

    rule("customer from label", 10, matchers=[{"label": "customer", "op": "=", "value": "globex"}],
         set_organization=cast.globex)  # fmt: skip
    rule("finance", 20, matchers=[{"label": "job", "op": "=~", "value": "gl_.*"}],
         set_module="gl", set_team=cast.l2_platform, severity_map={"warning": 1})  # fmt: skip
    rule("other integration", 5, integration=integration(cast), set_priority=0)
    result = route(integ, parsed(customer="globex", job="gl_close"), now=T0)
    assert result.organization == cast.globex
    assert result.erp_instance is None  # the default instance is Acme's
    assert result.module == "gl"
    assert result.team == cast.l2_platform
    assert result.priority == 1
    assert result.rules == ["customer from label", "finance"]


@pytest.mark.django_db
def test_stop_ends_the_evaluation(cast: Cast) -> None:
    integ = integration(cast)
    rule("first", 10, set_priority=3, stop=True)
    rule("second", 20, set_priority=0)
    result = route(integ, parsed(), now=T0)
    assert result.priority == 3
    assert result.rules == ["first"]


@pytest.mark.django_db
def test_instance_from_a_label_sets_instance_and_customer(cast: Cast) -> None:
    integ = integration(cast, organization=None, erp_instance=None)
    rule("instance", instance_label="erp")
    result = route(integ, parsed(erp="globex odoo"), now=T0)
    assert result.erp_instance == cast.globex_erp
    assert result.organization == cast.globex
    unknown = route(integ, parsed(erp="nobody's ERP"), now=T0)
    assert unknown.organization is None
    assert unknown.erp_instance is None


def test_month_end_is_in_the_customers_time_zone() -> None:
    assert in_month_end(NOV_30_SHANGHAI, 1, "Asia/Shanghai")
    assert not in_month_end(NOV_30_SHANGHAI, 1, "UTC")
    assert not in_month_end(NOV_29_SHANGHAI, 1, "Asia/Shanghai")
    assert in_month_end(NOV_29_SHANGHAI, 2, "Asia/Shanghai")
    assert not in_month_end(NOV_30_SHANGHAI, 0, "Asia/Shanghai")


@pytest.mark.django_db
def test_month_end_raises_finance_alerts_one_step(cast: Cast) -> None:
    integ = integration(cast)
    rule(
        "finance close",
        set_module="gl",
        set_priority=2,
        month_end_days=1,
        month_end_modules=["gl", "ap"],
        matchers=[{"label": "job", "op": "=", "value": "close"}],
    )
    raised = route(integ, parsed(job="close"), now=NOV_30_SHANGHAI)
    assert raised.priority == 1
    assert raised.month_end_raised
    assert route(integ, parsed(job="close"), now=NOV_29_SHANGHAI).priority == 2
    rule("top", 200, set_priority=0)
    assert route(integ, parsed(job="close"), now=NOV_30_SHANGHAI).priority == 0  # never above P0


@pytest.mark.django_db
def test_month_end_leaves_other_modules_alone(cast: Cast) -> None:
    integ = integration(cast)
    rule("inventory", set_module="inventory", set_priority=2, month_end_days=3,
         month_end_modules=["gl"])  # fmt: skip
    assert route(integ, parsed(), now=NOV_30_SHANGHAI).priority == 2


@pytest.mark.django_db
def test_an_erp_module_label_sets_the_module_when_no_rule_does(cast: Cast) -> None:
    integ = integration(cast)
    assert route(integ, parsed(erp_module="gl"), now=T0).module == "gl"
    assert route(integ, parsed(erp_module="not-a-module"), now=T0).module == ""
    rule(
        "inventory alerts",
        matchers=[{"label": "job", "op": "=", "value": "mrp"}],
        set_module="inventory",
    )
    assert route(integ, parsed(job="mrp", erp_module="gl"), now=T0).module == "inventory"
