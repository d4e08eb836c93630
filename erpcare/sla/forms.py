"""Forms of the SLA settings pages.

They check the shape of the input only; every business rule (targets, warning share,
escalation steps, working hours, holiday sources) is the services' to enforce, and
their ActionError is shown as the form's error.
"""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from erpcare.core.errors import ActionError
from erpcare.customers.models import Contract
from erpcare.sla import holiday_sources
from erpcare.sla.models import BusinessCalendar, Metric, ServiceLevel
from erpcare.sla.services.calendars import parse_hours
from erpcare.sla.services.policies import StepSpec
from erpcare.tickets.forms import StyledForm
from erpcare.tickets.models import Priority

WEEKDAY_NAMES = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]
STEP_FLAGS = (
    "notify_assignee",
    "notify_team_lead",
    "notify_managers",
    "notify_account_manager",
    "raise_tier",
    "raise_priority",
)


def hours_field_name(weekday: int) -> str:
    return f"hours_{weekday}"


class CalendarForm(StyledForm):
    id_prefix = "calendar"

    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=BusinessCalendar.Kind.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"))
    holiday_country = forms.ChoiceField(label=_("Public holidays of"), required=False)
    holiday_subdivision = forms.CharField(
        label=_("Region"),
        required=False,
        max_length=16,
        help_text=_("Optional subdivision code of the country, e.g. BY for Bavaria."),
    )
    makeup_weekday = forms.TypedChoiceField(
        label=_("A make-up working day has the hours of"),
        coerce=int,
        choices=list(enumerate(WEEKDAY_NAMES)),
        help_text=_("Make-up working days (调休) fall on weekends; they borrow these hours."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = cast(forms.ChoiceField, self.fields["time_zone"])
        zone.choices = [(name, name) for name in sorted(available_timezones())]
        country = cast(forms.ChoiceField, self.fields["holiday_country"])
        country.choices = [("", _("None")), *holiday_sources.supported_countries()]
        for weekday, label in enumerate(WEEKDAY_NAMES):
            field = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "09:00-12:00, 13:30-18:00"}),
            )
            field.widget.attrs.setdefault("class", "form-control")
            self.fields[hours_field_name(weekday)] = field

    def hours_fields(self) -> list[forms.BoundField]:
        return [self[hours_field_name(day)] for day in range(7)]

    def main_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in (
                "name",
                "kind",
                "time_zone",
                "holiday_country",
                "holiday_subdivision",
                "makeup_weekday",
            )
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours = {}
        for weekday in range(7):
            name = hours_field_name(weekday)
            try:
                hours[weekday] = parse_hours(data.get(name, ""))
            except ActionError as exc:
                self.add_error(name, exc.message)
        data["hours"] = {day: ranges for day, ranges in hours.items() if ranges}
        return data


class CalendarDayForm(StyledForm):
    id_prefix = "day"

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working = forms.TypedChoiceField(
        label=_("This day is"),
        coerce=lambda value: value == "1",
        choices=[("0", _("a holiday")), ("1", _("a working day"))],
    )
    name = forms.CharField(label=_("Name"), required=False, max_length=200)


class PolicyForm(StyledForm):
    id_prefix = "policy"

    name = forms.CharField(label=_("Name"), max_length=200)
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int, choices=Priority.choices)
    service_level = forms.ChoiceField(
        label=_("Service level"), required=False, choices=ServiceLevel.choices
    )
    contract = forms.ModelChoiceField(
        label=_("Only for the contract"),
        queryset=Contract.objects.select_related("organization"),
        required=False,
        empty_label="—",
        help_text=_("A contract's policy wins over its service level's."),
    )
    # No bounds here: the service says what a valid target is, in one place.
    response_minutes = forms.IntegerField(label=_("First response within (minutes)"))
    resolution_minutes = forms.IntegerField(label=_("Resolution within (minutes)"))
    calendar = forms.ModelChoiceField(
        label=_("Calendar"), queryset=BusinessCalendar.objects.all(), empty_label=None
    )
    # xgettext:no-python-format
    warning_percent = forms.IntegerField(label=_("Warn at (% of the target)"))
    pause_when_waiting_customer = forms.BooleanField(
        label=_("Pause while waiting for the customer"), required=False
    )
    pause_when_waiting_vendor = forms.BooleanField(
        label=_("Pause while waiting for the vendor"), required=False
    )


class StepForm(StyledForm):
    """One escalation step; a row without a clock and a share is ignored."""

    metric = forms.ChoiceField(
        label=_("Clock"), required=False, choices=[("", "—"), *Metric.choices]
    )
    # xgettext:no-python-format
    percent = forms.IntegerField(label=_("At (% of target)"), required=False)
    notify_assignee = forms.BooleanField(label=_("Assignee"), required=False)
    notify_team_lead = forms.BooleanField(label=_("Team lead"), required=False)
    notify_managers = forms.BooleanField(label=_("Managers"), required=False)
    notify_account_manager = forms.BooleanField(label=_("Account manager"), required=False)
    raise_tier = forms.BooleanField(label=_("Raise tier"), required=False)
    raise_priority = forms.BooleanField(label=_("Raise priority"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("metric") and data.get("percent") is None:
            self.add_error("percent", _("Give the share of the target."))
        if not data.get("metric") and data.get("percent") is not None:
            self.add_error("metric", _("Choose the clock."))
        return data

    def spec(self) -> StepSpec | None:
        data = self.cleaned_data
        if not data.get("metric") or data.get("DELETE"):
            return None
        return StepSpec(
            metric=data["metric"],
            percent=data["percent"],
            **{flag: bool(data.get(flag)) for flag in STEP_FLAGS},
        )


class BaseStepFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = _("Remove")
            form.fields["DELETE"].widget.attrs.setdefault("class", "form-check-input")


StepFormSet = forms.formset_factory(
    StepForm, formset=BaseStepFormSet, extra=2, can_delete=True, max_num=20
)


class PreviewForm(StyledForm):
    id_prefix = "preview"

    opened_at = forms.DateTimeField(
        label=_("A ticket opened at"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In your time zone."),
    )


def contract_label(contract: Contract) -> str:
    return f"{contract.organization.name} — {contract.name}"


PolicyForm.base_fields["contract"].label_from_instance = contract_label  # type: ignore[attr-defined]
