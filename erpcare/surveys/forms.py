"""Forms of the survey pages: the answer, the reopen offer and the desk filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from erpcare.customers.models import Organization
from erpcare.surveys.models import SCORE_RANGE, SurveyKind
from erpcare.tickets.forms import StyledForm

FACES = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"}


class AnswerForm(StyledForm):
    id_prefix = "answer"

    score = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose a score.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        low, high = SCORE_RANGE[kind]
        field = self.fields["score"]
        assert isinstance(field, forms.TypedChoiceField)
        if kind == SurveyKind.CSAT:
            field.choices = [(s, f"{FACES[s]} {s}") for s in range(low, high + 1)]
        else:
            field.choices = [(s, str(s)) for s in range(low, high + 1)]
        field.error_messages["invalid_choice"] = _(
            "The score must be a whole number from %(low)d to %(high)d."
        ) % {"low": low, "high": high}


class ReopenForm(StyledForm):
    id_prefix = "reopen"

    reason = forms.CharField(
        label=_("What is still not working?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Please tell us why the ticket should be reopened.")},
    )


class ResponseFilterForm(StyledForm):
    """``?start=&end=`` (dates, both included), customer code, kind, score, low only."""

    id_prefix = "filter"

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Organization.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("All customers"),
    )
    kind = forms.ChoiceField(
        label=_("Survey"), required=False, choices=[("", _("All")), *SurveyKind.choices]
    )
    score = forms.IntegerField(label=_("Score"), required=False, min_value=0, max_value=10)
    low = forms.BooleanField(label=_("Low ratings only"), required=False)

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["customer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organizations.order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date must not be before the start date."))
        kind, score = data.get("kind"), data.get("score")
        if kind and score is not None:
            low, high = SCORE_RANGE[kind]
            if not low <= score <= high:
                self.add_error(
                    "score",
                    _("The score must be a whole number from %(low)d to %(high)d.")
                    % {"low": low, "high": high},
                )
        return data
