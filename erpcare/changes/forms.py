"""Desk forms: a new change and the risk questionnaire. The services validate; the forms
only read the browser's input (times in the user's time zone)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from erpcare.changes.models import ChangeTemplate, ChangeType
from erpcare.changes.services.risk import QUESTIONS
from erpcare.customers.models import ErpInstance, ErpModule
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
