"""Nobody finds through search what they could not open: not another customer's
documents or tickets, not internal documents or notes — not in results, suggestions,
similar articles, counts or typo corrections."""

from __future__ import annotations

import pytest

from erpcare.search import services
from erpcare.search.tests.conftest import ids
from erpcare.tickets import services as tickets


def kinds(results):
    return [(hit.kind, hit.object_id) for hit in results.hits]


@pytest.fixture
def world(cast, docs):
    """An Acme ticket and a Globex ticket with the same words, each with a public reply
    and an internal note; the vocabulary refreshed after them."""
    acme = tickets.create_ticket(
        cast.alice, title="凭证保存失败 ORA-00060", description="月结前保存记账凭证时报死锁。"
    )
    tickets.add_comment(cast.lina, acme, body="请提供 trace 文件，我们在查 zanzibarite 接口。")
    tickets.add_comment(cast.lina, acme, body="INTERNAL secretnote quokkaplan", internal=True)
    globex = tickets.create_ticket(
        cast.bob, title="凭证保存失败 ORA-00060", description="月结前保存记账凭证时报死锁。"
    )
    tickets.add_comment(cast.lina, globex, body="Globex reply about the voucher.")
    services.refresh_vocabulary()
    return {"acme": acme, "globex": globex}


def test_customer_sees_public_and_own_documents_only(cast, world):
    alice = kinds(services.search(cast.alice, "死锁", kinds=["article"]))
    bob = kinds(services.search(cast.bob, "死锁", kinds=["article"]))
    assert ("article", 11) in alice  # Acme's own article
    assert ("article", 11) not in bob
    assert ("article", 16) not in alice + bob  # internal
    assert 12 not in ids(services.search(cast.alice, "采购订单 审批"))  # Globex's article
    assert 12 in ids(services.search(cast.bob, "采购订单 审批"))


def test_customer_sees_only_own_tickets(cast, world):
    alice = services.search(cast.alice, "凭证保存失败", kinds=["ticket"])
    bob = services.search(cast.bob, "凭证保存失败", kinds=["ticket"])
    assert ids(alice) == [world["acme"].pk]
    assert ids(bob) == [world["globex"].pk]
    assert alice.counts == {"ticket": 1}
    assert alice.total == 1


def test_counts_respect_the_scope(cast, world):
    staff = services.search(cast.adam, "ORA-00060")
    customer = services.search(cast.bob, "ORA-00060")
    assert staff.counts == {"article": 2, "ticket": 2}
    assert customer.counts == {"ticket": 1}
    assert customer.total == 1
    assert not customer.has_next


def test_internal_notes_are_never_indexed(cast, world):
    for user in (cast.adam, cast.lina, cast.alice):
        assert services.search(user, "quokkaplan").hits == []
        assert services.search(user, "secretnote").hits == []
    assert ids(services.search(cast.alice, "zanzibarite")) == [world["acme"].pk]


def test_agent_sees_tickets_of_customers_his_teams_serve(cast, world):
    vera = ids(services.search(cast.vera, "凭证保存失败", kinds=["ticket"]))  # serves Acme only
    lina = ids(services.search(cast.lina, "凭证保存失败", kinds=["ticket"]))  # serves everyone
    assert vera == [world["acme"].pk]
    assert sorted(lina) == sorted([world["acme"].pk, world["globex"].pk])
    assert services.search(cast.vera, "凭证保存失败", kinds=["ticket"]).counts == {"ticket": 1}
    # The auditor reads everything, the agent still every article.
    assert len(ids(services.search(cast.audra, "凭证保存失败", kinds=["ticket"]))) == 2
    assert 16 in ids(services.search(cast.vera, "deadlock", kinds=["article"]))


def test_suggestions_are_scoped(cast, world):
    assert ids(services.suggest(cast.alice, "接口中间表")) == [11]
    assert ids(services.suggest(cast.bob, "接口中间表")) == []
    assert ids(services.suggest(cast.bob, "ORA-00060 dead")) == []  # 16 is internal
    assert ids(services.suggest(cast.lina, "ORA-00060 dead"))[:1] == [16]
    assert all(hit.kind == "article" for hit in services.suggest(cast.adam, "凭证保存失败"))


def test_similar_articles_are_scoped(cast, world):
    text = "SAP 接口在批量过账时出现 ORA-00060 死锁"
    assert 11 in ids(services.similar_articles(cast.alice, text))
    assert 11 not in ids(services.similar_articles(cast.bob, text))
    assert 16 not in ids(services.similar_articles(cast.bob, text))
    assert 16 in ids(services.similar_articles(cast.lina, text))


def test_a_typo_correction_never_reveals_a_word_the_user_cannot_see(cast, world):
    mine = services.search(cast.alice, "zanzibarete")
    assert mine.corrected_query == "zanzibarite"
    assert ids(mine) == [world["acme"].pk]
    theirs = services.search(cast.bob, "zanzibarete")
    assert theirs.hits == []
    assert theirs.corrected_query is None
    assert services.search(cast.bob, "zanzibarete").total == 0


def test_inactive_users_find_nothing(cast, world):
    cast.alice.is_active = False
    cast.alice.save(update_fields=["is_active"])
    assert services.search(cast.alice, "凭证").hits == []
    assert services.suggest(cast.alice, "凭证") == []
    assert services.similar_articles(cast.alice, "凭证保存失败") == []


def test_a_customer_without_organization_finds_nothing(cast, world):
    cast.alice.organization = None
    assert services.search(cast.alice, "凭证").hits == []
