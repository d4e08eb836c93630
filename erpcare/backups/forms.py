"""Forms of the backups pages. They check the shape of the input (numbers, cron, the
choices a user may make) and show an error beside its field; ``admin_services`` enforces
the rules again and its ActionError becomes the form's error."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from erpcare.backups import admin_services as svc
from erpcare.backups.models import BackupKind, BackupPlan
from erpcare.core.errors import ActionError
from erpcare.customers.models import ErpInstance
from erpcare.inspections.admin_services import validate_cron
from erpcare.inspections.models import DataSource
from erpcare.tickets.forms import StyledForm

OWN_DATABASE = "own"


def _cron(value: str) -> str:
    try:
        return validate_cron(value)
    except ActionError as exc:
        raise forms.ValidationError(exc.message) from None


class PlanForm(StyledForm):
    """A backup plan. The ERP instance and data source lists hold only what the user can
    see ("ERPCare's own database" only for administrators); editing keeps the database
    and the kind (the fields are shown, not sent). The scratch server password and the
    S3 secret key are write-only, like a data source's password."""

    id_prefix = "plan"

    name = forms.CharField(label=_("Name"), max_length=100)
    target = forms.ChoiceField(label=_("ERP instance"))
    kind = forms.ChoiceField(label=_("Kind"), choices=BackupKind.choices)
    data_source = forms.TypedChoiceField(
        label=_("Data source"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_(
            "An inspection data source of the instance, of the plan's kind: the backup "
            "connects with its host, database and login."
        ),
    )
    directory = forms.CharField(
        label=_("Backup directory"),
        max_length=500,
        help_text=_("A local or mounted directory on the worker machines (absolute path)."),
    )
    encrypt = forms.BooleanField(
        label=_("Encrypt (AES-256-GCM with ERPCARE_BACKUP_KEY)"), required=False, initial=True
    )
    schedule = forms.CharField(
        label=_("Backup schedule (cron)"), max_length=100, initial="0 2 * * *"
    )
    verify_schedule = forms.CharField(
        label=_("Restore test schedule (cron)"), max_length=100, initial="0 4 * * 0"
    )
    keep_daily = forms.IntegerField(
        label=_("Keep daily"), min_value=0, max_value=svc.MAX_KEEP, initial=7
    )
    keep_weekly = forms.IntegerField(
        label=_("Keep weekly"), min_value=0, max_value=svc.MAX_KEEP, initial=4
    )
    keep_monthly = forms.IntegerField(
        label=_("Keep monthly"), min_value=0, max_value=svc.MAX_KEEP, initial=12
    )
    timeout_seconds = forms.IntegerField(
        label=_("Backup time limit (s)"),
        min_value=svc.MIN_TIMEOUT,
        max_value=svc.MAX_TIMEOUT,
        initial=3600,
    )
    verify_timeout_seconds = forms.IntegerField(
        label=_("Restore test time limit (s)"),
        min_value=svc.MIN_TIMEOUT,
        max_value=svc.MAX_TIMEOUT,
        initial=3600,
    )
    key_tables = forms.CharField(
        label=_("Key tables"),
        required=False,
        max_length=20_000,
        help_text=_(
            "Comma- or line-separated. Counted exactly at backup time and compared after "
            "each restore."
        ),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control font-monospace"}),
    )
    newest_document_sql = forms.CharField(
        label=_("Newest business document (SQL)"),
        required=False,
        max_length=svc.MAX_SQL,
        help_text=_(
            "One SELECT answering one time: the newest business document, for the RPO. "
            "E.g. SELECT max(create_date) FROM account_move"
        ),
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control font-monospace"}),
    )
    run_business_checks = forms.BooleanField(
        label=_("Run the instance's business checks on the restored copy"),
        required=False,
        initial=True,
    )
    external_path = forms.CharField(
        label=_("External backup path"),
        max_length=500,
        required=False,
        help_text=_("External plans: a file pattern (glob) of the backups another tool makes."),
    )
    rpo_hours = forms.IntegerField(
        label=_("RPO target (hours)"), min_value=1, max_value=svc.MAX_RPO_HOURS, initial=24
    )
    rto_minutes = forms.IntegerField(
        label=_("RTO target (minutes)"),
        min_value=1,
        max_value=svc.MAX_RTO_MINUTES,
        initial=240,
    )
    scratch_host = forms.CharField(
        label=_("Scratch server host"),
        max_length=255,
        required=False,
        help_text=_("Where restore tests create and drop databases. Empty: the source's server."),
    )
    scratch_port = forms.IntegerField(
        label=_("Scratch server port"), required=False, min_value=1, max_value=65535
    )
    scratch_user = forms.CharField(
        label=_("Scratch server login"),
        max_length=100,
        required=False,
        help_text=_("A login that may create and drop databases. Empty: the source's login."),
    )
    scratch_password = forms.CharField(
        label=_("Scratch server password"),
        required=False,
        max_length=500,
        strip=False,
        # render_value=False: a saved password never travels back to the browser.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_scratch_password = forms.BooleanField(
        label=_("Clear the stored scratch password"), required=False
    )
    s3_bucket = forms.CharField(
        label=_("S3 bucket"),
        max_length=63,
        required=False,
        help_text=_("A copy of every backup in S3-compatible object storage. Empty: none."),
    )
    s3_prefix = forms.CharField(label=_("S3 key prefix"), max_length=200, required=False)
    s3_endpoint_url = forms.CharField(
        label=_("S3 endpoint"),
        max_length=300,
        required=False,
        help_text=_("Empty for AWS; the address of MinIO, Ceph, OSS or COS otherwise."),
    )
    s3_region = forms.CharField(label=_("S3 region"), max_length=50, required=False)
    s3_access_key = forms.CharField(label=_("S3 access key"), max_length=200, required=False)
    s3_secret_key = forms.CharField(
        label=_("S3 secret key"),
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_s3_secret_key = forms.BooleanField(
        label=_("Clear the stored S3 secret key"), required=False
    )
    keep_local = forms.BooleanField(
        label=_("Keep the local copy"),
        required=False,
        initial=True,
        help_text=_("Off: the local file is removed once the S3 copy is confirmed."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        instances: QuerySet[ErpInstance],
        sources: QuerySet[DataSource],
        own_database: bool = False,
        editing: bool = False,
        has_password: bool = False,
        has_s3_secret: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        targets: dict[int, tuple[str, list[tuple[str, str]]]] = {}
        for instance in instances.select_related("organization").order_by(
            "organization__name", "organization_id", "name", "pk"
        ):
            owner = targets.setdefault(instance.organization_id, (instance.organization.name, []))
            owner[1].append((str(instance.pk), instance.name))
        choices: list[Any] = [("", "—")]
        if own_database:
            choices.append((OWN_DATABASE, _("ERPCare's own database")))
        choices.extend(targets.values())
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = choices
        # Grouped by instance (<optgroup>); each source's instance and kind kept to check.
        self.source_of: dict[int, tuple[int, str]] = {}
        groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        for source in sources:
            instance = source.erp_instance
            label = f"{instance.organization.name} · {instance.name}"
            group = groups.setdefault(instance.pk, (label, []))
            group[1].append((source.pk, f"{source.name} ({source.get_kind_display()})"))
            self.source_of[source.pk] = (instance.pk, source.kind)
        data_source = self.fields["data_source"]
        assert isinstance(data_source, forms.TypedChoiceField)
        data_source.choices = [("", "—"), *groups.values()]
        if editing:
            target.disabled = True
            self.fields["kind"].disabled = True
            for name, stored in (
                ("scratch_password", has_password),
                ("s3_secret_key", has_s3_secret),
            ):
                self.fields[name].help_text = (
                    _("A password is stored. Leave empty to keep it.")
                    if stored
                    else _("No password is stored.")
                )
        if not (editing and has_password):
            del self.fields["clear_scratch_password"]
        if not (editing and has_s3_secret):
            del self.fields["clear_s3_secret_key"]

    def clean_schedule(self) -> str:
        return _cron(self.cleaned_data.get("schedule") or "")

    def clean_verify_schedule(self) -> str:
        return _cron(self.cleaned_data.get("verify_schedule") or "")

    def clean_key_tables(self) -> list[str]:
        try:
            return svc.parse_key_tables(self.cleaned_data.get("key_tables") or "")
        except ActionError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target, kind, source_id = data.get("target"), data.get("kind"), data.get("data_source")
        if target and kind and source_id is not None and source_id in self.source_of:
            instance_id, source_kind = self.source_of[source_id]
            if target == OWN_DATABASE or str(instance_id) != target:
                self.add_error("data_source", svc.wrong_instance_source().message)
            elif kind != BackupKind.EXTERNAL and source_kind != kind:
                source = DataSource(kind=source_kind)
                self.add_error("data_source", svc.wrong_kind_source(source, kind).message)
        return data

    def values(self) -> svc.PlanValues:
        data = self.cleaned_data
        target = data["target"]
        return svc.PlanValues(
            name=data["name"],
            kind=data["kind"],
            erp_instance_id=None if target == OWN_DATABASE else int(target),
            data_source_id=data.get("data_source"),
            directory=data["directory"],
            encrypt=bool(data.get("encrypt")),
            schedule=data["schedule"],
            verify_schedule=data["verify_schedule"],
            keep_daily=data["keep_daily"],
            keep_weekly=data["keep_weekly"],
            keep_monthly=data["keep_monthly"],
            timeout_seconds=data["timeout_seconds"],
            verify_timeout_seconds=data["verify_timeout_seconds"],
            key_tables=data.get("key_tables") or [],
            newest_document_sql=data.get("newest_document_sql") or "",
            run_business_checks=bool(data.get("run_business_checks")),
            external_path=data.get("external_path") or "",
            rpo_hours=data["rpo_hours"],
            rto_minutes=data["rto_minutes"],
            scratch_host=data.get("scratch_host") or "",
            scratch_port=data.get("scratch_port"),
            scratch_user=data.get("scratch_user") or "",
            s3_bucket=data.get("s3_bucket") or "",
            s3_prefix=data.get("s3_prefix") or "",
            s3_endpoint_url=data.get("s3_endpoint_url") or "",
            s3_region=data.get("s3_region") or "",
            s3_access_key=data.get("s3_access_key") or "",
            keep_local=bool(data.get("keep_local")),
            is_active=bool(data.get("is_active")),
        )

    @staticmethod
    def initial_for(plan: BackupPlan) -> dict[str, Any]:
        # No password here, on purpose.
        return {
            "name": plan.name,
            "target": str(plan.erp_instance_id) if plan.erp_instance_id else OWN_DATABASE,
            "kind": plan.kind,
            "data_source": plan.data_source_id,
            "directory": plan.directory,
            "encrypt": plan.encrypt,
            "schedule": plan.schedule,
            "verify_schedule": plan.verify_schedule,
            "keep_daily": plan.keep_daily,
            "keep_weekly": plan.keep_weekly,
            "keep_monthly": plan.keep_monthly,
            "timeout_seconds": plan.timeout_seconds,
            "verify_timeout_seconds": plan.verify_timeout_seconds,
            "key_tables": "\n".join(plan.key_tables or []),
            "newest_document_sql": plan.newest_document_sql,
            "run_business_checks": plan.run_business_checks,
            "external_path": plan.external_path,
            "rpo_hours": plan.rpo_hours,
            "rto_minutes": plan.rto_minutes,
            "scratch_host": plan.scratch_host,
            "scratch_port": plan.scratch_port,
            "scratch_user": plan.scratch_user,
            "s3_bucket": plan.s3_bucket,
            "s3_prefix": plan.s3_prefix,
            "s3_endpoint_url": plan.s3_endpoint_url,
            "s3_region": plan.s3_region,
            "s3_access_key": plan.s3_access_key,
            "keep_local": plan.keep_local,
            "is_active": plan.is_active,
        }


class RestoreForm(StyledForm):
    """Restore for real: the new database's name, typed twice."""

    id_prefix = "restore"

    target = forms.CharField(
        label=_("Target database"),
        max_length=63,
        help_text=_(
            "A new database: 3 to 63 lower-case letters, digits and underscores, starting "
            "with a letter. SQLite: the file drills/<name>.sqlite3 in the plan's directory."
        ),
    )
    confirm = forms.CharField(label=_("Type the target's name again"), max_length=63)
