"""Publishing a problem's analysis: a draft KB case linked to the incidents, which then
goes through the KB workflow like any article."""

from __future__ import annotations

import pytest

from erpcare.core.errors import ActionError, Conflict
from erpcare.kb import services as kb
from erpcare.kb.models import ArticleTicketLink
from erpcare.problems import services
from erpcare.problems.tests.helpers import audit_actions, change, incident, refused


@pytest.fixture
def analysed(cast):
    problem = services.create_problem(
        cast.eric, title="采购订单保存超时", description="保存采购订单时经常超时。",
        module="purchasing",
    )  # fmt: skip
    services.link_incidents(
        cast.eric,
        problem,
        [incident(cast), incident(cast, "保存采购订单时报错超时", organization=cast.globex)],
    )
    return problem


@pytest.mark.django_db
def test_publishing_needs_the_analysis(cast, analysed):
    with refused(ActionError, "Record the root cause before publishing"):
        services.publish_to_kb(cast.eric, analysed)
    services.record_rca(cast.eric, analysed, root_cause="升级脚本删除了 order_id 索引。")
    with refused(ActionError, "Write the workaround or the resolution"):
        services.publish_to_kb(cast.eric, analysed)


@pytest.mark.django_db
def test_the_analysis_becomes_a_draft_case_linked_to_the_incidents(cast, analysed):
    services.record_rca(
        cast.eric, analysed, root_cause="升级脚本删除了 order_id 索引。", fishbone=["code"]
    )
    services.mark_known_error(cast.eric, analysed, workaround="每次保存不超过 50 行。")
    fix = change(cast)
    services.resolve_problem(cast.eric, analysed, resolution="重建索引。", change_number=fix.number)
    article = services.publish_to_kb(cast.eric, analysed)
    analysed.refresh_from_db()
    assert analysed.article == article
    assert (article.type, article.status, article.visibility) == ("case", "draft", "internal")
    assert (article.title, article.module, article.language) == (
        "采购订单保存超时",
        "purchasing",
        "zh-hans",
    )
    numbers = [link.ticket.number for link in analysed.incidents.select_related("ticket")]
    assert article.symptom.startswith("保存采购订单时经常超时。")
    assert all(number in article.symptom for number in numbers)
    assert article.cause.startswith("升级脚本删除了 order_id 索引。")
    assert "Code" in article.cause
    assert "重建索引。" in article.resolution
    assert "每次保存不超过 50 行。" in article.resolution
    assert fix.number in article.resolution
    assert article.versions.get().note == f"Created from {analysed.number}"
    links = ArticleTicketLink.objects.filter(article=article)
    assert sorted(link.ticket.number for link in links) == sorted(numbers)
    assert {link.kind for link in links} == {"related"}
    assert audit_actions(analysed)[-1] == "problem.published"
    with refused(Conflict, f"already has the article {article.number}"):
        services.publish_to_kb(cast.eric, analysed)
    # the KB workflow takes over: review, then publication by a reviewer
    kb.submit_for_review(cast.eric, article)
    assert kb.publish(cast.mona, article).status == "published"


@pytest.mark.django_db
def test_only_the_incidents_the_author_sees_are_linked(cast, analysed):
    services.record_rca(cast.eric, analysed, root_cause="Missing index.")
    services.mark_known_error(cast.eric, analysed, workaround="Save in batches.")
    article = services.publish_to_kb(cast.vera, analysed)  # vera serves Acme only
    assert [link.ticket.organization for link in ArticleTicketLink.objects.all()] == [cast.acme]
    globex_ticket = analysed.incidents.get(ticket__organization=cast.globex).ticket
    assert globex_ticket.number not in article.symptom
    assert globex_ticket.title not in article.symptom
