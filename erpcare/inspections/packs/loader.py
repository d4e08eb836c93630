"""Check packs as YAML: validate (``parse_pack``), upsert (``import_pack``), write back
(``export_pack``) and install the packs shipped in this folder (``install_shipped_packs``).

A pack is data an operator may edit and re-import, so parsing is strict: unknown fields,
wrong types, unordered thresholds or a query parameter without a value are refused with a
message naming the file, the check and the field, and nothing is written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from croniter import croniter
from django.db import transaction
from django.utils.translation import gettext as _

from erpcare.core import clock
from erpcare.customers.models import ErpModule, ErpProduct
from erpcare.inspections.models import (
    DATABASE_KINDS,
    Check,
    CheckKind,
    CheckPack,
    CheckRevision,
    Condition,
    Layer,
    Severity,
    SourceKind,
)

if TYPE_CHECKING:
    from erpcare.accounts.models import User

PACKS_DIR = Path(__file__).resolve().parent
MAX_PACK_BYTES = 1024 * 1024
DEFAULT_SCHEDULE = "0 6 * * *"
SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# A bind parameter is ``:name`` not preceded by another colon (``::int`` is a cast) or a
# word character (``a:b`` in an identifier-like context is not ours).
PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
# String literals, quoted identifiers and comments are blanked before looking for
# parameters: a ':x' inside them is text, not a parameter.
NOT_CODE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)

PACK_FIELDS = ("code", "name", "version", "description", "checks")
CHECK_FIELDS = (
    "code",
    "name",
    "kind",
    "source_kind",
    "erp_products",
    "layer",
    "module",
    "severity",
    "condition",
    "warn",
    "critical",
    "schedule",
    "params",
    "query",
    "why",
    "remedy",
    "reference",
)
REQUIRED_CHECK_FIELDS = (
    "code",
    "name",
    "kind",
    "source_kind",
    "layer",
    "severity",
    "condition",
    "query",
    "why",
    "remedy",
)
# Which data sources a kind of check can ask; built-ins may run anywhere.
SOURCES_OF_KIND: dict[str, tuple[str, ...]] = {
    CheckKind.SQL: tuple(str(kind) for kind in DATABASE_KINDS),
    CheckKind.PROMQL: (SourceKind.PROMETHEUS,),
    CheckKind.HTTP: (SourceKind.HTTP,),
    CheckKind.BUILTIN: tuple(SourceKind.values),
}
THRESHOLD_CONDITIONS = (Condition.VALUE_AT_MOST, Condition.VALUE_AT_LEAST, Condition.CHANGE_AT_MOST)


class PackError(ValueError):
    """A pack that cannot be read; the message names the file, the check and the field."""

    def __init__(self, problem: str, *, origin: str = "", check: str = "", field: str = ""):
        self.problem = problem
        self.origin = origin
        self.check = check
        self.field = field
        where = [origin or _("pack")]
        if check:
            where.append(_("check “%(code)s”") % {"code": check})
        if field:
            where.append(_("field “%(field)s”") % {"field": field})
        super().__init__(
            _("%(where)s: %(problem)s") % {"where": ", ".join(where), "problem": problem}
        )


@dataclass(frozen=True)
class CheckDefinition:
    """One check as a pack defines it; ``asdict`` of it is a revision's definition."""

    code: str
    name: str
    kind: str
    source_kind: str
    erp_products: list[str]
    layer: str
    module: str
    severity: str
    condition: str
    warn: float | None
    critical: float | None
    schedule: str
    params: dict[str, Any]
    query: str
    why: str
    remedy: str
    reference: str

    def definition(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PackDefinition:
    code: str
    name: str
    version: str
    description: str
    checks: tuple[CheckDefinition, ...] = field(default_factory=tuple)


class _NoAliasLoader(yaml.SafeLoader):
    """safe_load without anchors and aliases: a pack never needs them and they are how a
    'billion laughs' document makes a small file expand into an enormous structure."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "anchors and aliases are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


class _Fields:
    """Reads typed fields from one mapping and raises PackError naming where it is."""

    def __init__(self, data: Mapping[str, Any], *, origin: str, check: str = ""):
        self.data = data
        self.origin = origin
        self.check = check

    def error(self, name: str, problem: str) -> PackError:
        return PackError(problem, origin=self.origin, check=self.check, field=name)

    def text(self, name: str, *, required: bool = True, max_length: int | None = None) -> str:
        raw = self.data.get(name)
        if raw is None:
            if required:
                raise self.error(name, _("This field is required."))
            return ""
        if not isinstance(raw, str):
            raise self.error(name, _("Expected text, got %(type)s.") % {"type": _type(raw)})
        value = raw.strip()
        if required and not value:
            raise self.error(name, _("This field is required."))
        if max_length is not None and len(value) > max_length:
            raise self.error(
                name,
                _("At most %(n)d characters (got %(got)d).") % {"n": max_length, "got": len(value)},
            )
        return value

    def slug(self, name: str, *, max_length: int) -> str:
        value = self.text(name, max_length=max_length)
        if not SLUG.match(value):
            raise self.error(
                name,
                _("“%(value)s” is not a code: use lower-case letters, digits, - and _.")
                % {"value": value},
            )
        return value

    def choice(self, name: str, choices: list[str], *, required: bool = True) -> str:
        value = self.text(name, required=required)
        if value and value not in choices:
            raise self.error(
                name,
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": value, "choices": ", ".join(choices)},
            )
        return value

    def number(self, name: str) -> float | None:
        raw = self.data.get(name)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.error(name, _("Expected a number, got %(type)s.") % {"type": _type(raw)})
        value = float(raw)
        if not math.isfinite(value):
            raise self.error(name, _("Expected a finite number."))
        return value


def _type(raw: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
    }.get(type(raw), type(raw).__name__)


def _unknown_fields(data: Mapping[str, Any], allowed: tuple[str, ...], fields: _Fields) -> None:
    for name in data:
        if name not in allowed:
            raise fields.error(
                str(name),
                _("Unknown field; the fields are: %(fields)s.") % {"fields": ", ".join(allowed)},
            )


def sql_parameters(query: str) -> list[str]:
    """The ``:name`` parameters a SQL query uses, in order of first use."""
    names: list[str] = []
    for match in PARAMETER.finditer(NOT_CODE.sub(" ", query)):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def _params(fields: _Fields, kind: str, query: str) -> dict[str, Any]:
    raw = fields.data.get("params")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise fields.error("params", _("Expected a mapping, got %(type)s.") % {"type": _type(raw)})
    for key in raw:
        if not isinstance(key, str):
            raise fields.error("params", _("Parameter names must be text."))
    sql_params = raw.get("sql_params", {})
    if not isinstance(sql_params, dict):
        raise fields.error(
            "params.sql_params",
            _("Expected a mapping, got %(type)s.") % {"type": _type(sql_params)},
        )
    for key, value in sql_params.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_]\w*", key):
            raise fields.error(
                "params.sql_params", _("“%(name)s” is not a parameter name.") % {"name": key}
            )
        if value is not None and not isinstance(value, str | int | float | bool):
            raise fields.error(
                f"params.sql_params.{key}",
                _("Expected text, a number or true/false, got %(type)s.") % {"type": _type(value)},
            )
    if kind == CheckKind.SQL:
        missing = [name for name in sql_parameters(query) if name not in sql_params]
        if missing:
            raise fields.error(
                "query",
                _("The query uses :%(name)s but params.sql_params gives it no value.")
                % {"name": missing[0]},
            )
    elif sql_params:
        raise fields.error("params.sql_params", _("Only SQL checks take SQL parameters."))
    return raw


def _thresholds(fields: _Fields, condition: str) -> tuple[float | None, float | None]:
    warn = fields.number("warn")
    critical = fields.number("critical")
    if condition in THRESHOLD_CONDITIONS and warn is None and critical is None:
        raise fields.error(
            "warn",
            _("The condition %(condition)s needs warn or critical.") % {"condition": condition},
        )
    if warn is not None and critical is not None:
        if condition == Condition.VALUE_AT_LEAST and warn < critical:
            raise fields.error(
                "critical",
                _("For value_at_least the critical threshold must be at or below warn."),
            )
        if condition != Condition.VALUE_AT_LEAST and warn > critical:
            raise fields.error("critical", _("The critical threshold must be at or above warn."))
    return warn, critical


def _check(raw: Any, index: int, origin: str) -> CheckDefinition:
    if not isinstance(raw, dict):
        raise PackError(
            _("Check number %(n)d is not a mapping.") % {"n": index + 1},
            origin=origin,
            field="checks",
        )
    code = raw.get("code")
    fields = _Fields(raw, origin=origin, check=code if isinstance(code, str) else f"#{index + 1}")
    _unknown_fields(raw, CHECK_FIELDS, fields)
    code = fields.slug("code", max_length=100)
    kind = fields.choice("kind", CheckKind.values)
    source_kind = fields.choice("source_kind", SourceKind.values)
    if source_kind not in SOURCES_OF_KIND[kind]:
        raise fields.error(
            "source_kind",
            _("A %(kind)s check runs on %(allowed)s, not %(source)s.")
            % {"kind": kind, "allowed": ", ".join(SOURCES_OF_KIND[kind]), "source": source_kind},
        )
    condition = fields.choice("condition", Condition.values)
    if (condition == Condition.PROBE) != (kind == CheckKind.HTTP) and kind != CheckKind.BUILTIN:
        raise fields.error(
            "condition",
            _(
                "HTTP checks use the probe condition and only they do (got %(condition)s for a "
                "%(kind)s check)."
            )
            % {"condition": condition, "kind": kind},
        )
    products = raw.get("erp_products")
    if products is None:
        products = []
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
        raise fields.error("erp_products", _("Expected a list of ERP products."))
    for product in products:
        if product not in ErpProduct.values:
            raise fields.error(
                "erp_products",
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": product, "choices": ", ".join(ErpProduct.values)},
            )
    schedule = " ".join(fields.text("schedule", required=False).split()) or DEFAULT_SCHEDULE
    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        raise fields.error(
            "schedule",
            _("“%(cron)s” is not a cron schedule (five fields: minute hour day month weekday).")
            % {"cron": schedule},
        )
    query = fields.text("query")
    if kind == CheckKind.BUILTIN:
        from erpcare.inspections.builtins import REGISTRY

        if query.strip() not in REGISTRY:
            raise fields.error(
                "query",
                _("A built-in check names one of: %(names)s.")
                % {"names": ", ".join(sorted(REGISTRY))},
            )
        if condition == Condition.PROBE:
            raise fields.error("condition", _("Built-in checks are judged by a value condition."))
    warn, critical = _thresholds(fields, condition)
    return CheckDefinition(
        code=code,
        name=fields.text("name", max_length=200),
        kind=kind,
        source_kind=source_kind,
        erp_products=list(products),
        layer=fields.choice("layer", Layer.values),
        module=fields.choice("module", ErpModule.values, required=False),
        severity=fields.choice("severity", Severity.values),
        condition=condition,
        warn=warn,
        critical=critical,
        schedule=schedule,
        params=_params(fields, kind, query),
        # Queries keep their inner layout; only surrounding blank space goes.
        query=query,
        why=fields.text("why"),
        remedy=fields.text("remedy"),
        reference=fields.text("reference", required=False, max_length=500),
    )


def parse_pack(text: str, *, origin: str = "") -> PackDefinition:
    """Validate a pack's YAML and return its definition; touches no database."""
    if len(text.encode("utf-8")) > MAX_PACK_BYTES:
        raise PackError(
            _("The pack is larger than %(n)d bytes.") % {"n": MAX_PACK_BYTES}, origin=origin
        )
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise PackError(_("Not valid YAML: %(error)s") % {"error": error}, origin=origin) from None
    except RecursionError:
        raise PackError(_("The YAML is nested too deeply."), origin=origin) from None
    if not isinstance(data, dict):
        raise PackError(
            _("A pack is a mapping with code, name, version and checks."), origin=origin
        )
    fields = _Fields(data, origin=origin)
    _unknown_fields(data, PACK_FIELDS, fields)
    code = fields.slug("code", max_length=60)
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    fields = _Fields({**data, "version": version}, origin=origin)
    checks_raw = data.get("checks")
    if not isinstance(checks_raw, list) or not checks_raw:
        raise fields.error("checks", _("A pack needs a list of at least one check."))
    checks = tuple(_check(raw, index, origin) for index, raw in enumerate(checks_raw))
    seen: set[str] = set()
    for check in checks:
        if check.code in seen:
            raise PackError(
                _("The code is used by two checks."), origin=origin, check=check.code, field="code"
            )
        seen.add(check.code)
    return PackDefinition(
        code=code,
        name=fields.text("name", max_length=200),
        version=fields.text("version", max_length=20),
        description=fields.text("description", required=False),
        checks=checks,
    )


def stored_definition(check: Check) -> dict[str, Any]:
    """A stored check in the shape of ``CheckDefinition.definition()``."""
    return CheckDefinition(
        code=check.code,
        name=check.name,
        kind=check.kind,
        source_kind=check.source_kind,
        erp_products=list(check.erp_products or []),
        layer=check.layer,
        module=check.module,
        severity=check.severity,
        condition=check.condition,
        warn=check.warn_threshold,
        critical=check.critical_threshold,
        schedule=check.schedule,
        params=dict(check.params or {}),
        query=check.query,
        why=check.why,
        remedy=check.remedy,
        reference=check.reference,
    ).definition()


def _apply(check: Check, definition: CheckDefinition) -> None:
    for name in (
        "name",
        "kind",
        "source_kind",
        "erp_products",
        "layer",
        "module",
        "severity",
        "condition",
        "schedule",
        "params",
        "query",
        "why",
        "remedy",
        "reference",
    ):
        setattr(check, name, getattr(definition, name))
    check.warn_threshold = definition.warn
    check.critical_threshold = definition.critical


def import_pack(
    text: str, *, actor: User | None = None, shipped: bool = False, origin: str = ""
) -> CheckPack:
    """Create or update a pack and its checks from YAML, in one transaction.

    Checks are matched by code. A check whose definition changed gets version + 1 and a
    CheckRevision holding the new definition; an unchanged one is left alone (a
    deactivated one comes back active); checks the YAML no longer has are deactivated,
    never deleted, because results and assignments point at them.
    """
    from erpcare.audit import services as audit

    pack_def = parse_pack(text, origin=origin)
    now = clock.now()
    added: list[str] = []
    changed: list[str] = []
    with transaction.atomic():
        pack, created = CheckPack.objects.select_for_update().get_or_create(
            code=pack_def.code,
            defaults={
                "name": pack_def.name,
                "description": pack_def.description,
                "version": pack_def.version,
                "shipped": shipped,
                "imported_at": now,
            },
        )
        if not created:
            pack.name = pack_def.name
            pack.description = pack_def.description
            pack.version = pack_def.version
            pack.shipped = shipped
            pack.imported_at = now
            pack.save()
        existing = {check.code: check for check in Check.objects.filter(pack=pack)}
        for definition in pack_def.checks:
            check = existing.get(definition.code)
            if check is None:
                check = Check(pack=pack, code=definition.code, version=1, updated_at=now)
                _apply(check, definition)
                check.save()
                added.append(definition.code)
            elif stored_definition(check) != definition.definition():
                _apply(check, definition)
                check.version += 1
                check.is_active = True
                check.updated_at = now
                check.save()
                changed.append(definition.code)
            else:
                if not check.is_active:
                    check.is_active = True
                    check.updated_at = now
                    check.save(update_fields=["is_active", "updated_at"])
                continue
            CheckRevision.objects.create(
                check_ref=check,
                version=check.version,
                definition=definition.definition(),
                created_at=now,
                created_by=actor,
            )
        codes = {definition.code for definition in pack_def.checks}
        gone = sorted(
            code for code, check in existing.items() if code not in codes and check.is_active
        )
        Check.objects.filter(pack=pack, code__in=gone).update(is_active=False, updated_at=now)
        audit.record(
            actor=actor,
            action="inspections.pack_imported",
            target=pack,
            data={
                "code": pack.code,
                "version": pack.version,
                "shipped": shipped,
                "added": added,
                "changed": changed,
                "deactivated": gone,
            },
        )
    return pack


class _Dumper(yaml.SafeDumper):
    pass


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Queries and explanations read best as literal blocks, as they are written by hand.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_text)


def _plain_number(value: float | None) -> float | int | None:
    if value is not None and value.is_integer():
        return int(value)
    return value


def export_pack(pack: CheckPack) -> str:
    """The pack's active checks as YAML that ``import_pack`` reads back unchanged."""
    checks = []
    for check in pack.checks.filter(is_active=True).order_by("id"):
        entry = stored_definition(check)
        entry["warn"] = _plain_number(entry["warn"])
        entry["critical"] = _plain_number(entry["critical"])
        checks.append({name: entry[name] for name in CHECK_FIELDS if entry[name] is not None})
    document = {
        "code": pack.code,
        "name": pack.name,
        "version": pack.version,
        "description": pack.description,
        "checks": checks,
    }
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def shipped_pack_files() -> list[Path]:
    return sorted(PACKS_DIR.glob("*.yaml"))


def install_shipped_packs() -> list[CheckPack]:
    """Import every pack shipped in this folder (all or none), marked as shipped."""
    with transaction.atomic():
        return [
            import_pack(path.read_text(encoding="utf-8"), shipped=True, origin=path.name)
            for path in shipped_pack_files()
        ]
