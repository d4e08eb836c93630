"""The help center of the customer portal: search-first home, one article with feedback
and related articles, "this solved my problem", and the suggestions under the new-ticket
form's title.

Customers read articles only through ``visible_articles``/``get_article_for`` (published,
public or made for their organization); anything else is a 404 whether or not it
exists. Staff opening a portal address are sent to the matching desk page
(``portal_view``), as in the ticket portal.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpModule
from erpcare.kb import services
from erpcare.kb.forms import DeflectionForm, FeedbackForm, PortalSearchForm
from erpcare.kb.models import Article, ArticleFeedback, ArticleStatus
from erpcare.kb.views.common import articles_in_order, fetch_article, result_rows, serve_file
from erpcare.search import services as search_services
from erpcare.tickets.views.common import current_user, page_number, render_htmx
from erpcare.tickets.views.portal import portal_view

PAGE_SIZE = 10
HOME_LIST = 8
POPULAR_STRIP = 5
SUGGESTIONS = 5
RELATED = 5
MIN_SUGGEST_CHARS = 2
# The marker of a visit that came from the new-ticket suggestions.
FROM_NEW_TICKET = "new-ticket"
LIST_DEFERRED = ("body", "symptom", "cause", "resolution", "log_excerpt", "review_note")


def _published(request: HttpRequest) -> Any:
    return (
        services.visible_articles(current_user(request))
        .filter(status=ArticleStatus.PUBLISHED)
        .defer(*LIST_DEFERRED)
    )


# ---------------------------------------------------------------------------
# Home: search first, then popular and recent articles by module
# ---------------------------------------------------------------------------


@portal_view("kb_desk:list")
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = PortalSearchForm(request.GET)
    context: dict[str, Any] = {"form": form, "query": "", "rows": [], "error": None}
    status = 200
    module = ""
    if not form.is_valid():
        context["error"] = " ".join(
            str(error) for errors in form.errors.values() for error in errors
        )
        status = 400
    else:
        module = form.cleaned_data["module"]
        query = form.cleaned_data["q"].strip()
        if query:
            page = page_number(request)
            results = search_services.search(
                user,
                query,
                kinds=["article"],
                module=module or None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                record=page == 1,  # the gaps report counts a question once
            )
            context.update(
                {
                    "query": query,
                    "rows": result_rows(user, list(results.hits)),
                    "corrected_query": results.corrected_query,
                    "page": {
                        "page": page,
                        "has_next": results.has_next,
                        "has_previous": page > 1,
                        "next_page": page + 1,
                        "previous_page": page - 1,
                    },
                }
            )
    if not context["query"]:
        articles = _published(request)
        if module:
            articles = articles.filter(module=module)
        counts = {
            row["module"]: row["n"]
            for row in _published(request)
            .exclude(module="")
            .order_by()
            .values("module")
            .annotate(n=Count("id"))
        }
        context.update(
            {
                "module": module,
                "modules": [
                    (value, label, counts[value])
                    for value, label in ErpModule.choices
                    if counts.get(value)
                ],
                "popular": list(
                    articles.order_by("-view_count", "-helpful_count", "-id")[:HOME_LIST]
                ),
                "recent": list(articles.order_by("-published_at", "-id")[:HOME_LIST]),
            }
        )
    return render_htmx(
        request, "kb/portal/home.html", "kb/portal/_results.html", context, status=status
    )


@portal_view("kb_desk:list")
@require_GET
def popular(request: HttpRequest) -> HttpResponse:
    """The most read articles, for the strip under the portal's search box."""
    articles = list(
        _published(request).order_by("-view_count", "-helpful_count", "-id")[:POPULAR_STRIP]
    )
    return render(request, "kb/portal/_popular.html", {"articles": articles})


# ---------------------------------------------------------------------------
# Suggestions while a customer writes a ticket's title
# ---------------------------------------------------------------------------


@portal_view("kb_desk:list")
@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    text = " ".join(request.GET.get("title", "").split())[:200]
    articles: list[Article] = []
    if len(text) >= MIN_SUGGEST_CHARS:
        hits = search_services.suggest(user, text, limit=SUGGESTIONS)
        articles = articles_in_order(user, list(hits), exclude=set(), limit=SUGGESTIONS)
    context = {
        "articles": articles,
        "text": text,
        "from_query": urlencode({"from": FROM_NEW_TICKET, "q": text}),
    }
    return render(request, "kb/portal/_suggestions.html", context)


# ---------------------------------------------------------------------------
# One article
# ---------------------------------------------------------------------------


def render_article(
    request: HttpRequest,
    article: Article,
    *,
    feedback_form: FeedbackForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    user = current_user(request)
    attachments = list(services.attachments_of(article))
    vote = ArticleFeedback.objects.filter(article=article, user=user).first()
    if feedback_form is None:
        initial = (
            {"helpful": "yes" if vote.helpful else "no", "comment": vote.comment} if vote else {}
        )
        feedback_form = FeedbackForm(initial=initial)
    hits = search_services.similar_articles(user, article.title, limit=RELATED + 1)
    related = articles_in_order(user, list(hits), exclude={article.pk}, limit=RELATED)
    source = request.GET.get("from") or request.POST.get("from")
    query = (request.GET.get("q") or request.POST.get("q") or "")[:200]
    context = {
        "article": article,
        "attachments": attachments,
        "files": [file for file in attachments if not file.is_image],
        "kb_attachment_ids": [file.pk for file in attachments],
        "kb_file_url": "kb_portal:file",
        "vote": vote,
        "feedback_form": feedback_form,
        "related": related,
        "from_new_ticket": source == FROM_NEW_TICKET,
        "query": query,
        "error": error,
    }
    return render(request, "kb/portal/article.html", context, status=status)


@portal_view("kb_desk:article")
@require_GET
def article_detail(request: HttpRequest, number: str) -> HttpResponse:
    article = fetch_article(request, number)
    if services.record_view(current_user(request), article):
        article.view_count += 1  # the counter moved in the database, not in this copy
    return render_article(request, article)


@portal_view("kb_desk:article")
@require_POST
def feedback(request: HttpRequest, number: str) -> HttpResponse:
    """Helpful yes/no with an optional comment; a second vote replaces the first."""
    article = fetch_article(request, number)
    form = FeedbackForm(request.POST)
    htmx = getattr(request, "htmx", None)
    status = 200
    error = None
    if form.is_valid():
        try:
            services.record_feedback(
                current_user(request),
                article,
                helpful=form.cleaned_data["helpful"],
                comment=form.cleaned_data["comment"],
            )
        except ActionError as exc:
            error, status = exc.message, exc.status_code
            form.add_error(None, exc.message)
    else:
        status = 400
    if htmx:
        vote = ArticleFeedback.objects.filter(article=article, user=current_user(request)).first()
        context = {
            "article": article,
            "feedback_form": form,
            "vote": vote,
            "thanks": status == 200,
        }
        return render(request, "kb/portal/_feedback.html", context, status=status)
    if status != 200:
        return render_article(request, article, feedback_form=form, error=error, status=status)
    messages.success(request, _("Thank you for your feedback."))
    return redirect(reverse("kb_portal:article", args=[article.number]) + "#feedback")


@portal_view("kb_desk:article")
@require_POST
def solved(request: HttpRequest, number: str) -> HttpResponse:
    """ "This solved my problem": a deflection is recorded and no ticket is created."""
    article = fetch_article(request, number)
    form = DeflectionForm(request.POST)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    try:
        services.record_deflection(current_user(request), article, query)
    except ActionError as exc:
        return render_article(request, article, error=exc.message, status=exc.status_code)
    messages.success(
        request,
        _("Glad %(number)s solved your problem. No ticket was needed; thank you!")
        % {"number": article.number},
    )
    return redirect("portal:tickets")


@portal_view("kb_desk:article")
@require_GET
def file(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    return serve_file(current_user(request), fetch_article(request, number), attachment_id)
