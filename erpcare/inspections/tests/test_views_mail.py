"""The report mail pages: managers add, change, delete subscriptions and send the last
finished period now (a real PDF printed from real runs, one delivery per recipient);
readers see the subscriptions and mailings of the customers they can see and download
the kept PDFs; nobody else sees anything, and bad input is a form error that saves
nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from erpcare.accounts.models import Team, User
from erpcare.accounts.services import add_team_member, create_user
from erpcare.audit.models import AuditEntry
from erpcare.channels.models import Delivery
from erpcare.conftest import PASSWORD, Cast
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.customers.models import Organization
from erpcare.inspections import admin_services as svc
from erpcare.inspections.models import (
    InstanceCheck,
    ReportFrequency,
    ReportMailing,
    ReportSubscription,
)
from erpcare.inspections.services.mailing import last_finished_period
from erpcare.inspections.services.report import customer_zone_of
from erpcare.inspections.services.runs import run_checks
from erpcare.inspections.tests import helpers
from erpcare.inspections.tests.test_views import signed_in

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.7\n% a stand-in for a printed report\n%%EOF\n"


def subscription_post(cast: Cast, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer": cast.acme.pk,
        "erp_instance": "",
        "recipients": "CFO@acme.example, ops@acme.example;\n<ops@ACME.example>",
        "frequency": "monthly",
        "language": "en",
        "is_active": "on",
    }
    data.update(kw)
    return data


def _subscription(cast: Cast, **fields: Any) -> ReportSubscription:
    values: dict[str, Any] = {
        "organization": cast.acme,
        "frequency": ReportFrequency.MONTHLY,
        "recipients": "ops@acme.example\ncfo@acme.example",
        "language": "en",
        "created_at": clock.now(),
    }
    values.update(fields)
    return ReportSubscription.objects.create(**values)


def _mailing(subscription: ReportSubscription, **fields: Any) -> ReportMailing:
    """A mailing with one kept PDF (a stand-in: these tests are about serving it)."""
    stored = default_storage.save(
        f"inspection-reports/{subscription.organization_id}/test/report.pdf",
        ContentFile(PDF_BYTES),
    )
    values: dict[str, Any] = {
        "subscription": subscription,
        "period_start": date(2026, 11, 1),
        "period_end": date(2026, 11, 30),
        "files": [
            {
                "name": "Acme SAP PRD",
                "rating": "red",
                "filename": "inspection-acme-sap-prd-20261101-20261130.pdf",
                "storage_name": stored,
            }
        ],
        "recipients": ["ops@acme.example"],
        "created_at": clock.now(),
    }
    values.update(fields)
    return ReportMailing.objects.create(**values)


def _globex_engineer() -> User:
    """An L2 engineer whose team serves only Globex."""
    team = Team.objects.create(
        code="l2-globex", name="Globex L2", tier=2, serves_all_customers=False
    )
    team.customers.add(Organization.objects.get(code="globex"))
    ivan = create_user(
        email="ivan@erpcare.example", display_name="Ivan", role_code="l2_engineer",
        password=PASSWORD,
    )  # fmt: skip
    add_team_member(team=team, user=ivan)
    return ivan


def _inspection_entries() -> list[str]:
    return list(
        AuditEntry.objects.filter(action__startswith="inspections.").values_list(
            "action", flat=True
        )
    )


# ---------------------------------------------------------------------------
# Adding, changing, deleting
# ---------------------------------------------------------------------------


def test_a_manager_adds_a_subscription_saved_normalised_and_audited(cast: Cast) -> None:
    client = signed_in(cast.mona)
    page = client.get(reverse("inspections:mail")).content.decode()
    assert 'data-testid="inspections-nav-mail"' in page
    assert 'data-testid="subscription-form"' in page
    assert "No report subscriptions yet." in page

    response = client.post(reverse("inspections:subscription_new"), subscription_post(cast))
    assert response.status_code == 302
    assert response["Location"] == reverse("inspections:mail")
    subscription = ReportSubscription.objects.get()
    assert subscription.organization == cast.acme
    assert subscription.erp_instance is None
    assert subscription.recipients == "cfo@acme.example\nops@acme.example"
    assert (subscription.frequency, subscription.language, subscription.is_active) == (
        "monthly",
        "en",
        True,
    )
    assert subscription.created_by == cast.mona
    entry = AuditEntry.objects.get(action="inspections.subscription_created")
    assert entry.actor == cast.mona
    assert entry.target_id == str(subscription.pk)
    assert entry.data == {
        "customer": "acme",
        "erp_instance": None,
        "frequency": "monthly",
        "language": "en",
        "recipients": ["cfo@acme.example", "ops@acme.example"],
        "is_active": True,
    }

    page = client.get(reverse("inspections:mail")).content.decode()
    assert "Report subscription for Acme 制造 added" in page
    assert 'data-testid="subscription-row"' in page
    assert "cfo@acme.example<br>ops@acme.example" in page
    assert "all inspected instances" in page
    assert 'data-testid="subscription-send"' in page


def test_a_subscription_for_one_instance(cast: Cast) -> None:
    client = signed_in(cast.adam)
    response = client.post(
        reverse("inspections:subscription_new"),
        subscription_post(cast, erp_instance=cast.acme_erp.pk, frequency="weekly", is_active=""),
    )
    assert response.status_code == 302
    subscription = ReportSubscription.objects.get()
    assert (subscription.erp_instance, subscription.frequency, subscription.is_active) == (
        cast.acme_erp,
        "weekly",
        False,
    )
    page = signed_in(cast.adam).get(reverse("inspections:mail")).content.decode()
    assert cast.acme_erp.name in page
    assert 'data-testid="subscription-inactive"' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"recipients": "ops@acme.example, not-an-address"}, "“not-an-address” is not an e-mail"),
        ({"recipients": "ops@acme"}, "is not an e-mail address"),
        ({"recipients": " ,; "}, "Enter at least one e-mail address."),
        ({"recipients": ""}, "This field is required."),
        (
            {"recipients": ", ".join(f"u{i}@acme.example" for i in range(21))},
            "at most 20 addresses",
        ),
        ({"erp_instance": "globex"}, "does not belong to Acme 制造."),
        ({"customer": "999999"}, "Select a valid choice"),
        ({"customer": ""}, "This field is required."),
        ({"erp_instance": "999999"}, "Select a valid choice"),
        ({"frequency": "daily"}, "Select a valid choice"),
        ({"language": "fr"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_form_error_and_saves_nothing(
    cast: Cast, changes: dict[str, str], message: str
) -> None:
    if changes.get("erp_instance") == "globex":
        changes = {"erp_instance": str(cast.globex_erp.pk)}
    client = signed_in(cast.mona)
    response = client.post(
        reverse("inspections:subscription_new"), subscription_post(cast, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert not ReportSubscription.objects.exists()
    assert _inspection_entries() == []


def test_the_service_refuses_non_configurers_and_a_change_of_customer(cast: Cast) -> None:
    values = svc.SubscriptionValues(
        organization_id=cast.acme.pk,
        erp_instance_id=None,
        recipients="ops@acme.example",
        frequency="monthly",
        language="en",
    )
    with pytest.raises(NotAllowed):
        svc.create_subscription(cast.eric, values)
    subscription = svc.create_subscription(cast.mona, values)
    with pytest.raises(ActionError, match="customer cannot be changed"):
        svc.update_subscription(
            cast.mona, subscription, replace(values, organization_id=cast.globex.pk)
        )
    with pytest.raises(ActionError, match="does not belong to"):
        svc.update_subscription(
            cast.mona, subscription, replace(values, erp_instance_id=cast.globex_erp.pk)
        )
    for action in (svc.delete_subscription, svc.send_now):
        with pytest.raises(NotAllowed):
            action(cast.audra, subscription)
    assert _inspection_entries() == ["inspections.subscription_created"]


def test_editing_changes_the_settings_and_keeps_the_customer(cast: Cast) -> None:
    subscription = _subscription(cast)
    client = signed_in(cast.mona)
    url = reverse("inspections:subscription", args=[subscription.pk])
    page = client.get(url).content.decode()
    assert "ops@acme.example\ncfo@acme.example" in page
    assert re.search(r'<select name="customer"[^>]* disabled', page)

    response = client.post(
        url,
        subscription_post(
            cast,
            customer=cast.globex.pk,  # a disabled field: ignored
            erp_instance=cast.acme_erp.pk,
            recipients="it@acme.example",
            frequency="weekly",
            language="zh-hans",
        ),
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.organization == cast.acme
    assert (subscription.erp_instance, subscription.recipients) == (
        cast.acme_erp,
        "it@acme.example",
    )
    assert (subscription.frequency, subscription.language) == ("weekly", "zh-hans")
    entry = AuditEntry.objects.get(action="inspections.subscription_changed")
    assert entry.data["changed"] == ["erp_instance", "frequency", "language", "recipients"]

    bad = client.post(url, subscription_post(cast, erp_instance=cast.globex_erp.pk))
    assert bad.status_code == 400
    assert 'data-testid="field-error-erp_instance">The chosen ERP instance does not belong to' in (
        bad.content.decode()
    )
    subscription.refresh_from_db()
    assert subscription.erp_instance == cast.acme_erp
    assert AuditEntry.objects.filter(action="inspections.subscription_changed").count() == 1


def test_deleting_removes_the_subscription_and_its_mailings(cast: Cast) -> None:
    subscription = _subscription(cast)
    _mailing(subscription)
    client = signed_in(cast.mona)
    url = reverse("inspections:subscription_delete", args=[subscription.pk])
    assert client.get(url).status_code == 405
    page = client.get(reverse("inspections:mail")).content.decode()
    assert "return confirm(" in page
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert "is deleted" in response.content.decode()
    assert not ReportSubscription.objects.exists()
    assert not ReportMailing.objects.exists()
    entry = AuditEntry.objects.get(action="inspections.subscription_deleted")
    assert (entry.data["customer"], entry.data["mailings"]) == ("acme", 1)
    assert client.post(url).status_code == 404


# ---------------------------------------------------------------------------
# Who may see and do what
# ---------------------------------------------------------------------------


def _every_url(subscription: ReportSubscription, mailing: ReportMailing) -> dict[str, str]:
    return {
        "mail": reverse("inspections:mail"),
        "new": reverse("inspections:subscription_new"),
        "edit": reverse("inspections:subscription", args=[subscription.pk]),
        "delete": reverse("inspections:subscription_delete", args=[subscription.pk]),
        "send": reverse("inspections:subscription_send", args=[subscription.pk]),
        "file": reverse("inspections:mailing_file", args=[mailing.pk, 0]),
    }


@pytest.mark.parametrize("who", ["alice", "bob", "lina", "vera"])
def test_customers_and_l1_agents_get_404_everywhere(cast: Cast, who: str) -> None:
    subscription = _subscription(cast)
    mailing = _mailing(subscription)
    urls = _every_url(subscription, mailing)
    client = signed_in(getattr(cast, who))
    for name in ("mail", "new", "edit", "file"):
        assert client.get(urls[name]).status_code == 404, name
    for name in ("new", "edit", "delete", "send"):
        assert client.post(urls[name], subscription_post(cast)).status_code == 404, name
    assert ReportSubscription.objects.count() == 1
    assert ReportMailing.objects.count() == 1
    assert not Delivery.objects.exists()
    assert _inspection_entries() == []


@pytest.mark.parametrize("who", ["eric", "xu", "audra"])
def test_readers_see_the_list_and_mailings_but_change_nothing(cast: Cast, who: str) -> None:
    subscription = _subscription(cast, last_error="OSError: disk full")
    mailing = _mailing(subscription, manual=True, created_by=cast.mona)
    urls = _every_url(subscription, mailing)
    client = signed_in(getattr(cast, who))
    response = client.get(urls["mail"])
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="subscription-row"' in page
    assert '<div class="text-danger text-break" data-testid="subscription-error">' in page
    assert "OSError: disk full" in page
    assert 'data-testid="mailing-row"' in page
    assert "by hand · Mona Sun" in page
    assert urls["file"] in page
    for absent in (
        "subscription-form",
        "subscription-new",
        "subscription-send",
        "subscription-delete",
    ):
        assert f'data-testid="{absent}"' not in page
    assert client.get(urls["file"]).status_code == 200
    for name in ("new", "edit"):
        assert client.get(urls[name]).status_code == 404, name
    for name in ("new", "edit", "delete", "send"):
        assert client.post(urls[name], subscription_post(cast)).status_code == 404, name
    assert ReportSubscription.objects.count() == 1
    assert ReportMailing.objects.count() == 1
    assert _inspection_entries() == []


def test_an_engineer_sees_only_the_subscriptions_of_customers_his_team_serves(
    cast: Cast,
) -> None:
    acme = _subscription(cast, recipients="ops@acme.example")
    acme_mailing = _mailing(acme)
    globex = _subscription(cast, organization=cast.globex, recipients="it@globex.example")
    globex_mailing = _mailing(globex, recipients=["it@globex.example"])
    client = signed_in(_globex_engineer())
    page = client.get(reverse("inspections:mail")).content.decode()
    assert "it@globex.example" in page
    assert "ops@acme.example" not in page
    assert reverse("inspections:mailing_file", args=[globex_mailing.pk, 0]) in page
    assert reverse("inspections:mailing_file", args=[acme_mailing.pk, 0]) not in page
    assert (
        client.get(reverse("inspections:mailing_file", args=[acme_mailing.pk, 0])).status_code
        == 404
    )


# ---------------------------------------------------------------------------
# The kept PDFs
# ---------------------------------------------------------------------------


def test_a_reader_downloads_a_kept_pdf(cast: Cast) -> None:
    mailing = _mailing(_subscription(cast))
    response = signed_in(cast.audra).get(reverse("inspections:mailing_file", args=[mailing.pk, 0]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="inspection-acme-sap-prd-20261101-20261130.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == PDF_BYTES  # type: ignore[attr-defined]


def test_a_pdf_out_of_range_gone_or_of_another_customer_is_404(cast: Cast) -> None:
    mailing = _mailing(_subscription(cast))
    file_url = reverse("inspections:mailing_file", args=[mailing.pk, 0])
    assert signed_in(cast.alice).get(file_url).status_code == 404  # Acme's own customer user
    assert signed_in(cast.bob).get(file_url).status_code == 404
    assert signed_in(_globex_engineer()).get(file_url).status_code == 404
    eric = signed_in(cast.eric)
    assert eric.get(reverse("inspections:mailing_file", args=[mailing.pk, 1])).status_code == 404
    assert eric.get(reverse("inspections:mailing_file", args=[999_999, 0])).status_code == 404
    assert eric.get(file_url).status_code == 200
    default_storage.delete(mailing.files[0]["storage_name"])
    assert eric.get(file_url).status_code == 404


# ---------------------------------------------------------------------------
# Send now
# ---------------------------------------------------------------------------


@pytest.fixture
def last_month_runs(cast: Cast, tmp_path: Path) -> InstanceCheck:
    """Acme's instance passed and then failed within the last finished month (Shanghai)."""
    cast.acme.time_zone = "Asia/Shanghai"
    cast.acme.save(update_fields=["time_zone"])
    zone = customer_zone_of(cast.acme)
    period = last_finished_period("monthly", timezone.localtime(clock.now(), zone).date())
    erp_file = helpers.erp_sqlite(tmp_path / "erp.sqlite")
    assigned = helpers.assign(helpers.sqlite_source(cast.acme_erp, erp_file), helpers.check())
    for day, unbalance in ((period.start + timedelta(days=9), False), (period.end, True)):
        if unbalance:
            helpers.unbalance(erp_file)
        at = datetime.combine(day, time(10), tzinfo=zone).astimezone(UTC)
        with clock.frozen_at(at):
            run_checks([assigned])
    return assigned


def test_send_now_mails_the_last_finished_period_to_every_recipient(
    cast: Cast, last_month_runs: InstanceCheck
) -> None:
    subscription = _subscription(cast, recipients="ops@acme.example\ncfo@acme.example")
    zone = customer_zone_of(cast.acme)
    period = last_finished_period("monthly", timezone.localtime(clock.now(), zone).date())
    client = signed_in(cast.mona)
    assert (
        client.get(reverse("inspections:subscription_send", args=[subscription.pk])).status_code
        == 405
    )

    response = client.post(
        reverse("inspections:subscription_send", args=[subscription.pk]), follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        f"The report for {period.start:%Y-%m-%d} – {period.end:%Y-%m-%d} is queued for "
        "ops@acme.example, cfo@acme.example."
    ) in page

    sent = ReportMailing.objects.get()
    assert (sent.period_start, sent.period_end) == (period.start, period.end)
    assert (sent.manual, sent.created_by) == (True, cast.mona)
    assert sent.recipients == ["ops@acme.example", "cfo@acme.example"]
    [item] = sent.files
    assert item["rating"] == "red"
    with default_storage.open(item["storage_name"], "rb") as kept:
        pdf = kept.read()
    assert pdf.startswith(b"%PDF")
    deliveries = list(Delivery.objects.order_by("address"))
    assert [d.address for d in deliveries] == ["cfo@acme.example", "ops@acme.example"]
    assert deliveries[0].payload["attachments"][0]["storage_name"] == item["storage_name"]
    # The worker's schedule is untouched: a sent-by-hand period is not claimed.
    subscription.refresh_from_db()
    assert subscription.last_period_end is None
    assert subscription.last_sent_at == sent.created_at
    entry = AuditEntry.objects.get(action="inspections.report_sent")
    assert entry.data["mailing"] == sent.pk
    assert entry.data["period_end"] == f"{period.end:%Y-%m-%d}"

    # The page lists it; the reader downloads exactly the PDF that was mailed.
    assert 'data-testid="mailing-row"' in page
    assert "by hand · Mona Sun" in page
    download = signed_in(cast.eric).get(reverse("inspections:mailing_file", args=[sent.pk, 0]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == pdf  # type: ignore[attr-defined]


def test_send_now_for_a_customer_without_inspected_instances_says_so(cast: Cast) -> None:
    subscription = _subscription(cast, organization=cast.globex, recipients="it@globex.example")
    client = signed_in(cast.mona)
    response = client.post(
        reverse("inspections:subscription_send", args=[subscription.pk]), follow=True
    )
    assert response.status_code == 200
    assert "no ERP instance with inspection checks" in response.content.decode()
    assert not ReportMailing.objects.exists()
    assert not Delivery.objects.exists()
    assert _inspection_entries() == []
