"""Affected customers are told a day before a change's window and when it ends: in-app and
by e-mail through the channels outbox, delivered to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from erpcare.changes.models import Change
from erpcare.changes.services import notify, workflow
from erpcare.changes.tests.test_maintenance import PLANNED, START, scheduled
from erpcare.channels.delivery import deliver_due
from erpcare.channels.models import Delivery, Mailbox, Notification
from erpcare.channels.tests.smtp_server import (
    SmtpServer,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
)
from erpcare.conftest import Cast
from erpcare.core import clock


def announce(at: datetime) -> dict[str, int]:
    with clock.frozen_at(at):
        return notify.announce_due(at)


def notices(user: Any) -> list[str]:
    found = Notification.objects.filter(recipient=user, kind="change").order_by("id")
    return list(found.values_list("title", flat=True))


@pytest.mark.django_db
def test_customers_are_told_a_day_ahead_once_with_only_their_instances(cast: Cast) -> None:
    change = scheduled(cast, instances=[cast.acme_erp, cast.globex_erp])
    assert announce(START - timedelta(hours=25)) == {"changes": 0, "recipients": 0}
    assert announce(START - timedelta(hours=23)) == {"changes": 1, "recipients": 3}
    assert announce(START - timedelta(hours=22)) == {"changes": 0, "recipients": 0}
    assert notices(cast.alice) == [f"Planned maintenance {change.number}: {change.title}"]
    assert len(notices(cast.bob)) == 1
    assert notices(cast.eric) == []  # staff are not customers
    mail = Delivery.objects.get(address="alice@acme.example")
    assert mail.payload["subject"].startswith(f"[{change.number}] Planned maintenance")
    text = mail.payload["text"]
    # 07:00–09:00 UTC is 15:00–17:00 in Shanghai, the customer's zone.
    assert "from 2026-11-10 15:00 to 2026-11-10 17:00 (Asia/Shanghai)" in text
    assert "Acme SAP PRD" in text
    assert "Globex" not in text
    assert "Expected downtime: 30 minutes." in text
    assert "Acme SAP PRD" not in Delivery.objects.get(address="bob@globex.example").payload["text"]


@pytest.mark.django_db
def test_rescheduling_announces_the_new_window(cast: Cast) -> None:
    change = scheduled(cast)
    announce(START - timedelta(hours=23))
    later = START + timedelta(days=2)
    with clock.frozen_at(START - timedelta(hours=20)):
        workflow.reschedule_change(
            cast.eric, change, planned_start=later, planned_end=later + timedelta(hours=1)
        )
    assert announce(START - timedelta(hours=19)) == {"changes": 0, "recipients": 0}
    assert announce(later - timedelta(hours=2))["changes"] == 1
    assert len(notices(cast.alice)) == 2


@pytest.mark.django_db
def test_the_end_is_told_once_and_a_silent_cancellation_tells_nobody(cast: Cast) -> None:
    change = scheduled(cast)
    announce(START - timedelta(hours=1))
    with clock.frozen_at(START):
        workflow.start_change(cast.eric, change)
    with clock.frozen_at(START + timedelta(minutes=30)):
        workflow.roll_back_change(cast.eric, change, note="Lock timeouts.")
    change = Change.objects.get(pk=change.pk)
    assert change.end_notified_at == START + timedelta(minutes=30)
    assert notices(cast.alice)[-1] == f"Maintenance {change.number} ended: {change.title}"
    body = Notification.objects.filter(recipient=cast.alice).latest("id").body
    assert "rolled back and your system is as it was before" in body

    quiet = scheduled(cast)
    with clock.frozen_at(PLANNED + timedelta(days=1)):
        workflow.cancel_change(cast.eric, quiet, reason="Not needed.")
    assert len(notices(cast.alice)) == 2  # never announced: nothing to take back

    told = scheduled(cast, start=START + timedelta(days=1), end=START + timedelta(days=1, hours=1))
    announce(START + timedelta(hours=2))
    with clock.frozen_at(START + timedelta(hours=3)):
        workflow.cancel_change(cast.eric, told, reason="Vendor withdrew the note.")
    assert notices(cast.alice)[-1] == f"Maintenance {told.number} cancelled: {told.title}"


@pytest.mark.django_db(transaction=True)
def test_the_announcement_reaches_a_real_smtp_server(cast: Cast, smtp_server: SmtpServer) -> None:
    Mailbox.objects.create(
        name="ERPCare 运维", email="ops@erpcare.example", imap_host="127.0.0.1",
        imap_username="ops@erpcare.example", smtp_host="127.0.0.1", smtp_port=smtp_server.port,
        smtp_security="none", created_at=clock.now(),
    )  # fmt: skip
    change = scheduled(cast)
    moment = START - timedelta(hours=2)
    with clock.frozen_at(moment):
        assert notify.announce_due(moment) == {"changes": 1, "recipients": 2}
        assert deliver_due()["sent"] == 2
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "alice@acme.example",
        "ann@acme.example",
    ]
    message = smtp_server.messages[0].message
    assert message["Subject"].strip().startswith(f"[{change.number}] Planned maintenance")
    assert message["Auto-Submitted"] == "auto-generated"
    assert "Acme SAP PRD" in message.get_body(("plain",)).get_content()


@pytest.mark.django_db
def test_the_announce_job_is_registered_and_runs(cast: Cast) -> None:
    from erpcare.changes import jobs
    from erpcare.core import scheduler

    job = scheduler.registered_jobs()["changes.announce"]
    assert (job.func, job.cron) == ("erpcare.changes.jobs.announce", "*/15 * * * *")
    scheduled(cast)
    with clock.frozen_at(START - timedelta(hours=3)):
        assert jobs.announce() == {"changes": 1, "recipients": 2}
