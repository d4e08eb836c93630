"""Every saved change is an immutable version; a diff says what changed, line by line."""

from __future__ import annotations

import pytest

from erpcare.core.errors import ActionError, NotFound
from erpcare.kb import services
from erpcare.kb.models import ArticleVersion
from erpcare.kb.tests.conftest import write

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited(cast):
    article = write(cast.lina, "Close the period", body="Step 1\nStep 2\nStep 3")
    services.update_article(
        cast.eric, article, body="Step 1\nStep 2b\nStep 3\nStep 4", note="steps fixed"
    )
    services.update_article(
        cast.mona, article, title="Close the accounting period",
        visibility="customer", organization=cast.acme,
    )  # fmt: skip
    return article


def test_each_save_is_a_numbered_snapshot(cast, edited):
    versions = list(services.article_versions(cast.lina, edited))
    assert [v.number for v in versions] == [3, 2, 1]
    assert [v.author for v in versions] == [cast.mona, cast.eric, cast.lina]
    assert versions[1].note == "steps fixed"
    assert versions[2].content["body"] == "Step 1\nStep 2\nStep 3"
    assert versions[0].content["organization_id"] == cast.acme.pk


def test_versions_cannot_be_changed_or_deleted(edited):
    version = ArticleVersion.objects.filter(article=edited).first()
    version.note = "rewritten"
    with pytest.raises(PermissionError):
        version.save()
    with pytest.raises(PermissionError):
        version.delete()


def test_the_diff_names_each_changed_field_with_its_lines(cast, edited):
    changes = {d.field: d for d in services.article_diff(cast.lina, edited, 1, 2)}
    assert set(changes) == {"body"}
    lines = [(line.op, line.text) for line in changes["body"].lines]
    assert lines == [
        ("=", "Step 1"), ("-", "Step 2"), ("+", "Step 2b"), ("=", "Step 3"), ("+", "Step 4"),
    ]  # fmt: skip
    assert changes["body"].label == "body"
    later = {d.field: d for d in services.article_diff(cast.audra, edited, 1, 3)}
    assert set(later) == {"title", "body", "visibility", "organization_id"}
    assert later["organization_id"].new == "Acme 制造"
    assert later["title"].old == "Close the period"


def test_customers_do_not_see_history_even_of_their_articles(cast, edited):
    services.publish(cast.mona, edited)
    assert services.get_article_for(cast.alice, edited.number) == edited
    with pytest.raises(NotFound):
        services.article_versions(cast.alice, edited)
    with pytest.raises(NotFound):
        services.article_diff(cast.alice, edited, 1, 2)


def test_unknown_or_equal_versions_are_refused(cast, edited):
    with pytest.raises(NotFound, match="Version 9 not found"):
        services.article_diff(cast.lina, edited, 1, 9)
    with pytest.raises(ActionError, match="two different versions"):
        services.article_diff(cast.lina, edited, 2, 2)
    with pytest.raises(NotFound):
        services.get_version(cast.lina, edited, 0)
