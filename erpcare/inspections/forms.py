"""Forms of the inspections pages. They check the shape of the input (numbers, JSON, the
uploaded file); ``admin_services`` enforces the rules and its ActionError becomes the
form's error."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpInstance, Organization
from erpcare.inspections import admin_services as svc
from erpcare.inspections.models import (
    DataSource,
    ReportFrequency,
    ReportSubscription,
    SourceKind,
)
from erpcare.inspections.services.report import checked_period
from erpcare.tickets.forms import StyledForm

MAX_PACK_BYTES = 1024 * 1024


class DataSourceForm(StyledForm):
    """One form for every kind; the page shows the fields a kind uses (``data-kinds``)."""

    id_prefix = "source"

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=SourceKind.choices)
    host = forms.CharField(label=_("Host"), max_length=255, required=False)
    port = forms.IntegerField(label=_("Port"), required=False, min_value=1, max_value=65535)
    database = forms.CharField(
        label=_("Database"),
        max_length=500,
        required=False,
        help_text=_("The database name; for SQLite, the file's absolute path on this server."),
    )
    username = forms.CharField(label=_("User name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        max_length=500,
        strip=False,
        # render_value=False: a saved password never travels back to the browser.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_password = forms.BooleanField(label=_("Clear the stored password"), required=False)
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        required=False,
        help_text=_("Prometheus: the server's base URL. HTTP: the endpoint to probe."),
    )
    options = forms.CharField(
        label=_("Options (JSON)"),
        required=False,
        help_text=_('Driver options that are not secrets, e.g. {"sslmode": "require"}.'),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control font-monospace"}),
    )
    statement_timeout_ms = forms.IntegerField(
        label=_("Statement timeout (ms)"),
        min_value=svc.MIN_TIMEOUT_MS,
        max_value=svc.MAX_TIMEOUT_MS,
        initial=10_000,
    )
    max_rows = forms.IntegerField(
        label=_("Rows kept per finding"), min_value=1, max_value=svc.MAX_ROWS, initial=100
    )

    # Which kinds use which field (the page hides the others; the service ignores them).
    KINDS_OF_FIELD: dict[str, tuple[str, ...]] = {
        "host": tuple(svc.HOST_KINDS),
        "port": tuple(svc.HOST_KINDS),
        "database": (*svc.HOST_KINDS, SourceKind.SQLITE),
        "username": tuple(svc.HOST_KINDS),
        "password": tuple(svc.HOST_KINDS),
        "clear_password": tuple(svc.HOST_KINDS),
        "url": tuple(svc.URL_KINDS),
    }

    def __init__(self, *args: Any, editing: bool = False, has_password: bool = False, **kw: Any):
        super().__init__(*args, **kw)
        if editing:
            self.fields["password"].help_text = (
                _("A password is stored. Leave empty to keep it.")
                if has_password
                else _("No password is stored.")
            )
        if not (editing and has_password):
            del self.fields["clear_password"]
        for name, kinds in self.KINDS_OF_FIELD.items():
            if name in self.fields:
                self.fields[name].widget.attrs["data-kinds"] = " ".join(str(k) for k in kinds)

    def clean_options(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("options") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(
                _("The options are not valid JSON: %(error)s") % {"error": exc}
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The options must be a JSON object."))
        return value

    def values(self) -> svc.SourceValues:
        data = self.cleaned_data
        return svc.SourceValues(
            name=data["name"],
            kind=data["kind"],
            host=data.get("host") or "",
            port=data.get("port"),
            database=data.get("database") or "",
            username=data.get("username") or "",
            url=data.get("url") or "",
            options=data.get("options") or {},
            statement_timeout_ms=data["statement_timeout_ms"],
            max_rows=data["max_rows"],
        )

    @staticmethod
    def initial_for(source: DataSource) -> dict[str, Any]:
        # No password here, on purpose.
        return {
            "name": source.name,
            "kind": source.kind,
            "host": source.host,
            "port": source.port,
            "database": source.database,
            "username": source.username,
            "url": source.url,
            "options": json.dumps(source.options, ensure_ascii=False) if source.options else "",
            "statement_timeout_ms": source.statement_timeout_ms,
            "max_rows": source.max_rows,
        }


class AssignmentForm(StyledForm):
    id_prefix = "assignment"

    is_active = forms.BooleanField(label=_("Active"), required=False)
    schedule = forms.CharField(
        label=_("Schedule (cron)"),
        max_length=100,
        required=False,
        help_text=_("Empty: the check's own schedule."),
    )

    def clean_schedule(self) -> str:
        text = self.cleaned_data.get("schedule") or ""
        if not text.strip():
            return ""
        try:
            return svc.validate_cron(text)
        except ActionError as exc:
            raise forms.ValidationError(exc.message) from None


class PackImportForm(StyledForm):
    id_prefix = "pack"

    file = forms.FileField(label=_("YAML file"), required=False)
    text = forms.CharField(
        label=_("…or paste the YAML"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "form-control font-monospace"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        text = data.get("text") or ""
        if upload is not None and text.strip():
            raise forms.ValidationError(_("Upload a file or paste the YAML, not both."))
        if upload is not None:
            if upload.size > MAX_PACK_BYTES:
                raise forms.ValidationError(_("A pack file is at most 1 MB."))
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from None
            data["origin"] = upload.name
        elif len(text.encode("utf-8")) > MAX_PACK_BYTES:
            raise forms.ValidationError(_("A pack is at most 1 MB."))
        if not text.strip():
            raise forms.ValidationError(_("Upload a YAML file or paste the pack."))
        data["yaml"] = text
        return data


class ApplyPackForm(StyledForm):
    id_prefix = "apply"

    source = forms.ModelChoiceField(
        label=_("Data source"), queryset=DataSource.objects.none(), empty_label="—"
    )

    def __init__(self, *args: Any, sources: QuerySet[DataSource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["source"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sources
        field.label_from_instance = lambda s: (  # type: ignore[method-assign,assignment]
            f"{s.erp_instance.organization.name} · {s.erp_instance.name} · {s.name} "
            f"({s.get_kind_display()})"
        )


class OverviewFilterForm(StyledForm):
    id_prefix = "filter"

    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Organization.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("All customers"),
    )

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["customer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organizations.order_by("name")


class ReportPeriodForm(StyledForm):
    """``?start=&end=`` dates, both included; the default is the last 30 days."""

    id_prefix = "period"

    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(
        attrs={"type": "date"}))  # fmt: skip
    end = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(
        attrs={"type": "date"}))  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            start, end = checked_period(data.get("start"), data.get("end"))
        except ActionError as exc:
            raise forms.ValidationError(exc.message) from None
        data["start"], data["end"] = start, end
        return data


class SubscriptionForm(StyledForm):
    """A report mail subscription. The customer and instance lists hold only what the
    user can see; the service checks that the instance is the customer's and normalises
    the recipients. Editing keeps the customer (the field is shown, not sent)."""

    id_prefix = "subscription"

    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Organization.objects.none(), empty_label="—"
    )
    erp_instance = forms.TypedChoiceField(
        label=_("ERP instance"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Empty: one report for each of the customer's inspected instances."),
    )
    recipients = forms.CharField(
        label=_("Recipients"),
        max_length=5000,
        help_text=_("E-mail addresses, one a line (commas and semicolons work too)."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    frequency = forms.ChoiceField(
        label=_("Frequency"), choices=ReportFrequency.choices, initial=ReportFrequency.MONTHLY
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        initial=ReportSubscription._meta.get_field("language").default,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        organizations: QuerySet[Organization],
        instances: QuerySet[ErpInstance],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        customer = self.fields["customer"]
        assert isinstance(customer, forms.ModelChoiceField)
        customer.queryset = organizations.order_by("name", "pk")
        customer.disabled = editing
        # Grouped by customer (<optgroup>); keyed by id, as two customers may share a name.
        groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        self.customer_of_instance: dict[int, int] = {}
        for instance in instances.select_related("organization").order_by(
            "organization__name", "organization_id", "name", "pk"
        ):
            group = groups.setdefault(instance.organization_id, (instance.organization.name, []))
            group[1].append((instance.pk, instance.name))
            self.customer_of_instance[instance.pk] = instance.organization_id
        instance_field = self.fields["erp_instance"]
        assert isinstance(instance_field, forms.TypedChoiceField)
        instance_field.choices = [("", _("All inspected instances")), *groups.values()]

    def clean_recipients(self) -> str:
        from erpcare.inspections.services.mailing import parse_recipients

        try:
            return "\n".join(parse_recipients(self.cleaned_data.get("recipients") or ""))
        except ActionError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        customer, instance = data.get("customer"), data.get("erp_instance")
        if (
            customer is not None
            and instance is not None
            and self.customer_of_instance.get(instance) != customer.pk
        ):
            # The service says the same; here it shows beside the field.
            self.add_error("erp_instance", svc.not_the_customers_instance(customer).message)
        return data

    def values(self) -> svc.SubscriptionValues:
        data = self.cleaned_data
        return svc.SubscriptionValues(
            organization_id=data["customer"].pk,
            erp_instance_id=data.get("erp_instance"),
            recipients=data["recipients"],
            frequency=data["frequency"],
            language=data["language"],
            is_active=bool(data.get("is_active")),
        )

    @staticmethod
    def initial_for(subscription: ReportSubscription) -> dict[str, Any]:
        return {
            "customer": subscription.organization_id,
            "erp_instance": subscription.erp_instance_id,
            "recipients": subscription.recipients,
            "frequency": subscription.frequency,
            "language": subscription.language,
            "is_active": subscription.is_active,
        }
