"""A person's notification preferences: defaults, validation, own only."""

from __future__ import annotations

from datetime import time

import pytest

from erpcare.channels.models import NotificationPreference
from erpcare.channels.preferences import preferences_for, save_preferences
from erpcare.core.errors import ActionError, NotAllowed

pytestmark = pytest.mark.django_db


def test_defaults_without_a_row(cast):
    pref = preferences_for(cast.lina)
    assert pref.pk is None
    assert pref.email_enabled
    assert pref.in_app_enabled
    assert pref.digest_hour == 9


def test_save_and_read_back(cast):
    save_preferences(
        cast.lina, cast.lina, email_enabled=False, quiet_start="22:00", quiet_end=time(7),
        muted_events=["ticket.note", "ticket.note"], digest_low_priority=True, digest_hour=8,
    )  # fmt: skip
    pref = preferences_for(cast.lina)
    assert pref.pk is not None
    assert not pref.email_enabled
    assert (pref.quiet_start, pref.quiet_end) == (time(22), time(7))
    assert pref.muted_events == ["ticket.note"]
    assert (pref.digest_low_priority, pref.digest_hour) == (True, 8)
    save_preferences(cast.lina, cast.lina, quiet_start=None, quiet_end=None)
    assert preferences_for(cast.lina).quiet_start is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quiet_start": "22:00"}, "both a start and an end"),
        ({"quiet_start": "07:00", "quiet_end": "07:00"}, "different times"),
        ({"quiet_start": "late", "quiet_end": "07:00"}, "time such as"),
        ({"digest_hour": 24}, "0 to 23"),
        ({"digest_hour": -1}, "0 to 23"),
        ({"digest_hour": True}, "0 to 23"),
        ({"muted_events": ["ticket.exploded"]}, "Unknown events: ticket.exploded"),
        ({"muted_events": "ticket.note"}, "list of event names"),
        ({"in_app_enabled": "no"}, "yes or no"),
        ({"language": "en"}, "cannot be changed here"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(cast, fields, message):
    save_preferences(cast.lina, cast.lina, digest_hour=10)
    with pytest.raises(ActionError, match=message):
        save_preferences(cast.lina, cast.lina, email_enabled=False, **fields)
    pref = preferences_for(cast.lina)
    assert pref.email_enabled
    assert pref.digest_hour == 10


def test_people_edit_only_their_own(cast):
    with pytest.raises(NotAllowed):
        save_preferences(cast.adam, cast.lina, email_enabled=False)
    assert not NotificationPreference.objects.filter(user=cast.lina).exists()
