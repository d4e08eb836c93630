"""Knowledge-base services: the only code that writes articles, and the one scoping rule
for reading them.

Each write checks the actor (``rules``), validates its input (``ActionError`` subclasses
with translated messages; nothing is written when one is raised), writes in one
transaction with an audit entry and, when the searchable content changed, re-indexes
the article through ``erpcare.search.services.index`` in that same transaction.

Modules: ``access`` (visible_articles, get_article_for, get_attachment_for), ``rules``
(who may do what), ``articles`` (create, edit, workflow, from a ticket or a text),
``versions`` (history and diff), ``attachments``, ``links`` (articles on tickets),
``usage`` (views, feedback, deflections, searches, stale articles, reports).
"""

from erpcare.kb.services.access import (
    attachments_of,
    get_article_for,
    get_attachment_for,
    visible_articles,
)
from erpcare.kb.services.articles import (
    archive,
    create_article,
    create_article_from_text,
    create_article_from_ticket,
    default_review_by,
    mark_reviewed,
    publish,
    restore,
    return_to_draft,
    submit_for_review,
    update_article,
)
from erpcare.kb.services.attachments import add_attachment, remove_attachment
from erpcare.kb.services.links import (
    link_article,
    links_of_article,
    links_of_ticket,
    unlink_article,
)
from erpcare.kb.services.usage import (
    record_deflection,
    record_feedback,
    record_search,
    record_view,
    stale_articles,
    usage_summary,
)
from erpcare.kb.services.versions import article_diff, article_versions, diff, get_version

__all__ = [
    "add_attachment",
    "archive",
    "article_diff",
    "article_versions",
    "attachments_of",
    "create_article",
    "create_article_from_text",
    "create_article_from_ticket",
    "default_review_by",
    "diff",
    "get_article_for",
    "get_attachment_for",
    "get_version",
    "link_article",
    "links_of_article",
    "links_of_ticket",
    "mark_reviewed",
    "publish",
    "record_deflection",
    "record_feedback",
    "record_search",
    "record_view",
    "remove_attachment",
    "restore",
    "return_to_draft",
    "stale_articles",
    "submit_for_review",
    "unlink_article",
    "update_article",
    "usage_summary",
    "visible_articles",
]
