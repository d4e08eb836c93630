"""Survey responses over the API: ``GET /api/v1/surveys/responses`` and ``/summary``.

Scoped like tickets (``services.visible_responses``): customers read their own
organization's responses only, agents the responses about tickets they can see (and NPS
answers of customers they serve), managers, admins and auditors all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError
from erpcare.core.pagination import MAX_PAGE, page_of
from erpcare.core.schemas import ERRORS
from erpcare.customers.services import visible_organizations
from erpcare.surveys.models import SCORE_RANGE, Response
from erpcare.surveys.services import csat_summary, nps_summary, visible_responses
from erpcare.surveys.services.access import filter_responses

router = Router(tags=["surveys"])

SCOPE = (
    "Customers see their own organization's responses; agents those about tickets they can "
    "see and the NPS answers of customers they serve; managers, admins and auditors all."
)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class ResponseOut(Schema):
    id: int
    kind: str
    score: int
    low: bool
    comment: str
    channel: str
    created_at: datetime
    ticket: str | None
    customer: str
    contact: str


class ResponsePageOut(Schema):
    items: list[ResponseOut]
    page: int
    page_size: int
    has_next: bool


class CsatOut(Schema):
    responses: int
    invited: int
    answered: int
    response_rate: float | None
    satisfied: int
    satisfied_share: float | None
    mean: float | None


class NpsOut(Schema):
    responses: int
    invited: int
    answered: int
    response_rate: float | None
    promoters: int
    passives: int
    detractors: int
    score: float | None


class SummaryOut(Schema):
    start: datetime
    end: datetime
    csat: CsatOut
    nps: NpsOut


def _out(row: Response) -> dict[str, object]:
    return {
        "id": row.pk,
        "kind": row.kind,
        "score": row.score,
        "low": row.is_low,
        "comment": row.comment,
        "channel": row.channel,
        "created_at": row.created_at,
        "ticket": row.ticket.number if row.ticket is not None else None,
        "customer": row.organization.code,
        "contact": row.user.display_name or row.user.email,
    }


def _organization_id(user: User, code: str | None) -> int | None:
    if not code:
        return None
    org = visible_organizations(user).filter(code=code).values_list("pk", flat=True).first()
    if org is None:
        raise ActionError(_("Unknown customer “%(code)s”.") % {"code": code})
    return int(org)


def _period(start: datetime | None, end: datetime | None) -> None:
    for value in (start, end):
        if value is not None and value.tzinfo is None:
            raise ActionError(_("Give times with a time zone, e.g. 2026-11-01T00:00:00+08:00."))
    if start is not None and end is not None and start >= end:
        raise ActionError(_("The end must be after the start."))


@router.get(
    "/responses",
    response={200: ResponsePageOut, **ERRORS},
    summary="Survey responses",
    description="Newest first, paged. Filters: `kind` (csat, nps), `score` (CSAT 1–5, NPS "
    "0–10; with `kind`), `low` (CSAT 1–2 and NPS 0–6), `customer` (a code), `start` and "
    "`end` (half-open period on the answer time, with a time zone). " + SCOPE,
)
def list_responses(
    request: HttpRequest,
    kind: Literal["csat", "nps"] | None = None,
    score: int | None = Query(None, ge=0, le=10),
    low: bool = False,
    customer: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    page_size: int = Query(50, ge=1, le=200),
) -> object:
    user = _user(request)
    _period(start, end)
    if score is not None and kind is not None:
        bottom, top = SCORE_RANGE[kind]
        if not bottom <= score <= top:
            raise ActionError(
                _("The score must be a whole number from %(low)d to %(high)d.")
                % {"low": bottom, "high": top}
            )
    rows = filter_responses(
        visible_responses(user),
        start=start,
        end=end,
        organization_id=_organization_id(user, customer),
        kind=kind,
        score=score,
        low=low,
    )
    rows = rows.select_related("ticket", "organization", "user").order_by("-created_at", "-id")
    found = page_of(rows, page, page_size)
    found["items"] = [_out(row) for row in found["items"]]
    return found


@router.get(
    "/summary",
    response={200: SummaryOut, **ERRORS},
    summary="CSAT and NPS for a period",
    description="Responses, invitations, response rate, CSAT satisfied share and mean, NPS "
    "promoters/passives/detractors and score for `[start, end)` (times with a time zone), "
    "over the customers the caller can see or one `customer`. Figures without responses "
    "are null, never 0.",
)
def summary(
    request: HttpRequest, start: datetime, end: datetime, customer: str | None = None
) -> object:
    user = _user(request)
    _period(start, end)
    org_id = _organization_id(user, customer)
    if org_id is not None:
        ids: list[int] | None = [org_id]
    elif user.sees_all_tickets:
        ids = None
    else:
        ids = list(visible_organizations(user).values_list("pk", flat=True))
    return {
        "start": start,
        "end": end,
        "csat": csat_summary(start, end, organization_ids=ids),
        "nps": nps_summary(start, end, organization_ids=ids),
    }
