"""The knowledge base in the agent workspace: the article list, the editor, one article
with its workflow, files, history and diff, and the search page over articles and tickets.

Every view is for staff and auditors (``staff_view``; customers get 404) and reads
articles through ``get_article_for``/``visible_articles``. Each change calls one service
of ``erpcare.kb.services``; an ActionError is shown with the bound form (the input is
kept) and the status code it carries, and nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError
from erpcare.kb import services
from erpcare.kb.forms import (
    ArticleFilterForm,
    ArticleForm,
    AttachmentForm,
    DeskSearchForm,
    DiffForm,
    NoteForm,
    PublishForm,
    ReturnForm,
    ReviewedForm,
    article_initial,
)
from erpcare.kb.models import Article, ArticleFeedback, ArticleStatus, ArticleType
from erpcare.kb.services import rules
from erpcare.kb.services.usage import stale_filter
from erpcare.kb.views.common import fetch_article, result_rows, serve_file
from erpcare.search import services as search_services
from erpcare.tickets.views.common import (
    current_user,
    fetch_ticket,
    page_number,
    paginate,
    render_htmx,
    staff_view,
)

PAGE_SIZE = 25
SEARCH_PAGE_SIZE = 20
# How many search hits the list's search box turns into a filter.
LIST_SEARCH_HITS = 100
FEEDBACK_SHOWN = 30
LINKS_SHOWN = 50
VERSIONS_SHOWN = 200
LIST_DEFERRED = ("body", "symptom", "cause", "resolution", "log_excerpt", "review_note")


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


# ---------------------------------------------------------------------------
# The article list
# ---------------------------------------------------------------------------


@staff_view
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    """Articles with filters; the search box also finds published articles by words in
    their text through the search service."""
    user = current_user(request)
    form = ArticleFilterForm(request.GET)
    error = None
    page: dict[str, Any] = paginate(Article.objects.none(), 1, PAGE_SIZE)
    if form.is_valid():
        data = form.cleaned_data
        articles = services.visible_articles(user)
        for name in ("type", "module", "status", "visibility"):
            if data[name]:
                articles = articles.filter(**{name: data[name]})
        if data["product"]:
            articles = articles.filter(product__icontains=data["product"])
        if data["owner"] is not None:
            articles = articles.filter(owner=data["owner"])
        if data["stale"]:
            articles = articles.filter(stale_filter())
        q = data["q"].strip()
        if q:
            found = search_services.search(
                user, q, kinds=["article"], limit=LIST_SEARCH_HITS, record=False
            )
            ids = [hit.object_id for hit in found.hits if hit.kind == "article"]
            articles = articles.filter(
                Q(pk__in=ids)
                | Q(number__iexact=q)
                | Q(title__icontains=q)
                | Q(keywords__icontains=q)
            )
        articles = (
            articles.select_related("owner", "organization")
            .defer(*LIST_DEFERRED)
            .order_by("-updated_at", "-id")
        )
        page = paginate(articles, page_number(request), PAGE_SIZE)
    else:
        error = _form_errors(form)
    context = {
        "filter_form": form,
        "page": page,
        "error": error,
        "can_write": rules.can_write(user),
    }
    return render_htmx(
        request,
        "kb/desk/list.html",
        "kb/desk/_list_table.html",
        context,
        status=400 if error else 200,
    )


# ---------------------------------------------------------------------------
# New article and edit
# ---------------------------------------------------------------------------


def _render_editor(
    request: HttpRequest,
    form: ArticleForm,
    article: Article | None,
    *,
    preview: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    attachments = list(services.attachments_of(article)) if article is not None else []
    context = {
        "form": form,
        "article": article,
        "attachments": attachments,
        "attach_form": AttachmentForm(),
        "kb_attachment_ids": [file.pk for file in attachments],
        "kb_file_url": "kb_desk:file",
        "preview": preview,
        "preview_article": _preview_article(form, article),
    }
    htmx = getattr(request, "htmx", None)
    if preview is not None and htmx:
        return render(request, "kb/desk/_preview.html", context, status=status)
    return render(request, "kb/desk/form.html", context, status=status)


def _preview_article(form: ArticleForm, article: Article | None) -> Article:
    """An unsaved article carrying the typed text, for rendering the preview."""
    preview = Article(number=article.number if article else "KB-0000")
    data = form.data
    for name in ("type", "title", "summary", "body", "symptom", "cause", "resolution"):
        value = data.get(name, "") if form.is_bound else getattr(article, name, "")
        setattr(preview, name, str(value)[:200_000])
    return preview


def _wants_preview(request: HttpRequest) -> bool:
    return request.method == "POST" and "_preview" in request.POST


@staff_view
def article_new(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if not rules.can_write(user):
        raise PermissionDenied(_("Only support staff can write knowledge-base articles."))
    if request.method != "POST":
        initial: dict[str, Any] = {"type": request.GET.get("type") or ArticleType.FAQ}
        return _render_editor(request, ArticleForm(initial=initial, user=user), None)
    form = ArticleForm(request.POST, user=user)
    if _wants_preview(request):
        return _render_editor(request, form, None, preview={})
    if not form.is_valid():
        return _render_editor(request, form, None, status=400)
    try:
        article = services.create_article(
            user, note=form.cleaned_data["note"], **form.service_values()
        )
    except ActionError as exc:
        form.add_error(None, exc.message)
        return _render_editor(request, form, None, status=exc.status_code)
    messages.success(
        request,
        _("Draft %(number)s saved. Submit it for review when it is ready.")
        % {"number": article.number},
    )
    return redirect("kb_desk:article", number=article.number)


@staff_view
def article_edit(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    article = fetch_article(request, number)
    if not rules.can_edit(user, article):
        raise PermissionDenied(_("Your role cannot change this article in its current state."))
    if request.method != "POST":
        return _render_editor(
            request, ArticleForm(initial=article_initial(article), user=user), article
        )
    form = ArticleForm(request.POST, user=user)
    if _wants_preview(request):
        return _render_editor(request, form, article, preview={})
    if not form.is_valid():
        return _render_editor(request, form, article, status=400)
    try:
        saved = services.update_article(
            user,
            article,
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["expected_version"],
            **form.service_values(),
        )
    except ActionError as exc:
        form.add_error(None, exc.message)
        return _render_editor(request, form, article, status=exc.status_code)
    if saved.current_version == article.current_version:
        messages.info(request, _("Nothing changed."))
    else:
        messages.success(
            request,
            _("Saved as version %(version)d.") % {"version": saved.current_version},
        )
    return redirect("kb_desk:article", number=saved.number)


# ---------------------------------------------------------------------------
# One article
# ---------------------------------------------------------------------------


def _workflow_forms(bound: dict[str, forms.Form] | None) -> dict[str, forms.Form]:
    forms_by_name: dict[str, forms.Form] = {
        "submit": NoteForm(auto_id="submit_%s"),
        "publish": PublishForm(),
        "return": ReturnForm(),
        "archive": NoteForm(auto_id="archive_%s"),
        "restore": NoteForm(auto_id="restore_%s"),
        "reviewed": ReviewedForm(),
        "attach": AttachmentForm(),
    }
    forms_by_name.update(bound or {})
    return forms_by_name


def _allowed_actions(user: User, article: Article) -> dict[str, bool]:
    reviewer = rules.is_reviewer(user)
    status = article.status
    return {
        "edit": rules.can_edit(user, article),
        "submit": rules.can_write(user) and status == ArticleStatus.DRAFT,
        "publish": reviewer and status in (ArticleStatus.DRAFT, ArticleStatus.REVIEW),
        "return": status == ArticleStatus.REVIEW
        and (reviewer or (rules.can_write(user) and article.owner_id == user.pk)),
        "archive": reviewer and status != ArticleStatus.ARCHIVED,
        "restore": reviewer and status == ArticleStatus.ARCHIVED,
        "reviewed": reviewer and status == ArticleStatus.PUBLISHED,
        "attach": rules.can_edit(user, article),
    }


def render_article(
    request: HttpRequest,
    article: Article,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str | None = None,
    status: int = 200,
) -> HttpResponse:
    user = current_user(request)
    attachments = list(services.attachments_of(article).select_related("uploaded_by"))
    feedback = list(
        ArticleFeedback.objects.filter(article=article)
        .select_related("user")
        .order_by("-updated_at", "-id")[:FEEDBACK_SHOWN]
    )
    context = {
        "article": article,
        "attachments": attachments,
        "kb_attachment_ids": [file.pk for file in attachments],
        "kb_file_url": "kb_desk:file",
        "links": list(services.links_of_article(user, article)[:LINKS_SHOWN]),
        "feedback": feedback,
        "can": _allowed_actions(user, article),
        "forms": _workflow_forms(bound),
        "read_only": not rules.can_write(user),
        "error": error,
    }
    return render(request, "kb/desk/article.html", context, status=status)


@staff_view
@require_GET
def article_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = current_user(request)
    article = fetch_article(request, number)
    if not user.is_read_only and services.record_view(user, article):
        article.view_count += 1  # the counter moved in the database, not in this copy
    return render_article(request, article)


Perform = Callable[[User, Article, dict[str, Any]], str]


def _submit(user: User, article: Article, data: dict[str, Any]) -> str:
    services.submit_for_review(user, article, note=data["note"])
    return _("Submitted for review.")


def _publish(user: User, article: Article, data: dict[str, Any]) -> str:
    services.publish(user, article, review_by=data["review_by"], note=data["note"])
    return _("Published. Everyone allowed to read it can find it now.")


def _return(user: User, article: Article, data: dict[str, Any]) -> str:
    services.return_to_draft(user, article, note=data["note"])
    return _("Returned to draft.")


def _archive(user: User, article: Article, data: dict[str, Any]) -> str:
    services.archive(user, article, note=data["note"])
    return _("Archived.")


def _restore(user: User, article: Article, data: dict[str, Any]) -> str:
    services.restore(user, article, note=data["note"])
    return _("Restored as a draft.")


def _reviewed(user: User, article: Article, data: dict[str, Any]) -> str:
    services.mark_reviewed(user, article, review_by=data["review_by"])
    return _("Marked as reviewed.")


WORKFLOW: dict[str, tuple[type[forms.Form], Perform]] = {
    "submit": (NoteForm, _submit),
    "publish": (PublishForm, _publish),
    "return": (ReturnForm, _return),
    "archive": (NoteForm, _archive),
    "restore": (NoteForm, _restore),
    "reviewed": (ReviewedForm, _reviewed),
}


@staff_view
@require_POST
def workflow(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """One workflow step: submit, publish, return, archive, restore, reviewed."""
    if action not in WORKFLOW:
        raise Http404
    form_class, perform = WORKFLOW[action]
    article = fetch_article(request, number)
    if form_class is NoteForm:
        form: forms.Form = NoteForm(request.POST, auto_id=f"{action}_%s")
    else:
        form = form_class(request.POST)
    if not form.is_valid():
        return render_article(request, article, bound={action: form}, status=400)
    try:
        message = perform(current_user(request), article, form.cleaned_data)
    except ActionError as exc:
        fresh = fetch_article(request, number)
        return render_article(
            request, fresh, bound={action: form}, error=exc.message, status=exc.status_code
        )
    messages.success(request, message)
    return redirect("kb_desk:article", number=article.number)


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def _render_files(
    request: HttpRequest, article: Article, form: AttachmentForm, *, status: int = 200
) -> HttpResponse:
    attachments = list(services.attachments_of(article).select_related("uploaded_by"))
    context = {
        "article": article,
        "attachments": attachments,
        "attach_form": form,
        "can_attach": rules.can_edit(current_user(request), article),
        "in_editor": True,
    }
    return render(request, "kb/desk/_files.html", context, status=status)


@staff_view
@require_POST
def attach(request: HttpRequest, number: str) -> HttpResponse:
    """Upload a file or image. From the editor (htmx) only the files list is swapped, so
    the text being edited stays; otherwise back to the article page."""
    article = fetch_article(request, number)
    form = AttachmentForm(request.POST, request.FILES)
    htmx = getattr(request, "htmx", None)
    error = None
    status = 200
    if form.is_valid():
        try:
            file = services.add_attachment(
                current_user(request), article, form.cleaned_data["file"]
            )
        except ActionError as exc:
            error, status = exc.message, exc.status_code
    else:
        status = 400
    if htmx:
        if error:
            form.add_error(None, error)
        elif status == 200:
            form = AttachmentForm()
        return _render_files(request, article, form, status=status)
    if status != 200:
        return render_article(request, article, bound={"attach": form}, error=error, status=status)
    messages.success(request, _("File %(name)s attached.") % {"name": file.filename})
    if request.POST.get("next") == "edit":
        return redirect("kb_desk:edit", number=article.number)
    return redirect("kb_desk:article", number=article.number)


@staff_view
@require_POST
def remove_file(request: HttpRequest, number: str, attachment_id: int) -> HttpResponse:
    article = fetch_article(request, number)
    try:
        services.remove_attachment(current_user(request), article, attachment_id)
    except ActionError as exc:
        return render_article(request, article, error=exc.message, status=exc.status_code)
    messages.success(request, _("File removed."))
    return redirect("kb_desk:article", number=article.number)


@staff_view
@require_GET
def file(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    return serve_file(current_user(request), fetch_article(request, number), attachment_id)


# ---------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------


@staff_view
@require_GET
def history(request: HttpRequest, number: str) -> HttpResponse:
    """The versions, and the diff between two of them (``from_version``, ``to_version``;
    by default the last change)."""
    user = current_user(request)
    article = fetch_article(request, number)
    versions = list(services.article_versions(user, article)[:VERSIONS_SHOWN])
    error = None
    status = 200
    changes = None
    if "from_version" in request.GET or "to_version" in request.GET:
        form = DiffForm(request.GET)
    else:
        latest = article.current_version
        form = DiffForm({"from_version": max(latest - 1, 1), "to_version": latest})
    if form.is_valid() and article.current_version > 1:
        try:
            changes = services.article_diff(
                user, article, form.cleaned_data["from_version"], form.cleaned_data["to_version"]
            )
        except ActionError as exc:
            error, status = exc.message, exc.status_code
    elif form.is_bound and form.errors and article.current_version > 1:
        error, status = _form_errors(form), 400
    context = {
        "article": article,
        "versions": versions,
        "form": form,
        "changes": changes,
        "error": error,
    }
    return render(request, "kb/desk/history.html", context, status=status)


# ---------------------------------------------------------------------------
# From a ticket
# ---------------------------------------------------------------------------


@staff_view
@require_POST
def from_ticket(request: HttpRequest, number: str) -> HttpResponse:
    """A draft case pre-filled from a resolved or closed ticket; its editor opens next."""
    ticket = fetch_ticket(request, number)
    try:
        article = services.create_article_from_ticket(current_user(request), ticket)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("desk:ticket", number=ticket.number)
    messages.success(
        request,
        _("Draft %(article)s was written from %(ticket)s. Check the text, then save.")
        % {"article": article.number, "ticket": ticket.number},
    )
    return redirect("kb_desk:edit", number=article.number)


# ---------------------------------------------------------------------------
# Search over articles and tickets
# ---------------------------------------------------------------------------


@staff_view
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = DeskSearchForm(request.GET)
    context: dict[str, Any] = {"form": form, "rows": [], "query": "", "error": None}
    status = 200
    if not form.is_valid():
        context["error"] = _form_errors(form)
        status = 400
    elif form.cleaned_data["q"].strip():
        data = form.cleaned_data
        page = page_number(request)
        results = search_services.search(
            user,
            data["q"],
            kinds=[data["kind"]] if data["kind"] else None,
            module=data["module"] or None,
            doc_type=data["type"] or None,
            product=data["product"] or None,
            limit=SEARCH_PAGE_SIZE,
            offset=(page - 1) * SEARCH_PAGE_SIZE,
            record=page == 1,
        )
        context.update(
            {
                "query": data["q"].strip(),
                "kind": data["kind"],
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
    context["kinds"] = [("", _("Everything")), ("article", _("Articles")), ("ticket", _("Tickets"))]
    return render_htmx(
        request, "kb/desk/search.html", "kb/desk/_search_results.html", context, status=status
    )
