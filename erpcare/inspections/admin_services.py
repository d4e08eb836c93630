"""The inspections admin's actions: data sources (create, change, test, deactivate), the
checks assigned to an ERP instance (switch on/off, schedule override), pack import and
the report mail subscriptions (create, change, delete, send now).

Every function that changes something takes the actor first, checks the role and the
instance's visibility before anything else, validates (``ActionError`` with a translated
message; nothing changes then) and writes its rows and an audit entry in one transaction.
A data source's password is written, never read back: the audit log notes only that it
changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from croniter import croniter
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError, NotFound
from erpcare.customers.models import ErpInstance, Organization
from erpcare.customers.services import visible_erp_instances, visible_organizations
from erpcare.inspections.models import (
    CheckPack,
    DataSource,
    InstanceCheck,
    ReportFrequency,
    ReportMailing,
    ReportSubscription,
    SourceKind,
)
from erpcare.inspections.permissions import (
    can_read_inspections,
    require_configure,
)

MIN_TIMEOUT_MS = 100
MAX_TIMEOUT_MS = 300_000
MAX_ROWS = 10_000
MAX_OPTIONS_BYTES = 10_000
URL_KINDS = (SourceKind.PROMETHEUS, SourceKind.HTTP)
# Database servers answer on a host; a SQLite "database" is a file on this server.
HOST_KINDS = (SourceKind.POSTGRESQL, SourceKind.MYSQL, SourceKind.SQLSERVER)


@dataclass(frozen=True)
class SourceValues:
    """A data source's settings as a form or the API gives them (the password apart)."""

    name: str
    kind: str
    host: str = ""
    port: int | None = None
    database: str = ""
    username: str = ""
    url: str = ""
    options: dict[str, Any] | None = None
    statement_timeout_ms: int = 10_000
    max_rows: int = 100


# ---------------------------------------------------------------------------
# Scoping
# ---------------------------------------------------------------------------


def instance_for(user: User, instance_id: int) -> ErpInstance:
    """The ERP instance if the user may read inspections and see it; NotFound otherwise
    (the two are never told apart)."""
    if not can_read_inspections(user):
        raise NotFound(_("ERP instance not found."))
    found = (
        visible_erp_instances(user).select_related("organization").filter(pk=instance_id).first()
    )
    if found is None:
        raise NotFound(_("ERP instance not found."))
    return found


def _require_visible(actor: User, instance: ErpInstance) -> None:
    if not visible_erp_instances(actor).filter(pk=instance.pk).exists():
        raise NotFound(_("ERP instance not found."))


# ---------------------------------------------------------------------------
# Data sources
# ---------------------------------------------------------------------------


def validate_cron(text: str) -> str:
    """A five-field cron expression, spaces normalised; ActionError otherwise."""
    cron = " ".join((text or "").split())
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise ActionError(
            _("“%(cron)s” is not a cron schedule (five fields: minute hour day month "
              "weekday).") % {"cron": cron}
        )  # fmt: skip
    return cron


def _clean_source(values: SourceValues) -> dict[str, Any]:
    """The model's field values for ``values``, or ActionError naming what is wrong.
    Fields a kind does not use are emptied so a changed kind leaves nothing stale."""
    name = values.name.strip()
    if not name:
        raise ActionError(_("Enter a name."))
    if values.kind not in SourceKind.values:
        raise ActionError(_("Choose the kind of data source."))
    kind = SourceKind(values.kind)
    host, database, username, url = (
        values.host.strip(),
        values.database.strip(),
        values.username.strip(),
        values.url.strip(),
    )
    port = values.port
    if kind in HOST_KINDS:
        if not host:
            raise ActionError(_("Enter the database server's host name."))
        if not database:
            raise ActionError(_("Enter the database name."))
        if port is not None and not 1 <= port <= 65535:
            raise ActionError(_("The port is a number from 1 to 65535."))
        url = ""
    elif kind == SourceKind.SQLITE:
        if not database.startswith("/"):
            raise ActionError(_("Enter the SQLite file's absolute path on the ERPCare server."))
        host, port, username, url = "", None, "", ""
    else:
        if not url.lower().startswith(("http://", "https://")):
            raise ActionError(_("Enter an http:// or https:// URL."))
        host, port, database = "", None, ""
    if not MIN_TIMEOUT_MS <= values.statement_timeout_ms <= MAX_TIMEOUT_MS:
        raise ActionError(
            _("The statement timeout is between %(min)d and %(max)d ms.")
            % {"min": MIN_TIMEOUT_MS, "max": MAX_TIMEOUT_MS}
        )
    if not 1 <= values.max_rows <= MAX_ROWS:
        raise ActionError(_("Rows kept per finding: 1 to %(max)d.") % {"max": MAX_ROWS})
    options = values.options or {}
    if not isinstance(options, dict):
        raise ActionError(_("The options must be a JSON object."))
    if len(repr(options)) > MAX_OPTIONS_BYTES:
        raise ActionError(_("The options are too long."))
    return {
        "name": name,
        "kind": kind.value,
        "host": host,
        "port": port,
        "database": database,
        "username": username,
        "url": url,
        "options": options,
        "statement_timeout_ms": values.statement_timeout_ms,
        "max_rows": values.max_rows,
    }


def _duplicate_name(name: str) -> ActionError:
    return ActionError(
        _("This ERP instance already has a data source called “%(name)s”.") % {"name": name}
    )


def _audit_fields(fields: dict[str, Any]) -> dict[str, Any]:
    # Host, database and user names say where we look, not how to get in: they go to
    # the audit log; the password never does.
    return {key: fields[key] for key in ("name", "kind", "host", "port", "database", "url")}


def create_source(
    actor: User, instance: ErpInstance, values: SourceValues, *, password: str = ""
) -> DataSource:
    require_configure(actor)
    _require_visible(actor, instance)
    fields = _clean_source(values)
    if fields["kind"] in URL_KINDS or fields["kind"] == SourceKind.SQLITE:
        password = ""
    now = clock.now()
    try:
        with transaction.atomic():
            source = DataSource.objects.create(
                erp_instance=instance,
                password=password,
                created_at=now,
                updated_at=now,
                **fields,
            )
            record(
                actor=actor,
                action="inspections.source_created",
                target=source,
                data={**_audit_fields(fields), "password_set": bool(password)},
            )
    except IntegrityError:
        raise _duplicate_name(fields["name"]) from None
    return source


def update_source(
    actor: User,
    source: DataSource,
    values: SourceValues,
    *,
    password: str = "",
    clear_password: bool = False,
) -> DataSource:
    """Change a data source. An empty ``password`` keeps the stored one; ``clear_password``
    removes it. The last test's result is dropped: it said nothing about the new settings."""
    require_configure(actor)
    _require_visible(actor, source.erp_instance)
    fields = _clean_source(values)
    if password and clear_password:
        raise ActionError(_("Either enter a new password or clear it, not both."))
    try:
        with transaction.atomic():
            locked = DataSource.objects.select_for_update().get(pk=source.pk)
            changed = sorted(key for key, value in fields.items() if getattr(locked, key) != value)
            for key, value in fields.items():
                setattr(locked, key, value)
            credential_note = ""  # what happened to the password, for the audit log
            if clear_password or (fields["kind"] in URL_KINDS or fields["kind"] == "sqlite"):
                if locked.password:
                    credential_note = "cleared"
                locked.password = ""
            elif password:
                locked.password = password
                credential_note = "changed"
            if changed or credential_note:
                locked.last_test_at = None
                locked.last_test_ok = None
                locked.last_test_message = ""
            locked.updated_at = clock.now()
            locked.save()
            record(
                actor=actor,
                action="inspections.source_changed",
                target=locked,
                data={
                    **_audit_fields(fields),
                    "changed": changed,
                    "password": credential_note,
                },
            )
    except IntegrityError:
        raise _duplicate_name(fields["name"]) from None
    return locked


def set_source_active(actor: User, source: DataSource, *, active: bool) -> DataSource:
    """A deactivated source keeps its assignments and history; its checks stop running."""
    require_configure(actor)
    _require_visible(actor, source.erp_instance)
    with transaction.atomic():
        locked = DataSource.objects.select_for_update().get(pk=source.pk)
        if locked.is_active != active:
            locked.is_active = active
            locked.updated_at = clock.now()
            locked.save(update_fields=["is_active", "updated_at"])
            record(
                actor=actor,
                action="inspections.source_" + ("activated" if active else "deactivated"),
                target=locked,
                data={"name": locked.name},
            )
    return locked


def try_connection(actor: User, source: DataSource) -> tuple[bool, str]:
    """Connect as the checks will (bounded by the source's statement timeout) and record
    what answered on the source."""
    from erpcare.inspections.services.sources import test_connection

    require_configure(actor)
    _require_visible(actor, source.erp_instance)
    ok, message = test_connection(source)
    record(
        actor=actor,
        action="inspections.source_tested",
        target=source,
        data={"ok": ok, "message": message[:500]},
    )
    return ok, message


# ---------------------------------------------------------------------------
# Assigned checks
# ---------------------------------------------------------------------------


def update_assignment(
    actor: User, assignment: InstanceCheck, *, is_active: bool, schedule: str
) -> InstanceCheck:
    """Switch an assigned check on or off and set its schedule (empty: the check's own).
    The next run is recomputed by the scheduler from the new schedule."""
    require_configure(actor)
    _require_visible(actor, assignment.erp_instance)
    schedule = validate_cron(schedule) if schedule.strip() else ""
    with transaction.atomic():
        locked = InstanceCheck.objects.select_for_update().get(pk=assignment.pk)
        before = {"is_active": locked.is_active, "schedule": locked.schedule}
        locked.is_active = is_active
        if locked.schedule != schedule:
            locked.schedule = schedule
            # None: the scheduler's next pass gives it the new schedule's next firing.
            locked.next_run_at = None
        locked.save(update_fields=["is_active", "schedule", "next_run_at"])
        record(
            actor=actor,
            action="inspections.assignment_changed",
            target=locked,
            data={
                "check": locked.check_ref_id,
                "before": before,
                "after": {"is_active": is_active, "schedule": schedule},
            },
        )
    return locked


# ---------------------------------------------------------------------------
# Packs
# ---------------------------------------------------------------------------


def import_pack_text(actor: User, text: str, *, origin: str = "") -> CheckPack:
    """Import (or update) a pack from YAML an operator gave; a pack the loader refuses
    becomes an ActionError with the loader's message, and nothing is written."""
    from erpcare.inspections.packs.loader import PackError, import_pack

    require_configure(actor)
    if not text.strip():
        raise ActionError(_("Upload a YAML file or paste the pack."))
    try:
        return import_pack(text, actor=actor, shipped=False, origin=origin)
    except PackError as error:
        raise ActionError(str(error)) from None


# ---------------------------------------------------------------------------
# Report mail subscriptions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionValues:
    """A report subscription's settings as the form gives them."""

    organization_id: int | None
    erp_instance_id: int | None
    recipients: str
    frequency: str
    language: str
    is_active: bool = True


def subscriptions_for(user: User) -> QuerySet[ReportSubscription]:
    """The subscriptions of the customers the user can see; none for non-readers."""
    if not can_read_inspections(user):
        return ReportSubscription.objects.none()
    return ReportSubscription.objects.filter(organization__in=visible_organizations(user))


def subscription_for(user: User, subscription_id: int) -> ReportSubscription:
    found = (
        subscriptions_for(user)
        .select_related("organization", "erp_instance")
        .filter(pk=subscription_id)
        .first()
    )
    if found is None:
        raise NotFound(_("Report subscription not found."))
    return found


def mailings_for(user: User) -> QuerySet[ReportMailing]:
    """The report mailings of the customers the user can see; none for non-readers."""
    if not can_read_inspections(user):
        return ReportMailing.objects.none()
    return ReportMailing.objects.filter(subscription__organization__in=visible_organizations(user))


def _require_visible_subscription(actor: User, subscription: ReportSubscription) -> None:
    if not subscriptions_for(actor).filter(pk=subscription.pk).exists():
        raise NotFound(_("Report subscription not found."))


def not_the_customers_instance(organization: Organization) -> ActionError:
    return ActionError(
        _("The chosen ERP instance does not belong to %(customer)s.")
        % {"customer": organization.name}
    )


def _clean_subscription(actor: User, values: SubscriptionValues) -> dict[str, Any]:
    """The model's field values for ``values``, or ActionError naming what is wrong."""
    from erpcare.inspections.services.mailing import parse_recipients

    organization: Organization | None = None
    if values.organization_id is not None:
        organization = visible_organizations(actor).filter(pk=values.organization_id).first()
    if organization is None:
        raise ActionError(_("Choose one of your customers."))
    instance: ErpInstance | None = None
    if values.erp_instance_id is not None:
        instance = ErpInstance.objects.filter(
            pk=values.erp_instance_id, organization=organization
        ).first()
        if instance is None:
            raise not_the_customers_instance(organization)
    recipients = parse_recipients(values.recipients)
    if values.frequency not in ReportFrequency.values:
        raise ActionError(_("Choose how often the report is mailed."))
    if values.language not in dict(settings.LANGUAGES):
        raise ActionError(_("Choose the report's language."))
    return {
        "organization": organization,
        "erp_instance": instance,
        "recipients": "\n".join(recipients),
        "frequency": values.frequency,
        "language": values.language,
        "is_active": values.is_active,
    }


def _audit_subscription(fields: dict[str, Any]) -> dict[str, Any]:
    instance = fields["erp_instance"]
    return {
        "customer": fields["organization"].code,
        "erp_instance": instance.pk if instance is not None else None,
        "frequency": fields["frequency"],
        "language": fields["language"],
        "recipients": fields["recipients"].split("\n"),
        "is_active": fields["is_active"],
    }


def _fields_of(subscription: ReportSubscription) -> dict[str, Any]:
    return {
        "organization": subscription.organization,
        "erp_instance": subscription.erp_instance,
        "recipients": subscription.recipients,
        "frequency": subscription.frequency,
        "language": subscription.language,
        "is_active": subscription.is_active,
    }


def create_subscription(actor: User, values: SubscriptionValues) -> ReportSubscription:
    """A new subscription starts with the next finished period (``mailing.due_period``)."""
    require_configure(actor)
    fields = _clean_subscription(actor, values)
    with transaction.atomic():
        subscription = ReportSubscription.objects.create(
            created_by=actor, created_at=clock.now(), **fields
        )
        record(
            actor=actor,
            action="inspections.subscription_created",
            target=subscription,
            data=_audit_subscription(fields),
        )
    return subscription


def update_subscription(
    actor: User, subscription: ReportSubscription, values: SubscriptionValues
) -> ReportSubscription:
    """Change a subscription. Its customer stays: the mailings already sent are the
    customer's, and whoever sees the subscription sees them."""
    require_configure(actor)
    _require_visible_subscription(actor, subscription)
    if values.organization_id != subscription.organization_id:
        raise ActionError(
            _("A subscription's customer cannot be changed; add a subscription instead.")
        )
    fields = _clean_subscription(actor, values)
    with transaction.atomic():
        locked = ReportSubscription.objects.select_for_update().get(pk=subscription.pk)
        changed = sorted(key for key, value in fields.items() if getattr(locked, key) != value)
        for key, value in fields.items():
            setattr(locked, key, value)
        locked.save(update_fields=[*fields])
        record(
            actor=actor,
            action="inspections.subscription_changed",
            target=locked,
            data={**_audit_subscription(fields), "changed": changed},
        )
    return locked


def delete_subscription(actor: User, subscription: ReportSubscription) -> None:
    """Delete a subscription and its mailings' records. The stored PDFs stay: mails
    still queued for delivery attach them."""
    require_configure(actor)
    _require_visible_subscription(actor, subscription)
    with transaction.atomic():
        # No select_related: FOR UPDATE cannot take the nullable side of an outer join.
        locked = ReportSubscription.objects.select_for_update().get(pk=subscription.pk)
        record(
            actor=actor,
            action="inspections.subscription_deleted",
            target=locked,
            data={**_audit_subscription(_fields_of(locked)), "mailings": locked.mailings.count()},
        )
        locked.delete()


def send_now(actor: User, subscription: ReportSubscription) -> ReportMailing:
    """Mail the last finished period (in the customer's time zone) again, now: a person's
    "send now" does not claim the period, so the worker's schedule is unchanged."""
    from erpcare.inspections.services import mailing
    from erpcare.inspections.services.report import customer_zone_of

    require_configure(actor)
    _require_visible_subscription(actor, subscription)
    today = timezone.localtime(clock.now(), customer_zone_of(subscription.organization)).date()
    period = mailing.last_finished_period(subscription.frequency, today)
    sent = mailing.send_period(subscription, period, actor=actor, claim=False)
    if sent is None:  # pragma: no cover - only a claiming send returns None
        raise ActionError(_("The report was not sent."))
    record(
        actor=actor,
        action="inspections.report_sent",
        target=subscription,
        data={
            "mailing": sent.pk,
            "period_start": f"{period.start:%Y-%m-%d}",
            "period_end": f"{period.end:%Y-%m-%d}",
            "recipients": sent.recipients,
        },
    )
    return sent
