"""Writing and the workflow draft → review → published → archived, per role.

Agents of every tier write and edit drafts; L2/L3 engineers may also correct published
articles; managers and admins review, publish, return with a note, archive and restore;
customers and auditors write nothing. A refused action changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, Conflict, NotAllowed, NotFound
from erpcare.kb import services
from erpcare.kb.models import Article, ArticleStatus, ArticleVersion
from erpcare.kb.tests.conftest import published, write
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

db_state, refused = state_checks(Article, ArticleVersion, AuditEntry)


def test_an_agent_writes_a_draft_with_a_number_and_version_1(cast):
    article = write(cast.lina, "Reset a locked user", module="platform", product="SAP S/4HANA")
    assert article.number == "KB-0001"
    assert article.status == ArticleStatus.DRAFT
    assert article.owner == cast.lina
    assert article.current_version == 1
    assert article.language == "en"
    assert article.visibility == "internal"
    assert list(article.versions.values_list("number", flat=True)) == [1]
    entry = AuditEntry.objects.get(action="kb.article.created")
    assert entry.actor == cast.lina
    assert entry.target_id == str(article.pk)
    assert entry.data["number"] == "KB-0001"


def test_numbers_run_on_and_are_never_reused(cast):
    first = write(cast.lina, "one")
    second = write(cast.eric, "two")
    services.archive(cast.mona, first)
    third = write(cast.xu, "three")
    assert [first.number, second.number, third.number] == ["KB-0001", "KB-0002", "KB-0003"]


def test_chinese_text_makes_a_chinese_article(cast):
    assert write(cast.lina, "月末结账检查清单").language == "zh-hans"
    assert write(cast.lina, "Checklist", language="zh-hans").language == "zh-hans"


@pytest.mark.parametrize("who", ["alice", "bob", "audra"])
def test_customers_and_auditors_cannot_write(cast, who):
    with refused(NotAllowed, "."):
        write(getattr(cast, who), "Mine")


def test_the_full_workflow(cast):
    article = write(cast.lina, "How to post a reversal")
    services.submit_for_review(cast.lina, article)
    services.return_to_draft(cast.mona, article, note="Add the T-code, please.")
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT
    assert article.review_note == "Add the T-code, please."
    services.update_article(cast.lina, article, body="Use FB08.", note="T-code added")
    services.submit_for_review(cast.lina, article)
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 3, 10, 10)), tick=False):
        services.publish(cast.mona, article)
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    assert article.published_at == timezone.make_aware(timezone.datetime(2026, 3, 10, 10))
    assert article.review_by == date(2027, 3, 10)
    assert article.review_note == ""
    services.archive(cast.adam, article, note="replaced by KB-0002")
    services.restore(cast.adam, article)
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT
    actions = list(
        AuditEntry.objects.filter(target_type="kb.article", target_id=str(article.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "kb.article.created", "kb.article.submitted", "kb.article.returned",
        "kb.article.updated", "kb.article.submitted", "kb.article.published",
        "kb.article.archived", "kb.article.restored",
    ]  # fmt: skip


def test_publish_with_a_chosen_review_date(cast):
    article = write(cast.lina, "x")
    review_by = timezone.localdate() + timedelta(days=30)
    services.publish(cast.mona, article, review_by=review_by)
    article.refresh_from_db()
    assert article.review_by == review_by


@pytest.mark.parametrize("days", [0, -1, -400])
def test_a_review_date_not_in_the_future_is_refused(cast, days):
    article = write(cast.lina, "x")
    with refused(ActionError, "review date must be in the future"):
        services.publish(cast.mona, article, review_by=timezone.localdate() + timedelta(days=days))


@pytest.mark.parametrize("who", ["lina", "eric", "xu", "alice", "audra"])
def test_only_managers_and_admins_publish_archive_restore(cast, who):
    user = getattr(cast, who)
    article = write(cast.lina, "x")
    services.submit_for_review(cast.lina, article)
    with refused(NotAllowed, "."):
        services.publish(user, article)
    with refused(NotAllowed, "."):
        services.archive(user, article)
    done = published(cast, "y")
    services.archive(cast.mona, done)
    with refused(NotAllowed, "."):
        services.restore(user, done)


def test_a_reviewer_returning_an_article_must_say_why(cast):
    article = write(cast.lina, "x")
    services.submit_for_review(cast.lina, article)
    with refused(ActionError, "a note is required"):
        services.return_to_draft(cast.mona, article)
    with refused(NotAllowed, "Only reviewers"):
        services.return_to_draft(cast.eric, article, note="no")


def test_the_owner_may_withdraw_a_submission(cast):
    article = write(cast.lina, "x")
    services.submit_for_review(cast.lina, article)
    services.return_to_draft(cast.lina, article)
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


@pytest.mark.parametrize(
    ("state", "action", "error"),
    [
        ("review", "submit", "cannot be submitted"),
        ("published", "submit", "cannot be submitted"),
        ("published", "publish", "cannot be published"),
        ("archived", "publish", "cannot be published"),
        ("draft", "return", "cannot be returned"),
        ("archived", "archive", "cannot be archived"),
        ("draft", "restore", "cannot be restored"),
        ("published", "restore", "cannot be restored"),
    ],
)
def test_moves_the_workflow_does_not_have_are_conflicts(cast, library, state, action, error):
    article = {"review": library.review, "published": library.public,
               "archived": library.archived, "draft": library.draft}[state]  # fmt: skip
    calls = {
        "submit": lambda: services.submit_for_review(cast.mona, article),
        "publish": lambda: services.publish(cast.mona, article),
        "return": lambda: services.return_to_draft(cast.mona, article, note="n"),
        "archive": lambda: services.archive(cast.mona, article),
        "restore": lambda: services.restore(cast.mona, article),
    }
    with refused(Conflict, error):
        calls[action]()


def test_an_incomplete_article_cannot_go_to_review(cast):
    empty = services.create_article(cast.lina, title="Nothing yet")
    with refused(ActionError, "Write the article"):
        services.submit_for_review(cast.lina, empty)
    case = services.create_article(cast.lina, title="Case", type="case", symptom="It fails")
    with refused(ActionError, "symptom and a resolution"):
        services.publish(cast.mona, case)


# --- editing rights per state -------------------------------------------------------------


@pytest.mark.parametrize("who", ["lina", "vera", "eric", "xu", "mona", "adam"])
def test_every_staff_writer_edits_any_draft(cast, who):
    article = write(cast.lina, "x")
    services.update_article(getattr(cast, who), article, body=f"edited by {who}")
    article.refresh_from_db()
    assert article.body == f"edited by {who}"
    assert article.current_version == 2


@pytest.mark.parametrize(("who", "allowed"), [
    ("lina", False), ("vera", False), ("eric", True), ("xu", True), ("mona", True), ("adam", True),
])  # fmt: skip
def test_published_articles_are_corrected_by_l2_l3_and_reviewers(cast, library, who, allowed):
    user = getattr(cast, who)
    if allowed:
        services.update_article(user, library.public, body="corrected")
        library.public.refresh_from_db()
        assert library.public.status == ArticleStatus.PUBLISHED
        assert library.public.current_version == 2
    else:
        with refused(NotAllowed, "Published articles are corrected"):
            services.update_article(user, library.public, body="corrected")


def test_in_review_only_reviewers_edit_and_archived_nobody(cast, library):
    with refused(NotAllowed, "in review"):
        services.update_article(cast.lina, library.review, body="sneaky")
    services.update_article(cast.mona, library.review, body="typo fixed")
    with refused(NotAllowed, "restore it first"):
        services.update_article(cast.mona, library.archived, body="x")


def test_only_reviewers_change_who_sees_a_published_article(cast, library):
    with refused(NotAllowed, "change who can see"):
        services.update_article(cast.eric, library.internal, visibility="public")
    services.update_article(cast.mona, library.internal, visibility="public")
    library.internal.refresh_from_db()
    assert library.internal.visibility == "public"


@pytest.mark.parametrize("who", ["alice", "bob", "audra"])
def test_customers_and_auditors_change_nothing(cast, library, who):
    user = getattr(cast, who)
    for call in (
        lambda: services.update_article(user, library.draft, body="x"),
        lambda: services.submit_for_review(user, library.draft),
        lambda: services.return_to_draft(user, library.review, note="x"),
        lambda: services.archive(user, library.public),
        lambda: services.restore(user, library.archived),
        lambda: services.mark_reviewed(user, library.public),
    ):
        with refused(NotAllowed, "."):
            call()


def test_saving_without_a_change_makes_no_version(cast, library):
    before = db_state()
    services.update_article(cast.lina, library.draft, title=library.draft.title)
    assert db_state() == before


def test_a_stale_editor_gets_a_conflict_not_a_silent_overwrite(cast):
    article = write(cast.lina, "x")
    services.update_article(cast.eric, article, body="eric's words", expected_version=1)
    with refused(Conflict, "changed by someone else"):
        services.update_article(cast.lina, article, body="lina's words", expected_version=1)


def test_customer_visibility_follows_the_organization(cast):
    article = write(cast.lina, "x", visibility="customer", organization=cast.acme)
    services.update_article(cast.lina, article, visibility="public")
    article.refresh_from_db()
    assert (article.visibility, article.organization) == ("public", None)
    services.update_article(cast.lina, article, visibility="customer", organization=cast.globex)
    article.refresh_from_db()
    assert (article.visibility, article.organization) == ("customer", cast.globex)


def test_an_agent_cannot_write_for_a_customer_their_teams_do_not_serve(cast):
    with refused(NotFound, "Customer not found"):
        write(cast.vera, "x", visibility="customer", organization=cast.globex)
    assert write(cast.vera, "y", visibility="customer", organization=cast.acme).pk


def test_mark_reviewed_pushes_the_review_date(cast, library):
    services.mark_reviewed(cast.mona, library.public, review_by=date.today() + timedelta(days=90))
    library.public.refresh_from_db()
    assert library.public.review_by == date.today() + timedelta(days=90)
    with refused(Conflict, "cannot be marked as reviewed"):
        services.mark_reviewed(cast.mona, library.draft)
