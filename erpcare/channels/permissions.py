"""Who may configure channels: mailboxes, robots, webhooks, rules and templates."""

from __future__ import annotations

from django.utils.translation import gettext as _

from erpcare.accounts.models import RoleCode, User
from erpcare.core.errors import NotAllowed


def can_manage_channels(user: User) -> bool:
    """Support managers and administrators configure channels and notification rules."""
    return bool(user.is_active and user.role_code in {RoleCode.MANAGER, RoleCode.ADMIN})


def require_channel_admin(user: User) -> None:
    if not can_manage_channels(user):
        raise NotAllowed(_("Only support managers and administrators can change channel settings."))


def can_allow_private_network(user: User) -> bool:
    """Sending to private or loopback addresses defeats the SSRF guard: administrators only."""
    return bool(user.is_active and user.role_code == RoleCode.ADMIN)
