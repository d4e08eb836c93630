"""Writing articles: create, edit (a new version per saved change) and the workflow
draft → review → published → archived.

Every function here checks the actor against ``kb.services.rules``, validates its input
(raising ``ActionError`` subclasses with a translated message, before anything is
written), writes in one transaction with one audit entry, and re-indexes the article in
the search service inside that same transaction.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.customers.models import ErpModule, ErpProduct, Organization
from erpcare.customers.services import visible_organizations
from erpcare.kb.models import (
    NUMBER_PREFIX,
    Article,
    ArticleLanguage,
    ArticleStatus,
    ArticleTicketLink,
    ArticleType,
    ArticleVersion,
    EventKind,
    KbEvent,
    LinkKind,
    Visibility,
    add_months,
)
from erpcare.kb.services import rules
from erpcare.kb.services.access import visible_articles
from erpcare.tickets.models import ResolutionCode, Status, Ticket
from erpcare.tickets.services.numbers import next_in_sequence

MAX_TITLE = 200
MAX_SUMMARY = 1000
MAX_TEXT = 100_000
MAX_PRODUCT = 80
MAX_KEYWORDS = 500
MAX_NOTE = 500

# The article number sequence shares the tickets' sequence table: prefix "KB", and year 0
# because article numbers run on across years (KB-0001 … KB-9999, KB-10000 …).
_SEQUENCE_YEAR = 0

TEXT_FIELDS = ("body", "symptom", "cause", "resolution", "log_excerpt")
UPDATABLE_FIELDS = frozenset(
    {
        "title",
        "summary",
        *TEXT_FIELDS,
        "type",
        "language",
        "module",
        "product",
        "keywords",
        "visibility",
        "organization",
    }
)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


def _clean_text(value: Any, *, label: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ActionError(_("%(field)s must be text.") % {"field": label})
    text = value.strip()
    if required and not text:
        raise ActionError(_("%(field)s is required.") % {"field": label})
    if len(text) > limit:
        raise ActionError(
            _("%(field)s is too long (at most %(limit)d characters).")
            % {"field": label, "limit": limit}
        )
    if "\x00" in text:
        raise ActionError(_("%(field)s contains a NUL character.") % {"field": label})
    return text


def _choice(value: Any, choices: Any, *, label: str, blank: bool = False) -> str:
    if blank and value in ("", None):
        return ""
    if not isinstance(value, str) or value not in choices.values:
        raise ActionError(
            _("%(value)s is not a valid %(field)s.") % {"value": value, "field": label}
        )
    return value


def _today() -> date:
    return timezone.localdate(clock.now(), timezone.get_default_timezone())


def default_review_by(today: date | None = None) -> date:
    """Today plus ``ERPCARE_KB_REVIEW_MONTHS``: the review date a publication gets."""
    return add_months(today or _today(), settings.ERPCARE_KB_REVIEW_MONTHS)


def _clean_review_by(value: date | None) -> date:
    if value is None:
        return default_review_by()
    if not isinstance(value, date):
        raise ActionError(_("The review date is not a date."))
    if value <= _today():
        raise ActionError(_("The review date must be in the future."))
    if value > _today() + timedelta(days=3 * 366):
        raise ActionError(_("The review date must be within three years."))
    return value


def guess_language(*texts: str) -> str:
    """zh-hans when the text contains Chinese characters, else en."""
    return (
        ArticleLanguage.ZH_HANS if any(_CJK.search(t or "") for t in texts) else ArticleLanguage.EN
    )


def _next_number() -> str:
    return f"{NUMBER_PREFIX}-{next_in_sequence(NUMBER_PREFIX, _SEQUENCE_YEAR):04d}"


def _index(article: Article) -> None:
    """Bring the search index in step with ``article``, inside the caller's transaction."""
    from erpcare.search import services as search_services

    search_services.index("article", [article.pk])


def lock_article(actor: User, article: Article) -> Article:
    """Re-read and lock ``article`` through the actor's scope (NotFound if out of it)."""
    try:
        return (
            visible_articles(actor)
            .select_for_update(of=("self",))
            .select_related("organization", "owner")
            .get(pk=article.pk)
        )
    except Article.DoesNotExist:
        raise NotFound(_("Article not found.")) from None


def _audit(actor: User | None, action: str, article: Article, **data: Any) -> None:
    record(actor=actor, action=action, target=article, data={"number": article.number, **data})


def _add_version(article: Article, actor: User | None, note: str) -> ArticleVersion:
    article.current_version += 1
    return ArticleVersion.objects.create(
        article=article,
        number=article.current_version,
        content=article.snapshot(),
        author=actor,
        note=note,
        created_at=clock.now(),
    )


def _clean_values(actor: User, values: dict[str, Any]) -> dict[str, Any]:
    """Validate the editable fields present in ``values``; return them cleaned."""
    cleaned: dict[str, Any] = {}
    if "title" in values:
        cleaned["title"] = _clean_text(
            values["title"], label=_("Title"), required=True, limit=MAX_TITLE
        )
    if "summary" in values:
        cleaned["summary"] = _clean_text(values["summary"], label=_("Summary"), limit=MAX_SUMMARY)
    labels = {
        "body": _("Text"),
        "symptom": _("Symptom"),
        "cause": _("Cause"),
        "resolution": _("Resolution"),
        "log_excerpt": _("Log excerpt"),
    }
    for name in TEXT_FIELDS:
        if name in values:
            cleaned[name] = _clean_text(values[name], label=labels[name])
    if "type" in values:
        cleaned["type"] = _choice(values["type"], ArticleType, label=_("article type"))
    if "language" in values:
        cleaned["language"] = _choice(values["language"], ArticleLanguage, label=_("language"))
    if "module" in values:
        cleaned["module"] = _choice(values["module"], ErpModule, label=_("ERP module"), blank=True)
    if "product" in values:
        cleaned["product"] = _clean_text(
            values["product"], label=_("Product and version"), limit=MAX_PRODUCT
        )
    if "keywords" in values:
        cleaned["keywords"] = _clean_text(
            values["keywords"], label=_("Keywords"), limit=MAX_KEYWORDS
        )
    if "visibility" in values:
        cleaned["visibility"] = _choice(values["visibility"], Visibility, label=_("visibility"))
    if "organization" in values:
        organization = values["organization"]
        if organization is not None:
            if not isinstance(organization, Organization):
                raise ActionError(_("Choose a customer."))
            if not visible_organizations(actor).filter(pk=organization.pk).exists():
                raise NotFound(_("Customer not found."))
        cleaned["organization"] = organization
    return cleaned


def _check_audience(visibility: str, organization: Organization | None) -> None:
    if visibility == Visibility.CUSTOMER and organization is None:
        raise ActionError(_("An article for one customer needs that customer."))
    if visibility != Visibility.CUSTOMER and organization is not None:
        raise ActionError(_("Only an article visible to one customer can name a customer."))


def _check_complete(article: Article) -> None:
    """What an article needs before review and publication."""
    if article.type == ArticleType.CASE:
        if not article.symptom or not article.resolution:
            raise ActionError(
                _("A troubleshooting case needs a symptom and a resolution before review.")
            )
    elif not (article.body or article.summary):
        raise ActionError(_("Write the article's text before review."))


def _state_error(article: Article, message: str) -> Conflict:
    """``message`` is a whole translated sentence with %(number)s and %(status)s, so each
    language can word it (no sentence assembled from pieces)."""
    return Conflict(
        message % {"number": article.number, "status": ArticleStatus(article.status).label}
    )


# ---------------------------------------------------------------------------
# Create and edit
# ---------------------------------------------------------------------------


@transaction.atomic
def create_article(
    actor: User,
    *,
    title: str,
    type: str = ArticleType.FAQ,
    language: str | None = None,
    summary: str = "",
    body: str = "",
    symptom: str = "",
    cause: str = "",
    resolution: str = "",
    log_excerpt: str = "",
    module: str = "",
    product: str = "",
    keywords: str = "",
    visibility: str = Visibility.INTERNAL,
    organization: Organization | None = None,
    source_ticket: Ticket | None = None,
    note: str = "",
) -> Article:
    """Write a new draft owned by ``actor`` (agents, managers, admins), as version 1.

    ``language`` defaults to zh-hans when the title or text contains Chinese, else en.
    A customer-only article (``visibility="customer"``) needs ``organization``.
    """
    rules.require_writer(actor)
    values = _clean_values(
        actor,
        {
            "title": title,
            "summary": summary,
            "body": body,
            "symptom": symptom,
            "cause": cause,
            "resolution": resolution,
            "log_excerpt": log_excerpt,
            "type": type,
            "module": module,
            "product": product,
            "keywords": keywords,
            "visibility": visibility,
            "organization": organization,
            **({"language": language} if language is not None else {}),
        },
    )
    if language is None:
        values["language"] = guess_language(
            values["title"], values["summary"], values["body"], values["symptom"]
        )
    _check_audience(values["visibility"], values["organization"])
    note = _clean_text(note, label=_("Note"), limit=MAX_NOTE)
    if (
        source_ticket is not None
        and not Ticket.objects.visible_to(actor).filter(pk=source_ticket.pk).exists()
    ):
        raise NotFound(_("Ticket not found."))
    now = clock.now()
    article = Article(
        number=_next_number(),
        status=ArticleStatus.DRAFT,
        owner=actor,
        source_ticket=source_ticket,
        created_at=now,
        updated_at=now,
        **values,
    )
    article.save()
    _add_version(article, actor, note)
    article.save(update_fields=["current_version"])
    _audit(actor, "kb.article.created", article, type=article.type, visibility=article.visibility)
    _index(article)
    return article


@transaction.atomic
def update_article(
    actor: User,
    article: Article,
    *,
    note: str = "",
    expected_version: int | None = None,
    **changes: Any,
) -> Article:
    """Save a change to the content as a new version (nothing changes: no version).

    ``expected_version`` (the version the editor started from) refuses the save with a
    Conflict when someone else saved in between, instead of silently overwriting.
    Changing who can see a published article is a reviewer's decision.
    """
    rules.require_writer(actor)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ActionError(
            _("These fields cannot be changed here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    values = _clean_values(actor, changes)
    note = _clean_text(note, label=_("Note"), limit=MAX_NOTE)
    article = lock_article(actor, article)
    rules.require_editor(actor, article)
    if expected_version is not None and expected_version != article.current_version:
        raise Conflict(
            _(
                "%(number)s was changed by someone else (now version %(version)d); "
                "reload it and apply your change again."
            )
            % {"number": article.number, "version": article.current_version}
        )
    if "visibility" in values and values["visibility"] != Visibility.CUSTOMER:
        values.setdefault("organization", None)
    visibility = values.get("visibility", article.visibility)
    organization = values.get("organization", article.organization)
    _check_audience(visibility, organization)
    changed = [
        name
        for name, value in values.items()
        if (
            (value.pk if value is not None else None) != article.organization_id
            if name == "organization"
            else getattr(article, name) != value
        )
    ]
    if not changed:
        return article
    if (
        article.status == ArticleStatus.PUBLISHED
        and {"visibility", "organization"} & set(changed)
        and not rules.is_reviewer(actor)
    ):
        raise NotAllowed(
            _("Only support managers and administrators change who can see a published article.")
        )
    for name in changed:
        setattr(article, name, values[name])
    article.updated_at = clock.now()
    version = _add_version(article, actor, note)
    article.save(update_fields=[*changed, "current_version", "updated_at"])
    _audit(actor, "kb.article.updated", article, fields=sorted(changed), version=version.number)
    _index(article)
    return article


# ---------------------------------------------------------------------------
# Workflow
# ---------------------------------------------------------------------------


@transaction.atomic
def submit_for_review(actor: User, article: Article, *, note: str = "") -> Article:
    """draft → review. Any staff writer; the article must be complete."""
    rules.require_writer(actor)
    note = _clean_text(note, label=_("Note"), limit=MAX_NOTE)
    article = lock_article(actor, article)
    if article.status != ArticleStatus.DRAFT:
        raise _state_error(
            article, _("%(number)s cannot be submitted for review: its status is “%(status)s”.")
        )
    _check_complete(article)
    article.status = ArticleStatus.REVIEW
    article.updated_at = clock.now()
    article.save(update_fields=["status", "updated_at"])
    _audit(actor, "kb.article.submitted", article, note=note)
    _index(article)
    return article


@transaction.atomic
def publish(
    actor: User, article: Article, *, review_by: date | None = None, note: str = ""
) -> Article:
    """draft or review → published (managers and admins).

    Sets ``published_at`` and ``reviewed_at`` to now and ``review_by`` to the given date
    (in the future) or today + ``ERPCARE_KB_REVIEW_MONTHS``.
    """
    rules.require_reviewer(actor)
    note = _clean_text(note, label=_("Note"), limit=MAX_NOTE)
    review_by = _clean_review_by(review_by)
    article = lock_article(actor, article)
    if article.status not in (ArticleStatus.DRAFT, ArticleStatus.REVIEW):
        raise _state_error(
            article, _("%(number)s cannot be published: its status is “%(status)s”.")
        )
    _check_complete(article)
    now = clock.now()
    article.status = ArticleStatus.PUBLISHED
    article.published_at = now
    article.reviewed_at = now
    article.review_by = review_by
    article.review_note = ""
    article.updated_at = now
    article.save(
        update_fields=[
            "status", "published_at", "reviewed_at", "review_by", "review_note", "updated_at",
        ]
    )  # fmt: skip
    _audit(actor, "kb.article.published", article, review_by=review_by.isoformat(), note=note)
    _index(article)
    return article


@transaction.atomic
def return_to_draft(actor: User, article: Article, *, note: str = "") -> Article:
    """review → draft: a reviewer sends it back with a note saying what to change, or
    the owner withdraws the submission (note optional)."""
    rules.require_writer(actor)
    note = _clean_text(note, label=_("Note"), limit=2000)
    article = lock_article(actor, article)
    is_owner = article.owner_id == actor.pk
    if not rules.is_reviewer(actor) and not is_owner:
        raise NotAllowed(
            _("Only reviewers (managers, admins) or the owner can return an article to draft.")
        )
    if article.status != ArticleStatus.REVIEW:
        raise _state_error(
            article, _("%(number)s cannot be returned to draft: its status is “%(status)s”.")
        )
    if rules.is_reviewer(actor) and not is_owner and not note:
        raise ActionError(_("Tell the author what to change: a note is required."))
    article.status = ArticleStatus.DRAFT
    article.review_note = note
    article.updated_at = clock.now()
    article.save(update_fields=["status", "review_note", "updated_at"])
    _audit(actor, "kb.article.returned", article, note=note)
    _index(article)
    return article


@transaction.atomic
def archive(actor: User, article: Article, *, note: str = "") -> Article:
    """Any state but archived → archived (managers and admins). Archived articles leave
    the search index and the portal; links and history stay."""
    rules.require_reviewer(actor)
    note = _clean_text(note, label=_("Note"), limit=MAX_NOTE)
    article = lock_article(actor, article)
    if article.status == ArticleStatus.ARCHIVED:
        raise _state_error(article, _("%(number)s cannot be archived: its status is “%(status)s”."))
    old = article.status
    article.status = ArticleStatus.ARCHIVED
    article.updated_at = clock.now()
    article.save(update_fields=["status", "updated_at"])
    _audit(actor, "kb.article.archived", article, previous=old, note=note)
    _index(article)
    return article


@transaction.atomic
def restore(actor: User, article: Article, *, note: str = "") -> Article:
    """archived → draft (managers and admins); publish it again through the workflow."""
    rules.require_reviewer(actor)
    note = _clean_text(note, label=_("Note"), limit=MAX_NOTE)
    article = lock_article(actor, article)
    if article.status != ArticleStatus.ARCHIVED:
        raise _state_error(article, _("%(number)s cannot be restored: its status is “%(status)s”."))
    article.status = ArticleStatus.DRAFT
    article.updated_at = clock.now()
    article.save(update_fields=["status", "updated_at"])
    _audit(actor, "kb.article.restored", article, note=note)
    _index(article)
    return article


@transaction.atomic
def mark_reviewed(actor: User, article: Article, *, review_by: date | None = None) -> Article:
    """A reviewer confirms a published article is still right: it stops being stale
    until ``review_by`` (default today + ``ERPCARE_KB_REVIEW_MONTHS``)."""
    rules.require_reviewer(actor)
    review_by = _clean_review_by(review_by)
    article = lock_article(actor, article)
    if article.status != ArticleStatus.PUBLISHED:
        raise _state_error(
            article, _("%(number)s cannot be marked as reviewed: its status is “%(status)s”.")
        )
    article.reviewed_at = clock.now()
    article.review_by = review_by
    article.save(update_fields=["reviewed_at", "review_by"])
    _audit(actor, "kb.article.reviewed", article, review_by=review_by.isoformat())
    _index(article)
    return article


# ---------------------------------------------------------------------------
# From work to knowledge
# ---------------------------------------------------------------------------


def _product_label(ticket: Ticket) -> str:
    instance = ticket.erp_instance
    if instance is None:
        return ""
    label = str(ErpProduct(instance.product).label) if instance.product else ""
    return " ".join(part for part in (label, instance.version) if part)[:MAX_PRODUCT]


@transaction.atomic
def create_article_from_ticket(actor: User, ticket: Ticket) -> Article:
    """A draft troubleshooting case from a resolved or closed ticket ``actor`` can see.

    Pre-filled: title, module, product (the ticket's ERP instance: "SAP S/4HANA 2023"),
    keywords (the ticket's tags), symptom (the description), cause (the resolution
    code, a starting point for the author) and resolution (the resolution text). The
    article is internal until someone decides otherwise, remembers the ticket as its
    source and is linked to it as ``created_from``.
    """
    rules.require_writer(actor)
    visible = Ticket.objects.visible_to(actor).select_related("erp_instance")
    found = visible.filter(pk=ticket.pk).first()
    if found is None:
        raise NotFound(_("Ticket not found."))
    ticket = found
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict(
            _(
                "Only a resolved or closed ticket can become an article; the status of "
                "%(number)s is “%(status)s”."
            )
            % {"number": ticket.number, "status": Status(ticket.status).label}
        )
    cause = str(ResolutionCode(ticket.resolution_code).label) if ticket.resolution_code else ""
    tags: list[str] = []
    for name in ticket.tags.values_list("name", flat=True):
        if len(", ".join([*tags, name])) > MAX_KEYWORDS:
            break
        tags.append(name)
    article = create_article(
        actor,
        title=ticket.title,
        type=ArticleType.CASE,
        symptom=ticket.description or ticket.title,
        cause=cause,
        resolution=ticket.resolution,
        module=ticket.module,
        product=_product_label(ticket),
        keywords=", ".join(tags),
        visibility=Visibility.INTERNAL,
        source_ticket=ticket,
        note=_("Created from %(number)s") % {"number": ticket.number},
    )
    now = clock.now()
    ArticleTicketLink.objects.create(
        article=article, ticket=ticket, kind=LinkKind.CREATED_FROM, created_by=actor, created_at=now
    )
    KbEvent.objects.create(
        kind=EventKind.LINK,
        article=article,
        user=actor,
        organization_id=ticket.organization_id,
        ticket=ticket,
        created_at=now,
    )
    _audit(actor, "kb.article.linked", article, ticket=ticket.number, kind=LinkKind.CREATED_FROM)
    return article


def create_article_from_text(
    actor: User,
    *,
    title: str,
    symptom: str,
    cause: str,
    resolution: str,
    module: str = "",
    product: str = "",
    log_excerpt: str = "",
    language: str | None = None,
    visibility: str = Visibility.INTERNAL,
    organization: Organization | None = None,
    source: str = "",
) -> Article:
    """A draft troubleshooting case from text another app already holds, e.g. a problem's
    root-cause analysis (the problem issue calls this). ``source`` names where it came
    from ("PRB-2026-000012") and is kept as the first version's note and in the audit."""
    source = _clean_text(source, label=_("Source"), limit=200)
    note = _("Created from %(source)s") % {"source": source} if source else ""
    return create_article(
        actor,
        title=title,
        type=ArticleType.CASE,
        language=language,
        symptom=symptom,
        cause=cause,
        resolution=resolution,
        log_excerpt=log_excerpt,
        module=module,
        product=product,
        visibility=visibility,
        organization=organization,
        note=note[:MAX_NOTE],
    )
