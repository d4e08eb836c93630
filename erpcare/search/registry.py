"""Providers: how the search service reaches each app's objects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from erpcare.search.documents import Document

if TYPE_CHECKING:
    from erpcare.accounts.models import User


class Provider(Protocol):
    kind: str

    def documents(self, ids: Iterable[int]) -> Iterator[Document]:
        """Documents for those of ``ids`` that should be in the index; the rest are removed."""

    def all_ids(self) -> Iterator[int]:
        """Every id that should be indexed, for ``erpcare search reindex`` (streamed)."""

    def visible_ids(self, user: User, ids: Iterable[int]) -> set[int]:
        """The subset of ``ids`` that ``user`` may see: the final authorisation of a hit."""


_providers: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    _providers[provider.kind] = provider


def provider(kind: str) -> Provider:
    return _providers[kind]


def kinds() -> list[str]:
    return sorted(_providers)
