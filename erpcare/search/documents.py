"""What an app hands to the search service: one ``Document`` per searchable object.

The search app knows nothing about articles or tickets. Each app registers a
``Provider`` (see ``registry``) that turns its objects into documents and answers the
final "may this user see these objects?" question, so scoping stays with the app that
owns the data and the search index is only ever a pre-filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class Audience:
    """Who may find a document (the index pre-filters on it; the provider re-checks)."""

    PUBLIC = "public"  # customers of every organization and all staff
    INTERNAL = "internal"  # support staff only
    CUSTOMER = "customer"  # staff and the users of ``organization_id``


@dataclass(frozen=True)
class Document:
    kind: str  # the provider's kind: "article", "ticket"
    object_id: int
    title: str
    body: str  # plain text or Markdown source; analysed by search.analysis
    audience: str  # an Audience value
    organization_id: int | None  # for CUSTOMER audience and for tickets
    updated_at: datetime
    module: str = ""  # ErpModule code
    doc_type: str = ""  # article type (faq, sop, case, upgrade) or ticket type
    product: str = ""  # product and version label, e.g. "Tryton 7.0"
    keywords: str = ""  # tags, error codes: indexed with the body
    helpfulness: float = 0.5  # 0..1, smoothed share of "helpful" votes; boosts ranking
