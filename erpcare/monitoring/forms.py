"""Forms of the monitoring admin. They check the shape of the input (and turn lines of
matchers or JSON into data); ``admin_services`` enforces the rules, and its ActionError is
shown as the form's error."""

from __future__ import annotations

import json
import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from erpcare.accounts.models import Team
from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpInstance, Organization
from erpcare.monitoring import admin_services as svc
from erpcare.monitoring.models import (
    AlertStatus,
    AuthMode,
    CorrelationKind,
    Integration,
    ResolveAction,
    SourceKind,
)
from erpcare.tickets.forms import StyledForm

PRIORITY_CHOICES = [("", "—")] + [(str(p), f"P{p}") for p in range(4)]
TIER_CHOICES = [("", "—"), ("1", "L1"), ("2", "L2"), ("3", "L3")]


def _organization_field(empty: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"),
        required=False,
        label=_("Customer"),
        empty_label=empty,
    )


def _instance_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=ErpInstance.objects.select_related("organization").order_by("name"),
        required=False,
        label=_("ERP instance"),
        empty_label="—",
    )


def _team_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Team.objects.order_by("tier", "name"),
        required=False,
        label=_("Team"),
        empty_label="—",
    )


def _lines(label: Any, help_text: Any = "", rows: int = 4) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows, "class": "font-monospace"}),
    )


MATCHER_HELP = _(
    "One a line: label=value, label!=value, label=~regex, label!~regex (regexes match the "
    "whole value). All must match; none: every alert."
)


def _apply(form: forms.Form, name: str, parse: Any) -> Any:
    try:
        return parse(form.cleaned_data.get(name) or "")
    except ActionError as exc:
        raise forms.ValidationError(exc.message) from None


class IntegrationForm(StyledForm):
    id_prefix = "integration"

    name = forms.CharField(label=_("Name"), max_length=100)
    source = forms.ChoiceField(label=_("Source"), choices=SourceKind.choices)
    auth_mode = forms.ChoiceField(label=_("Authentication"), choices=AuthMode.choices)
    organization = _organization_field("—")
    erp_instance = _instance_field()
    team = _team_field()
    on_resolve = forms.ChoiceField(label=_("When alerts resolve"), choices=ResolveAction.choices)
    flap_window_minutes = forms.IntegerField(
        label=_("Flap window (minutes)"), min_value=0, max_value=svc.MAX_FLAP_MINUTES, initial=30,
        help_text=_("An alert firing again within this time reopens its incident."),
    )  # fmt: skip
    field_mapping = _lines(
        _("Field mapping (generic JSON only)"),
        _("A JSON object: where each field is in the payload, as dotted paths."),
        rows=6,
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The source decides the URL a sender is configured with: it never changes.
            del self.fields["source"]

    def clean_field_mapping(self) -> Any:
        text = (self.cleaned_data.get("field_mapping") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(
                _("The field mapping is not valid JSON: %(error)s") % {"error": exc}
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The field mapping must be a JSON object."))
        return value


class RoutingRuleForm(StyledForm):
    id_prefix = "routing"

    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=1_000_000, initial=100)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    integration = forms.ModelChoiceField(
        queryset=Integration.objects.defer("secret").order_by("name"),
        required=False, label=_("Only for integration"), empty_label=_("All integrations"),
    )  # fmt: skip
    matchers = _lines(_("Matchers"), MATCHER_HELP)
    set_organization = _organization_field("—")
    set_erp_instance = _instance_field()
    instance_label = forms.CharField(
        label=_("ERP instance from label"), max_length=100, required=False,
        help_text=_("The label's value is matched against the customer's ERP instance names."),
    )  # fmt: skip
    set_module = forms.CharField(label=_("ERP module"), max_length=20, required=False)
    set_priority = forms.TypedChoiceField(
        label=_("Priority"), choices=PRIORITY_CHOICES, coerce=int, empty_value=None, required=False
    )
    severity_map = _lines(
        _("Severity to priority"), _("One a line, e.g. critical=0, warning=2."), rows=3
    )
    set_team = _team_field()
    set_tier = forms.TypedChoiceField(
        label=_("Support tier"), choices=TIER_CHOICES, coerce=int, empty_value=None, required=False
    )
    month_end_days = forms.IntegerField(
        label=_("Month-end days"), min_value=0, max_value=10, initial=0,
        help_text=_("Raise the priority one step in the last N days of a month (0: off)."),
    )  # fmt: skip
    month_end_modules = forms.CharField(
        label=_("Month-end modules"), required=False, max_length=500,
        help_text=_("ERP module codes, separated by commas (e.g. gl, ap)."),
    )  # fmt: skip
    stop = forms.BooleanField(label=_("Stop after this rule"), required=False)

    def clean_matchers(self) -> list[dict[str, str]]:
        return _apply(self, "matchers", svc.parse_matcher_lines)

    def clean_severity_map(self) -> dict[str, int]:
        return _apply(self, "severity_map", svc.parse_severity_map)

    def clean_month_end_modules(self) -> list[str]:
        text = self.cleaned_data.get("month_end_modules") or ""
        return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


class CorrelationRuleForm(StyledForm):
    id_prefix = "correlation"

    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(label=_("Order"), min_value=0, max_value=1_000_000, initial=100)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    kind = forms.ChoiceField(label=_("Kind"), choices=CorrelationKind.choices)
    group_by = forms.CharField(
        label=_("Group labels"), required=False, max_length=1000,
        help_text=_("Label names, separated by commas (e.g. alertname, job)."),
    )  # fmt: skip
    window_minutes = forms.IntegerField(
        label=_("Window (minutes)"), min_value=1, max_value=svc.MAX_FLAP_MINUTES, initial=60
    )
    parent_matchers = _lines(_("Parent alert (topology)"), MATCHER_HELP)
    child_matchers = _lines(_("Dependent alerts (topology)"), MATCHER_HELP)

    def clean_group_by(self) -> list[str]:
        return _apply(self, "group_by", svc.parse_label_list)

    def clean_parent_matchers(self) -> list[dict[str, str]]:
        return _apply(self, "parent_matchers", svc.parse_matcher_lines)

    def clean_child_matchers(self) -> list[dict[str, str]]:
        return _apply(self, "child_matchers", svc.parse_matcher_lines)


class MaintenanceWindowForm(StyledForm):
    id_prefix = "window"

    name = forms.CharField(label=_("Name"), max_length=150)
    organization = _organization_field("—")
    erp_instances = forms.ModelMultipleChoiceField(
        queryset=ErpInstance.objects.select_related("organization").order_by("name"),
        required=False, label=_("ERP instances"),
        help_text=_("None chosen: every instance of the customer."),
    )  # fmt: skip
    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    cron = forms.CharField(
        label=_("Repeats (cron)"), required=False, max_length=100,
        help_text=_("Empty: once. E.g. “0 2 * * 6” opens the window every Saturday at 02:00."),
    )  # fmt: skip
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=0, max_value=7 * 24 * 60, initial=0,
        required=False, help_text=_("For a recurring window: how long each opening lasts."),
    )  # fmt: skip
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="Asia/Shanghai")
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(_("“%(tz)s” is not a time zone.") % {"tz": value}) from None
        return value


class DryRunForm(StyledForm):
    id_prefix = "dryrun"

    integration = forms.ModelChoiceField(
        queryset=Integration.objects.order_by("name"), label=_("Integration"), empty_label=None
    )
    body = forms.CharField(
        label=_("Payload"),
        max_length=svc.MAX_DRY_RUN_BYTES,
        widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace"}),
    )


class AlertFilterForm(StyledForm):
    id_prefix = "filter"

    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Open (firing or acknowledged)")), *AlertStatus.choices],
    )  # fmt: skip
    organization = _organization_field(_("All customers"))
    integration = forms.ModelChoiceField(
        queryset=Integration.objects.defer("secret").order_by("name"),
        required=False, label=_("Integration"), empty_label=_("All integrations"),
    )  # fmt: skip
