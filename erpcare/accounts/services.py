"""Actions on users, roles, teams and API tokens."""

from __future__ import annotations

import copy
import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from erpcare.accounts.models import ApiToken, Role, RoleCode, Team, TeamMembership, User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotAllowed

TOKEN_PREFIX = "erc"  # noqa: S105 - a public marker, not a secret
# last_used_at is refreshed at most this often, so reads do not turn into writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def role(code: str) -> Role:
    """The Role row for a code. The data migration creates all of them; get_or_create
    also covers databases flushed after migrating (transactional tests)."""
    if code not in RoleCode.values:
        raise ActionError(_("Unknown role: %(role)s") % {"role": code})
    found, _created = Role.objects.get_or_create(code=code)
    return found


@transaction.atomic
def create_user(
    *,
    email: str,
    display_name: str,
    role_code: str,
    password: str | None = None,
    organization: Any = None,
    actor: User | None = None,
    **extra: Any,
) -> User:
    if role_code not in RoleCode.values:
        raise ActionError(_("Unknown role: %(role)s") % {"role": role_code})
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ActionError(_("Enter a valid e-mail address.")) from None
    if role_code == RoleCode.CUSTOMER and organization is None:
        raise ActionError(_("A customer user needs an organization."))
    if role_code != RoleCode.CUSTOMER and organization is not None:
        raise ActionError(_("Staff users belong to no organization."))
    if User.objects.filter(email__iexact=email).exists():
        raise ActionError(_("A user with this e-mail address already exists."))
    user = User.objects.create_user(
        email=email,
        password=password,
        display_name=display_name,
        role=role(role_code),
        organization=organization,
        **extra,
    )
    record(actor=actor, action="user.created", target=user, data={"role": role_code})
    return user


@transaction.atomic
def change_role(*, actor: User, user: User, role_code: str) -> User:
    if actor.role.code != RoleCode.ADMIN:
        raise NotAllowed(_("Only administrators can change roles."))
    if role_code not in RoleCode.values:
        raise ActionError(_("Unknown role: %(role)s") % {"role": role_code})
    if (role_code == RoleCode.CUSTOMER) != (user.organization_id is not None):
        raise ActionError(_("Customer users and staff cannot swap roles; create a new user."))
    old = user.role.code
    if old == role_code:
        return user
    user.role = role(role_code)
    user.save(update_fields=["role"])
    record(
        actor=actor, action="user.role_changed", target=user, data={"old": old, "new": role_code}
    )
    return user


@transaction.atomic
def add_team_member(
    *, team: Team, user: User, is_lead: bool = False, actor: User | None = None
) -> None:
    if not user.is_agent and user.role.code != RoleCode.MANAGER:
        raise ActionError(_("Only agents and managers can join a support team."))
    TeamMembership.objects.update_or_create(team=team, user=user, defaults={"is_lead": is_lead})
    record(actor=actor, action="team.member_added", target=team, data={"user": user.email})


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *, user: User, name: str, days: int | None = None, actor: User | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plain text, which is never shown again.

    ``actor`` (default: the user) must be the user or an administrator.
    """
    if actor is not None and actor.pk != user.pk and actor.role.code != RoleCode.ADMIN:
        raise NotAllowed(_("You can only create your own tokens."))
    name = (name or "").strip()
    if not name:
        raise ActionError(_("Give the token a name, e.g. the script that uses it."))
    days = settings.ERPCARE_API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= 3650:
        raise ActionError(
            _("A token lives between %(min)d and %(max)d days.") % {"min": 1, "max": 3650}
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=prefix,
        digest=_digest(secret),
        expires_at=clock.now() + timedelta(days=days),
    )
    record(actor=actor or user, action="token.created", target=token, data={"user": user.email})
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def revoke_api_token(*, actor: User, token: ApiToken) -> None:
    if token.user_id != actor.pk and actor.role.code != RoleCode.ADMIN:
        raise NotAllowed(_("You can only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        transaction.on_commit(forget_cached_tokens)
        record(actor=actor, action="token.revoked", target=token, data={"user": token.user.email})


# Successful token look-ups, per process: {sha256(raw token): (valid until, token expiry, user)}.
# A busy API client sends the same token many times a second; this saves the look-up query
# on all but one request per ERPCARE_API_AUTH_CACHE_SECONDS. Revoking a token clears it in
# this process at once; other processes stop accepting it within that many seconds.
_token_cache: dict[str, tuple[float, datetime, User]] = {}
_TOKEN_CACHE_MAX = 2048


def forget_cached_tokens() -> None:
    _token_cache.clear()


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None for any invalid token."""
    ttl = settings.ERPCARE_API_AUTH_CACHE_SECONDS
    key = _digest(raw)
    cached = _token_cache.get(key) if ttl else None
    if cached is not None:
        valid_until, expires_at, cached_user = cached
        if time.monotonic() < valid_until and clock.now() < expires_at:
            # A copy per request: what a request caches on its user stays in that request.
            user = copy.copy(cached_user)
            user.__dict__.pop("_erpcare_team_scope", None)
            return user
        _token_cache.pop(key, None)
    found = _look_up_token(raw)
    if found is not None and ttl:
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        token_expiry = found._erpcare_token_expires_at  # type: ignore[attr-defined]
        _token_cache[key] = (time.monotonic() + ttl, token_expiry, found)
    return found


def _look_up_token(raw: str) -> User | None:
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    _kind, prefix, secret = parts
    if len(prefix) != 12 or not all(c in "0123456789abcdef" for c in prefix) or "\x00" in secret:
        return None
    token = (
        ApiToken.objects.select_related("user__role", "user__organization")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, _digest(secret)):
        return None
    now = clock.now()
    if token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.user._erpcare_token_expires_at = token.expires_at  # type: ignore[attr-defined]
    return token.user
