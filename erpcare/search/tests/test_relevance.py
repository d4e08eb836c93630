"""Search relevance on the demo knowledge base: recall@5 and MRR of the judged queries in
``relevance/queries.yaml``, checked against the floors in ``relevance/baseline.json``.

The demo articles (``erpcare/demo/articles``) are indexed through the search service by a
provider of their own kind, built straight from the YAML: the test measures the search
engine, not the knowledge-base app's workflow or scoping. Each document is shaped by the
kb app's ``document_for`` (on an unsaved article), so it is exactly what the real article
provider indexes. Every article has the same age and no votes, so freshness and
helpfulness do not decide any ranking here.

Run with ``-s`` to see the figures and every query that missed (see relevance/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection

from erpcare.core import clock
from erpcare.demo.kb import DemoArticle, load_articles
from erpcare.kb.models import Article
from erpcare.kb.search import document_for
from erpcare.search import registry, services
from erpcare.search.documents import Document

HERE = Path(__file__).resolve().parent / "relevance"
KIND = "relevance"  # at most 16 characters (SearchEntry.kind)
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
CUTOFF = 5  # recall@5
DEPTH = 10  # reciprocal rank counts hits down to here
LANGS = ("zh", "en", "mixed")


def judged_queries() -> list[dict[str, Any]]:
    return list(yaml.safe_load((HERE / "queries.yaml").read_text(encoding="utf-8")))


def baseline() -> dict[str, dict[str, float]]:
    return dict(json.loads((HERE / "baseline.json").read_text(encoding="utf-8"))["floors"])


def document(object_id: int, spec: DemoArticle) -> Document:
    article = Article(
        pk=object_id,
        title=spec.title,
        summary=spec.summary,
        body=spec.body,
        symptom=spec.symptom,
        cause=spec.cause,
        resolution=spec.resolution,
        log_excerpt=spec.log_excerpt,
        type=spec.type,
        language=spec.language,
        module=spec.module,
        product=spec.product,
        keywords=spec.keyword_text,
        visibility=spec.visibility,
        organization_id=None,  # the customer-only article is searched as staff here
        updated_at=NOW - timedelta(days=30),
    )
    if spec.visibility == "customer":
        article.visibility = "public"
    return replace(document_for(article), kind=KIND)


class DemoArticleProvider:
    """The published demo articles, by their position in ``load_articles()`` (1-based)."""

    kind = KIND

    def __init__(self, articles: Iterable[DemoArticle]) -> None:
        self.keys: dict[int, str] = {}
        self.docs: dict[int, Document] = {}
        for object_id, spec in enumerate(articles, start=1):
            if spec.searchable:
                self.keys[object_id] = spec.key
                self.docs[object_id] = document(object_id, spec)

    def documents(self, ids: Iterable[int]) -> Iterator[Document]:
        for object_id in ids:
            if object_id in self.docs:
                yield self.docs[object_id]

    def all_ids(self) -> Iterator[int]:
        yield from sorted(self.docs)

    def visible_ids(self, user: Any, ids: Iterable[int]) -> set[int]:
        return {i for i in ids if i in self.docs} if user.is_staff else set()


@dataclass(frozen=True)
class Outcome:
    query: str
    lang: str
    relevant: tuple[str, ...]
    found: tuple[str, ...]  # the top DEPTH keys, best first
    round: int = 1  # 2: written after the search was tuned on round 1

    @property
    def recall(self) -> float:
        top = set(self.found[:CUTOFF])
        return sum(1 for key in self.relevant if key in top) / len(self.relevant)

    @property
    def reciprocal_rank(self) -> float:
        for position, key in enumerate(self.found[:DEPTH], start=1):
            if key in self.relevant:
                return 1.0 / position
        return 0.0


def figures(outcomes: list[Outcome]) -> dict[str, float]:
    count = max(len(outcomes), 1)
    return {
        "recall_at_5": round(sum(o.recall for o in outcomes) / count, 4),
        "mrr": round(sum(o.reciprocal_rank for o in outcomes) / count, 4),
        "queries": len(outcomes),
    }


def report(backend: str, summary: dict[str, dict[str, float]], outcomes: list[Outcome]) -> str:
    lines = [f"Search relevance on {backend}: {len(outcomes)} judged queries"]
    for group, values in summary.items():
        lines.append(
            f"  {group:<6} recall@5 {values['recall_at_5']:.3f}  MRR {values['mrr']:.3f}"
            f"  ({values['queries']:.0f} queries)"
        )
    misses = [o for o in outcomes if o.recall < 1.0]
    lines.append(f"Queries with a relevant article outside the top {CUTOFF} ({len(misses)}):")
    for outcome in misses:
        ranks = {key: outcome.found.index(key) + 1 for key in outcome.found if key}
        wanted = ", ".join(f"{key}@{ranks.get(key, '-')}" for key in outcome.relevant)
        label = outcome.lang if outcome.round == 1 else f"{outcome.lang}, round 2"
        lines.append(f"  [{label}] {outcome.query!r}: {wanted}; top 3 {outcome.found[:3]}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The relevance set itself
# ---------------------------------------------------------------------------


def test_the_relevance_set_is_judged_against_published_demo_articles():
    articles = {article.key: article for article in load_articles()}
    queries = judged_queries()
    langs = [q["lang"] for q in queries]
    assert len(queries) >= 60
    assert langs.count("zh") >= 30
    assert langs.count("en") >= 25
    assert langs.count("mixed") >= 3
    assert set(langs) <= set(LANGS)
    texts = [q["query"] for q in queries]
    assert len(set(texts)) == len(texts), "a query is judged twice"
    for query in queries:
        assert {"query", "lang", "relevant"} <= set(query) <= {"query", "lang", "relevant", "round"}
        assert query.get("round", 1) in (1, 2), query
        relevant = query["relevant"]
        assert 1 <= len(relevant) <= 3, query
        assert len(set(relevant)) == len(relevant), query
        for key in relevant:
            assert key in articles, f"{query['query']!r}: unknown article {key}"
            assert articles[key].searchable, f"{query['query']!r}: {key} is not published"
    floors = baseline()
    assert {"sqlite", "postgresql"} <= set(floors)
    for values in floors.values():
        assert {"recall_at_5", "mrr"} <= set(values)
        assert all(0.0 <= float(v) <= 1.0 for v in values.values())


# ---------------------------------------------------------------------------
# The measurement
# ---------------------------------------------------------------------------


@pytest.fixture
def demo_index(cast: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoArticleProvider]:
    provider = DemoArticleProvider(load_articles())
    monkeypatch.setitem(registry._providers, KIND, provider)
    with clock.frozen_at(NOW):
        services.index(KIND, provider.all_ids())
        services.refresh_vocabulary()  # typo correction reads this snapshot
        yield provider


@pytest.mark.django_db
def test_recall_and_mrr_do_not_drop_below_the_baseline(cast, demo_index, capsys):
    backend = connection.vendor
    outcomes = []
    for query in judged_queries():
        results = services.search(cast.lina, query["query"], kinds=[KIND], limit=DEPTH)
        found = tuple(demo_index.keys[hit.object_id] for hit in results.hits)
        outcomes.append(
            Outcome(
                query["query"],
                query["lang"],
                tuple(query["relevant"]),
                found,
                query.get("round", 1),
            )
        )
    summary = {"all": figures(outcomes)}
    for lang in LANGS:
        summary[lang] = figures([o for o in outcomes if o.lang == lang])
    summary["round2"] = figures([o for o in outcomes if o.round == 2])
    with capsys.disabled():
        print("\n" + report(backend, summary, outcomes))

    floors = baseline()[backend]
    measured = summary["all"]
    assert measured["recall_at_5"] >= floors["recall_at_5"], report(backend, summary, outcomes)
    assert measured["mrr"] >= floors["mrr"], report(backend, summary, outcomes)
    for lang in ("zh", "en"):
        for name in ("recall_at_5", "mrr"):
            floor = floors.get(f"{lang}_{name}")
            if floor is not None:
                assert summary[lang][name] >= floor, report(backend, summary, outcomes)
