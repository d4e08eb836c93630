"""A test provider over a small zh/en corpus (``data/corpus.yaml``), registered in place of
the article provider for the length of a test (suggestions and similar articles search
articles only), and helpers shared by the search specs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from erpcare.core import clock
from erpcare.search import registry, services
from erpcare.search.documents import Audience, Document

DATA = Path(__file__).resolve().parent / "data"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class DocProvider:
    """Documents kept in memory; visibility follows the audience rule exactly."""

    def __init__(self, documents: Iterable[Document], kind: str = "article") -> None:
        self.kind = kind
        self.docs = {doc.object_id: doc for doc in documents}

    def documents(self, ids: Iterable[int]) -> Iterator[Document]:
        for object_id in ids:
            if object_id in self.docs:
                yield self.docs[object_id]

    def all_ids(self) -> Iterator[int]:
        yield from sorted(self.docs)

    def visible_ids(self, user: Any, ids: Iterable[int]) -> set[int]:
        visible = set()
        for object_id in ids:
            doc = self.docs.get(object_id)
            if doc is None or not user.is_active:
                continue
            if (
                user.is_staff
                or doc.audience == Audience.PUBLIC
                or (
                    doc.audience == Audience.CUSTOMER
                    and doc.organization_id == user.organization_id
                )
            ):
                visible.add(object_id)
        return visible


def load_corpus(orgs: dict[str, int]) -> list[Document]:
    rows = yaml.safe_load((DATA / "corpus.yaml").read_text(encoding="utf-8"))
    return [
        Document(
            kind="article",
            object_id=row["id"],
            title=row["title"],
            body=row["body"],
            audience=row["audience"],
            organization_id=orgs[row["customer"]] if row.get("customer") else None,
            updated_at=NOW - timedelta(days=row["age_days"]),
            module=row["module"],
            doc_type=row["doc_type"],
            product=row["product"],
            helpfulness=row.get("helpfulness", 0.5),
        )
        for row in rows
    ]


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    with clock.frozen_at(NOW):
        yield NOW


@pytest.fixture
def docs(cast: Any, monkeypatch: pytest.MonkeyPatch, frozen_now: datetime) -> DocProvider:
    """The corpus, registered and indexed, with a fresh vocabulary snapshot."""
    provider = DocProvider(load_corpus({"acme": cast.acme.pk, "globex": cast.globex.pk}))
    monkeypatch.setitem(registry._providers, "article", provider)
    services.index("article", provider.all_ids())
    services.refresh_vocabulary()
    return provider


def ids(results: Any) -> list[int]:
    hits = results.hits if hasattr(results, "hits") else results
    return [hit.object_id for hit in hits]
