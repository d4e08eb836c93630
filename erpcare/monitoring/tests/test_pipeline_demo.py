"""The demo's monitoring set-up routes Alertmanager alerts to the right customer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from erpcare.conftest import Cast
from erpcare.demo.monitoring import INTEGRATION_KEY, seed_monitoring
from erpcare.monitoring.models import Alert, Integration, MaintenanceWindow
from erpcare.monitoring.tests.test_pipeline import T0, am_alert, incidents, run, store


@pytest.mark.django_db
def test_demo_rules_route_by_customer_and_instance_labels(cast: Cast) -> None:
    seed_monitoring([cast.acme, cast.globex])
    assert seed_monitoring([cast.acme, cast.globex]) == {"routing_rules": 0}  # once
    MaintenanceWindow.objects.all().delete()  # its schedule depends on the day
    integ = Integration.objects.get(key=INTEGRATION_KEY)
    assert integ.is_active
    labels = {"customer": "globex", "erp_instance": "Globex Odoo"}
    store(integ, am_alert("db", "DatabaseDown", **labels))
    store(integ, am_alert("job", "ErpJobFailed", **labels), at=T0 + timedelta(minutes=1))
    store(integ, am_alert("x", "DatabaseDown", customer="nobody"), at=T0 + timedelta(minutes=2))
    run(T0 + timedelta(minutes=2))
    (ticket,) = incidents()
    assert ticket.organization == cast.globex
    assert ticket.erp_instance == cast.globex_erp
    assert Alert.objects.filter(incident=ticket).count() == 2  # the job joined (topology)
    assert Alert.objects.get(identity="x").incident is None  # no such customer


@pytest.mark.django_db
def test_demo_has_a_weekly_maintenance_window(cast: Cast) -> None:
    seed_monitoring([cast.acme, cast.globex])
    window = MaintenanceWindow.objects.get()
    assert window.cron == "0 2 * * 0"
    assert list(window.erp_instances.all()) == [cast.acme_erp]
