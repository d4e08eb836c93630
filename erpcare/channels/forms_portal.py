"""The customer's own e-mail choices in the portal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from erpcare.channels.models import EventName
from erpcare.channels.rules import CUSTOMER_EVENTS


def customer_event_choices() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in EventName.choices if value in CUSTOMER_EVENTS]


class CustomerPreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(
        label=_("E-mail me about my tickets"),
        required=False,
        help_text=_("Switch off to follow your tickets only here in the portal."),
    )
    muted_events = forms.MultipleChoiceField(
        label=_("Do not e-mail me when"),
        choices=customer_event_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
