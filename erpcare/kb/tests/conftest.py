"""Knowledge-base fixtures on top of the test cast (see erpcare/conftest.py).

``library``: one article in every state and audience, written and published through the
services by lina (L1) and mona (manager).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from erpcare.accounts.models import User
from erpcare.conftest import Cast
from erpcare.kb import services
from erpcare.kb.models import Article


def write(author: User, title: str, **fields: Any) -> Article:
    fields.setdefault("body", f"How to handle: {title}")
    return services.create_article(author, title=title, **fields)


def published(cast: Cast, title: str, **fields: Any) -> Article:
    article = write(cast.lina, title, **fields)
    return services.publish(cast.mona, article)


@dataclass
class Library:
    public: Article
    internal: Article
    acme_only: Article
    globex_only: Article
    draft: Article
    review: Article
    archived: Article

    def all(self) -> list[Article]:
        return list(vars(self).values())


def build_library(cast: Cast) -> Library:
    draft = write(cast.lina, "Draft: period close checklist", visibility="public")
    review = write(cast.lina, "In review: GR/IR clearing", visibility="public")
    services.submit_for_review(cast.lina, review)
    archived = published(cast, "Archived: old upgrade note", visibility="public", type="upgrade")
    services.archive(cast.mona, archived)
    return Library(
        public=published(
            cast, "凭证过账失败：期间已关闭", visibility="public", module="gl",
            body="打开会计期间后重新过账。", keywords="F5 201, 记账凭证",
        ),
        internal=published(cast, "Internal: reset the MRP run lock", visibility="internal"),
        acme_only=published(
            cast, "Acme: printing delivery notes", visibility="customer", organization=cast.acme
        ),
        globex_only=published(
            cast, "Globex: POS sync", visibility="customer", organization=cast.globex
        ),
        draft=Article.objects.get(pk=draft.pk),
        review=Article.objects.get(pk=review.pk),
        archived=Article.objects.get(pk=archived.pk),
    )  # fmt: skip


@pytest.fixture
def library(cast: Cast) -> Library:
    return build_library(cast)
