"""Low ratings: the team lead (or the managers) is notified in the app, and the requester
is offered to reopen the ticket, which the ticket action does as the requester."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from erpcare.accounts.models import TeamMembership
from erpcare.channels.models import Notification
from erpcare.core import clock
from erpcare.surveys.models import Invitation, SurveyKind
from erpcare.surveys.services import invite_nps, make_token
from erpcare.tickets.models import Status, TicketEvent

pytestmark = pytest.mark.django_db


def post(token: str, data: dict[str, str]) -> Any:
    return Client().post(reverse("surveys:answer", args=[token]), data)


def reopen(token: str, reason: str) -> Any:
    return Client().post(reverse("surveys:reopen", args=[token]), {"reason": reason})


class TestNotification:
    def test_a_low_csat_rating_notifies_the_team_lead(self, cast: Any, invited: Invitation) -> None:
        post(make_token(invited, 2), {"score": "2", "comment": "还是不能过账"})
        [note] = Notification.objects.all()
        assert note.recipient == cast.lina
        assert note.ticket_id == invited.ticket_id
        assert invited.ticket.number in note.title
        assert "2/5" in note.title
        assert "还是不能过账" in note.body

    @pytest.mark.parametrize("score", ["3", "4", "5"])
    def test_a_good_rating_notifies_nobody(self, invited: Invitation, score: str) -> None:
        post(make_token(invited, int(score)), {"score": score})
        assert not Notification.objects.exists()

    def test_without_a_team_lead_the_managers_hear_about_it(
        self, cast: Any, invited: Invitation
    ) -> None:
        TeamMembership.objects.update(is_lead=False)
        post(make_token(invited, 1), {"score": "1"})
        assert [n.recipient for n in Notification.objects.all()] == [cast.mona]

    def test_an_nps_detractor_notifies_the_managers(self, cast: Any) -> None:
        invite_nps()
        invitation = Invitation.objects.get(kind=SurveyKind.NPS, user=cast.bob)
        post(make_token(invitation, 6), {"score": "6", "comment": "too slow"})
        [note] = Notification.objects.all()
        assert note.recipient == cast.mona
        assert "Globex Retail" in note.title
        assert note.ticket_id is None

    def test_an_nps_detractor_notifies_the_lead_of_the_customers_own_team(self, cast: Any) -> None:
        from erpcare.accounts.services import add_team_member

        add_team_member(team=cast.l1_acme, user=cast.vera, is_lead=True)
        invite_nps()
        invitation = Invitation.objects.get(kind=SurveyKind.NPS, user=cast.alice)
        post(make_token(invitation, 3), {"score": "3"})
        assert [n.recipient for n in Notification.objects.all()] == [cast.vera]

    def test_an_nps_passive_notifies_nobody(self, cast: Any) -> None:
        invite_nps()
        invitation = Invitation.objects.get(kind=SurveyKind.NPS, user=cast.bob)
        post(make_token(invitation, 7), {"score": "7"})
        assert not Notification.objects.exists()


class TestReopen:
    def test_a_low_rating_offers_reopening_and_reopening_works(
        self, cast: Any, invited: Invitation
    ) -> None:
        token = make_token(invited, 2)
        thanks = post(token, {"score": "2"})
        assert 'data-testid="survey-reopen-offer"' in thanks.content.decode()
        done = reopen(token, "The voucher still does not post.")
        assert done.status_code == 200
        assert 'data-testid="survey-reopened"' in done.content.decode()
        ticket = invited.ticket
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN
        assert ticket.reopen_count == 1
        event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.REOPENED)
        assert event.actor == cast.alice
        assert event.note == "The voucher still does not post."
        # Once open, the offer is gone: a second reopen changes nothing.
        again = reopen(token, "again")
        assert again.status_code == 409
        ticket.refresh_from_db()
        assert ticket.reopen_count == 1

    def test_a_good_rating_offers_no_reopening_and_refuses_one(self, invited: Invitation) -> None:
        token = make_token(invited, 4)
        thanks = post(token, {"score": "4"})
        assert 'data-testid="survey-reopen-offer"' not in thanks.content.decode()
        refused = reopen(token, "sneaky")
        assert refused.status_code == 409
        invited.ticket.refresh_from_db()
        assert invited.ticket.status == Status.RESOLVED

    def test_reopening_needs_an_answer_first(self, invited: Invitation) -> None:
        assert reopen(make_token(invited, 1), "no answer yet").status_code == 409
        invited.ticket.refresh_from_db()
        assert invited.ticket.status == Status.RESOLVED

    def test_reopening_needs_a_reason(self, invited: Invitation) -> None:
        token = make_token(invited, 1)
        post(token, {"score": "1"})
        answer = reopen(token, "  ")
        assert answer.status_code == 400
        assert 'data-testid="survey-reopen-offer"' in answer.content.decode()
        invited.ticket.refresh_from_db()
        assert invited.ticket.status == Status.RESOLVED

    def test_after_the_reopen_window_there_is_no_offer(
        self, invited: Invitation, settings: Any
    ) -> None:
        settings.ERPCARE_REOPEN_WINDOW_DAYS = 2
        token = make_token(invited, 1)
        with clock.frozen_at(invited.sent_at + timedelta(days=3)):
            thanks = post(token, {"score": "1"})
            assert thanks.status_code == 200
            assert 'data-testid="survey-reopen-offer"' not in thanks.content.decode()
            late = reopen(token, "too late")
        assert late.status_code == 409
        assert "reopen window" in late.content.decode()
        invited.ticket.refresh_from_db()
        assert invited.ticket.status == Status.RESOLVED

    def test_a_forged_reopen_link_is_refused(self, invited: Invitation) -> None:
        token = make_token(invited, 1)
        post(token, {"score": "1"})
        assert reopen(token[:-3] + "xyz", "forged").status_code == 400
        invited.ticket.refresh_from_db()
        assert invited.ticket.status == Status.RESOLVED
