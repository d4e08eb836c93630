"""The signed survey links: GET never records, POST records once; forged, damaged,
foreign, expired, reused and wrong-kind links and out-of-range scores are refused with a
clear page and a 4xx status, and change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from erpcare.audit.models import AuditEntry
from erpcare.core import clock
from erpcare.surveys.models import Invitation, Response, SurveyKind
from erpcare.surveys.services import invite_nps, make_token
from erpcare.surveys.services.tokens import SALT

pytestmark = pytest.mark.django_db


def url(token: str) -> str:
    return reverse("surveys:answer", args=[token])


def refused(response: Any, status: int, text: str) -> None:
    assert response.status_code == status
    body = response.content.decode()
    assert 'data-testid="survey-refused"' in body
    assert text in body
    assert response["Cache-Control"] == "no-store"


class TestAnswering:
    def test_get_shows_the_choice_and_records_nothing(self, invited: Invitation) -> None:
        page = Client().get(url(make_token(invited, 4)))
        assert page.status_code == 200
        body = page.content.decode()
        assert 'value="4" autocomplete="off" checked' in body
        assert 'value="3" autocomplete="off" checked' not in body
        assert invited.ticket.number in body
        # A mail scanner fetching every link answers nothing.
        for score in range(1, 6):
            assert Client().get(url(make_token(invited, score))).status_code == 200
        assert not Response.objects.exists()
        invited.refresh_from_db()
        assert invited.answered_at is None

    def test_post_records_the_score_chosen_on_the_page(self, invited: Invitation) -> None:
        # The link said 5; the person picked 3 on the page: 3 counts.
        answered = Client().post(url(make_token(invited, 5)), {"score": "3", "comment": " ok "})
        assert answered.status_code == 200
        assert 'data-testid="survey-thanks"' in answered.content.decode()
        response = Response.objects.get()
        assert (response.kind, response.score, response.comment) == ("csat", 3, "ok")
        assert response.organization_id == invited.organization_id
        assert response.user_id == invited.user_id
        invited.refresh_from_db()
        assert invited.answered_at == response.created_at
        entry = AuditEntry.objects.get(action="survey.csat.answered")
        assert entry.data["score"] == 3

    def test_a_link_without_a_score_preselects_nothing(self, invited: Invitation) -> None:
        page = Client().get(url(make_token(invited, None)))
        assert page.status_code == 200
        assert "checked" not in page.content.decode()

    def test_the_answer_page_speaks_the_contacts_language(self, invited: Invitation) -> None:
        invited.user.language = "zh-hans"
        invited.user.save(update_fields=["language"])
        page = Client().get(url(make_token(invited, 3)))
        assert page.status_code == 200
        assert '<html lang="zh-hans">' in page.content.decode()
        # An anonymous visitor gets the contact's language whatever the browser asks for.
        english = Client().get(url(make_token(invited, 3)), HTTP_ACCEPT_LANGUAGE="en")
        assert '<html lang="zh-hans">' in english.content.decode()


class TestRefused:
    def test_a_reused_link_says_already_answered_and_changes_nothing(
        self, invited: Invitation
    ) -> None:
        token = make_token(invited, 4)
        assert Client().post(url(token), {"score": "4"}).status_code == 200
        again = Client().post(url(token), {"score": "1", "comment": "changed my mind"})
        refused(again, 409, "already been answered")
        refused(Client().get(url(token)), 409, "already been answered")
        # Another score's link of the same invitation is used up too.
        refused(Client().get(url(make_token(invited, 1))), 409, "already been answered")
        response = Response.objects.get()
        assert (response.score, response.comment) == (4, "")

    def test_a_forged_signature_is_refused(self, invited: Invitation) -> None:
        token = make_token(invited, 5)
        value, signature = token.rsplit(":", 1)
        forged = f"{value}:{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
        refused(Client().get(url(forged)), 400, "not valid")
        refused(Client().post(url(forged), {"score": "5"}), 400, "not valid")
        assert not Response.objects.exists()

    def test_an_edited_payload_is_refused(self, invited: Invitation) -> None:
        token = make_token(invited, 5)
        _value, signature = token.rsplit(":", 1)
        edited = signing.dumps({"i": invited.pk, "k": "csat", "s": 1, "c": "m"}, salt=SALT)
        # The payload of one token with the signature of another.
        spliced = f"{edited.rsplit(':', 1)[0]}:{signature}"
        refused(Client().get(url(spliced)), 400, "not valid")
        refused(Client().get(url("garbage")), 400, "not valid")

    def test_a_token_signed_for_something_else_is_refused(self, invited: Invitation) -> None:
        payload = {"i": invited.pk, "k": "csat", "s": 5, "c": "m"}
        other = signing.dumps(payload, salt="django.contrib.auth.tokens")
        refused(Client().get(url(other)), 400, "not valid")
        refused(Client().post(url(other), {"score": "5"}), 400, "not valid")
        assert not Response.objects.exists()

    def test_an_expired_link_is_refused(self, invited: Invitation) -> None:
        token = make_token(invited, 4)
        later = invited.expires_at + timedelta(seconds=1)
        with clock.frozen_at(later):
            refused(Client().get(url(token)), 410, "expired")
            refused(Client().post(url(token), {"score": "4"}), 410, "expired")
        assert not Response.objects.exists()

    def test_the_link_lifetime_comes_from_the_setting(
        self, cast: Any, settings: Any, resolve: Any
    ) -> None:
        from erpcare.surveys.tests.conftest import new_ticket

        settings.ERPCARE_SURVEY_LINK_DAYS = 3
        ticket = resolve(cast, new_ticket(cast))
        invitation = Invitation.objects.get(ticket=ticket)
        assert invitation.expires_at - invitation.sent_at == timedelta(days=3)
        with clock.frozen_at(invitation.sent_at + timedelta(days=3, seconds=1)):
            refused(Client().get(url(make_token(invitation, 5))), 410, "expired")

    def test_a_token_of_the_wrong_kind_is_refused(self, invited: Invitation) -> None:
        # Correctly signed, but it claims the CSAT invitation is an NPS survey (0–10).
        wrong = signing.dumps({"i": invited.pk, "k": "nps", "s": 9, "c": "m"}, salt=SALT)
        refused(Client().get(url(wrong)), 400, "not valid")
        refused(Client().post(url(wrong), {"score": "9"}), 400, "not valid")
        assert not Response.objects.exists()

    def test_an_unknown_channel_or_extra_field_is_refused(self, invited: Invitation) -> None:
        for payload in (
            {"i": invited.pk, "k": "csat", "s": 4, "c": "x"},
            {"i": invited.pk, "k": "csat", "s": 4, "c": "m", "admin": True},
            {"i": str(invited.pk), "k": "csat", "s": 4, "c": "m"},
            [invited.pk, "csat", 4],
        ):
            token = signing.dumps(payload, salt=SALT)
            refused(Client().get(url(token)), 400, "not valid")

    def test_a_deleted_invitation_is_not_found(self, invited: Invitation) -> None:
        token = make_token(invited, 4)
        Invitation.objects.filter(pk=invited.pk).delete()
        refused(Client().get(url(token)), 404, "no longer exists")

    @pytest.mark.parametrize("score", ["0", "6", "-1", "10", "4.5", "abc", "", "٣"])
    def test_a_posted_score_out_of_range_is_refused(self, invited: Invitation, score: str) -> None:
        token = make_token(invited, 4)
        answered = Client().post(url(token), {"score": score})
        assert answered.status_code == 400
        assert 'data-testid="field-error-score"' in answered.content.decode()
        assert not Response.objects.exists()
        invited.refresh_from_db()
        assert invited.answered_at is None
        # The link still works afterwards.
        assert Client().post(url(token), {"score": "4"}).status_code == 200

    def test_a_signed_score_out_of_range_is_refused(self, invited: Invitation) -> None:
        for score in (0, 6, True, "5"):
            token = signing.dumps({"i": invited.pk, "k": "csat", "s": score, "c": "m"}, salt=SALT)
            response = Client().get(url(token))
            assert response.status_code == 400
            assert 'data-testid="survey-refused"' in response.content.decode()

    def test_make_token_refuses_a_score_out_of_range(self, invited: Invitation) -> None:
        from erpcare.core.errors import ActionError

        with pytest.raises(ActionError, match="from 1 to 5"):
            make_token(invited, 6)

    def test_a_too_long_comment_is_refused(self, invited: Invitation) -> None:
        answered = Client().post(url(make_token(invited, 4)), {"score": "4", "comment": "x" * 2001})
        assert answered.status_code == 400
        assert not Response.objects.exists()


class TestNpsLinks:
    def test_nps_accepts_0_to_10_and_refuses_11(self, cast: Any) -> None:
        invite_nps()
        invitation = Invitation.objects.get(kind=SurveyKind.NPS, user=cast.bob)
        token = make_token(invitation, 0)
        page = Client().get(url(token))
        assert page.status_code == 200
        assert 'value="10"' in page.content.decode()
        assert Client().post(url(token), {"score": "11"}).status_code == 400
        assert Client().post(url(token), {"score": "0"}).status_code == 200
        response = Response.objects.get()
        assert (response.kind, response.score, response.ticket) == ("nps", 0, None)
