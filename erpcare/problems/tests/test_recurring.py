"""Recurring incidents: a planted cluster of similar titles in one module is found; other
modules, unrelated titles, old tickets and tickets already linked to a problem are not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.problems import services
from erpcare.problems.services.recurring import (
    SIMILARITY_THRESHOLD,
    similarity,
    title_terms,
)
from erpcare.problems.tests.helpers import incident

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)

CHINESE = [
    "采购订单保存超时",
    "保存采购订单时报错超时",
    "采购订单保存失败，提示超时",
    "采购订单无法保存 超时",
    "采购订单保存很慢然后超时",
]
ENGLISH = [
    "Purchase order save fails with timeout",
    "Saving purchase orders times out",
    "Purchase order save timeout error",
]
UNRELATED = [
    "打印采购订单格式错误",  # same object, another fault (0.55 with the first title)
    "Purchase order approval missing",
    "供应商主数据重复",
]


def at(days_ago: float, title: str, **fields):
    with clock.frozen_at(NOW - timedelta(days=days_ago)):
        return incident(fields.pop("cast"), title, **fields)


@pytest.fixture
def planted(cast):
    chinese = [at(i + 1, title, cast=cast) for i, title in enumerate(CHINESE)]
    english = [
        at(i + 2, title, cast=cast, organization=cast.globex) for i, title in enumerate(ENGLISH)
    ]
    noise = [at(3, title, cast=cast) for title in UNRELATED]
    # the same titles elsewhere: another module, too old, a request, already linked
    other_module = [at(2, title, cast=cast, module="sales") for title in CHINESE[:2]]
    too_old = [at(31, title, cast=cast) for title in CHINESE]
    requests = [at(2, title, cast=cast, type="request") for title in ENGLISH]
    linked = [at(4, title, cast=cast) for title in CHINESE[:2]]
    problem = services.create_problem(cast.eric, title="Known", module="purchasing")
    services.link_incidents(cast.eric, problem, linked)
    # one more similar title in sales makes three there with other_module
    other_module.append(at(2, CHINESE[2], cast=cast, module="sales"))
    return {
        "chinese": chinese,
        "english": english,
        "noise": noise,
        "other_module": other_module,
        "too_old": too_old,
        "requests": requests,
        "linked": linked,
    }


def test_the_threshold_separates_the_examples_of_its_comment():
    def score(a: str, b: str) -> float:
        return similarity(title_terms(a), title_terms(b))

    assert score(CHINESE[0], CHINESE[1]) >= SIMILARITY_THRESHOLD
    assert score(ENGLISH[0], ENGLISH[1]) >= SIMILARITY_THRESHOLD
    assert score(CHINESE[0], UNRELATED[0]) < SIMILARITY_THRESHOLD
    assert score(ENGLISH[0], UNRELATED[1]) < SIMILARITY_THRESHOLD
    assert score(CHINESE[0], ENGLISH[0]) == 0


def test_the_planted_clusters_are_found_and_nothing_else(cast, planted):
    clusters = services.candidates(days=30, min_incidents=3, now=NOW)
    found = {(c.module, frozenset(t.pk for t in c.tickets)) for c in clusters}
    assert found == {
        ("purchasing", frozenset(t.pk for t in planted["chinese"])),
        ("purchasing", frozenset(t.pk for t in planted["english"])),
        ("sales", frozenset(t.pk for t in planted["other_module"])),
    }
    chinese = next(c for c in clusters if c.tickets[0].pk in {t.pk for t in planted["chinese"]})
    assert chinese.suggested_title == "采购订单保存超时"  # the most similar to the others
    assert {"采购订单", "保存", "超时"} <= set(chinese.terms)
    assert clusters[0] is chinese  # largest first
    # tickets are in creation order
    assert [t.pk for t in chinese.tickets] == [t.pk for t in reversed(planted["chinese"])]


def test_min_incidents_and_days(cast, planted):
    clusters = services.candidates(days=30, min_incidents=4, now=NOW)
    assert [(c.module, c.size) for c in clusters] == [("purchasing", 5)]
    # the last 2 days: Chinese titles of 1 and 2 days ago in purchasing, three in sales;
    # the English ones (2, 3, 4 days ago) leave one, too few
    short = services.candidates(days=2, min_incidents=2, now=NOW)
    assert sorted((c.module, sorted(t.title for t in c.tickets)) for c in short) == [
        ("purchasing", sorted(CHINESE[:2])),
        ("sales", sorted(CHINESE[:3])),
    ]


def test_candidates_are_scoped_to_what_the_user_sees(cast, planted):
    seen_by_vera = services.candidates(days=30, min_incidents=3, now=NOW, user=cast.vera)
    assert all(t.organization_id == cast.acme.pk for c in seen_by_vera for t in c.tickets)
    assert len(seen_by_vera) == 2  # the Chinese cluster and the sales one; English is Globex


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days must be a whole number from 1 to 366"),
        ({"days": "30"}, "days must be a whole number"),
        ({"days": 400}, "days must be a whole number"),
        ({"min_incidents": 1}, "min_incidents must be a whole number from 2 to 1000"),
        ({"min_incidents": True}, "min_incidents must be"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    with pytest.raises(ActionError, match=message):
        services.candidates(**kwargs)
