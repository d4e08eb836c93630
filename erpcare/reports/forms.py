"""The dashboards' filter form: a period (a preset or two days), customer, team, module."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from erpcare.accounts.models import Team, User
from erpcare.customers.models import ErpModule, Organization
from erpcare.customers.services import visible_organizations
from erpcare.reports.dashboards import Selection, period_days
from erpcare.reports.rollups import Filters
from erpcare.tickets.forms import StyledForm


class DashboardFilterForm(StyledForm):
    id_prefix = "dash"

    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("30d", _("Last 30 days")),
            ("7d", _("Last 7 days")),
            ("90d", _("Last 90 days")),
            ("month", _("This month")),
            ("last_month", _("Last month")),
            ("custom", _("From … to …")),
        ],
    )
    first = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    last = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Organization.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("All customers"),
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.order_by("tier", "name"),
        to_field_name="code",
        required=False,
        empty_label=_("All teams"),
    )
    module = forms.ChoiceField(
        label=_("ERP module"), required=False, choices=[("", _("All modules")), *ErpModule.choices]
    )

    def __init__(self, *args: Any, user: User, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        customer = cast(forms.ModelChoiceField, self.fields["customer"])
        customer.queryset = visible_organizations(user).order_by("name")
        for name, field in self.fields.items():
            small = (
                "form-select-sm" if isinstance(field.widget, forms.Select) else "form-control-sm"
            )
            field.widget.attrs["class"] += f" {small}"
            field.widget.attrs["data-testid"] = f"dash-{name}"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["first"], data["last"] = period_days(
                data.get("period") or "30d", self.today, data.get("first"), data.get("last")
            )
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data

    def selection(self) -> Selection:
        """The rollup filters chosen (valid form), or the default 30 days."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if not data:
            first, last = period_days("30d", self.today, None, None)
            return Selection(Filters(first, last))
        customer: Organization | None = data.get("customer")
        team: Team | None = data.get("team")
        module: str = data.get("module") or ""
        return Selection(
            Filters(
                data["first"],
                data["last"],
                organization_ids=frozenset({customer.pk}) if customer else None,
                team_ids=frozenset({team.pk}) if team else None,
                modules=frozenset({module}) if module else None,
            ),
            customer_code=customer.code if customer else "",
            team_code=team.code if team else "",
            module=module,
        )
