"""Desk forms: a new change and the risk questionnaire. The services validate; the forms
only read the browser's input (times in the user's time zone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from erpcare.changes.models import ChangeTemplate, ChangeType, FreezePolicy
from erpcare.changes.services.risk import QUESTIONS
from erpcare.customers.models import ErpInstance, ErpModule, Organization
from erpcare.tickets.forms import StyledForm

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _when(label: Any, *, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )


def _instance_label(instance: ErpInstance) -> str:
    return f"{instance.organization.name} · {instance.name}"


class ChangeForm(StyledForm):
    id_prefix = "change"

    type = forms.ChoiceField(label=_("Type"), choices=ChangeType.choices)
    template = forms.ModelChoiceField(
        label=_("Standard change template"),
        queryset=ChangeTemplate.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="—",
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    instances = forms.ModelMultipleChoiceField(
        label=_("ERP instances"), queryset=ErpInstance.objects.none(), required=False
    )
    modules = forms.MultipleChoiceField(
        label=_("Modules"), choices=ErpModule.choices, required=False
    )
    planned_start = _when(_("Planned start"))
    planned_end = _when(_("Planned end"))
    expected_downtime_minutes = forms.IntegerField(
        label=_("Expected downtime (minutes)"), min_value=0, required=False
    )
    implementation_plan = forms.CharField(
        label=_("Implementation plan"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    test_evidence = forms.CharField(
        label=_("Test evidence"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    tested_at = _when(_("Tested in a test environment at"))
    rollback_plan = forms.CharField(
        label=_("Rollback plan"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    communication_plan = forms.CharField(
        label=_("Communication plan"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, instances: QuerySet[ErpInstance], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instances"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = instances.select_related("organization").order_by(
            "organization__name", "name"
        )
        field.label_from_instance = _instance_label  # type: ignore[method-assign,assignment]


class AssessmentForm(StyledForm):
    id_prefix = "risk"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            self.fields[question.code] = forms.ChoiceField(
                label=str(question.text),
                choices=[
                    ("", "—"),
                    *((code, label) for code, (_s, label) in question.answers.items()),
                ],
                required=False,
            )
        self.style()


class ChangeEditForm(ChangeForm):
    """The fields ``update_change`` accepts (draft or assessment)."""

    id_prefix = "edit"

    def __init__(self, *args: Any, instances: QuerySet[ErpInstance], **kwargs: Any) -> None:
        super().__init__(*args, instances=instances, **kwargs)
        del self.fields["type"]
        del self.fields["template"]
        self.fields["title"].required = True


class RescheduleForm(StyledForm):
    id_prefix = "reschedule"

    planned_start = _when(_("New start"), required=True)
    planned_end = _when(_("New end"), required=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end <= start:
            self.add_error("planned_end", _("The change must end after it starts."))
        return data


class FreezeForm(StyledForm):
    """A freeze period; the times are in the viewer's time zone."""

    id_prefix = "freeze"

    name = forms.CharField(label=_("Name"), max_length=150)
    organization = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("All customers"),
    )
    instances = forms.ModelMultipleChoiceField(
        label=_("ERP instances"), queryset=ErpInstance.objects.none(), required=False
    )
    starts_at = _when(_("From"), required=True)
    ends_at = _when(_("Until"), required=True)
    policy = forms.ChoiceField(label=_("Policy"), choices=FreezePolicy.choices)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(
        self,
        *args: Any,
        organizations: QuerySet[Organization],
        instances: QuerySet[ErpInstance],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        org_field = self.fields["organization"]
        assert isinstance(org_field, forms.ModelChoiceField)
        org_field.queryset = organizations.order_by("name")
        field = self.fields["instances"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = instances.select_related("organization").order_by(
            "organization__name", "name"
        )
        field.label_from_instance = _instance_label  # type: ignore[method-assign,assignment]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", _("The freeze period must end after it starts."))
        organization = data.get("organization")
        chosen = list(data.get("instances") or [])
        if chosen and organization is None:
            self.add_error("organization", _("Name the customer whose instances are frozen."))
        elif organization is not None:
            foreign = [i for i in chosen if i.organization_id != organization.pk]
            if foreign:
                self.add_error(
                    "instances",
                    _("These ERP instances do not belong to %(customer)s: %(names)s.")
                    % {"customer": organization.name, "names": ", ".join(i.name for i in foreign)},
                )
        return data


class TemplateForm(StyledForm):
    """A standard change template (pre-approved)."""

    id_prefix = "template"

    name = forms.CharField(label=_("Name"), max_length=150)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    modules = forms.MultipleChoiceField(
        label=_("Modules"), choices=ErpModule.choices, required=False
    )
    expected_downtime_minutes = forms.IntegerField(
        label=_("Expected downtime (minutes)"), min_value=0, initial=0
    )
    implementation_plan = forms.CharField(
        label=_("Implementation plan"), widget=forms.Textarea(attrs={"rows": 3})
    )
    rollback_plan = forms.CharField(
        label=_("Rollback plan"), widget=forms.Textarea(attrs={"rows": 3})
    )
    communication_plan = forms.CharField(
        label=_("Communication plan"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    test_evidence = forms.CharField(
        label=_("Test evidence"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
