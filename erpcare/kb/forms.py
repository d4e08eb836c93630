"""Forms of the knowledge base: the article editor, the workflow notes, the filters and
search boxes of the desk and the portal, feedback and ticket links.

Forms check the shape of the input (required fields, known choices, lengths) so a
person gets a field-level error; the rules (who may do what in which state) stay in
``erpcare.kb.services`` and surface as ActionError, shown as the form's error.
Field names follow the service arguments.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from erpcare.accounts.models import STAFF_ROLES, User
from erpcare.customers.models import ErpModule, Organization
from erpcare.customers.services import visible_organizations
from erpcare.kb.models import (
    ArticleLanguage,
    ArticleStatus,
    ArticleType,
    LinkKind,
    Visibility,
)
from erpcare.kb.services.articles import (
    MAX_KEYWORDS,
    MAX_NOTE,
    MAX_PRODUCT,
    MAX_SUMMARY,
    MAX_TEXT,
    MAX_TITLE,
)
from erpcare.kb.services.usage import MAX_COMMENT
from erpcare.tickets.forms import StyledForm
from erpcare.tickets.models import TicketType

MAX_QUERY = 200
# The case fields: shown for troubleshooting cases (kb.js hides them for other types).
CASE_FIELDS = ("symptom", "cause", "resolution", "log_excerpt")


def _textarea(rows: int, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def _markdown_area(rows: int) -> forms.Textarea:
    # data-kb-markdown: the image "insert" buttons of the files list write into the last
    # focused of these.
    return _textarea(rows, **{"data-kb-markdown": ""})


# ---------------------------------------------------------------------------
# The article editor
# ---------------------------------------------------------------------------


class ArticleForm(StyledForm):
    """New article and edit: every editable field, a version note, and the version the
    editor started from (a save over someone else's newer version is refused)."""

    id_prefix = "article"

    type = forms.ChoiceField(label=_("Type"), choices=ArticleType.choices)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Detect from the text")), *ArticleLanguage.choices],
        required=False,
    )
    title = forms.CharField(label=_("Title"), max_length=MAX_TITLE)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=MAX_SUMMARY,
        required=False,
        widget=_textarea(2),
        help_text=_("One or two sentences shown in search results."),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=MAX_TEXT,
        required=False,
        widget=_markdown_area(12),
        help_text=_("Markdown. Images: upload them below, then insert ![name](attachment:ID)."),
    )
    symptom = forms.CharField(
        label=_("Symptom"),
        max_length=MAX_TEXT,
        required=False,
        widget=_markdown_area(4),
        help_text=_("What the user sees: the message, the screen, the document."),
    )
    cause = forms.CharField(
        label=_("Cause"), max_length=MAX_TEXT, required=False, widget=_markdown_area(3)
    )
    resolution = forms.CharField(
        label=_("Resolution"),
        max_length=MAX_TEXT,
        required=False,
        widget=_markdown_area(6),
        help_text=_("The steps that fix it; agents insert them into replies."),
    )
    log_excerpt = forms.CharField(
        label=_("Log excerpt"),
        max_length=MAX_TEXT,
        required=False,
        widget=_textarea(4, spellcheck="false", **{"class": "form-control font-monospace"}),
    )
    module = forms.ChoiceField(
        label=_("ERP module"), choices=[("", "—"), *ErpModule.choices], required=False
    )
    product = forms.CharField(
        label=_("Product and version"),
        max_length=MAX_PRODUCT,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Tryton 7.0, 用友 U8 13.0")}),
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        max_length=MAX_KEYWORDS,
        required=False,
        help_text=_("Error codes, synonyms, tags."),
    )
    visibility = forms.ChoiceField(
        label=_("Who can read it"), choices=Visibility.choices, initial=Visibility.INTERNAL
    )
    organization = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Organization.objects.none(),
        to_field_name="code",
        required=False,
        empty_label="—",
        help_text=_("Only for articles for one customer."),
    )
    note = forms.CharField(
        label=_("What did you change?"),
        max_length=MAX_NOTE,
        required=False,
        help_text=_("Kept with this version in the history."),
    )
    expected_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organization = cast(forms.ModelChoiceField, self.fields["organization"])
        organization.queryset = visible_organizations(user).order_by("name")
        self.fields["type"].widget.attrs["data-kb-type-select"] = ""
        self.fields["visibility"].widget.attrs["data-kb-visibility-select"] = ""
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("data-testid", f"article-{name}")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        visibility = data.get("visibility")
        organization = data.get("organization")
        if visibility == Visibility.CUSTOMER and organization is None:
            self.add_error("organization", _("Choose the customer who may read this article."))
        elif visibility and visibility != Visibility.CUSTOMER:
            # A customer picked before switching to another visibility means nothing.
            data["organization"] = None
        return data

    def service_values(self) -> dict[str, Any]:
        """The cleaned input as keyword arguments of create_article/update_article."""
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in (
                "type", "title", "summary", "body", *CASE_FIELDS, "module", "product",
                "keywords", "visibility", "organization",
            )
        }  # fmt: skip
        if data.get("language"):
            values["language"] = data["language"]
        return values

    @property
    def case_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CASE_FIELDS]


def article_initial(article: Any) -> dict[str, Any]:
    """The editor's starting values for ``article``."""
    initial = {name: getattr(article, name) for name in (
        "type", "language", "title", "summary", "body", *CASE_FIELDS, "module", "product",
        "keywords", "visibility",
    )}  # fmt: skip
    initial["organization"] = article.organization.code if article.organization else None
    initial["expected_version"] = article.current_version
    return initial


class AttachmentForm(StyledForm):
    id_prefix = "file"

    file = forms.FileField(label=_("File or image"))


# ---------------------------------------------------------------------------
# Workflow
# ---------------------------------------------------------------------------


class NoteForm(StyledForm):
    """Submit, archive, restore: an optional note for the audit trail."""

    id_prefix = "note"

    note = forms.CharField(label=_("Note"), max_length=MAX_NOTE, required=False)


class ReturnForm(StyledForm):
    """A reviewer sends a submission back to its author: say what to change."""

    id_prefix = "return"

    note = forms.CharField(
        label=_("What should the author change?"),
        max_length=2000,
        required=False,
        widget=_textarea(3),
    )


class PublishForm(StyledForm):
    id_prefix = "publish"

    review_by = forms.DateField(
        label=_("Review by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the default review period from today."),
    )
    note = forms.CharField(label=_("Note"), max_length=MAX_NOTE, required=False)


class ReviewedForm(StyledForm):
    id_prefix = "reviewed"

    review_by = forms.DateField(
        label=_("Next review by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class DiffForm(forms.Form):
    """Two version numbers of one article (GET)."""

    from_version = forms.IntegerField(label=_("From version"), min_value=1, max_value=1_000_000)
    to_version = forms.IntegerField(label=_("To version"), min_value=1, max_value=1_000_000)


# ---------------------------------------------------------------------------
# Lists and search
# ---------------------------------------------------------------------------


def _small(form: forms.Form, prefix: str) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            continue
        small = "form-select-sm" if isinstance(widget, forms.Select) else "form-control-sm"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {small}".strip()
        widget.attrs.setdefault("data-testid", f"{prefix}-{name}")


class ArticleFilterForm(StyledForm):
    """The desk's article list. Only renders and normalises the filters; unknown values
    are form errors shown above the list."""

    id_prefix = "kbfilter"

    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_QUERY)
    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any type")), *ArticleType.choices]
    )
    module = forms.ChoiceField(
        label=_("ERP module"),
        required=False,
        choices=[("", _("Any module")), *ErpModule.choices],
    )
    product = forms.CharField(label=_("Product"), required=False, max_length=MAX_PRODUCT)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *ArticleStatus.choices],
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        required=False,
        choices=[("", _("Anyone")), *Visibility.choices],
    )
    stale = forms.ChoiceField(
        label=_("Review"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Due for review"))],
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = cast(forms.ModelChoiceField, self.fields["owner"])
        owner.queryset = (
            User.objects.filter(role__code__in=STAFF_ROLES, is_active=True)
            .only("id", "email", "display_name")
            .order_by("display_name")
        )
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs["placeholder"] = _("KB number, title or words")
        _small(self, "kb-filter")


def _doc_type_choices() -> list[tuple[Any, Any]]:
    return [
        ("", _("Any type")),
        (_("Articles"), list(ArticleType.choices)),
        (_("Tickets"), list(TicketType.choices)),
    ]


class DeskSearchForm(StyledForm):
    """One box over articles and tickets."""

    id_prefix = "search"

    q = forms.CharField(label=_("Search"), required=False, max_length=MAX_QUERY)
    kind = forms.ChoiceField(
        label=_("In"),
        required=False,
        choices=[("", _("Everything")), ("article", _("Articles")), ("ticket", _("Tickets"))],
    )
    module = forms.ChoiceField(
        label=_("ERP module"),
        required=False,
        choices=[("", _("Any module")), *ErpModule.choices],
    )
    type = forms.ChoiceField(label=_("Type"), required=False, choices=_doc_type_choices)
    product = forms.CharField(label=_("Product"), required=False, max_length=MAX_PRODUCT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs["placeholder"] = _("Words, error codes, numbers")
        _small(self, "search")


class PortalSearchForm(StyledForm):
    id_prefix = "help"

    q = forms.CharField(label=_("Search the help center"), required=False, max_length=MAX_QUERY)
    module = forms.ChoiceField(
        label=_("ERP module"),
        required=False,
        choices=[("", _("All modules")), *ErpModule.choices],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        self.fields["q"].widget.attrs.update(
            {
                "placeholder": _("Describe your problem, e.g. 凭证无法保存 or goods receipt"),
                "class": "form-control form-control-lg",
                "data-testid": "help-q",
                "autocomplete": "off",
            }
        )
        self.fields["module"].widget.attrs["data-testid"] = "help-module"


# ---------------------------------------------------------------------------
# Portal: feedback and "this solved my problem"
# ---------------------------------------------------------------------------


class FeedbackForm(StyledForm):
    id_prefix = "feedback"

    helpful = forms.TypedChoiceField(
        label=_("Was this helpful?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
    )
    comment = forms.CharField(
        label=_("Anything we should add or fix? (optional)"),
        max_length=MAX_COMMENT,
        required=False,
        widget=_textarea(2),
    )


class DeflectionForm(forms.Form):
    """What the customer had typed as the ticket's title, kept with the deflection."""

    q = forms.CharField(required=False, max_length=MAX_QUERY)


# ---------------------------------------------------------------------------
# Articles on a ticket
# ---------------------------------------------------------------------------


class TicketLinkForm(StyledForm):
    id_prefix = "kblink"

    article = forms.CharField(
        label=_("Article"),
        max_length=24,
        widget=forms.TextInput(attrs={"placeholder": "KB-0042"}),
    )
    kind = forms.ChoiceField(
        label=_("Link"),
        choices=[(LinkKind.SOLVED_WITH, LinkKind.SOLVED_WITH.label),
                 (LinkKind.RELATED, LinkKind.RELATED.label)],
        initial=LinkKind.SOLVED_WITH,
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _small(self, "kb-link")


class TicketUnlinkForm(forms.Form):
    article = forms.CharField(max_length=24)
    kind = forms.ChoiceField(choices=LinkKind.choices)
