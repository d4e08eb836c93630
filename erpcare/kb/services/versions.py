"""Article history: the saved versions and a line diff between two of them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.core.errors import ActionError, NotFound
from erpcare.customers.models import Organization
from erpcare.kb.models import EDITABLE_FIELDS, Article, ArticleVersion
from erpcare.kb.services import rules
from erpcare.kb.services.access import visible_articles


@dataclass(frozen=True)
class DiffLine:
    op: str  # "=" unchanged, "-" only in the old version, "+" only in the new one
    text: str
    old_line: int | None  # 1-based line number in the old text
    new_line: int | None


@dataclass(frozen=True)
class FieldDiff:
    field: str  # the model field: title, body, organization_id, …
    label: str  # translated field name
    old: str
    new: str
    lines: list[DiffLine]


def _authorise(user: User, article: Article) -> None:
    if not rules.can_see_history(user) or not visible_articles(user).filter(pk=article.pk).exists():
        raise NotFound(_("Article not found."))


def article_versions(user: User, article: Article) -> QuerySet[ArticleVersion]:
    """The article's versions, newest first (staff and auditors; customers get NotFound)."""
    _authorise(user, article)
    return (
        ArticleVersion.objects.filter(article=article).select_related("author").order_by("-number")
    )


def get_version(user: User, article: Article, number: int) -> ArticleVersion:
    _authorise(user, article)
    version = ArticleVersion.objects.filter(article=article, number=number).first()
    if version is None:
        raise NotFound(_("Version %(number)s not found.") % {"number": number})
    return version


def _label(name: str) -> str:
    field_name = "organization" if name == "organization_id" else name
    field = Article._meta.get_field(field_name)
    return str(getattr(field, "verbose_name", field_name))


def _display(name: str, value: Any, organizations: dict[int, str]) -> str:
    if value is None:
        return ""
    if name == "organization_id":
        return organizations.get(value, str(value))
    return str(value)


def _line_diff(old: str, new: str) -> list[DiffLine]:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(i2 - i1):
                lines.append(
                    DiffLine("=", old_lines[i1 + offset], i1 + offset + 1, j1 + offset + 1)
                )
            continue
        for i in range(i1, i2):  # replace and delete
            lines.append(DiffLine("-", old_lines[i], i + 1, None))
        for j in range(j1, j2):  # replace and insert
            lines.append(DiffLine("+", new_lines[j], None, j + 1))
    return lines


def diff(article: Article, from_version: int, to_version: int) -> list[FieldDiff]:
    """What changed in ``article`` from one version to another: one entry per changed
    field, each with its line diff (difflib). No authorisation: see ``article_diff``."""
    if from_version == to_version:
        raise ActionError(_("Choose two different versions."))
    rows = {
        version.number: version.content
        for version in ArticleVersion.objects.filter(
            article=article, number__in=[from_version, to_version]
        )
    }
    for number in (from_version, to_version):
        if number not in rows:
            raise NotFound(_("Version %(number)s not found.") % {"number": number})
    old, new = rows[from_version], rows[to_version]
    org_ids = {old.get("organization_id"), new.get("organization_id")} - {None}
    organizations = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "name"))
    result: list[FieldDiff] = []
    for name in EDITABLE_FIELDS:
        before = _display(name, old.get(name), organizations)
        after = _display(name, new.get(name), organizations)
        if before != after:
            result.append(FieldDiff(name, _label(name), before, after, _line_diff(before, after)))
    return result


def article_diff(
    user: User, article: Article, from_version: int, to_version: int
) -> list[FieldDiff]:
    """``diff`` for a user who may see the article's history (staff, auditors)."""
    _authorise(user, article)
    return diff(article, from_version, to_version)
