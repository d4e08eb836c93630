"""Forms of the agent workspace and the customer portal.

Forms check the shape of the input (required fields, known choices, lengths) so a
person gets a field-level error; the rules of the business (who may do what, which
workflow moves exist) stay in ``erpcare.tickets.services`` and surface as ActionError.
Field names follow the service arguments.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from erpcare.accounts.models import RoleCode, SupportTier, Team, User
from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpInstance, ErpModule, Organization
from erpcare.customers.services import visible_organizations
from erpcare.tickets.models import (
    Category,
    Channel,
    Impact,
    LinkKind,
    Priority,
    ResolutionCode,
    Status,
    TicketType,
    Urgency,
)
from erpcare.tickets.services import lookups

MAX_TEXT = 100_000
MAX_REASON = 2000
BLANK: list[tuple[str, Any]] = [("", "—")]


class BootstrapMixin:
    """Give every widget the Bootstrap 5 class it needs."""

    fields: dict[str, forms.Field]

    def style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


class StyledForm(BootstrapMixin, forms.Form):
    """A form whose element ids start with ``id_prefix``: a ticket page holds several
    forms with the same field names (the service arguments), and ids must stay unique."""

    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        self.style()


def _textarea(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def team_choice_field(*, label: Any, tier: int | None = None) -> forms.ModelChoiceField:
    queryset = Team.objects.order_by("tier", "name")
    if tier is not None:
        queryset = queryset.filter(tier=tier)
    return forms.ModelChoiceField(
        queryset=queryset, to_field_name="code", required=False, label=label, empty_label="—"
    )


# ---------------------------------------------------------------------------
# Agent workspace: actions on one ticket
# ---------------------------------------------------------------------------


class CommentForm(StyledForm):
    id_prefix = "comment"

    body = forms.CharField(label=_("Text"), max_length=MAX_TEXT, widget=_textarea(5))
    internal = forms.BooleanField(label=_("Internal note"), required=False)


class AttachForm(StyledForm):
    id_prefix = "attach"

    file = forms.FileField(label=_("File"))
    internal = forms.BooleanField(label=_("Internal (staff only)"), required=False)


class AssignForm(StyledForm):
    """``assignee`` is ``me``, a staff member's e-mail address, or empty to unassign."""

    id_prefix = "assign"

    assignee = forms.CharField(label=_("Assignee"), required=False, max_length=254)
    team = team_choice_field(label=_("Team"))

    def __init__(self, *args: Any, user: User, tier: int | None = None, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        if tier is not None:
            # Moving to another tier is an escalation, with its own form and a reason.
            team = cast(forms.ModelChoiceField, self.fields["team"])
            team.queryset = Team.objects.filter(tier=tier).order_by("name")

    def clean_assignee(self) -> User | None:
        value = (self.cleaned_data.get("assignee") or "").strip()
        if not value:
            return None
        if value == "me":
            return self.user
        try:
            return lookups.staff_by_email(value)
        except ActionError as exc:
            raise forms.ValidationError(exc.message) from None


class EscalateForm(StyledForm):
    id_prefix = "escalate"

    tier = forms.TypedChoiceField(
        label=_("Support tier"), choices=SupportTier.choices, coerce=int, initial=SupportTier.L2
    )
    reason = forms.CharField(label=_("Reason"), max_length=MAX_REASON, widget=_textarea(3))
    team = team_choice_field(label=_("Team (optional)"))


class TransitionForm(StyledForm):
    id_prefix = "status"

    to = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    resolution_code = forms.ChoiceField(
        label=_("Resolution code"), choices=[*BLANK, *ResolutionCode.choices], required=False
    )
    resolution = forms.CharField(
        label=_("Resolution"), max_length=MAX_TEXT, required=False, widget=_textarea(4)
    )
    note = forms.CharField(
        label=_("Note"), max_length=MAX_REASON, required=False, widget=_textarea(2)
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("to") == Status.RESOLVED:
            if not data.get("resolution_code"):
                self.add_error(
                    "resolution_code", _("Choose a resolution code to resolve the ticket.")
                )
            if not (data.get("resolution") or "").strip():
                self.add_error("resolution", _("Describe the resolution for the customer."))
        return data


class LinkForm(StyledForm):
    id_prefix = "link"

    target = forms.CharField(
        label=_("Ticket number"),
        max_length=24,
        widget=forms.TextInput(attrs={"placeholder": "INC-2026-000123"}),
    )
    kind = forms.ChoiceField(label=_("Link"), choices=LinkKind.choices)


class MergeForm(StyledForm):
    id_prefix = "merge"

    into = forms.CharField(
        label=_("Merge into ticket"),
        max_length=24,
        widget=forms.TextInput(attrs={"placeholder": "INC-2026-000123"}),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=MAX_REASON, required=False, widget=_textarea(2)
    )


# ---------------------------------------------------------------------------
# Agent workspace: the queue's filters and a ticket taken by phone
# ---------------------------------------------------------------------------


class QueueFilterForm(StyledForm):
    """Only renders the filter controls; ``filter_tickets`` validates the values."""

    id_prefix = "filter"

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), ("open", _("All open")), *Status.choices],
    )
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        choices=[("", _("Any priority"))] + [(f"P{v}", f"P{v}") for v in Priority.values],
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Organization.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("Any customer"),
    )
    module = forms.ChoiceField(
        label=_("ERP module"),
        required=False,
        choices=[("", _("Any module")), *ErpModule.choices],
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("Any category")), *Category.choices],
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.order_by("tier", "name"),
        to_field_name="code",
        required=False,
        empty_label=_("Any team"),
    )
    tier = forms.ChoiceField(
        label=_("Tier"),
        required=False,
        choices=[("", _("Any tier"))] + [(str(v), label) for v, label in SupportTier.choices],
    )
    created_from = forms.DateField(
        label=pgettext_lazy("date filter", "Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = forms.DateField(
        label=_("Created until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    ordering = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-updated", _("Recently updated")),
            ("updated", _("Least recently updated")),
            ("priority", _("Most urgent first")),
            ("-priority", _("Least urgent first")),
        ],
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customer = cast(forms.ModelChoiceField, self.fields["customer"])
        customer.queryset = visible_organizations(user).order_by("name")
        for name, field in self.fields.items():
            small = (
                "form-control-sm"
                if name in ("q", "created_from", "created_to")
                else ("form-select-sm")
            )
            field.widget.attrs["class"] += f" {small}"
            field.widget.attrs["data-testid"] = f"filter-{name}"
        self.fields["q"].widget.attrs["placeholder"] = _("Number or words in the title")
        self.fields["q"].widget.input_type = "search"


class DeskTicketForm(StyledForm):
    """A ticket an agent opens for a customer, e.g. one who phoned in."""

    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Organization.objects.none(), to_field_name="code"
    )
    requester = forms.ModelChoiceField(
        label=_("Requester"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    erp_instance = forms.ModelChoiceField(
        label=_("ERP instance"), queryset=ErpInstance.objects.none(), required=False,
        empty_label="—",
    )  # fmt: skip
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    module = forms.ChoiceField(
        label=_("ERP module"), choices=[*BLANK, *ErpModule.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=Category.choices, initial=Category.HOW_TO
    )
    impact = forms.TypedChoiceField(
        label=_("Impact"), choices=Impact.choices, coerce=int, initial=Impact.LOW
    )
    urgency = forms.TypedChoiceField(
        label=_("Urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.MEDIUM
    )
    priority = forms.TypedChoiceField(
        label=_("Priority override"),
        choices=[("", _("From impact × urgency")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=MAX_TEXT, required=False, widget=_textarea(8)
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        customers = visible_organizations(user).filter(is_active=True).order_by("name")
        self._field("customer").queryset = customers
        self.organization = self._selected_organization(customers)
        if self.organization is not None:
            self._field("requester").queryset = User.objects.filter(
                organization=self.organization, role__code=RoleCode.CUSTOMER, is_active=True
            ).order_by("display_name")
            self._field("erp_instance").queryset = ErpInstance.objects.filter(
                organization=self.organization, is_active=True
            ).order_by("name")
        # Picking a customer refreshes the requester and ERP instance lists.
        self.fields["customer"].widget.attrs.update(
            {"hx-trigger": "change", "hx-target": "#customer-dependent", "hx-swap": "outerHTML"}
        )

    def _field(self, name: str) -> forms.ModelChoiceField:
        return cast(forms.ModelChoiceField, self.fields[name])

    def _selected_organization(self, customers: Any) -> Organization | None:
        code = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if isinstance(code, Organization):
            return code
        if not code or not isinstance(code, str) or len(code) > 40:
            return None
        return customers.filter(code=code).first()


# ---------------------------------------------------------------------------
# Customer portal
# ---------------------------------------------------------------------------


class PortalTicketForm(StyledForm):
    """What a customer tells us, in their words; priority follows impact × urgency."""

    title = forms.CharField(
        label=_("Summary"),
        max_length=200,
        help_text=_("One line, e.g. “Cannot post a voucher in the general ledger”."),
    )
    description = forms.CharField(
        label=_("What happened?"),
        max_length=MAX_TEXT,
        required=False,
        widget=_textarea(8),
        help_text=_("Steps, error messages, document numbers. Markdown is supported."),
    )
    type = forms.ChoiceField(
        label=_("Kind of ticket"), choices=TicketType.choices, initial=TicketType.INCIDENT
    )
    erp_instance = forms.ModelChoiceField(
        label=_("ERP system"), queryset=ErpInstance.objects.none(), required=False,
        empty_label=_("I don't know"),
    )  # fmt: skip
    module = forms.ChoiceField(
        label=_("ERP module"),
        choices=[("", _("I don't know")), *ErpModule.choices],
        required=False,
    )
    urgency = forms.TypedChoiceField(
        label=_("How urgent is it?"),
        choices=Urgency.choices,
        coerce=int,
        initial=Urgency.MEDIUM,
        widget=forms.RadioSelect,
    )
    impact = forms.TypedChoiceField(
        label=_("Who is affected?"),
        choices=Impact.choices,
        coerce=int,
        initial=Impact.LOW,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        erp_instance = cast(forms.ModelChoiceField, self.fields["erp_instance"])
        erp_instance.queryset = ErpInstance.objects.filter(
            organization=user.organization, is_active=True
        ).order_by("name")


class PortalCommentForm(StyledForm):
    id_prefix = "comment"

    body = forms.CharField(label=_("Your reply"), max_length=MAX_TEXT, widget=_textarea(5))


class PortalAttachForm(StyledForm):
    id_prefix = "attach"

    file = forms.FileField(label=_("File"))


class ReopenForm(StyledForm):
    id_prefix = "reopen"

    reason = forms.CharField(
        label=_("Why is the problem not solved?"), max_length=MAX_REASON, widget=_textarea(3)
    )
