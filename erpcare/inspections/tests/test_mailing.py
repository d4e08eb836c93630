"""Inspection reports by mail: finished periods in the customer's time zone, recipients,
and the whole way through a real SMTP server — the worker's job prints the PDFs, queues
one delivery per recipient, the channels worker sends them with the PDF attached, and a
period is sent once."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from erpcare.channels.delivery import deliver_due
from erpcare.channels.models import Delivery, DeliveryState, Mailbox
from erpcare.channels.tests.smtp_server import (
    SmtpServer,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
)
from erpcare.conftest import Cast
from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.inspections.models import ReportFrequency, ReportMailing, ReportSubscription
from erpcare.inspections.services import mailing
from erpcare.inspections.services.mailing import Period, last_finished_period, parse_recipients
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.tests import helpers

# 2026-12-01 07:05 in Shanghai (UTC+8): November has finished, its mail is due.
DEC_1_0705_SHANGHAI = datetime(2026, 11, 30, 23, 5, tzinfo=UTC)
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


# ---------------------------------------------------------------------------
# Periods and recipients
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "today", "expected"),
    [
        ("weekly", date(2026, 12, 2), (date(2026, 11, 23), date(2026, 11, 29))),
        ("weekly", date(2026, 11, 30), (date(2026, 11, 23), date(2026, 11, 29))),  # a Monday
        ("weekly", date(2026, 11, 29), (date(2026, 11, 16), date(2026, 11, 22))),  # a Sunday
        ("weekly", date(2027, 1, 1), (date(2026, 12, 21), date(2026, 12, 27))),
        ("monthly", date(2026, 12, 1), (date(2026, 11, 1), date(2026, 11, 30))),
        ("monthly", date(2027, 1, 15), (date(2026, 12, 1), date(2026, 12, 31))),
        ("monthly", date(2028, 3, 1), (date(2028, 2, 1), date(2028, 2, 29))),
    ],
)
def test_the_last_finished_period(frequency: str, today: date, expected: tuple[date, date]) -> None:
    assert last_finished_period(frequency, today) == Period(*expected)


def test_an_unknown_frequency_is_refused() -> None:
    with pytest.raises(ActionError, match="Unknown report frequency"):
        last_finished_period("daily", date(2026, 12, 1))


def test_recipients_are_split_checked_and_deduplicated() -> None:
    assert parse_recipients("CFO@acme.example, ops@acme.example；\n<ops@ACME.example> it@x.cn") == [
        "cfo@acme.example",
        "ops@acme.example",
        "it@x.cn",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one"),
        (" ,; \n", "at least one"),
        ("ops@acme.example, not-an-address", "“not-an-address” is not an e-mail address"),
        ("ops@acme", "is not an e-mail address"),
        (", ".join(f"u{i}@acme.example" for i in range(21)), "at most 20 addresses"),
    ],
)
def test_bad_recipients_are_named(text: str, message: str) -> None:
    with pytest.raises(ActionError, match=message):
        parse_recipients(text)


# ---------------------------------------------------------------------------
# Due periods
# ---------------------------------------------------------------------------


def _subscription(cast: Cast, **fields: Any) -> ReportSubscription:
    values: dict[str, Any] = {
        "organization": cast.acme,
        "frequency": ReportFrequency.MONTHLY,
        "recipients": "ops@acme.example\ncfo@acme.example",
        "language": "en",
        "created_at": datetime(2026, 11, 5, tzinfo=UTC),
    }
    values.update(fields)
    return ReportSubscription.objects.create(**values)


@pytest.mark.django_db
def test_a_period_is_due_at_seven_on_the_next_day_in_the_customers_time_zone(
    cast: Cast,
) -> None:
    cast.acme.time_zone = "Asia/Shanghai"
    cast.acme.save(update_fields=["time_zone"])
    subscription = _subscription(cast)
    # 06:59 in Shanghai on 1 December: November's last daily checks may still be running.
    assert mailing.due_period(subscription, DEC_1_0705_SHANGHAI - timedelta(minutes=6)) is None
    assert mailing.due_period(subscription, DEC_1_0705_SHANGHAI) == NOVEMBER
    subscription.last_period_end = NOVEMBER.end
    assert mailing.due_period(subscription, DEC_1_0705_SHANGHAI + timedelta(days=20)) is None
    # A subscription made after October ended does not start with October.
    late = _subscription(cast, created_at=datetime(2026, 11, 5, tzinfo=UTC))
    assert mailing.due_period(late, datetime(2026, 11, 6, tzinfo=UTC)) is None


@pytest.mark.django_db
def test_in_new_york_the_same_instant_is_still_november(cast: Cast) -> None:
    cast.acme.time_zone = "America/New_York"
    cast.acme.save(update_fields=["time_zone"])
    assert mailing.due_period(_subscription(cast), DEC_1_0705_SHANGHAI) is None


# ---------------------------------------------------------------------------
# Through a real SMTP server
# ---------------------------------------------------------------------------


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def november_runs(cast: Cast, tmp_path: Path) -> Any:
    """Acme's instance passed on 10 November and failed on 20 November."""
    cast.acme.time_zone = "Asia/Shanghai"
    cast.acme.save(update_fields=["time_zone"])
    erp_file = helpers.erp_sqlite(tmp_path / "erp.sqlite")
    assigned = helpers.assign(helpers.sqlite_source(cast.acme_erp, erp_file), helpers.check())
    with clock.frozen_at(datetime(2026, 11, 10, 2, tzinfo=UTC)):
        run_checks([assigned])
    helpers.unbalance(erp_file)
    with clock.frozen_at(datetime(2026, 11, 20, 2, tzinfo=UTC)):
        run_checks([assigned])
    return assigned


@pytest.fixture
def mailbox(smtp_server: SmtpServer) -> Mailbox:
    return Mailbox.objects.create(
        name="ERPCare 运维",
        email="reports@erpcare.example",
        imap_host="127.0.0.1",
        imap_username="reports@erpcare.example",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
        created_at=clock.now(),
    )


@pytest.mark.django_db(transaction=True)
def test_the_monthly_report_is_mailed_once_with_its_pdf(
    cast: Cast, november_runs: Any, mailbox: Mailbox, smtp_server: SmtpServer, media: Path
) -> None:
    subscription = _subscription(cast, recipients="ops@acme.example, CFO@acme.example")

    with clock.frozen_at(DEC_1_0705_SHANGHAI):
        assert mailing.mail_due_reports(DEC_1_0705_SHANGHAI) == {"sent": 1, "failed": 0}
        assert deliver_due()["sent"] == 2

    sent = ReportMailing.objects.get()
    assert (sent.period_start, sent.period_end, sent.manual) == (
        NOVEMBER.start,
        NOVEMBER.end,
        False,
    )
    assert sent.recipients == ["ops@acme.example", "cfo@acme.example"]
    subscription.refresh_from_db()
    assert (subscription.last_period_end, subscription.last_error) == (NOVEMBER.end, "")
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "cfo@acme.example",
        "ops@acme.example",
    ]
    message = smtp_server.messages[0].message
    assert message["Subject"].strip() == "Inspection report Acme 制造, 2026-11-01 – 2026-11-30"
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_body(("plain",)).get_content()
    assert "Acme SAP PRD: Red, 1 of 1 checks need attention" in body
    assert "Critical: Unbalanced journal entries" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "inspection-acme-sap-prd-20261101-20261130.pdf"
    assert attachment.get_content_type() == "application/pdf"
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Unbalanced journal entries" in text
    assert "2026-11-01 – 2026-11-30" in text
    # The PDF is kept: the mailing names it, and it is the one that was sent.
    stored = sent.files[0]["storage_name"]
    with default_storage.open(stored, "rb") as kept:
        assert kept.read() == attachment.get_content()

    # Later ticks send nothing more for November.
    for later in (timedelta(minutes=15), timedelta(days=3)):
        with clock.frozen_at(DEC_1_0705_SHANGHAI + later):
            assert mailing.mail_due_reports(DEC_1_0705_SHANGHAI + later) == {"sent": 0, "failed": 0}
    assert ReportMailing.objects.count() == 1
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
def test_two_workers_with_the_same_subscription_send_the_period_once(
    cast: Cast, november_runs: Any, media: Path
) -> None:
    subscription = _subscription(cast)
    stale_copy = ReportSubscription.objects.get(pk=subscription.pk)
    with clock.frozen_at(DEC_1_0705_SHANGHAI):
        assert mailing.send_period(subscription, NOVEMBER) is not None
        assert mailing.send_period(stale_copy, NOVEMBER) is None
    assert ReportMailing.objects.count() == 1
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
def test_sending_by_hand_mails_the_period_again(
    cast: Cast, november_runs: Any, media: Path
) -> None:
    subscription = _subscription(cast, last_period_end=NOVEMBER.end)
    again = mailing.send_period(subscription, NOVEMBER, actor=cast.mona, claim=False)
    assert again is not None
    assert (again.manual, again.created_by) == (True, cast.mona)


@pytest.mark.django_db
def test_a_customer_without_inspected_instances_gets_a_clear_error_and_keeps_its_period(
    cast: Cast, media: Path
) -> None:
    subscription = _subscription(cast, organization=cast.globex)
    with clock.frozen_at(DEC_1_0705_SHANGHAI):
        assert mailing.mail_due_reports(DEC_1_0705_SHANGHAI) == {"sent": 0, "failed": 1}
    subscription.refresh_from_db()
    assert "no ERP instance with inspection checks" in subscription.last_error
    assert subscription.last_period_end is None
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_failed_print_gives_the_period_back(
    cast: Cast, november_runs: Any, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscription = _subscription(cast)

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(mailing.reports, "report_pdf", broken)
    with clock.frozen_at(DEC_1_0705_SHANGHAI):
        assert mailing.mail_due_reports(DEC_1_0705_SHANGHAI) == {"sent": 0, "failed": 1}
    subscription.refresh_from_db()
    assert subscription.last_period_end is None
    assert subscription.last_error == "OSError: disk full"
    assert not ReportMailing.objects.exists()
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_pdf_removed_before_sending_fails_the_delivery_with_its_name(
    cast: Cast, november_runs: Any, mailbox: Mailbox, smtp_server: SmtpServer, media: Path
) -> None:
    _subscription(cast, recipients="ops@acme.example")
    with clock.frozen_at(DEC_1_0705_SHANGHAI):
        mailing.mail_due_reports(DEC_1_0705_SHANGHAI)
    default_storage.delete(ReportMailing.objects.get().files[0]["storage_name"])
    deliver_due()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DEAD
    assert (
        "inspection-acme-sap-prd-20261101-20261130.pdf is no longer stored" in delivery.last_error
    )
    assert smtp_server.messages == []


@pytest.mark.django_db
def test_inactive_subscriptions_are_not_sent(cast: Cast, november_runs: Any, media: Path) -> None:
    _subscription(cast, is_active=False)
    with clock.frozen_at(DEC_1_0705_SHANGHAI):
        assert mailing.mail_due_reports(DEC_1_0705_SHANGHAI) == {"sent": 0, "failed": 0}


@pytest.mark.django_db
def test_a_chinese_subscription_gets_a_chinese_mail(
    cast: Cast, november_runs: Any, media: Path
) -> None:
    subscription = _subscription(cast, language="zh-hans", recipients="ops@acme.example")
    with clock.frozen_at(DEC_1_0705_SHANGHAI):
        mailing.send_period(subscription, NOVEMBER)
    payload = Delivery.objects.get().payload
    assert payload["subject"] == "巡检报告 Acme 制造，2026-11-01 – 2026-11-30"
    assert "Acme SAP PRD：红，1 项检查中有 1 项需要关注" in payload["text"]
    assert payload["attachments"][0]["filename"].endswith("-20261101-20261130.pdf")
