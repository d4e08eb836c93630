"""CSAT and NPS figures for the KPI module and the monthly report, computed in SQL.

Periods are half-open ``[start, end)`` in aware datetimes (the caller chooses the time
zone of its day and month boundaries). Two aggregate queries per summary, each on an
index: responses by ``created_at`` (``survey_resp_kind_created`` /
``survey_resp_org_created``), invitations by ``sent_at`` (``survey_inv_kind_sent`` /
``survey_inv_org_sent``).

- ``responses``: answers given in the period; ``mean`` and the shares are over them.
- ``invited``: invitations sent in the period; ``answered``: how many of *those* have
  been answered (whenever); ``response_rate`` = answered / invited, so it never exceeds 1
  even when answers to last month's invitations arrive this month.
- CSAT: ``satisfied`` = scores 4–5; ``satisfied_share`` = satisfied / responses.
- NPS: promoters 9–10, passives 7–8, detractors 0–6; ``score`` = 100 × (promoters −
  detractors) / responses, from −100 to 100.

Every figure without a denominator is ``None`` (no responses, nobody invited), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet

from erpcare.surveys.models import Invitation, Response, SurveyKind


@dataclass(frozen=True)
class CsatSummary:
    responses: int
    invited: int
    answered: int
    response_rate: float | None
    satisfied: int
    satisfied_share: float | None
    mean: float | None


@dataclass(frozen=True)
class NpsSummary:
    responses: int
    invited: int
    answered: int
    response_rate: float | None
    promoters: int
    passives: int
    detractors: int
    score: float | None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _scoped(
    rows: QuerySet[Any], organization_ids: Iterable[int] | None, field: str
) -> QuerySet[Any]:
    if organization_ids is not None:
        rows = rows.filter(organization_id__in=list(organization_ids))
    return rows


def _invitations(
    kind: str, start: datetime, end: datetime, organization_ids: Iterable[int] | None
) -> tuple[int, int]:
    rows = Invitation.objects.filter(kind=kind, sent_at__gte=start, sent_at__lt=end)
    rows = _scoped(rows, organization_ids, "organization_id")
    got = rows.aggregate(
        invited=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False))
    )
    return int(got["invited"]), int(got["answered"])


def _responses(kind: str, start: datetime, end: datetime, organization_ids: Any) -> Any:
    rows = Response.objects.filter(kind=kind, created_at__gte=start, created_at__lt=end)
    return _scoped(rows, organization_ids, "organization_id")


def csat_summary(
    start: datetime, end: datetime, *, organization_ids: Iterable[int] | None = None
) -> CsatSummary:
    """CSAT for ``[start, end)``, all customers or those in ``organization_ids``."""
    ids = list(organization_ids) if organization_ids is not None else None
    got = _responses(SurveyKind.CSAT, start, end, ids).aggregate(
        n=Count("pk"), satisfied=Count("pk", filter=Q(score__gte=4)), mean=Avg("score")
    )
    invited, answered = _invitations(SurveyKind.CSAT, start, end, ids)
    n = int(got["n"])
    return CsatSummary(
        responses=n,
        invited=invited,
        answered=answered,
        response_rate=_ratio(answered, invited),
        satisfied=int(got["satisfied"]),
        satisfied_share=_ratio(int(got["satisfied"]), n),
        mean=float(got["mean"]) if n and got["mean"] is not None else None,
    )


def nps_summary(
    start: datetime, end: datetime, *, organization_ids: Iterable[int] | None = None
) -> NpsSummary:
    """NPS for ``[start, end)``, all customers or those in ``organization_ids``."""
    ids = list(organization_ids) if organization_ids is not None else None
    got = _responses(SurveyKind.NPS, start, end, ids).aggregate(
        n=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        passives=Count("pk", filter=Q(score__gte=7, score__lte=8)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    invited, answered = _invitations(SurveyKind.NPS, start, end, ids)
    n = int(got["n"])
    promoters, detractors = int(got["promoters"]), int(got["detractors"])
    return NpsSummary(
        responses=n,
        invited=invited,
        answered=answered,
        response_rate=_ratio(answered, invited),
        promoters=promoters,
        passives=int(got["passives"]),
        detractors=detractors,
        score=100 * (promoters - detractors) / n if n else None,
    )
