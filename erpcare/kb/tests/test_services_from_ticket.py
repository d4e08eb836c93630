"""From work to knowledge: a resolved ticket becomes a draft case, pre-filled and linked;
agents link articles to tickets ("solved with KB-0042"); another app's text (a problem's
root-cause analysis) becomes a case."""

from __future__ import annotations

import pytest

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.kb import services
from erpcare.kb.models import Article, ArticleTicketLink, KbEvent
from erpcare.tickets import services as tickets
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

db_state, refused = state_checks(Article, ArticleTicketLink, KbEvent, AuditEntry)


def resolve(cast, ticket, text="Opened period 2026-03 in OB52 and posted again."):
    return tickets.transition_ticket(
        cast.lina, ticket, to="resolved", resolution_code="configuration", resolution=text
    )


@pytest.fixture
def resolved(cast):
    ticket = tickets.create_ticket(
        cast.lina, title="凭证过账报错 F5 201", description="过账时提示期间 2026-03 未打开。",
        organization=cast.acme, module="gl", erp_instance=cast.acme_erp, tags=["ob52", "period"],
    )  # fmt: skip
    return resolve(cast, ticket)


def test_the_case_is_prefilled_from_the_ticket(cast, resolved):
    article = services.create_article_from_ticket(cast.eric, resolved)
    assert article.type == "case"
    assert article.status == "draft"
    assert article.title == "凭证过账报错 F5 201"
    assert article.language == "zh-hans"
    assert article.symptom == "过账时提示期间 2026-03 未打开。"
    assert article.cause == "Configuration changed"
    assert article.resolution == "Opened period 2026-03 in OB52 and posted again."
    assert article.module == "gl"
    assert article.product == "SAP S/4HANA 2023"
    assert article.keywords == "ob52, period"
    assert article.visibility == "internal"
    assert article.source_ticket == resolved
    assert article.owner == cast.eric
    link = ArticleTicketLink.objects.get(article=article)
    assert (link.ticket, link.kind, link.created_by) == (resolved, "created_from", cast.eric)
    assert article.versions.get().note == f"Created from {resolved.number}"
    event = KbEvent.objects.get(kind="link", article=article)
    assert (event.ticket, event.user, event.organization) == (resolved, cast.eric, cast.acme)
    assert [link.article for link in services.links_of_ticket(cast.lina, resolved)] == [article]


def test_closed_tickets_work_too(cast, resolved):
    tickets.transition_ticket(cast.lina, resolved, to="closed")
    assert services.create_article_from_ticket(cast.lina, resolved).pk


def test_an_open_ticket_is_refused(cast):
    ticket = tickets.create_ticket(cast.alice, title="Still broken")
    with refused(Conflict, "Only a resolved or closed ticket"):
        services.create_article_from_ticket(cast.lina, ticket)


def test_a_ticket_out_of_scope_does_not_exist(cast):
    ticket = resolve(cast, tickets.create_ticket(cast.bob, title="Globex POS"))
    with refused(NotFound, "Ticket not found"):
        services.create_article_from_ticket(cast.vera, ticket)  # vera serves Acme only


@pytest.mark.parametrize("who", ["alice", "audra"])
def test_customers_and_auditors_cannot(cast, resolved, who):
    with refused(NotAllowed, "."):
        services.create_article_from_ticket(getattr(cast, who), resolved)


def test_agents_link_and_unlink_articles(cast, library, resolved):
    link = services.link_article(cast.lina, resolved, library.public, kind="solved_with")
    assert (link.article, link.ticket, link.kind) == (library.public, resolved, "solved_with")
    services.link_article(cast.lina, resolved, library.public, kind="related")
    with refused(Conflict, "already linked"):
        services.link_article(cast.eric, resolved, library.public, kind="solved_with")
    event = KbEvent.objects.filter(kind="link", ticket=resolved, article=library.public).first()
    assert (event.user, event.organization) == (cast.lina, cast.acme)
    services.unlink_article(cast.lina, resolved, library.public, kind="related")
    with refused(NotFound, "Link not found"):
        services.unlink_article(cast.lina, resolved, library.public, kind="related")
    kinds = [link.kind for link in services.links_of_article(cast.mona, library.public)]
    assert kinds == ["solved_with"]


def test_customers_see_links_only_to_articles_they_can_read(cast, library, resolved):
    for article in (library.public, library.internal, library.globex_only, library.acme_only):
        services.link_article(cast.lina, resolved, article, kind="related")
    seen = {link.article for link in services.links_of_ticket(cast.alice, resolved)}
    assert seen == {library.public, library.acme_only}
    with pytest.raises(NotFound):
        services.links_of_ticket(cast.bob, resolved)
    assert services.links_of_article(cast.bob, library.public).count() == 0


def test_linking_is_for_staff_on_tickets_they_see(cast, library, resolved):
    with refused(NotAllowed, "."):
        services.link_article(cast.alice, resolved, library.public, kind="related")
    globex = tickets.create_ticket(cast.bob, title="POS")
    with refused(NotFound, "Ticket not found"):
        services.link_article(cast.vera, globex, library.public, kind="related")
    with refused(ActionError, "not a valid link"):
        services.link_article(cast.lina, resolved, library.public, kind="fixed_by")


def test_a_problem_analysis_becomes_a_case(cast):
    article = services.create_article_from_text(
        cast.xu, title="MRP run hangs on BOM loops", symptom="MRP never finishes",
        cause="A BOM refers to itself", resolution="Break the loop; add a check",
        module="production", source="PRB-2026-000012",
    )  # fmt: skip
    assert (article.type, article.status, article.module) == ("case", "draft", "production")
    assert article.versions.get().note == "Created from PRB-2026-000012"
    with refused(ActionError, "Title is required"):
        services.create_article_from_text(
            cast.xu, title=" ", symptom="s", cause="c", resolution="r"
        )
