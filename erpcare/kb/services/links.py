"""Articles on tickets: "solved with KB-0042", related articles, and the ticket an
article was written from."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, Conflict, NotFound
from erpcare.kb.models import Article, ArticleTicketLink, EventKind, KbEvent, LinkKind
from erpcare.kb.services import rules
from erpcare.kb.services.access import visible_articles
from erpcare.tickets.models import Ticket


def _check(actor: User, ticket: Ticket, article: Article, kind: str) -> None:
    rules.require_writer(actor)
    if not isinstance(kind, str) or kind not in LinkKind.values:
        raise ActionError(
            _("%(value)s is not a valid %(field)s.") % {"value": kind, "field": _("link")}
        )
    if not Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists():
        raise NotFound(_("Ticket not found."))
    if not visible_articles(actor).filter(pk=article.pk).exists():
        raise NotFound(_("Article not found."))


@transaction.atomic
def link_article(actor: User, ticket: Ticket, article: Article, *, kind: str) -> ArticleTicketLink:
    """Link an article to a ticket (support staff). The same link twice is a Conflict."""
    _check(actor, ticket, article, kind)
    if ArticleTicketLink.objects.filter(article=article, ticket=ticket, kind=kind).exists():
        raise Conflict(
            _("%(article)s is already linked to %(ticket)s this way.")
            % {"article": article.number, "ticket": ticket.number}
        )
    now = clock.now()
    try:
        with transaction.atomic():
            link = ArticleTicketLink.objects.create(
                article=article, ticket=ticket, kind=kind, created_by=actor, created_at=now
            )
    except IntegrityError:  # the same link saved by a concurrent request
        raise Conflict(
            _("%(article)s is already linked to %(ticket)s this way.")
            % {"article": article.number, "ticket": ticket.number}
        ) from None
    KbEvent.objects.create(
        kind=EventKind.LINK,
        article=article,
        user=actor,
        organization_id=ticket.organization_id,
        ticket=ticket,
        created_at=now,
    )
    record(
        actor=actor,
        action="kb.article.linked",
        target=article,
        data={"number": article.number, "ticket": ticket.number, "kind": kind},
    )
    return link


@transaction.atomic
def unlink_article(actor: User, ticket: Ticket, article: Article, *, kind: str) -> None:
    """Remove one link (support staff); NotFound when there is no such link."""
    _check(actor, ticket, article, kind)
    deleted, _detail = ArticleTicketLink.objects.filter(
        article=article, ticket=ticket, kind=kind
    ).delete()
    if not deleted:
        raise NotFound(_("Link not found."))
    record(
        actor=actor,
        action="kb.article.unlinked",
        target=article,
        data={"number": article.number, "ticket": ticket.number, "kind": kind},
    )


def links_of_ticket(user: User, ticket: Ticket) -> QuerySet[ArticleTicketLink]:
    """The articles linked to ``ticket`` that ``user`` may read (a customer sees a link
    only to an article published for them), oldest first."""
    if not Ticket.objects.visible_to(user).filter(pk=ticket.pk).exists():
        raise NotFound(_("Ticket not found."))
    return (
        ArticleTicketLink.objects.filter(ticket=ticket, article__in=visible_articles(user))
        .select_related("article", "created_by")
        .order_by("created_at", "id")
    )


def links_of_article(user: User, article: Article) -> QuerySet[ArticleTicketLink]:
    """The tickets ``user`` may see that ``article`` is linked to, newest first."""
    if not visible_articles(user).filter(pk=article.pk).exists():
        raise NotFound(_("Article not found."))
    return (
        ArticleTicketLink.objects.filter(
            article=article, ticket__in=Ticket.objects.visible_to(user)
        )
        .select_related("ticket", "created_by")
        .order_by("-created_at", "-id")
    )
