"""CSAT and NPS summaries against hand-computed figures; None, never 0, without data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from erpcare.customers.models import Organization
from erpcare.surveys.models import AnswerChannel, Invitation, Response, SurveyKind
from erpcare.surveys.services import CsatSummary, NpsSummary, csat_summary, nps_summary

pytestmark = pytest.mark.django_db

NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)


def invite(cast: Any, kind: str, org: Organization, sent: datetime, score: int | None = None,
           answered: datetime | None = None) -> Invitation:  # fmt: skip
    user = cast.alice if org == cast.acme else cast.bob
    cycle = Invitation.objects.count()
    invitation = Invitation.objects.create(
        kind=kind, user=user, organization=org, cycle=cycle, sent_at=sent,
        expires_at=sent + timedelta(days=14),
        answered_at=(answered or sent) if score is not None else None,
    )  # fmt: skip
    if score is not None:
        Response.objects.create(
            invitation=invitation, kind=kind, score=score, channel=AnswerChannel.MAIL,
            organization=org, user=user, created_at=answered or sent,
        )  # fmt: skip
    return invitation


def test_nothing_gives_none_not_zero(cast: Any) -> None:
    assert csat_summary(NOV, DEC) == CsatSummary(
        responses=0, invited=0, answered=0, response_rate=None, satisfied=0,
        satisfied_share=None, mean=None,
    )  # fmt: skip
    assert nps_summary(NOV, DEC) == NpsSummary(
        responses=0, invited=0, answered=0, response_rate=None, promoters=0, passives=0,
        detractors=0, score=None,
    )  # fmt: skip


def test_csat_by_hand(cast: Any) -> None:
    day = timedelta(days=1)
    # November, Acme: scores 5, 4, 2 and one unanswered invitation; Globex: 1.
    invite(cast, SurveyKind.CSAT, cast.acme, NOV + day, 5)
    invite(cast, SurveyKind.CSAT, cast.acme, NOV + 2 * day, 4)
    invite(cast, SurveyKind.CSAT, cast.acme, NOV + 3 * day, 2)
    invite(cast, SurveyKind.CSAT, cast.acme, NOV + 4 * day)
    invite(cast, SurveyKind.CSAT, cast.globex, NOV + 5 * day, 1)
    # Sent in October, answered in November: a November response, an October invitation.
    invite(cast, SurveyKind.CSAT, cast.acme, NOV - day, 3, answered=NOV + day)
    # Sent on the last instant of November, answered in December.
    invite(cast, SurveyKind.CSAT, cast.acme, DEC - timedelta(microseconds=1), 5, answered=DEC)
    # December and NPS rows stay out.
    invite(cast, SurveyKind.CSAT, cast.acme, DEC, 1)
    invite(cast, SurveyKind.NPS, cast.acme, NOV + day, 10)

    everyone = csat_summary(NOV, DEC)
    # Responses in November: 5, 4, 2, 1, 3 → mean 15/5 = 3.0, satisfied 2 of 5.
    # Invitations sent in November: 6 (5 Acme incl. the last instant, 1 Globex), of which
    # 5 answered (the unanswered one not) → 5/6.
    assert everyone == CsatSummary(
        responses=5, invited=6, answered=5, response_rate=5 / 6, satisfied=2,
        satisfied_share=0.4, mean=3.0,
    )  # fmt: skip

    acme = csat_summary(NOV, DEC, organization_ids=[cast.acme.pk])
    # Acme responses: 5, 4, 2, 3 → mean 3.5, satisfied 2/4; invited 5, answered 4.
    assert acme == CsatSummary(
        responses=4, invited=5, answered=4, response_rate=0.8, satisfied=2,
        satisfied_share=0.5, mean=3.5,
    )  # fmt: skip
    none = csat_summary(NOV, DEC, organization_ids=[])
    assert none.responses == 0
    assert none.mean is None


def test_nps_by_hand(cast: Any) -> None:
    day = timedelta(days=1)
    # 10, 9, 9 promoters; 8, 7 passives; 6, 0 detractors; two unanswered invitations.
    for n, score in enumerate([10, 9, 9, 8, 7, 6, 0]):
        org = cast.acme if n % 2 == 0 else cast.globex
        invite(cast, SurveyKind.NPS, org, NOV + n * day, score)
    invite(cast, SurveyKind.NPS, cast.acme, NOV + 10 * day)
    invite(cast, SurveyKind.NPS, cast.globex, NOV + 11 * day)
    summary = nps_summary(NOV, DEC)
    # (3 − 2) / 7 × 100 = 14.285…
    assert summary == NpsSummary(
        responses=7, invited=9, answered=7, response_rate=7 / 9, promoters=3, passives=2,
        detractors=2, score=100 / 7,
    )  # fmt: skip
    # Acme: 10, 9, 7, 0 (n = 0, 2, 4, 6) → (2 − 1) / 4 = 25; invited 5, answered 4.
    acme = nps_summary(NOV, DEC, organization_ids=[cast.acme.pk])
    assert acme == NpsSummary(
        responses=4, invited=5, answered=4, response_rate=0.8, promoters=2, passives=1,
        detractors=1, score=25.0,
    )  # fmt: skip
    # Globex: 9, 8, 6 → (1 − 1) / 3 = 0: a real zero, not "no data".
    globex = nps_summary(NOV, DEC, organization_ids=[cast.globex.pk])
    assert globex.score == 0.0
    assert globex.responses == 3


def test_the_score_check_constraint_holds_in_the_database(cast: Any) -> None:
    from django.db import IntegrityError, transaction

    invitation = invite(cast, SurveyKind.CSAT, cast.acme, NOV)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(
            invitation=invitation, kind=SurveyKind.CSAT, score=6, channel=AnswerChannel.MAIL,
            organization=cast.acme, user=cast.alice, created_at=NOV,
        )  # fmt: skip
