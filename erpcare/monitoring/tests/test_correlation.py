"""Correlation: group rules with their window, topology rules, the default grouping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from erpcare.conftest import Cast
from erpcare.monitoring.models import Alert, CorrelationRule
from erpcare.monitoring.tests.test_pipeline import T0, am_alert, incidents, integration, run, store


@pytest.mark.django_db
def test_default_grouping_is_customer_instance_and_alertname(cast: Cast) -> None:
    integ = integration(cast)
    store(
        integ,
        am_alert("fp1", "DiskFull", instance="a"),
        am_alert("fp2", "DiskFull", instance="b"),
        am_alert("fp3", "HighLoad", instance="a"),
    )
    run()
    assert len(incidents()) == 2
    first, second = (Alert.objects.get(identity=i) for i in ("fp1", "fp2"))
    assert first.incident_id == second.incident_id
    assert first.group_key == f"{cast.acme.pk}/{cast.acme_erp.pk}/alertname=DiskFull"


@pytest.mark.django_db
def test_group_rule_joins_within_the_window_and_expires(cast: Cast) -> None:
    CorrelationRule.objects.create(name="by service", kind="group", group_by=["service"],
                                   window_minutes=10)  # fmt: skip
    integ = integration(cast)
    store(integ, am_alert("fp1", "DiskFull", service="ledger"))
    run()
    store(integ, am_alert("fp2", "HighLoad", service="ledger"), at=T0 + timedelta(minutes=5))
    run(T0 + timedelta(minutes=5))
    assert len(incidents()) == 1
    # Quiet for more than ten minutes: the next alert of the group opens a new incident.
    store(integ, am_alert("fp3", "SlowQueries", service="ledger"), at=T0 + timedelta(minutes=20))
    run(T0 + timedelta(minutes=20))
    assert len(incidents()) == 2
    assert Alert.objects.get(identity="fp3").incident == incidents()[1]
    # Without the group label the rule does not apply: default grouping.
    store(integ, am_alert("fp4", "SlowQueries"), at=T0 + timedelta(minutes=21))
    run(T0 + timedelta(minutes=21))
    assert len(incidents()) == 3


@pytest.mark.django_db
def test_topology_children_join_the_parents_incident(cast: Cast) -> None:
    CorrelationRule.objects.create(
        name="database down", kind="topology",
        parent_matchers=[{"label": "alertname", "op": "=", "value": "DatabaseDown"}],
        child_matchers=[{"label": "alertname", "op": "=~", "value": "ErpJob.*"}],
    )  # fmt: skip
    integ = integration(cast)
    store(integ, am_alert("db", "DatabaseDown"), am_alert("job1", "ErpJobFailed", job="mrp"))
    run()
    store(integ, am_alert("job2", "ErpJobLate", job="payroll"), at=T0 + timedelta(minutes=3))
    run(T0 + timedelta(minutes=3))
    (ticket,) = incidents()
    assert Alert.objects.filter(incident=ticket).count() == 3
    # Once the parent resolves, a dependent alert opens its own incident.
    store(integ, am_alert("db", "DatabaseDown", status="resolved"), at=T0 + timedelta(minutes=4))
    run(T0 + timedelta(minutes=4))
    store(integ, am_alert("job3", "ErpJobStuck"), at=T0 + timedelta(minutes=5))
    run(T0 + timedelta(minutes=5))
    assert len(incidents()) == 2


@pytest.mark.django_db
def test_topology_needs_the_same_instance(cast: Cast) -> None:
    CorrelationRule.objects.create(
        name="database down", kind="topology",
        parent_matchers=[{"label": "alertname", "op": "=", "value": "DatabaseDown"}],
        child_matchers=[{"label": "alertname", "op": "=", "value": "ErpJobFailed"}],
    )  # fmt: skip
    store(integration(cast), am_alert("db", "DatabaseDown"))
    globex = integration(cast, organization=cast.globex, erp_instance=cast.globex_erp)
    store(globex, am_alert("job", "ErpJobFailed"))
    run()
    assert len(incidents()) == 2
