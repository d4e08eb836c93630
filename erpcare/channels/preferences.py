"""A person's own notification preferences: read with defaults, save validated."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.channels.models import EventName, NotificationPreference
from erpcare.core.errors import ActionError, NotAllowed

EDITABLE = (
    "email_enabled",
    "in_app_enabled",
    "muted_events",
    "quiet_start",
    "quiet_end",
    "digest_low_priority",
    "digest_hour",
)


def preferences_for(user: User) -> NotificationPreference:
    """The saved preferences, or the defaults (unsaved) when the person has none."""
    found = NotificationPreference.objects.filter(user=user).first()
    return found if found is not None else NotificationPreference(user=user)


def _flag(value: Any, label: str) -> bool:
    if not isinstance(value, bool):
        raise ActionError(_("%(field)s must be yes or no.") % {"field": label})
    return value


def _time(value: Any, label: str) -> time | None:
    if value is None or value == "":
        return None
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str):
        try:
            return time.fromisoformat(value).replace(second=0, microsecond=0)
        except ValueError:
            pass
    raise ActionError(_("%(field)s must be a time such as 22:00.") % {"field": label})


@transaction.atomic
def save_preferences(actor: User, user: User, **fields: Any) -> NotificationPreference:
    """Change a person's preferences. People edit only their own."""
    if actor.pk != user.pk:
        raise NotAllowed(_("You can only change your own notification preferences."))
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ActionError(
            _("These fields cannot be changed here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    pref = NotificationPreference.objects.select_for_update().filter(
        user=user
    ).first() or NotificationPreference(user=user)
    if "email_enabled" in fields:
        pref.email_enabled = _flag(fields["email_enabled"], _("E-mail"))
    if "in_app_enabled" in fields:
        pref.in_app_enabled = _flag(fields["in_app_enabled"], _("In the app"))
    if "digest_low_priority" in fields:
        pref.digest_low_priority = _flag(fields["digest_low_priority"], _("Daily digest for P3"))
    if "muted_events" in fields:
        muted = fields["muted_events"] or []
        if isinstance(muted, str) or not all(isinstance(name, str) for name in muted):
            raise ActionError(_("Muted events must be a list of event names."))
        wrong = sorted(set(muted) - set(EventName.values))
        if wrong:
            raise ActionError(_("Unknown events: %(names)s") % {"names": ", ".join(wrong)})
        pref.muted_events = sorted(set(muted))
    if "quiet_start" in fields:
        pref.quiet_start = _time(fields["quiet_start"], _("Quiet from"))
    if "quiet_end" in fields:
        pref.quiet_end = _time(fields["quiet_end"], _("Quiet until"))
    if (pref.quiet_start is None) != (pref.quiet_end is None):
        raise ActionError(_("Quiet hours need both a start and an end."))
    if pref.quiet_start is not None and pref.quiet_start == pref.quiet_end:
        raise ActionError(_("Quiet hours must start and end at different times."))
    if "digest_hour" in fields:
        hour = fields["digest_hour"]
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
            raise ActionError(_("The digest hour must be a whole hour from 0 to 23."))
        pref.digest_hour = hour
    pref.save()
    record(
        actor=actor,
        action="channels.preferences.changed",
        target=user,
        data={"fields": sorted(fields)},
    )
    return pref
