"""Where a plan's database is: the engines' ``DbSpec`` for the source and for the scratch
server that restore tests create and drop databases on."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from erpcare.backups.engines import DbSpec
from erpcare.backups.models import BackupKind, BackupPlan
from erpcare.core.errors import ActionError

# Driver options the engines understand, taken over from an inspection data source.
_OPTIONS = {
    BackupKind.POSTGRESQL: ("sslmode", "sslrootcert"),
    BackupKind.MYSQL: ("socket", "ssl_ca"),
    BackupKind.SQLITE: (),
}


def own_database_spec() -> DbSpec:
    """ERPCare's own database, from the settings the application runs with."""
    db = settings.DATABASES["default"]
    engine = str(db["ENGINE"])
    if engine.endswith("sqlite3"):
        return DbSpec(kind="sqlite", database=str(Path(str(db["NAME"])).resolve()))
    if engine.endswith("postgresql"):
        return DbSpec(
            kind="postgresql",
            host=str(db.get("HOST") or "127.0.0.1"),
            port=int(str(db.get("PORT") or 5432)),
            database=str(db["NAME"]),
            user=str(db.get("USER") or ""),
            password=str(db.get("PASSWORD") or ""),
        )
    raise ActionError(
        _("ERPCare's own database engine %(engine)s cannot be backed up.") % {"engine": engine}
    )


def source_spec(plan: BackupPlan) -> DbSpec:
    """The database the plan backs up."""
    if plan.erp_instance_id is None:
        return own_database_spec()
    source = plan.data_source
    if source is None:
        raise ActionError(_("The backup plan has no data source to connect to."))
    if source.kind != plan.kind:
        raise ActionError(
            _("The data source is a %(source)s database, the plan backs up %(plan)s.")
            % {"source": source.get_kind_display(), "plan": plan.get_kind_display()}
        )
    allowed = _OPTIONS.get(BackupKind(plan.kind), ())
    options = {k: str(v) for k, v in (source.options or {}).items() if k in allowed}
    return DbSpec(
        kind=plan.kind,
        host=source.host,
        port=source.port,
        database=source.database,
        user=source.username,
        password=source.password,
        options=options,
    )


def scratch_spec(plan: BackupPlan) -> DbSpec:
    """The login restore tests use: it must be allowed to create and drop databases.
    Empty scratch fields fall back to the source's server and login; SQLite scratch
    copies go next to the plan's backups."""
    source = source_spec(plan)
    if plan.kind == BackupKind.SQLITE:
        scratch_dir = Path(plan.directory) / "scratch"
        return DbSpec(kind="sqlite", database="", options={"scratch_dir": str(scratch_dir)})
    return DbSpec(
        kind=plan.kind,
        host=plan.scratch_host or source.host,
        port=plan.scratch_port or source.port,
        database="postgres" if plan.kind == BackupKind.POSTGRESQL else "",
        user=plan.scratch_user or source.user,
        password=plan.scratch_password or source.password,
        options=dict(source.options),
    )
