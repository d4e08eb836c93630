"""Backup plans per ERP instance (and for ERPCare's own database), the backup points they
made, and the restore tests that proved a point usable."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erpcare.core.crypto import EncryptedTextField


class BackupKind(models.TextChoices):
    POSTGRESQL = "postgresql", _("PostgreSQL (pg_dump)")
    MYSQL = "mysql", _("MySQL / MariaDB (dump)")
    SQLITE = "sqlite", _("SQLite file (online backup)")
    EXTERNAL = "external", _("External (made by another tool, watched and verified)")


class BackupPlan(models.Model):
    """What to back up, where to keep it, how long, and how often to prove a restore.

    The connection comes from an inspection data source of the instance (host, port,
    database, login); restores go to a scratch server login that may create and drop
    databases — empty fields mean the source's own server and login."""

    erp_instance = models.ForeignKey(
        "customers.ErpInstance",
        verbose_name=_("ERP instance"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="backup_plans",
        help_text=_("Empty: ERPCare's own database."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=BackupKind.choices)
    data_source = models.ForeignKey(
        "inspections.DataSource",
        verbose_name=_("data source"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    scratch_host = models.CharField(_("scratch server host"), max_length=255, blank=True)
    scratch_port = models.PositiveIntegerField(_("scratch server port"), null=True, blank=True)
    scratch_user = models.CharField(_("scratch server login"), max_length=100, blank=True)
    scratch_password = EncryptedTextField(_("scratch server password"), blank=True)
    directory = models.CharField(
        _("backup directory"),
        max_length=500,
        help_text=_("A local or mounted directory on the worker machines."),
    )
    # A copy of every artifact in S3-compatible object storage (empty bucket: none).
    s3_bucket = models.CharField(_("S3 bucket"), max_length=63, blank=True)
    s3_prefix = models.CharField(_("S3 key prefix"), max_length=200, blank=True)
    s3_endpoint_url = models.CharField(
        _("S3 endpoint"),
        max_length=300,
        blank=True,
        help_text=_("Empty for AWS; the address of MinIO, Ceph, OSS or COS otherwise."),
    )
    s3_region = models.CharField(_("S3 region"), max_length=50, blank=True)
    s3_access_key = models.CharField(_("S3 access key"), max_length=200, blank=True)
    s3_secret_key = EncryptedTextField(_("S3 secret key"), blank=True)
    keep_local = models.BooleanField(
        _("keep the local copy"),
        default=True,
        help_text=_("Off: the local file is removed once the S3 copy is confirmed."),
    )
    encrypt = models.BooleanField(
        _("encrypt"), default=True, help_text=_("AES-256-GCM with ERPCARE_BACKUP_KEY.")
    )
    schedule = models.CharField(_("backup schedule (cron)"), max_length=100, default="0 2 * * *")
    verify_schedule = models.CharField(
        _("restore test schedule (cron)"), max_length=100, default="0 4 * * 0"
    )
    keep_daily = models.PositiveSmallIntegerField(_("keep daily"), default=7)
    keep_weekly = models.PositiveSmallIntegerField(_("keep weekly"), default=4)
    keep_monthly = models.PositiveSmallIntegerField(_("keep monthly"), default=12)
    timeout_seconds = models.PositiveIntegerField(_("backup time limit (s)"), default=3600)
    verify_timeout_seconds = models.PositiveIntegerField(
        _("restore test time limit (s)"), default=3600
    )
    key_tables = models.JSONField(
        _("key tables"),
        default=list,
        blank=True,
        help_text=_("Counted exactly at backup time and compared after each restore."),
    )
    newest_document_sql = models.TextField(
        _("newest business document (SQL)"),
        blank=True,
        help_text=_("One value: the time of the newest business document, for the RPO."),
    )
    run_business_checks = models.BooleanField(
        _("run business checks on the restored copy"), default=True
    )
    external_path = models.CharField(
        _("external backup path"),
        max_length=500,
        blank=True,
        help_text=_("A file pattern (glob) of backups another tool makes."),
    )
    rpo_hours = models.PositiveIntegerField(_("RPO target (hours)"), default=24)
    rto_minutes = models.PositiveIntegerField(_("RTO target (minutes)"), default=240)
    is_active = models.BooleanField(_("active"), default=True)
    next_backup_at = models.DateTimeField(_("next backup"), null=True, blank=True)
    next_verify_at = models.DateTimeField(_("next restore test"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("backup plan")
        verbose_name_plural = _("backup plans")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class PointStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    OK = "ok", _("Succeeded")
    FAILED = "failed", _("Failed")
    PRUNED = "pruned", _("Removed by retention")


class BackupPoint(models.Model):
    """One backup: the artifact, its checksums and what the database held at that time."""

    plan = models.ForeignKey(BackupPlan, on_delete=models.CASCADE, related_name="points")
    status = models.CharField(
        _("status"), max_length=8, choices=PointStatus.choices, default=PointStatus.RUNNING
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    artifact = models.CharField(_("file"), max_length=255, blank=True)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    plain_sha256 = models.CharField(_("SHA-256 before encryption"), max_length=64, blank=True)
    encrypted = models.BooleanField(_("encrypted"), default=False)
    key_id = models.CharField(_("key id"), max_length=8, blank=True)
    local = models.BooleanField(_("local copy"), default=True)
    remote_key = models.CharField(_("S3 object"), max_length=300, blank=True)
    server_version = models.CharField(_("server version"), max_length=100, blank=True)
    client_version = models.CharField(_("client version"), max_length=100, blank=True)
    # The engine's TableStats.as_dict(): tables, row counts (exact for the key tables),
    # the newest business document, taken in the dump's snapshot where the engine can.
    stats = models.JSONField(_("tables and row counts"), default=dict, blank=True)
    newest_document_at = models.DateTimeField(_("newest business document"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    pruned_at = models.DateTimeField(_("removed"), null=True, blank=True)
    prune_reason = models.CharField(_("retention reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("backup point")
        verbose_name_plural = _("backup points")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["plan", "-started_at"], name="backuppoint_recent")]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class RestoreStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    OK = "ok", _("Usable")
    FAILED = "failed", _("Failed")
    TIMEOUT = "timeout", _("Timed out")


class RestoreTest(models.Model):
    """A restore of one point into a scratch database (or, for a drill, a named target),
    with the checks run on it, the measured RTO and RPO."""

    point = models.ForeignKey(BackupPoint, on_delete=models.CASCADE, related_name="restores")
    drill_target = models.CharField(
        _("target database"),
        max_length=100,
        blank=True,
        help_text=_("Empty: a scratch database, dropped at the end."),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=RestoreStatus.choices, default=RestoreStatus.RUNNING
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    restore_seconds = models.FloatField(_("restore time (RTO, s)"), null=True, blank=True)
    rpo_seconds = models.FloatField(_("data age at backup (RPO, s)"), null=True, blank=True)
    # [{"check": str, "status": "ok|warn|critical|error", "detail": str}]
    checks = models.JSONField(_("checks"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    scratch_name = models.CharField(_("scratch database"), max_length=100, blank=True)
    scratch_dropped = models.BooleanField(_("scratch database dropped"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("restore test")
        verbose_name_plural = _("restore tests")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["point", "-started_at"], name="restoretest_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="running") | Q(finished_at__isnull=False),
                name="restoretest_finished_when_done",
            )
        ]

    def __str__(self) -> str:
        return f"{self.point_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
