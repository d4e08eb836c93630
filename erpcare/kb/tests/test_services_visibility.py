"""The one scoping rule for articles: customers read only published articles that are
public or made for their organization; a customer never reaches another customer's,
internal, draft, in-review or archived article — not by number, not by id, and the
answer is the same NotFound as for an article that does not exist."""

from __future__ import annotations

import pytest

from erpcare.accounts.services import create_user
from erpcare.conftest import PASSWORD
from erpcare.core.errors import NotFound
from erpcare.kb import services

pytestmark = pytest.mark.django_db


def numbers(user):
    return set(services.visible_articles(user).values_list("number", flat=True))


def test_customers_see_published_public_and_their_own(cast, library):
    assert numbers(cast.alice) == {library.public.number, library.acme_only.number}
    assert numbers(cast.alice2) == {library.public.number, library.acme_only.number}
    assert numbers(cast.bob) == {library.public.number, library.globex_only.number}


@pytest.mark.parametrize("who", ["lina", "eric", "xu", "mona", "adam", "audra"])
def test_staff_and_auditors_see_every_article(cast, library, who):
    assert numbers(getattr(cast, who)) == {a.number for a in library.all()}


def test_an_agent_does_not_read_what_was_made_for_a_customer_he_does_not_serve(cast, library):
    # vera's only team serves Acme: Globex's own article is not hers, the rest is.
    expected = {a.number for a in library.all()} - {library.globex_only.number}
    assert numbers(cast.vera) == expected
    with pytest.raises(NotFound):
        services.get_article_for(cast.vera, library.globex_only.number)
    assert services.get_article_for(cast.vera, library.acme_only.number) == library.acme_only


@pytest.mark.parametrize("name", ["internal", "globex_only", "draft", "review", "archived"])
def test_a_customer_cannot_fetch_what_is_not_theirs(cast, library, name):
    article = getattr(library, name)
    for ref in (article.number, article.number.lower(), str(article.pk), article.pk):
        with pytest.raises(NotFound, match="Article not found") as refused:
            services.get_article_for(cast.alice, ref)
        assert str(refused.value) == "Article not found."


@pytest.mark.parametrize(
    "ref", ["KB-9999", "9999", "", "   ", "x" * 100, "KB-\x00", "99999999999999999999", "INC-1"]
)
def test_missing_and_malformed_references_are_not_found(cast, library, ref):
    with pytest.raises(NotFound, match="Article not found"):
        services.get_article_for(cast.mona, ref)


def test_inactive_users_and_customers_without_organization_see_nothing(cast, library):
    cast.alice.is_active = False
    cast.alice.save()
    cast.lina.is_active = False
    cast.lina.save()
    assert numbers(cast.alice) == set()
    assert numbers(cast.lina) == set()
    with pytest.raises(NotFound):
        services.get_article_for(cast.lina, library.public.number)


def test_anonymous_visitors_see_nothing(library):
    from django.contrib.auth.models import AnonymousUser

    assert not services.visible_articles(AnonymousUser()).exists()  # type: ignore[arg-type]


def test_a_new_customer_of_acme_sees_acme_articles_at_once(cast, library):
    carol = create_user(
        email="carol@acme.example", display_name="Carol", role_code="customer",
        password=PASSWORD, organization=cast.acme,
    )  # fmt: skip
    assert library.acme_only.number in numbers(carol)


def test_search_never_shows_an_agent_what_was_made_for_a_customer_he_does_not_serve(cast, library):
    from erpcare.search.services import search

    found = {hit.object_id for hit in search(cast.vera, "POS sync", kinds=["article"]).hits}
    assert library.globex_only.pk not in found
    found = {hit.object_id for hit in search(cast.lina, "POS sync", kinds=["article"]).hits}
    assert library.globex_only.pk in found
