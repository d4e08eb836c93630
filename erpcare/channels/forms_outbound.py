"""Forms of the channel admin: robots and webhooks, chat intakes, rules, the delivery log's
filters, and personal notification preferences.

They check the shape of the input; the services (``admin_services``, ``preferences``)
enforce the rules and their ActionError is shown as the form's error. Secret fields are
write-only: ``render_value=False``, never an initial value.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from erpcare.accounts.models import RoleCode, Team, User
from erpcare.channels.models import (
    DeliveryChannel,
    DeliveryState,
    Destination,
    DestinationKind,
    EventName,
    PersonalChannel,
    RecipientRole,
)
from erpcare.customers.models import Organization
from erpcare.tickets.forms import StyledForm

PRIORITY_CHOICES = [(str(p), f"P{p}") for p in range(4)]


def event_choices() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in EventName.choices if value != EventName.TEST]


def _checkboxes(label: Any, choices: Any, help_text: Any = "") -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=help_text,
    )


def _organization_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"),
        required=False,
        label=_("Customer"),
        empty_label=_("All customers"),
    )


def _team_field(empty: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Team.objects.order_by("tier", "name"),
        required=False,
        label=_("Team"),
        empty_label=empty,
    )


class FilterFields(StyledForm):
    """Events, priorities, customer and team: what a rule or a subscription takes."""

    events = _checkboxes(_("Events"), event_choices, _("None ticked: every event."))
    priorities = _checkboxes(_("Priorities"), PRIORITY_CHOICES, _("None ticked: every priority."))
    organization = _organization_field()
    team = _team_field(_("All teams"))

    def clean_priorities(self) -> list[int]:
        return [int(p) for p in self.cleaned_data["priorities"]]


class DestinationForm(FilterFields):
    id_prefix = "destination"

    kind = forms.ChoiceField(label=_("Kind"), choices=DestinationKind.choices)
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.CharField(
        label=_("URL"),
        max_length=2000,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "The robot's webhook address. It contains the robot's key: it is never shown again."
        ),
    )
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("DingTalk, Feishu and webhooks sign with it. Never shown again."),
    )
    clear_secret = forms.BooleanField(label=_("Remove the saved signing secret"), required=False)
    language = forms.ChoiceField(label=_("Language of the messages"), choices=settings.LANGUAGES)
    is_active = forms.BooleanField(label=_("Active"), required=False)
    allow_private_network = forms.BooleanField(
        label=_("Allow private network addresses"),
        required=False,
        help_text=Destination._meta.get_field("allow_private_network").help_text,
    )

    field_order = [
        "kind", "name", "url", "secret", "clear_secret", "language",
        "events", "priorities", "organization", "team", "is_active", "allow_private_network",
    ]  # fmt: skip

    def __init__(
        self, *args: Any, editing: bool = False, may_allow_private: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["url"].help_text = _("Leave empty to keep the saved URL.")
            self.fields["secret"].help_text = _("Leave empty to keep the saved secret.")
        else:
            del self.fields["clear_secret"]
        if not may_allow_private:
            del self.fields["allow_private_network"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.editing and not data.get("url"):
            self.add_error("url", _("Enter the robot's or webhook's URL."))
        return data


class ChatIntakeForm(StyledForm):
    id_prefix = "intake"

    slug = forms.SlugField(
        label=_("Code"),
        max_length=40,
        help_text=_("Part of the address: /api/v1/intake/chat/<code>. Letters, digits, - and _."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"),
        required=False,
        label=_("Customer"),
        empty_label=_("By the sender's e-mail address"),
    )
    team = _team_field(_("No queue"))
    team.label = _("Queue")
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]
        else:
            del self.fields["is_active"]


class RuleForm(FilterFields):
    id_prefix = "rule"

    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(
        label=_("Order"), min_value=0, max_value=100_000, initial=100,
        help_text=_("Rules are listed and applied in this order."),
    )  # fmt: skip
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    recipient_roles = _checkboxes(_("Recipients"), RecipientRole.choices)
    users = forms.ModelMultipleChoiceField(
        label=_("People"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    channels = _checkboxes(_("Channels"), PersonalChannel.choices)
    destinations = forms.ModelMultipleChoiceField(
        label=_("Robots and webhooks"),
        queryset=Destination.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    include_actor = forms.BooleanField(
        label=_("Tell the person who acted"),
        required=False,
        help_text=_("Normally nobody is told about their own action."),
    )

    field_order = [
        "name", "position", "is_active", "events", "priorities", "organization", "team",
        "recipient_roles", "users", "channels", "destinations", "include_actor",
    ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = self.fields["users"]
        assert isinstance(users, forms.ModelMultipleChoiceField)
        users.queryset = (
            User.objects.filter(is_active=True)
            .exclude(role__code=RoleCode.CUSTOMER)
            .select_related("role")
            .order_by("display_name")
        )


class DeliveryFilterForm(StyledForm):
    id_prefix = "filter"

    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("Any state")), *DeliveryState.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("Any channel")), *DeliveryChannel.choices],
    )
    destination = forms.ModelChoiceField(
        label=_("Robot or webhook"),
        queryset=Destination.objects.order_by("name"),
        required=False,
        empty_label=_("Any"),
    )
    event = forms.ChoiceField(
        label=_("Event"), required=False, choices=[("", _("Any event")), *EventName.choices]
    )
    day = forms.DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class PreferenceForm(StyledForm):
    id_prefix = "pref"

    email_enabled = forms.BooleanField(label=_("Tell me by e-mail"), required=False)
    in_app_enabled = forms.BooleanField(label=_("Tell me in the app"), required=False)
    muted_events = _checkboxes(
        _("Never tell me about"), event_choices, _("Ticked events are muted for you.")
    )
    quiet_start = forms.TimeField(
        label=_("Quiet from"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_end = forms.TimeField(
        label=_("Quiet until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("In your time zone. P0 tickets always get through."),
    )
    digest_low_priority = forms.BooleanField(label=_("Daily digest for P3"), required=False)
    digest_hour = forms.TypedChoiceField(
        label=_("Digest hour"),
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        initial=9,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            self.add_error("quiet_end", _("Give both ends of the quiet hours, or neither."))
        return data
