"""What both full-text backends share: the candidate query's filters and its shape.

A backend only finds candidates: the best ~200 by its own score among the WINDOW most
recent matches. Kind, audience and customer are tokens of the full-text index itself
(``scope_terms``), so the index filters them while it matches and the window holds only
entries the user may find; the other filters and the providers' pre-filters are SQL on
the window. The final ranking is done in Python by ``search.ranking`` so both backends
rank alike.

Why a window: a common word (凭证, invoice) matches a large share of a million tickets,
and scoring every match costs seconds on either database. The newest matches are the
ones a support desk looks for; articles, far fewer, rarely reach the window's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db import connection

from erpcare.search.analysis import PREFIX, Alternative, Group
from erpcare.search.documents import Audience
from erpcare.search.models import SearchEntry

TABLE = "search_searchentry"
WINDOW = 2000  # most recent matches scored by the backend per query
# Scope tokens start with a private-use character: no query can produce one (analysed
# terms are letters and digits), and both tokenizers keep it inside the token.
SCOPE_MARK = "\ue000"


def _token(value: object) -> str:
    return "".join(char for char in str(value).lower() if char.isalnum())


def scope_terms(kind: str, audience: str, organization_id: int | None) -> str:
    """The scope tokens of an entry: its kind, its audience, and for customer entries
    its organization."""
    tokens = [f"{SCOPE_MARK}k{_token(kind)}", f"{SCOPE_MARK}a{_token(audience)}"]
    if audience == Audience.CUSTOMER and organization_id is not None:
        tokens.append(f"{SCOPE_MARK}o{int(organization_id)}")
    return " ".join(tokens)


@dataclass
class Filters:
    """Which entries a search may return, applied in SQL before ranking."""

    kinds: Sequence[str] | None = None
    module: str | None = None
    doc_type: str | None = None
    product: str | None = None
    # Customers: public entries, or customer/ticket entries of their organization.
    customer_organization_id: int | None = None
    customer: bool = False
    # Per kind, a subquery of the object ids the user may see (a provider's pre-filter).
    restrictions: dict[str, tuple[str, tuple[Any, ...]]] = field(default_factory=dict)

    def scope(self) -> list[list[str]]:
        """The scope tokens a match must have: one of each list."""
        required: list[list[str]] = []
        if self.kinds is not None:
            required.append([f"{SCOPE_MARK}k{_token(kind)}" for kind in self.kinds])
        if self.customer:
            anyone = [f"{SCOPE_MARK}a{Audience.PUBLIC}"]
            if self.customer_organization_id is not None:
                anyone.append(f"{SCOPE_MARK}o{int(self.customer_organization_id)}")
            required.append(anyone)
        return required

    def where(self) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.kinds is not None:
            if not self.kinds:
                clauses.append("1 = 0")
            else:
                clauses.append(f"e.kind IN ({', '.join(['%s'] * len(self.kinds))})")
                params.extend(self.kinds)
        if self.module:
            clauses.append("e.module = %s")
            params.append(self.module)
        if self.doc_type:
            clauses.append("e.doc_type = %s")
            params.append(self.doc_type)
        if self.product:
            # "sap" finds "sap S/4HANA 2023": the product, alone or followed by a version.
            value = self.product.strip().lower()
            escaped = value.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            clauses.append("(LOWER(e.product) = %s OR LOWER(e.product) LIKE %s ESCAPE '!')")
            params.extend([value, escaped + " %"])
        if self.customer:
            clauses.append("(e.audience = %s OR (e.audience = %s AND e.organization_id = %s))")
            params.extend([Audience.PUBLIC, Audience.CUSTOMER, self.customer_organization_id])
        for kind, (sql, sub_params) in sorted(self.restrictions.items()):
            if not sql:  # the provider allows nothing of this kind
                clauses.append("e.kind <> %s")
                params.append(kind)
                continue
            clauses.append(f"(e.kind <> %s OR e.object_id IN ({sql}))")
            params.append(kind)
            params.extend(sub_params)
        return clauses, params


class Backend:
    """The interface; ``SqliteBackend`` and ``PostgresBackend`` fill in the dialect."""

    vendor: ClassVar[str] = ""
    # Columns the ranking reads; the analysed body is never fetched.
    COLUMNS = (
        "e.id, e.kind, e.object_id, e.audience, e.organization_id, e.module, e.doc_type, "
        "e.product, e.title, e.title_terms, e.updated_at, e.helpfulness"
    )

    # -- query text ---------------------------------------------------------------

    def term(self, term: str, *, title_only: bool) -> str:
        raise NotImplementedError

    def phrase(self, terms: Sequence[str], *, title_only: bool) -> str:
        raise NotImplementedError

    def any_of(self, parts: Sequence[str]) -> str:
        raise NotImplementedError

    def all_of(self, parts: Sequence[str]) -> str:
        raise NotImplementedError

    def alternative(self, alternative: Alternative, *, title_only: bool) -> str:
        if len(alternative) == 1:
            return self.term(alternative[0], title_only=title_only)
        return self.phrase(alternative, title_only=title_only)

    def scope_term(self, term: str) -> str:
        """A scope token, restricted to the scope part of the index."""
        raise NotImplementedError

    def with_scope(self, expression: str, filters: Filters) -> str:
        required = [
            self.any_of([self.scope_term(token) for token in tokens])
            for tokens in filters.scope()
            if tokens
        ]
        if any(not tokens for tokens in filters.scope()):
            return ""  # e.g. no kind at all: nothing can match
        return self.all_of([*required, expression]) if required else expression

    def compile(
        self, groups: Sequence[Group], *, match_all: bool, title_only: bool, weak: bool = False
    ) -> str:
        """The match expression: each group an OR of its alternatives (with ``weak``, its
        weak ones too); the groups AND-ed (``match_all``) or OR-ed. Every term is quoted:
        user text never reaches the query syntax."""
        compiled = [
            self.any_of(
                [
                    self.alternative(alt, title_only=title_only)
                    for alt in (*g.alternatives, *(g.weak if weak else ()))
                ]
            )
            for g in groups
            if g.alternatives
        ]
        if not compiled:
            return ""
        return self.all_of(compiled) if match_all else self.any_of(compiled)

    # -- reading ------------------------------------------------------------------

    def candidates(
        self,
        groups: Sequence[Group],
        filters: Filters,
        *,
        match_all: bool,
        limit: int,
        title_only: bool = False,
        weak: bool = False,
    ) -> list[SearchEntry]:
        """The best ``limit`` entries by the backend's score (``entry.score``, higher is
        better), filtered in SQL."""
        expression = self.compile(groups, match_all=match_all, title_only=title_only, weak=weak)
        if not expression:
            return []
        match = self.with_scope(expression, filters)
        if not match:
            return []
        sql, params = self.candidate_sql(match, expression, filters, limit)
        return self.fetch(sql, params)

    def fetch(self, sql: str, params: list[Any]) -> list[SearchEntry]:
        return list(SearchEntry.objects.raw(sql, params))

    def candidate_sql(
        self, match: str, expression: str, filters: Filters, limit: int
    ) -> tuple[str, list[Any]]:
        """SQL for the candidates: ``match`` (scope and text) finds, ``expression``
        (text only) scores."""
        raise NotImplementedError

    def entries_match(self, entry_ids: Iterable[int], alternative: Alternative) -> bool:
        """Whether one of ``entry_ids`` contains ``alternative`` (anywhere)."""
        raise NotImplementedError

    def present_terms(self, terms: Iterable[str]) -> set[str]:
        """Which of ``terms`` occur in the live index."""
        raise NotImplementedError

    def vocabulary(self) -> Iterable[tuple[str, int]]:
        """(term, number of entries containing it) over the whole index, for terms
        without digits."""
        raise NotImplementedError

    # -- schema -------------------------------------------------------------------

    def install(self, schema_editor: Any) -> None:
        raise NotImplementedError

    def uninstall(self, schema_editor: Any) -> None:
        raise NotImplementedError


def plain(term: str) -> str:
    """A term without the prefix marker, and whether it had one."""
    return term[:-1] if term.endswith(PREFIX) else term


def is_prefix(term: str) -> bool:
    return term.endswith(PREFIX) and len(term) > 1


def run(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
