"""Survey pages.

Public (no sign-in), under ``/surveys/s/<token>``: the one-click links of the mails and
of the portal's ticket page.

**GET never records.** Mail security scanners and link previews fetch every link in a
message; if a GET recorded the score, a scanner would answer the survey (with whatever
link it fetched first) before the customer ever saw it, and single use would then lock
the customer out. So a GET only shows the rating chosen in the mail pre-selected, a
comment box and a submit button; the POST of that form records the answer (single-use,
by a conditional UPDATE). A forged, damaged, expired or already used link shows a page
saying so with a 4xx status (400, 410, 409; 404 for an invitation that no longer exists)
and changes nothing. After a low CSAT rating the thank-you page offers to reopen the
ticket (POST ``…/reopen``), done as the requester through the ticket action, within the
reopen window.

Desk, ``/desk/surveys/``: recent responses for staff (scoped like tickets), filters by
period, customer, kind and score, low ratings highlighted, links to the tickets.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erpcare.core.errors import ActionError
from erpcare.customers.services import visible_organizations
from erpcare.surveys.forms import FACES, AnswerForm, ReopenForm, ResponseFilterForm
from erpcare.surveys.models import SCORE_RANGE, SurveyKind
from erpcare.surveys.services import (
    answer,
    can_reopen,
    csat_summary,
    nps_summary,
    read_token,
    reopen_from_survey,
    visible_responses,
)
from erpcare.surveys.services.access import filter_responses
from erpcare.surveys.services.tokens import Link
from erpcare.tickets.views.common import (
    current_user,
    no_store,
    page_number,
    paginate,
    render_htmx,
    staff_view,
)


def _refused(request: HttpRequest, error: ActionError) -> HttpResponse:
    response = render(
        request, "surveys/refused.html", {"message": error.message}, status=error.status_code
    )
    return no_store(response)


def _language(request: HttpRequest, link: Link) -> str:
    """Signed-in visitors keep their language; a visitor from the mail gets the contact's."""
    if request.user.is_authenticated:
        return translation.get_language()
    return link.invitation.user.language or translation.get_language()


def _answer_page(
    request: HttpRequest, token: str, link: Link, form: AnswerForm, status: int = 200
) -> HttpResponse:
    context = {
        "token": token,
        "invitation": link.invitation,
        "form": form,
        "faces": FACES,
        "range": SCORE_RANGE[link.invitation.kind],
        "is_csat": link.invitation.kind == SurveyKind.CSAT,
    }
    return no_store(render(request, "surveys/answer.html", context, status=status))


def _thanks(
    request: HttpRequest, token: str, link: Link, form: ReopenForm | None = None, status: int = 200
) -> HttpResponse:
    response = getattr(link.invitation, "response", None)
    offer = response is not None and can_reopen(response)
    context = {
        "token": token,
        "invitation": link.invitation,
        "answer": response,
        "reopen_offered": offer,
        "form": form or ReopenForm(),
    }
    return no_store(render(request, "surveys/thanks.html", context, status=status))


@require_http_methods(["GET", "POST"])
def answer_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = read_token(token)
    except ActionError as error:
        return _refused(request, error)
    with translation.override(_language(request, link)):
        if request.method == "GET":
            initial = {"score": link.score} if link.score is not None else {}
            return _answer_page(
                request, token, link, AnswerForm(initial=initial, kind=link.invitation.kind)
            )
        form = AnswerForm(request.POST, kind=link.invitation.kind)
        if not form.is_valid():
            return _answer_page(request, token, link, form, status=400)
        try:
            answer(link, form.cleaned_data["score"], form.cleaned_data["comment"])
        except ActionError as error:
            if error.status_code == 400:
                form.add_error(None, error.message)
                return _answer_page(request, token, link, form, status=400)
            return _refused(request, error)
        link.invitation.refresh_from_db()
        return _thanks(request, token, link)


@require_POST
def reopen_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = read_token(token, for_answer=False)
    except ActionError as error:
        return _refused(request, error)
    with translation.override(_language(request, link)):
        form = ReopenForm(request.POST)
        if not form.is_valid():
            return _thanks(request, token, link, form, status=400)
        try:
            ticket = reopen_from_survey(token, form.cleaned_data["reason"])
        except ActionError as error:
            if error.status_code == 400:
                form.add_error(None, error.message)
                return _thanks(request, token, link, form, status=400)
            return _refused(request, error)
        return no_store(render(request, "surveys/reopened.html", {"ticket": ticket}))


# ---------------------------------------------------------------------------
# Desk
# ---------------------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@staff_view
@require_GET
def responses(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    organizations = visible_organizations(user)
    form = ResponseFilterForm(request.GET or None, organizations=organizations)
    rows = visible_responses(user)
    today = timezone.localdate()
    start_day, end_day = today - dt.timedelta(days=29), today
    filters: dict[str, Any] = {}
    status = 200
    if form.is_bound and not form.is_valid():
        rows = rows.none()
        status = 400
    elif form.is_bound:
        data = form.cleaned_data
        start_day = data.get("start") or start_day
        end_day = data.get("end") or end_day
        customer = data.get("customer")
        filters = {
            "organization_id": customer.pk if customer is not None else None,
            "kind": data.get("kind") or None,
            "score": data.get("score"),
            "low": bool(data.get("low")),
        }
    start, end = _day_start(start_day), _day_start(end_day + dt.timedelta(days=1))
    rows = filter_responses(rows, start=start, end=end, **filters)
    rows = rows.select_related("ticket", "organization", "user").order_by("-created_at", "-id")
    page = paginate(rows, page_number(request))
    if filters.get("organization_id"):
        org_ids: list[int] | None = [filters["organization_id"]]
    elif user.sees_all_tickets:
        org_ids = None
    else:
        org_ids = list(organizations.values_list("pk", flat=True))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "start_day": start_day,
        "end_day": end_day,
        "csat": csat_summary(start, end, organization_ids=org_ids),
        "nps": nps_summary(start, end, organization_ids=org_ids),
    }
    return render_htmx(
        request, "surveys/desk/responses.html", "surveys/desk/_table.html", context, status
    )
