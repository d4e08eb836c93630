"""CSAT invitations on resolution, the survey mail through the outbox and a real SMTP
server, and NPS invitations per quarter."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from erpcare.accounts.services import create_user
from erpcare.channels.delivery import deliver_due
from erpcare.channels.models import Delivery, DeliveryState, Mailbox, NotificationPreference
from erpcare.channels.tests.smtp_server import (
    SmtpServer,
    smtp_server_fixture,  # noqa: F401  (the smtp_server fixture)
)
from erpcare.core import clock
from erpcare.surveys import jobs
from erpcare.surveys.models import Invitation, Response, SurveyKind
from erpcare.surveys.services.invitations import invite_csat, invite_nps, quarter_cycle
from erpcare.surveys.tests.conftest import new_ticket
from erpcare.tickets.models import Status
from erpcare.tickets.services import reopen_ticket

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"<>]+/surveys/s/[^\s\"<>]+")


def survey_mails(user: Any) -> Any:
    return Delivery.objects.filter(recipient=user, payload__has_key="subject")


def csat(ticket: Any) -> list[Invitation]:
    return list(Invitation.objects.filter(kind=SurveyKind.CSAT, ticket=ticket).order_by("pk"))


class TestOnResolve:
    def test_the_requester_is_invited_once_per_resolution(self, cast: Any, resolve: Any) -> None:
        ticket = resolve(cast, new_ticket(cast))
        [invitation] = csat(ticket)
        assert invitation.user == cast.alice
        assert invitation.organization == cast.acme
        assert invitation.cycle == 0
        assert invitation.sent_at == ticket.resolved_at
        assert invitation.expires_at == ticket.resolved_at + timedelta(days=14)
        assert invitation.mailed
        # The receiver again, and the sweep job: nothing new.
        assert invite_csat(ticket.pk) is None
        assert jobs.csat_sweep() == {"invited": 0}
        assert len(csat(ticket)) == 1
        assert survey_mails(cast.alice).count() == 1

    def test_a_second_resolution_after_reopening_invites_again(
        self, cast: Any, resolve: Any
    ) -> None:
        ticket = resolve(cast, new_ticket(cast))
        reopen_ticket(cast.alice, ticket, reason="Still broken")
        ticket.refresh_from_db()
        resolve(cast, ticket)
        assert [i.cycle for i in csat(ticket)] == [0, 1]

    def test_other_status_changes_invite_nobody(
        self, cast: Any, resolve: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        from erpcare.tickets.services import transition_ticket

        ticket = new_ticket(cast)
        with django_capture_on_commit_callbacks(execute=True):
            transition_ticket(cast.lina, ticket, to=Status.IN_PROGRESS)
        assert csat(ticket) == []

    def test_a_staff_created_ticket_without_a_customer_requester_is_not_surveyed(
        self, cast: Any, resolve: Any
    ) -> None:
        ticket = new_ticket(cast, requester=None)
        assert ticket.requester is None or not ticket.requester.is_customer
        resolve(cast, ticket)
        assert csat(ticket) == []
        staff_requested = new_ticket(cast, requester=cast.eric)
        resolve(cast, staff_requested)
        assert csat(staff_requested) == []

    def test_an_inactive_requester_is_not_surveyed(self, cast: Any, resolve: Any) -> None:
        ticket = new_ticket(cast)
        cast.alice.is_active = False
        cast.alice.save(update_fields=["is_active"])
        resolve(cast, ticket)
        assert csat(ticket) == []

    def test_a_muted_survey_keeps_the_portal_invitation_but_sends_no_mail(
        self, cast: Any, resolve: Any
    ) -> None:
        NotificationPreference.objects.create(user=cast.alice, muted_events=["survey.requested"])
        ticket = resolve(cast, new_ticket(cast))
        [invitation] = csat(ticket)
        assert not invitation.mailed
        assert not survey_mails(cast.alice).exists()

    def test_a_resolution_replayed_after_its_link_expired_is_not_surveyed(
        self, cast: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        from erpcare.tickets.services import transition_ticket

        ticket = new_ticket(cast)
        # The demo replays history at past times; its receivers run at the final commit.
        past = clock.now() - timedelta(days=20)
        with django_capture_on_commit_callbacks() as callbacks, clock.frozen_at(past):
            transition_ticket(
                cast.lina, ticket, to=Status.RESOLVED, resolution_code="configuration",
                resolution="x",
            )  # fmt: skip
        assert callbacks
        for callback in callbacks:
            callback()
        assert csat(ticket) == []
        # Nor by the sweep, which only looks at the link's lifetime.
        assert jobs.csat_sweep() == {"invited": 0}

    def test_the_sweep_invites_what_the_receiver_missed(self, cast: Any) -> None:
        from erpcare.tickets.services import transition_ticket

        ticket = new_ticket(cast)
        # Without the after-commit callbacks: as if the receiver had failed.
        transition_ticket(
            cast.lina, ticket, to=Status.RESOLVED, resolution_code="configuration", resolution="x"
        )
        assert csat(ticket) == []
        assert jobs.csat_sweep() == {"invited": 1}
        assert len(csat(ticket)) == 1


class TestMail:
    def test_the_mail_reaches_a_real_smtp_server_and_its_links_work(
        self, cast: Any, resolve: Any, smtp_server: SmtpServer
    ) -> None:
        Mailbox.objects.create(
            name="Support", email="support@erpcare.example", imap_host="127.0.0.1",
            imap_username="support@erpcare.example", smtp_host="127.0.0.1",
            smtp_port=smtp_server.port, smtp_security="none", created_at=clock.now(),
        )  # fmt: skip
        ticket = resolve(cast, new_ticket(cast))
        assert deliver_due()["sent"] == 1
        [received] = smtp_server.messages
        assert received.rcpt_tos == ["alice@acme.example"]
        message = received.message
        assert f"[{ticket.number}]" in message["Subject"]
        assert message["Auto-Submitted"] == "auto-generated"
        assert f"<erpcare.ticket.{ticket.number}@" in message["References"]
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        for face in "😞🙁😐🙂😀":
            assert face in text
            assert face in html
        links = LINK.findall(text)
        # The wording's neutral link, then one per score.
        assert len(links) == 6
        assert len(set(links)) == 6
        assert sorted(set(LINK.findall(html))) == sorted(set(links))
        # The "2" link opens the confirmation page with 2 chosen, and records nothing.
        two = next(line for line in text.splitlines() if line.startswith("🙁 2"))
        url = LINK.search(two).group(0)
        path = url.split("://", 1)[1].split("/", 1)[1]
        client = Client()
        page = client.get("/" + path)
        assert page.status_code == 200
        assert re.search(r'value="2"[^>]*checked', page.content.decode())
        assert not Response.objects.exists()
        answered = client.post("/" + path, {"score": "2", "comment": "太慢了"})
        assert answered.status_code == 200
        response = Response.objects.get()
        assert (response.score, response.comment, response.channel) == (2, "太慢了", "mail")
        assert response.ticket == ticket

    def test_the_mail_speaks_the_contacts_language(self, cast: Any, resolve: Any) -> None:
        cast.alice.language = "zh-hans"
        cast.alice.save(update_fields=["language"])
        resolve(cast, new_ticket(cast))
        delivery = Delivery.objects.get(recipient=cast.alice, payload__has_key="subject")
        assert "请评价我们的服务" in delivery.payload["subject"]
        assert delivery.state == DeliveryState.PENDING


class TestNps:
    def test_each_active_customer_contact_is_invited_once_per_quarter(self, cast: Any) -> None:
        now = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
        with clock.frozen_at(now):
            assert invite_nps(now) == 3  # alice, ann (Acme), bob (Globex)
            assert invite_nps(now) == 0
            assert jobs.invite_nps() == {"invited": 0}
        invitations = Invitation.objects.filter(kind=SurveyKind.NPS)
        assert {i.user.email for i in invitations} == {
            "alice@acme.example", "ann@acme.example", "bob@globex.example"
        }  # fmt: skip
        assert {i.cycle for i in invitations} == {20264}
        assert Delivery.objects.filter(payload__has_key="subject").count() == 3
        # A contact added later in the quarter is asked once too.
        create_user(
            email="carol@acme.example", display_name="Carol", role_code="customer",
            password="x" * 12, organization=cast.acme,
        )  # fmt: skip
        assert invite_nps(now + timedelta(days=10)) == 1
        # The next quarter asks everybody again.
        assert invite_nps(datetime(2027, 1, 2, 2, 0, tzinfo=UTC)) == 4
        assert Invitation.objects.filter(kind=SurveyKind.NPS, cycle=20271).count() == 4

    def test_quarters_follow_the_servers_time_zone(self) -> None:
        # 2026-12-31 17:00 UTC is 2027-01-01 01:00 in Asia/Shanghai: the first quarter.
        assert quarter_cycle(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == 20271
        assert quarter_cycle(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == 20264

    def test_muted_inactive_and_staff_people_are_not_invited(self, cast: Any) -> None:
        NotificationPreference.objects.create(user=cast.alice, email_enabled=False)
        cast.bob.is_active = False
        cast.bob.save(update_fields=["is_active"])
        # One contact per batch: the muted first one must not stop the run.
        assert invite_nps(batch=1) == 1
        [invitation] = Invitation.objects.filter(kind=SurveyKind.NPS)
        assert invitation.user == cast.alice2

    def test_the_nps_mail_has_eleven_links(self, cast: Any) -> None:
        invite_nps()
        delivery = Delivery.objects.filter(recipient=cast.bob).get()
        text = delivery.payload["text"]
        assert "0 (not at all likely) to 10" in text
        assert len(set(LINK.findall(text))) == 11


def test_the_jobs_are_registered() -> None:
    from django.utils.module_loading import import_string

    from erpcare.core import scheduler

    registered = scheduler.registered_jobs()
    assert registered["surveys.nps"].func == "erpcare.surveys.jobs.invite_nps"
    assert registered["surveys.csat_sweep"].func == "erpcare.surveys.jobs.csat_sweep"
    assert import_string(registered["surveys.nps"].func) is jobs.invite_nps
    assert import_string(registered["surveys.csat_sweep"].func) is jobs.csat_sweep
