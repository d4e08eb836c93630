"""Who may do what with articles. One place, so the API, the views and the tests agree.

- Customers never write articles; they read published public articles and those made
  for their organization, vote on them and say "this solved my problem".
- Agents of every tier (L1, L2, L3) create articles and edit drafts, anyone's: the
  knowledge base is written together.
- L2 and L3 engineers may also correct published articles (each save is a new version).
- Managers and admins are the reviewers: they edit in every state but archived, publish,
  return a submission to draft with a note, archive, restore, and confirm reviews.
- Auditors read everything and write nothing. Inactive users reach nothing.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.core.errors import NotAllowed
from erpcare.kb.models import Article, ArticleStatus

REVIEWER_ROLES = frozenset({RoleCode.MANAGER, RoleCode.ADMIN})
SENIOR_EDITOR_ROLES = frozenset({RoleCode.L2_ENGINEER, RoleCode.L3_EXPERT})


def can_write(user: User) -> bool:
    """Creates articles and drafts: agents, managers, admins."""
    return bool(user.is_authenticated and user.is_active and user.is_support_staff)


def is_reviewer(user: User) -> bool:
    """Publishes, returns, archives, restores: managers and admins."""
    return can_write(user) and user.role_code in REVIEWER_ROLES


def can_edit(user: User, article: Article) -> bool:
    """May save a change to ``article``'s content in its current state."""
    if not can_write(user):
        return False
    if article.status == ArticleStatus.DRAFT:
        return True
    if article.status == ArticleStatus.REVIEW:
        return is_reviewer(user)
    if article.status == ArticleStatus.PUBLISHED:
        return is_reviewer(user) or user.role_code in SENIOR_EDITOR_ROLES
    return False  # archived: restore it to a draft first


def can_see_history(user: User) -> bool:
    """Versions and diffs show drafts and internal wording: staff and auditors only."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_support_staff or user.is_read_only)
    )


def can_read_usage(user: User) -> bool:
    """Usage reports: managers, admins and auditors."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.role_code in (REVIEWER_ROLES | {RoleCode.AUDITOR})
    )


def require_writer(user: User) -> None:
    if not user.is_authenticated or not user.is_active or user.is_read_only:
        raise NotAllowed(_("Your role is read-only."))
    if not can_write(user):
        raise NotAllowed(_("Only support staff can write knowledge-base articles."))


def require_reviewer(user: User) -> None:
    require_writer(user)
    if not is_reviewer(user):
        raise NotAllowed(_("Only support managers and administrators can do this."))


def require_editor(user: User, article: Article) -> None:
    require_writer(user)
    if not can_edit(user, article):
        if article.status == ArticleStatus.ARCHIVED:
            raise NotAllowed(_("An archived article cannot be changed; restore it first."))
        if article.status == ArticleStatus.REVIEW:
            raise NotAllowed(_("An article in review is changed by its reviewers only."))
        raise NotAllowed(
            _("Published articles are corrected by L2/L3 engineers, managers and admins.")
        )
