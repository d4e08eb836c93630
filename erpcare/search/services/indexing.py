"""Keeping the index in step: ``index`` and ``remove`` inside the writer's transaction,
``reindex`` to rebuild everything."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import transaction

from erpcare.search import registry
from erpcare.search.analysis import index_terms
from erpcare.search.backends.base import scope_terms
from erpcare.search.documents import Document
from erpcare.search.models import SearchEntry
from erpcare.search.services import vocabulary

MAX_BODY_CHARS = 50_000  # analysed per document; a pasted log beyond this adds nothing
MAX_TITLE_CHARS = 300
CHUNK = 1000

UPDATED_FIELDS = [
    "audience", "organization_id", "module", "doc_type", "product", "title",
    "scope_terms", "title_terms", "body_terms", "updated_at", "helpfulness",
]  # fmt: skip


def entry_for(document: Document) -> SearchEntry:
    """The analysed entry of a document. Keywords (tags, error codes) lead the body."""
    title = (document.title or "")[:MAX_TITLE_CHARS]
    body = "\n".join(part for part in (document.keywords, document.body) if part)
    return SearchEntry(
        kind=document.kind,
        object_id=document.object_id,
        audience=document.audience,
        organization_id=document.organization_id,
        module=(document.module or "")[:16],
        doc_type=(document.doc_type or "")[:24],
        product=(document.product or "")[:80],
        title=title,
        scope_terms=scope_terms(document.kind, document.audience, document.organization_id),
        title_terms=" ".join(index_terms(title)),
        body_terms=" ".join(index_terms(body[:MAX_BODY_CHARS])),
        updated_at=document.updated_at,
        helpfulness=min(1.0, max(0.0, float(document.helpfulness))),
    )


def _chunks(ids: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(ids)
    while chunk := list(islice(iterator, size)):
        yield chunk


def index(kind: str, ids: Iterable[int]) -> None:
    """Upsert the provider's documents for ``ids`` and delete the entries of those ids
    it no longer returns (deleted, merged, unpublished objects).

    Call it inside the transaction that changed the objects: the entries then commit or
    roll back with them. Two statements per thousand ids (one upsert, one delete).
    """
    provider = registry.provider(kind)
    for chunk in _chunks(dict.fromkeys(int(i) for i in ids), CHUNK):
        entries = [entry_for(document) for document in provider.documents(chunk)]
        with transaction.atomic():
            if entries:
                SearchEntry.objects.bulk_create(
                    entries,
                    update_conflicts=True,
                    unique_fields=["kind", "object_id"],
                    update_fields=UPDATED_FIELDS,
                )
            kept = {entry.object_id for entry in entries}
            gone = [object_id for object_id in chunk if object_id not in kept]
            if gone:
                SearchEntry.objects.filter(kind=kind, object_id__in=gone).delete()


def remove(kind: str, ids: Iterable[int]) -> None:
    """Delete the entries of ``ids`` (inside the deleting transaction)."""
    for chunk in _chunks(dict.fromkeys(int(i) for i in ids), CHUNK):
        SearchEntry.objects.filter(kind=kind, object_id__in=chunk).delete()


def reindex(kinds: Iterable[str] | None = None, batch_size: int = CHUNK) -> dict[str, int]:
    """Rebuild the entries of ``kinds`` (every registered kind by default) from their
    providers, one transaction per batch, then delete entries whose object is gone and
    refresh the vocabulary snapshot. Returns the number of entries per kind.

    Without ``kinds``, entries of kinds no provider registers any more are deleted too.
    """
    registered = registry.kinds()
    wanted = registered if kinds is None else [kind for kind in kinds if kind in registered]
    counts: dict[str, int] = {}
    for kind in wanted:
        provider = registry.provider(kind)
        seen: set[int] = set()
        for chunk in _chunks(provider.all_ids(), max(1, batch_size)):
            with transaction.atomic():
                index(kind, chunk)
            seen.update(chunk)
        stale: list[int] = [
            object_id
            for object_id in SearchEntry.objects.filter(kind=kind)
            .values_list("object_id", flat=True)
            .iterator(chunk_size=CHUNK)
            if object_id not in seen
        ]
        remove(kind, stale)
        counts[kind] = SearchEntry.objects.filter(kind=kind).count()
    if kinds is None:
        SearchEntry.objects.exclude(kind__in=registered).delete()
    vocabulary.refresh()
    return counts
