"""The monitoring service account and incident creation, including concurrency on
PostgreSQL (two workers, the same new alert: one alert, one incident)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.db import close_old_connections, connection
from django.test import Client

from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.monitoring.incidents import MONITORING_EMAIL, monitoring_actor
from erpcare.monitoring.models import Alert, AlertPayload, RoutingRule
from erpcare.monitoring.pipeline import process_pending
from erpcare.monitoring.tests.test_pipeline import (
    T0,
    am_alert,
    incidents,
    integration,
    run,
    store,
    store_raw,
)


@pytest.mark.django_db
def test_the_monitoring_account_can_never_sign_in(cast: Cast) -> None:
    actor = monitoring_actor()
    assert monitoring_actor() == actor
    assert actor.email == MONITORING_EMAIL
    assert actor.role_code == "manager"
    assert not actor.has_usable_password()
    assert authenticate(username=MONITORING_EMAIL, password="") is None
    assert authenticate(username=MONITORING_EMAIL, password="!") is None
    response = Client().post("/accounts/login/", {"username": MONITORING_EMAIL, "password": "x"})
    assert response.status_code == 200  # the form again, not a redirect into the app
    assert "_auth_user_id" not in Client().session


@pytest.mark.django_db
def test_routing_sets_priority_team_and_module(cast: Cast) -> None:
    RoutingRule.objects.create(name="finance", set_module="gl", set_team=cast.l1_acme,
                               severity_map={"critical": 0})  # fmt: skip
    store(integration(cast), am_alert("fp1", instance="db01"))
    run()
    (ticket,) = incidents()
    assert ticket.priority == 0
    assert ticket.team == cast.l1_acme
    assert ticket.module == "gl"
    assert ticket.sla_state != ""  # the SLA app's receiver started the clocks


@pytest.mark.django_db
def test_a_team_that_does_not_serve_the_customer_costs_only_the_team(cast: Cast) -> None:
    RoutingRule.objects.create(name="globex team", set_team=cast.l1_acme)
    globex = integration(cast, organization=cast.globex, erp_instance=cast.globex_erp)
    store(globex, am_alert("fp1", instance="db01"))
    run()
    (ticket,) = incidents()
    assert ticket.organization == cast.globex
    assert ticket.team is None


@pytest.mark.django_db
def test_an_inactive_customer_gets_no_incident_and_the_alert_says_why(cast: Cast) -> None:
    cast.acme.is_active = False
    cast.acme.save()
    store(integration(cast), am_alert("fp1", instance="db01"))
    stats = run()
    assert stats["incidents_refused"] == 1
    alert = Alert.objects.get()
    assert alert.incident is None
    assert alert.annotations["erpcare_reason"].startswith("incident_refused")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL concurrency")
def test_two_workers_with_the_same_new_alert_make_one_alert_and_one_incident(
    transactional_db: Any, cast: Cast
) -> None:
    integ = integration(cast)
    rounds = 4
    for n in range(rounds):
        # Two different bodies (not an exact re-send) carrying the same new alert, plus a
        # second alert of the same group in each, stored by two web workers.
        for receiver in ("web-1", "web-2"):
            # The group's other alert first: without the per-group lock both workers would
            # open an incident before either reaches the shared alert.
            alerts = [am_alert(f"{receiver}-{n}", f"Down{n}"), am_alert(f"fp{n}", f"Down{n}")]
            store_raw(integ, json.dumps({"version": "4", "receiver": receiver, "alerts": alerts}))
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker(
            barrier: threading.Barrier = barrier, errors: list[BaseException] = errors
        ) -> None:
            try:
                barrier.wait(timeout=10)
                with clock.frozen_at(T0):
                    process_pending(limit=1)
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=worker) for _i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
    assert AlertPayload.objects.filter(state="processed").count() == 2 * rounds
    for n in range(rounds):
        shared = Alert.objects.filter(identity=f"fp{n}")
        assert shared.count() == 1
        assert shared.get().count == 2
        group = Alert.objects.filter(name=f"Down{n}")
        assert group.count() == 3
        assert group.values("incident").distinct().count() == 1
    assert len(incidents()) == rounds
