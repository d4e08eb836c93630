"""Searching: ``search``, ``suggest`` and ``similar_articles``.

Every path goes through the same three gates: the SQL pre-filter (kind, audience, the
customer's organization, each provider's optional pre-filter), then the provider's
``visible_ids`` for the hits found (the final authorisation), and only then counting,
paging, snippets and typo messages — so nothing is counted or hinted at that the user
could not open.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.search import registry
from erpcare.search.analysis import (
    PREFIX,
    Group,
    highlight,
    index_terms,
    parse_query,
    surface,
)
from erpcare.search.backends import Filters, get_backend
from erpcare.search.documents import Document
from erpcare.search.models import SearchEntry
from erpcare.search.ranking import RESCORE, Ranked, first_pass, second_pass
from erpcare.search.services import synonyms, vocabulary
from erpcare.search.services.queries import record_query

CANDIDATES = 200  # from the backend per query; the final ranking reorders these
MIN_ALL_WORDS = 10  # fewer hits matching every word: also take hits matching some
MAX_LIMIT = 100
SNIPPET_CHARS = 200
SIMILAR_TERMS = 12  # the words of a ticket that pick its similar articles
SUGGEST_RESCORE = 30  # suggestions run on every keystroke: re-score fewer
ARTICLE = "article"


@dataclass
class Hit:
    kind: str
    object_id: int
    title: str
    title_html: str
    snippet_html: str
    score: float
    module: str
    doc_type: str
    product: str
    updated_at: datetime


@dataclass
class SearchResults:
    hits: list[Hit] = field(default_factory=list)
    has_next: bool = False
    corrected_query: str | None = None  # "showing results for …"
    terms: list[str] = field(default_factory=list)  # what was looked for, for highlighting
    total: int = 0  # visible results (at most CANDIDATES)
    counts: dict[str, int] = field(default_factory=dict)  # visible results per kind


# ---------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------


def _may_search(user: User | Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def scope(user: User, kinds: Iterable[str] | None) -> Filters | None:
    """The SQL pre-filter for ``user``, or None when the user may find nothing."""
    if not _may_search(user):
        return None
    registered = registry.kinds()
    wanted = registered if kinds is None else [k for k in dict.fromkeys(kinds) if k in registered]
    if not wanted:
        return None
    filters = Filters(kinds=wanted)
    if user.is_customer:
        if not user.organization_id:
            return None
        filters.customer = True
        filters.customer_organization_id = user.organization_id
    elif not user.is_staff:
        return None
    for kind in wanted:
        prefilter = getattr(registry.provider(kind), "prefilter", None)
        queryset = prefilter(user) if prefilter is not None else None
        if queryset is not None:
            try:
                sql, params = queryset.query.sql_with_params()
            except EmptyResultSet:
                sql, params = "", ()  # nothing of this kind
            filters.restrictions[kind] = (sql, tuple(params))
    return filters


def _visible(user: User, entries: Sequence[SearchEntry]) -> list[SearchEntry]:
    """The provider's final word on each hit."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        by_kind[entry.kind].append(entry.object_id)
    allowed: set[tuple[str, int]] = set()
    for kind, ids in by_kind.items():
        if kind not in registry.kinds():
            continue
        allowed.update((kind, i) for i in registry.provider(kind).visible_ids(user, ids))
    return [entry for entry in entries if (entry.kind, entry.object_id) in allowed]


# ---------------------------------------------------------------------------
# Candidates
# ---------------------------------------------------------------------------


def _find(
    groups: list[Group], filters: Filters, *, correct: bool
) -> tuple[list[SearchEntry], set[int]]:
    """(candidates, ids of those matching every word).

    Every word (or a synonym) first; when that finds fewer than MIN_ALL_WORDS, Latin
    words found nowhere get a typo correction, then Chinese compounds may match by
    their sub-words, then any word may match. The first step's hits are ``all_words``.
    """
    backend = get_backend()

    def more(found: list[SearchEntry], **how: Any) -> None:
        known = {entry.pk for entry in found}
        for entry in backend.candidates(groups, filters, limit=CANDIDATES, **how):
            if entry.pk not in known:
                found.append(entry)

    found = backend.candidates(groups, filters, match_all=True, limit=CANDIDATES)
    if len(found) < MIN_ALL_WORDS and correct and _correct_typos(groups):
        found = backend.candidates(groups, filters, match_all=True, limit=CANDIDATES)
    all_words = {entry.pk for entry in found}
    if len(found) < MIN_ALL_WORDS and any(group.weak for group in groups):
        more(found, match_all=True, weak=True)
    if len(found) < MIN_ALL_WORDS and len(groups) > 1:
        more(found, match_all=False, weak=True)
    return found, all_words


def _correct_typos(groups: list[Group]) -> bool:
    """Give each Latin word that occurs nowhere in the index its likeliest correction
    as an alternative; True when one was found."""
    suspects = [
        group
        for group in groups
        if group.is_latin and len(group.primary) == 1 and vocabulary.correctable(group.primary[0])
    ]
    if not suspects:
        return False
    single = {alt[0] for g in suspects for alt in g.alternatives if len(alt) == 1}
    present = get_backend().present_terms(t for t in single if not t.endswith(PREFIX))
    changed = False
    for group in suspects:
        if any(len(alt) == 1 and alt[0] in present for alt in group.alternatives):
            continue
        corrected = vocabulary.correction(group.primary[0])
        if corrected is not None:
            group.corrected = corrected
            group.add((corrected,))
            changed = True
    return changed


def _corrected_query(groups: list[Group], entries: Sequence[SearchEntry]) -> str | None:
    """ "Showing results for …", naming a correction only if a hit the user may see
    contains it (a correction must not reveal a word of a document they cannot open)."""
    confirmed = {
        id(group)
        for group in groups
        if group.corrected
        and entries
        and get_backend().entries_match([e.pk for e in entries], (group.corrected,))
    }
    if not confirmed:
        return None
    words = []
    for group in groups:
        if id(group) in confirmed and group.corrected:
            words.append(surface(group.raw, group.corrected))
        else:
            words.append(group.raw)
    return " ".join(word for word in words if word)


def _terms(groups: Sequence[Group]) -> list[str]:
    return list(dict.fromkeys(term for group in groups for term in group.terms()))


def _idf(groups: Sequence[Group]) -> dict[str, float]:
    terms = {t.rstrip(PREFIX) for g in groups for t in g.terms()}
    docs = vocabulary.doc_counts([*terms, vocabulary.TOTAL])
    total = docs.pop(vocabulary.TOTAL, 0)
    return {term: vocabulary.idf(docs.get(term, 0), total) for term in terms}


def _rank(
    user: User,
    found: Sequence[SearchEntry],
    groups: Sequence[Group],
    *,
    all_words: set[int],
    rescore: int = RESCORE,
) -> list[Ranked]:
    """The visible candidates, best first: the first pass over all, the second over
    the leaders (see ``ranking``)."""
    now = clock.now()
    ranked = first_pass(_visible(user, found), groups, all_words=all_words, now=now)
    head, tail = ranked[:rescore], ranked[rescore:]
    if not head:
        return []
    bodies = dict(
        SearchEntry.objects.filter(pk__in=[r.entry.pk for r in head]).values_list(
            "pk", "body_terms"
        )
    )
    return second_pass(head, groups, bodies=bodies, idf=_idf(groups), now=now) + tail


# ---------------------------------------------------------------------------
# Hits
# ---------------------------------------------------------------------------


def _documents(entries: Sequence[SearchEntry]) -> dict[tuple[str, int], Document]:
    by_kind: dict[str, list[int]] = defaultdict(list)
    for entry in entries:
        by_kind[entry.kind].append(entry.object_id)
    documents: dict[tuple[str, int], Document] = {}
    for kind, ids in by_kind.items():
        for document in registry.provider(kind).documents(ids):
            documents[(kind, document.object_id)] = document
    return documents


def _hits(ranked: Sequence[Ranked], terms: Sequence[str], *, snippets: bool = True) -> list[Hit]:
    documents = _documents([r.entry for r in ranked]) if snippets else {}
    hits = []
    for item in ranked:
        entry = item.entry
        document = documents.get((entry.kind, entry.object_id))
        title = document.title if document is not None else entry.title
        body = ""
        if document is not None:
            body = "\n".join(part for part in (document.body, document.keywords) if part)
        hits.append(
            Hit(
                kind=entry.kind,
                object_id=entry.object_id,
                title=title,
                title_html=highlight(title, terms, max_len=300),
                snippet_html=highlight(body, terms, max_len=SNIPPET_CHARS) if body else "",
                score=item.score,
                module=entry.module,
                doc_type=entry.doc_type,
                product=entry.product,
                updated_at=entry.updated_at,
            )
        )
    return hits


# ---------------------------------------------------------------------------
# The services
# ---------------------------------------------------------------------------


def search(
    user: User,
    query: str,
    *,
    kinds: Iterable[str] | None = None,
    module: str | None = None,
    doc_type: str | None = None,
    product: str | None = None,
    limit: int = 20,
    offset: int = 0,
    record: bool = False,
) -> SearchResults:
    """Documents matching ``query`` that ``user`` may see, best first (at most
    CANDIDATES in all). Never raises on any query text."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    kinds = list(kinds) if kinds is not None else None
    results = SearchResults()
    filters = scope(user, kinds)
    groups = synonyms.expand(parse_query(query)) if filters is not None else []
    if filters is not None and groups:
        filters.module, filters.doc_type, filters.product = module, doc_type, product
        found, all_words = _find(groups, filters, correct=True)
        ranked = _rank(user, found, groups, all_words=all_words)[:CANDIDATES]
        results.terms = _terms(groups)
        results.total = len(ranked)
        results.counts = dict(Counter(r.entry.kind for r in ranked))
        results.has_next = len(ranked) > offset + limit
        results.hits = _hits(ranked[offset : offset + limit], results.terms)
        results.corrected_query = _corrected_query(groups, [r.entry for r in ranked])
    if record and offset == 0 and _may_search(user) and (query or "").strip():
        record_query(user, query, kinds=kinds, result_count=results.total)
    return results


def suggest(user: User, text: str, limit: int = 5) -> list[Hit]:
    """Articles for a title being typed: every word must match, the last one as a
    prefix. No typo correction, no snippets: this runs on every keystroke."""
    limit = max(1, min(int(limit), 20))
    filters = scope(user, [ARTICLE])
    if filters is None:
        return []
    groups = synonyms.expand(parse_query(text, prefix_last=True))
    if not groups:
        return []
    found = get_backend().candidates(groups, filters, match_all=True, limit=CANDIDATES)
    ranked = _rank(user, found, groups, all_words={e.pk for e in found}, rescore=SUGGEST_RESCORE)
    return _hits(ranked[:limit], _terms(groups), snippets=False)


def similar_articles(user: User, text: str, limit: int = 5) -> list[Hit]:
    """Articles ranked by similarity to ``text`` (a ticket's title and description):
    its SIMILAR_TERMS most telling words (frequent in the text, rare in the index),
    any of which may match."""
    limit = max(1, min(int(limit), 20))
    filters = scope(user, [ARTICLE])
    if filters is None:
        return []
    counts = Counter(
        term for term in index_terms((text or "")[:20_000]) if len(term) > 1 and not term.isdigit()
    )
    if not counts:
        return []
    docs = vocabulary.doc_counts(counts)
    total = max(vocabulary.total_docs(), 1)
    weighted = sorted(
        counts,
        key=lambda t: (-((1 + counts[t]) ** 0.5) * vocabulary.idf(docs.get(t, 0), total), t),
    )
    groups = [Group(primary=(term,)) for term in weighted[:SIMILAR_TERMS]]
    found = get_backend().candidates(groups, filters, match_all=False, limit=CANDIDATES)
    ranked = _rank(user, found, groups, all_words=set())
    return _hits(ranked[:limit], _terms(groups))
