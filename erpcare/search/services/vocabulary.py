"""The vocabulary snapshot (``SearchTerm``): typo correction and term weights.

The snapshot is rebuilt from the index (FTS5's ``fts5vocab`` on SQLite, ``ts_stat`` on
PostgreSQL) after every reindex and by the daily job, not on every write: counting per
term on every ticket action would make common terms hot rows. Between refreshes a new
word is simply not offered as a correction; whether a query word occurs at all is always
asked of the live index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.db import transaction
from django.db.models.functions import Length
from rapidfuzz.distance import OSA

from erpcare.core.bulk import insert_rows
from erpcare.search.backends import get_backend
from erpcare.search.models import SearchEntry, SearchTerm

TOTAL = "#entries"  # the row holding the number of entries (never a term: terms are alnum)
MIN_CORRECTABLE = 4  # shorter words have too many neighbours one edit away
MAX_CANDIDATES = 20_000


@transaction.atomic
def refresh() -> int:
    """Rebuild the snapshot from the index; returns the number of terms.

    Words only: terms with digits (numbers, codes, ticket numbers) are most of a large
    index's vocabulary, are never corrected, and count as rare when weighting.
    """
    rows = [
        SearchTerm(term=term, docs=docs)
        for term, docs in get_backend().vocabulary()
        if 0 < len(term) <= 64 and not any(char.isdigit() for char in term)
    ]
    rows.append(SearchTerm(term=TOTAL, docs=SearchEntry.objects.count()))
    SearchTerm.objects.all().delete()
    for start in range(0, len(rows), 5000):
        insert_rows(SearchTerm, ["term", "docs"], rows[start : start + 5000])
    return len(rows) - 1


def doc_counts(terms: Iterable[str]) -> dict[str, int]:
    wanted = list(dict.fromkeys(terms))
    return dict(SearchTerm.objects.filter(term__in=wanted).values_list("term", "docs"))


def total_docs() -> int:
    row = SearchTerm.objects.filter(term=TOTAL).values_list("docs", flat=True).first()
    return int(row or 0)


def idf(docs: int, total: int) -> float:
    return math.log(1 + (total + 1) / (docs + 1))


def correctable(term: str) -> bool:
    return len(term) >= MIN_CORRECTABLE and term.isascii() and term.isalpha()


def correction(term: str) -> str | None:
    """The most frequent known term one edit away (two for long words), or None.

    Candidates share the first letter (a typo there is rare and the index range stays
    small); an adjacent swap counts as one edit (optimal string alignment).
    """
    if not correctable(term):
        return None
    limit = 1 if len(term) <= 5 else 2
    first = term[0]
    candidates = (
        SearchTerm.objects.filter(term__gte=first, term__lt=chr(ord(first) + 1))
        .annotate(length=Length("term"))
        .filter(length__gte=len(term) - limit, length__lte=len(term) + limit)
        .exclude(term=term)
        .values_list("term", "docs")[:MAX_CANDIDATES]
    )
    best: tuple[int, int, str] | None = None
    for candidate, docs in candidates:
        distance = OSA.distance(term, candidate, score_cutoff=limit)
        if distance > limit:
            continue
        key = (distance, -docs, candidate)
        if best is None or key < best:
            best = key
    return best[2] if best else None
