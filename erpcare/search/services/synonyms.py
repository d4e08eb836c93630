"""Synonym groups: editing them (managers and admins) and expanding queries with them.

Expansion happens at query time, so editing a group changes results at once and never
needs a reindex. The expansion table is built once per process and rebuilt when the
table's version (row count, highest id, last change) moves; the check is one tiny
aggregate per search, which also keeps every process in step without a message bus.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed
from erpcare.search.analysis import Alternative, Group, cap_groups, tokens
from erpcare.search.models import Synonym

MAX_TERMS = 20
MAX_TERM_CHARS = 100
MAX_PHRASE = 4  # longest synonym, in terms, that a query is scanned for


# ---------------------------------------------------------------------------
# Editing
# ---------------------------------------------------------------------------


def can_manage_search(user: User) -> bool:
    return bool(user.is_active and user.role_code in {RoleCode.MANAGER, RoleCode.ADMIN})


def _require_manager(user: User) -> None:
    if not can_manage_search(user):
        raise NotAllowed(_("Only support managers and administrators can change synonyms."))


def phrase_of(term: str) -> Alternative:
    """A synonym term as a query is scanned for it: one term per word, a code whole."""
    return tuple(token.terms[0] for token in tokens(term, for_search=False))


def match_form(term: str) -> Alternative:
    """A synonym term as documents are searched for it. A code inside a phrase is
    spelt by its parts ("three-way match" → three way match): in the index the parts,
    not the whole code, stand next to the following word."""
    found = list(tokens(term, for_search=False))
    if len(found) == 1:
        return found[0].terms[:1]
    return tuple(
        part
        for token in found
        for part in (token.terms[1:] if token.is_code and len(token.terms) > 1 else token.terms)
    )


def _clean(terms: Sequence[Any]) -> list[str]:
    if not isinstance(terms, list | tuple):
        raise ActionError(_("Terms must be a list of words or phrases."))
    cleaned: list[str] = []
    phrases: set[Alternative] = set()
    for raw in terms:
        term = " ".join(str(raw).split())
        if not term:
            continue
        if "\x00" in term:
            raise ActionError(_("%(field)s contains a NUL character.") % {"field": _("Term")})
        if len(term) > MAX_TERM_CHARS:
            raise ActionError(
                _("A synonym has at most %(limit)d characters: “%(term)s…”.")
                % {"limit": MAX_TERM_CHARS, "term": term[:20]}
            )
        phrase = phrase_of(term)
        if not phrase:
            raise ActionError(
                _("“%(term)s” has no searchable word (only stop words or punctuation).")
                % {"term": term}
            )
        if phrase in phrases:
            continue  # the same word twice ("PO" and "po")
        phrases.add(phrase)
        cleaned.append(term)
    if len(cleaned) < 2:
        raise ActionError(_("A synonym group needs at least two different terms."))
    if len(cleaned) > MAX_TERMS:
        raise ActionError(_("A synonym group has at most %(n)d terms.") % {"n": MAX_TERMS})
    return cleaned


def _stamp() -> datetime:
    """Now, but later than every stored change: the table's version (see ``table``) moves
    with every edit even when two servers' clocks disagree."""
    latest = Synonym.objects.aggregate(last=Max("updated_at"))["last"]
    now = clock.now()
    return now if latest is None or now > latest else latest + timedelta(microseconds=1)


@transaction.atomic
def create_synonym(actor: User, terms: Sequence[Any]) -> Synonym:
    _require_manager(actor)
    now = _stamp()
    synonym = Synonym.objects.create(terms=_clean(terms), created_at=now, updated_at=now)
    record(
        actor=actor, action="search.synonym_created", target=synonym, data={"terms": synonym.terms}
    )
    invalidate()
    return synonym


@transaction.atomic
def update_synonym(actor: User, synonym: Synonym, terms: Sequence[Any]) -> Synonym:
    _require_manager(actor)
    old = list(synonym.terms)
    synonym.terms = _clean(terms)
    synonym.updated_at = _stamp()
    synonym.save(update_fields=["terms", "updated_at"])
    record(
        actor=actor,
        action="search.synonym_updated",
        target=synonym,
        data={"old": old, "new": synonym.terms},
    )
    invalidate()
    return synonym


@transaction.atomic
def delete_synonym(actor: User, synonym: Synonym) -> None:
    _require_manager(actor)
    record(
        actor=actor, action="search.synonym_deleted", target=synonym, data={"terms": synonym.terms}
    )
    synonym.delete()
    invalidate()


# ---------------------------------------------------------------------------
# Expansion
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    version: tuple[Any, ...]
    # phrase (as a query is scanned for it) → the match forms of every term of its groups
    expansions: dict[Alternative, tuple[Alternative, ...]]
    forms: dict[Alternative, Alternative]  # phrase → its own match form


_lock = threading.Lock()
_table: _Table | None = None


def invalidate() -> None:
    global _table
    with _lock:
        _table = None


def _version() -> tuple[Any, ...]:
    row = Synonym.objects.aggregate(n=Count("id"), top=Max("id"), last=Max("updated_at"))
    return (row["n"], row["top"], row["last"])


def _build(version: tuple[Any, ...]) -> _Table:
    expansions: dict[Alternative, list[Alternative]] = {}
    forms: dict[Alternative, Alternative] = {}
    for terms in Synonym.objects.values_list("terms", flat=True):
        group = [(phrase_of(str(t)), match_form(str(t))) for t in terms or []]
        group = [(phrase, form) for phrase, form in group if phrase and form]
        for phrase, form in group:
            forms[phrase] = form
            known = expansions.setdefault(phrase, [])
            for _other, other_form in group:
                if other_form not in known:
                    known.append(other_form)
    return _Table(version, {key: tuple(value) for key, value in expansions.items()}, forms)


def table() -> _Table:
    global _table
    version = _version()
    current = _table
    if current is None or current.version != version:
        current = _build(version)
        with _lock:
            _table = current
    return current


def expand(groups: list[Group]) -> list[Group]:
    """Groups with their synonyms added. Consecutive words that form a synonym of
    several words ("goods receipt") become one group."""
    current = table()
    expansions = current.expansions
    if not expansions or not groups:
        return groups
    result: list[Group] = []
    index = 0
    while index < len(groups):
        merged = False
        for size in range(min(MAX_PHRASE, len(groups) - index), 0, -1):
            window = groups[index : index + size]
            if any(len(group.primary) != 1 for group in window) and size > 1:
                continue
            key = tuple(term for group in window for term in group.primary)
            if key not in expansions:
                continue
            if size == 1:
                group = window[0]
                for alternative in expansions[key]:
                    group.add(alternative)
            else:
                form = current.forms[key]
                group = Group(
                    primary=form,
                    alternatives=[form, *[alt for alt in expansions[key] if alt != form]],
                    raw=" ".join(g.raw for g in window),
                    is_latin=all(g.is_latin for g in window),
                )
            result.append(group)
            index += size
            merged = True
            break
        if not merged:
            result.append(groups[index])
            index += 1
    return cap_groups(result)
