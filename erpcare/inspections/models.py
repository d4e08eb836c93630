"""Data sources per ERP instance, the check catalog (packs, checks and their revisions),
which checks run where, and every run with its results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from erpcare.core.crypto import EncryptedTextField
from erpcare.customers.models import ErpModule


class SourceKind(models.TextChoices):
    POSTGRESQL = "postgresql", _("PostgreSQL database")
    MYSQL = "mysql", _("MySQL / MariaDB database")
    SQLSERVER = "sqlserver", _("SQL Server database")
    SQLITE = "sqlite", _("SQLite database file")
    PROMETHEUS = "prometheus", _("Prometheus HTTP API")
    HTTP = "http", _("HTTP endpoint")


DATABASE_KINDS = (SourceKind.POSTGRESQL, SourceKind.MYSQL, SourceKind.SQLSERVER, SourceKind.SQLITE)


class DataSource(models.Model):
    """Where an ERP instance's checks look: a read-only database login, a Prometheus, a URL.

    The password is encrypted at rest (``ERPCARE_ENCRYPTION_KEY``) and never shown again
    after saving. Every check query runs in a read-only transaction with
    ``statement_timeout_ms`` and returns at most ``max_rows`` rows."""

    erp_instance = models.ForeignKey(
        "customers.ErpInstance",
        verbose_name=_("ERP instance"),
        on_delete=models.CASCADE,
        related_name="data_sources",
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=SourceKind.choices)
    host = models.CharField(_("host"), max_length=255, blank=True)
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    database = models.CharField(
        _("database"),
        max_length=500,
        blank=True,
        help_text=_("The database name; for SQLite, the file's path on the ERPCare server."),
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    password = EncryptedTextField(_("password"), blank=True)
    url = models.CharField(
        _("URL"),
        max_length=500,
        blank=True,
        help_text=_("Prometheus: the server's base URL. HTTP: the endpoint to probe."),
    )
    # Driver options that are not secrets: sslmode, verify_tls, extra headers' names, …
    options = models.JSONField(_("options"), default=dict, blank=True)
    statement_timeout_ms = models.PositiveIntegerField(_("statement timeout (ms)"), default=10_000)
    max_rows = models.PositiveIntegerField(_("rows kept per finding"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))
    last_test_at = models.DateTimeField(_("last tested"), null=True, blank=True)
    last_test_ok = models.BooleanField(_("last test passed"), null=True, blank=True)
    last_test_message = models.TextField(_("last test result"), blank=True)

    class Meta:
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")
        ordering = ["erp_instance", "name"]
        constraints = [
            models.UniqueConstraint(fields=["erp_instance", "name"], name="datasource_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.erp_instance} · {self.name}"


class CheckKind(models.TextChoices):
    SQL = "sql", _("SQL query")
    PROMQL = "promql", _("PromQL query")
    HTTP = "http", _("HTTP probe")
    BUILTIN = "builtin", _("Built-in check")


class Layer(models.TextChoices):
    HOST = "host", _("Host")
    DATABASE = "database", _("Database")
    JOBS = "jobs", _("Jobs and schedulers")
    BUSINESS = "business", _("Business data")
    APPLICATION = "application", _("Application")


class Condition(models.TextChoices):
    ROWS_EMPTY = "rows_empty", _("No rows may be returned")
    VALUE_AT_MOST = "value_at_most", _("The value must stay at or below the thresholds")
    VALUE_AT_LEAST = "value_at_least", _("The value must stay at or above the thresholds")
    CHANGE_AT_MOST = "change_at_most", _("The change since the previous run must stay at or below")
    PROBE = "probe", _("The probe's own conditions (status, latency, content, certificate)")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


class CheckPack(models.Model):
    """A set of checks shipped with ERPCare or imported from YAML."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    version = models.CharField(_("version"), max_length=20)
    shipped = models.BooleanField(_("shipped with ERPCare"), default=False)
    imported_at = models.DateTimeField(_("imported"))

    class Meta:
        verbose_name = _("check pack")
        verbose_name_plural = _("check packs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Check(models.Model):
    """One check: what to ask, how to judge the answer, why it matters and what to do."""

    pack = models.ForeignKey(
        CheckPack, verbose_name=_("pack"), on_delete=models.CASCADE, related_name="checks"
    )
    code = models.SlugField(_("code"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=8, choices=CheckKind.choices)
    source_kind = models.CharField(
        _("runs on"),
        max_length=12,
        choices=SourceKind.choices,
        help_text=_("The data source kind."),
    )
    # Empty: any ERP product (database and host checks); else e.g. ["tryton"].
    erp_products = models.JSONField(_("ERP products"), default=list, blank=True)
    layer = models.CharField(_("layer"), max_length=12, choices=Layer.choices)
    module = models.CharField(_("ERP module"), max_length=20, choices=ErpModule.choices, blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    query = models.TextField(
        _("query"), help_text=_("SQL, PromQL, the URL path to probe, or the built-in's name.")
    )
    condition = models.CharField(_("condition"), max_length=16, choices=Condition.choices)
    warn_threshold = models.FloatField(_("warning threshold"), null=True, blank=True)
    critical_threshold = models.FloatField(_("critical threshold"), null=True, blank=True)
    # Kind-specific settings: HTTP expected status and content, certificate days, the
    # number of consecutive failures before an incident, query parameters (e.g. days).
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    schedule = models.CharField(_("schedule (cron)"), max_length=100, default="0 6 * * *")
    why = models.TextField(_("why it matters"))
    remedy = models.TextField(_("what to do"))
    reference = models.CharField(
        _("threshold source"),
        max_length=500,
        blank=True,
        help_text=_("Where the thresholds come from (vendor documentation, community practice)."),
    )
    kb_article = models.ForeignKey(
        "kb.Article",
        verbose_name=_("knowledge article"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        ordering = ["pack", "layer", "code"]
        constraints = [models.UniqueConstraint(fields=["pack", "code"], name="check_unique_code")]

    def __str__(self) -> str:
        return self.name


class CheckRevision(models.Model):
    """The definition of a check as it was at one version (results point at their version)."""

    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["check_ref", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["check_ref", "version"], name="checkrevision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.check_ref_id} v{self.version}"


class ResultStatus(models.TextChoices):
    OK = "ok", _("OK")
    WARN = "warn", _("Warning")
    CRITICAL = "critical", _("Critical")
    ERROR = "error", _("Could not run")
    TIMEOUT = "timeout", _("Timed out")


class Rating(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")
    GREY = "grey", _("Not rated")


class InstanceCheck(models.Model):
    """A check assigned to an ERP instance on one of its data sources, with its schedule."""

    erp_instance = models.ForeignKey(
        "customers.ErpInstance", on_delete=models.CASCADE, related_name="instance_checks"
    )
    check_ref = models.ForeignKey(Check, on_delete=models.CASCADE, related_name="assignments")
    data_source = models.ForeignKey(
        DataSource, on_delete=models.CASCADE, related_name="assignments"
    )
    schedule = models.CharField(
        _("schedule (cron)"), max_length=100, blank=True, help_text=_("Empty: the check's own.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    last_status = models.CharField(
        _("last status"), max_length=8, choices=ResultStatus.choices, blank=True
    )
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("assigned check")
        verbose_name_plural = _("assigned checks")
        constraints = [
            models.UniqueConstraint(
                fields=["erp_instance", "check_ref", "data_source"], name="instancecheck_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_run_at"],
                condition=models.Q(is_active=True),
                name="instancecheck_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.erp_instance_id}: {self.check_ref_id} on {self.data_source_id}"


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    MANUAL = "manual", _("Run now")
    TICKET = "ticket", _("Diagnosis from a ticket")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class InspectionRun(models.Model):
    """One pass of some checks over one ERP instance, rated as a whole."""

    erp_instance = models.ForeignKey(
        "customers.ErpInstance", on_delete=models.CASCADE, related_name="inspection_runs"
    )
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    rating = models.CharField(_("rating"), max_length=8, choices=Rating.choices, blank=True)
    created_at = models.DateTimeField(_("created"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("inspection run")
        verbose_name_plural = _("inspection runs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["erp_instance", "-created_at"], name="inspectionrun_recent")
        ]

    def __str__(self) -> str:
        return f"{self.erp_instance_id} {self.created_at:%Y-%m-%d %H:%M} {self.rating}"


class CheckResult(models.Model):
    """What one check found in one run."""

    run = models.ForeignKey(InspectionRun, on_delete=models.CASCADE, related_name="results")
    instance_check = models.ForeignKey(
        InstanceCheck, on_delete=models.CASCADE, related_name="results"
    )
    check_version = models.PositiveIntegerField(_("check version"))
    status = models.CharField(_("status"), max_length=8, choices=ResultStatus.choices)
    value = models.FloatField(_("value"), null=True, blank=True)
    previous_value = models.FloatField(_("previous value"), null=True, blank=True)
    # The failing rows (capped at the source's max_rows) or the probe's observations.
    findings = models.JSONField(_("findings"), default=list, blank=True)
    findings_total = models.PositiveIntegerField(_("findings in all"), default=0)
    message = models.TextField(_("message"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    started_at = models.DateTimeField(_("started"))

    class Meta:
        verbose_name = _("check result")
        verbose_name_plural = _("check results")
        ordering = ["run", "id"]
        indexes = [
            models.Index(fields=["instance_check", "-started_at"], name="checkresult_history")
        ]

    def __str__(self) -> str:
        return f"{self.instance_check_id}: {self.status}"


class ReportFrequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly (Monday to Sunday)")
    MONTHLY = "monthly", _("Monthly (calendar month)")


class ReportSubscription(models.Model):
    """Mail a customer's inspection report, as PDF, after every week or month.

    The worker sends each finished period once (``last_period_end`` is claimed with a
    conditional UPDATE, so two workers never both send it); each mailing is kept with its
    PDFs, and each recipient's mail is a channels delivery with its own retries."""

    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    erp_instance = models.ForeignKey(
        "customers.ErpInstance",
        verbose_name=_("ERP instance"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: one report for each of the customer's inspected instances."),
    )
    frequency = models.CharField(_("frequency"), max_length=8, choices=ReportFrequency.choices)
    # One address per line; validated and normalised by the service.
    recipients = models.TextField(_("recipients"))
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))
    last_period_end = models.DateField(_("last period sent"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        ordering = ["organization__name", "frequency", "id"]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.frequency}"


class ReportMailing(models.Model):
    """One report mailed for one period: the PDFs (kept in the media storage) and to whom."""

    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.CASCADE, related_name="mailings"
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    manual = models.BooleanField(_("sent by hand"), default=False)
    # [{"instance": id, "name": str, "rating": str, "filename": str, "storage_name": str}]
    files = models.JSONField(_("files"), default=list)
    recipients = models.JSONField(_("recipients"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("report mailing")
        verbose_name_plural = _("report mailings")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="reportmailing_recent")
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.period_start}–{self.period_end}"
