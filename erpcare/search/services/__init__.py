"""The search service. Apps call ``index``/``remove`` in their write transactions; views
and the API call ``search``, ``suggest`` and ``similar_articles``."""

from erpcare.search.services.indexing import entry_for, index, reindex, remove
from erpcare.search.services.queries import Gap, record_query, zero_result_queries
from erpcare.search.services.searching import (
    Hit,
    SearchResults,
    scope,
    search,
    similar_articles,
    suggest,
)
from erpcare.search.services.synonyms import (
    can_manage_search,
    create_synonym,
    delete_synonym,
    update_synonym,
)
from erpcare.search.services.vocabulary import refresh as refresh_vocabulary

__all__ = [
    "Gap",
    "Hit",
    "SearchResults",
    "can_manage_search",
    "create_synonym",
    "delete_synonym",
    "entry_for",
    "index",
    "record_query",
    "refresh_vocabulary",
    "reindex",
    "remove",
    "scope",
    "search",
    "similar_articles",
    "suggest",
    "update_synonym",
    "zero_result_queries",
]
