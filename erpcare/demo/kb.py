"""The demo knowledge base: the articles in ``articles/*.yaml``, written, reviewed and
published by the demo staff through ``erpcare.kb.services`` and then used over the demo's
history (views, votes, "this solved my problem", "solved with KB-…" on tickets).

Everything is replayed at its historical time with ``clock.frozen_at``, like the tickets,
and decided by a generator with a fixed seed, so two fresh demos get the same knowledge
base. ``seed_demo`` calls ``seed_knowledge_base`` inside its one transaction, after the
tickets, so the demo marker that makes seeding idempotent covers the articles too.

The articles' text is also the corpus of the search relevance test
(``erpcare/search/tests/test_relevance.py``), which reads it with ``load_articles``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from erpcare.accounts.models import User
from erpcare.core import clock
from erpcare.customers.models import ErpModule, Organization
from erpcare.demo import data
from erpcare.demo.plan import DEFAULT_TICKETS, HISTORY_DAYS, LOCAL, DemoPlan
from erpcare.kb import services as kb
from erpcare.kb.models import Article, ArticleLanguage, ArticleStatus, ArticleType, Visibility
from erpcare.tickets.models import Status, Ticket

ARTICLES_DIR = Path(__file__).resolve().parent / "articles"
KB_SEED = 20261102
MANAGER = "manager@erpcare.demo"

__all__ = ["DemoArticle", "KbSeedResult", "demo_kb_exists", "load_articles", "seed_knowledge_base"]


# ---------------------------------------------------------------------------
# The articles as data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoArticle:
    """One article of ``articles/*.yaml`` (fields described in ``articles/README.md``)."""

    key: str
    language: str
    type: str
    module: str
    product: str
    visibility: str
    owner: str
    title: str
    summary: str
    keywords: tuple[str, ...]
    body: str
    symptom: str = ""
    cause: str = ""
    resolution: str = ""
    log_excerpt: str = ""
    customer: str = ""
    status: str = ArticleStatus.PUBLISHED
    stale: bool = False

    @property
    def keyword_text(self) -> str:
        return ", ".join(self.keywords)

    @property
    def searchable(self) -> bool:
        """In the search index once seeded: only published articles are."""
        return self.status == ArticleStatus.PUBLISHED

    def content(self) -> dict[str, Any]:
        """The fields ``kb.services.create_article`` takes."""
        return {
            "title": self.title,
            "type": self.type,
            "language": self.language,
            "summary": self.summary,
            "body": self.body,
            "symptom": self.symptom,
            "cause": self.cause,
            "resolution": self.resolution,
            "log_excerpt": self.log_excerpt,
            "module": self.module,
            "product": self.product,
            "keywords": self.keyword_text,
            "visibility": self.visibility,
        }


_REQUIRED = ("key", "language", "type", "module", "product", "visibility", "owner", "title")
_CASE_FIELDS = ("symptom", "cause", "resolution", "log_excerpt")
_STATUSES = (ArticleStatus.PUBLISHED, ArticleStatus.DRAFT, ArticleStatus.REVIEW)
_KNOWN = frozenset(
    {*_REQUIRED, "summary", "keywords", "body", *_CASE_FIELDS, "customer", "status", "stale"}
)
_STAFF = {person.email for person in data.STAFF}
_ORGS = {org.code for org in data.ORGANIZATIONS}


def _text(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name) or ""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text")
    return value.strip()


def _article(raw: Any) -> DemoArticle:
    if not isinstance(raw, dict):
        raise ValueError("each article is a mapping")
    unknown = set(raw) - _KNOWN
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    missing = [name for name in _REQUIRED if not raw.get(name)]
    if missing:
        raise ValueError(f"missing {missing}")
    checks = (
        ("language", ArticleLanguage.values),
        ("type", ArticleType.values),
        ("module", ErpModule.values),
        ("visibility", Visibility.values),
    )
    for name, allowed in checks:
        if raw[name] not in allowed:
            raise ValueError(f"{name} {raw[name]!r} is not one of {allowed}")
    if raw["owner"] not in _STAFF:
        raise ValueError(f"owner {raw['owner']!r} is not demo staff")
    status = raw.get("status", ArticleStatus.PUBLISHED)
    if status not in (*_STATUSES, ArticleStatus.ARCHIVED):
        raise ValueError(f"status {status!r}")
    customer = raw.get("customer") or ""
    if (raw["visibility"] == Visibility.CUSTOMER) != bool(customer) or (
        customer and customer not in _ORGS
    ):
        raise ValueError("customer visibility needs a demo customer code, and only it")
    keywords = raw.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str | int) for k in keywords):
        raise ValueError("keywords must be a list")
    article = DemoArticle(
        key=raw["key"],
        language=raw["language"],
        type=raw["type"],
        module=raw["module"],
        product=raw["product"],
        visibility=raw["visibility"],
        owner=raw["owner"],
        title=_text(raw, "title"),
        summary=_text(raw, "summary"),
        keywords=tuple(str(k) for k in keywords),
        body=_text(raw, "body"),
        symptom=_text(raw, "symptom"),
        cause=_text(raw, "cause"),
        resolution=_text(raw, "resolution"),
        log_excerpt=_text(raw, "log_excerpt"),
        customer=customer,
        status=status,
        stale=bool(raw.get("stale", False)),
    )
    is_case = article.type == ArticleType.CASE
    if is_case != all(getattr(article, name) for name in _CASE_FIELDS) or (
        not is_case and any(getattr(article, name) for name in _CASE_FIELDS)
    ):
        raise ValueError("cases have symptom, cause, resolution and log_excerpt; others none")
    if not (article.body and article.summary):
        raise ValueError("summary and body are required")
    return article


@cache
def load_articles() -> tuple[DemoArticle, ...]:
    """Every demo article, file by file in name order; ValueError names a bad entry."""
    articles: list[DemoArticle] = []
    for path in sorted(ARTICLES_DIR.glob("*.yaml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for index, raw in enumerate(entries):
            try:
                articles.append(_article(raw))
            except ValueError as error:
                key = raw.get("key", index) if isinstance(raw, dict) else index
                raise ValueError(f"{path.name}, article {key}: {error}") from None
    keys = [article.key for article in articles]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate article keys: {duplicates}")
    return tuple(articles)


# ---------------------------------------------------------------------------
# Which articles answer which demo tickets
# ---------------------------------------------------------------------------

#: Ticket template (``data.TEMPLATES``) → the articles an agent would link, best first.
SOLVES: dict[str, tuple[str, ...]] = {
    "voucher_save": ("gl-voucher-save-lock-timeout",),
    "voucher_deadlock": (
        "gl-deadlock-posting-oracle",
        "gl-batch-posting-serialize",
        "platform-pg-serialize-tryton",
    ),
    "month_close": ("gl-month-close-unaudited", "inventory-period-end-not-closed"),
    "reverse_entry": ("gl-reverse-posted-voucher",),
    "fx_revaluation": ("gl-fx-revaluation",),
    "trial_balance": ("reporting-trial-balance-mismatch", "reporting-balance-sheet-unbalanced"),
    "open_period": ("gl-period-closed-posting", "gl-odoo-lock-date"),
    "cost_center": ("gl-cost-object-required",),
    "invoice_import": ("ap-vendor-bill-duplicate", "ap-three-way-match"),
    "payment_run": ("ap-payment-run",),
    "receipt_matching": ("ar-bank-reconciliation-payments",),
    "credit_block": ("ar-credit-limit-block",),
    "expense_workflow": ("purchasing-po-approval-stuck",),
    "tax_invoice": ("ar-vat-red-invoice", "sales-tax-rounding"),
    "depreciation": (
        "fa-depreciation-key-missing",
        "fa-accumulated-exceeds-cost",
        "fa-odoo-lock-date-depreciation",
        "fa-depreciation-duplicate",
    ),
    "asset_transfer": ("fa-asset-transfer",),
    "mrp_lock": ("production-mrp-material-locked",),
    "po_approval": ("purchasing-po-approval-stuck",),
    "stock_mismatch": ("inventory-wms-mismatch",),
    "negative_stock": ("inventory-negative-stock",),
    "stocktake": ("inventory-stocktake",),
    "price_list": ("sales-price-list-not-applied",),
    "delivery_print": ("sales-delivery-slip-fonts",),
    "bom_change": ("production-bom-ecn",),
    "order_close": ("sales-order-close",),
    "cost_rollup": ("production-cost-estimate-errors",),
    "wms_sync": ("integration-wms-queue-backlog", "inventory-wms-mismatch"),
    "edi_orders": ("sales-edi-idoc-51", "integration-api-timeout-retry"),
    "mrp_question": ("production-mrp-no-planned-orders",),
    "vendor_master": ("purchasing-vendor-duplicate",),
    "payroll_wrong": ("hr-iit-cumulative-withholding", "hr-payroll-rounding"),
    "social_insurance": ("hr-social-insurance-base",),
    "report_timeout": ("reporting-report-timeout-background", "reporting-trial-balance-slow"),
    "custom_report": ("reporting-custom-report-request",),
    "excel_export": ("reporting-excel-export",),
    "account_locked": ("platform-account-locked",),
    "password_reset": ("platform-account-locked",),
    "slow_login": ("platform-slow-login-u8", "platform-sso-ldap-login"),
    "disk_alert": ("platform-disk-alert",),
    "backup_failed": ("platform-disk-alert", "platform-restore-test"),
    "print_fail": ("sales-delivery-slip-fonts",),
    "crm_sync": ("integration-wms-queue-backlog", "integration-replay-error-queue"),
    "bank_edi": ("integration-bank-signature-failed",),
    "oa_writeback": ("integration-oa-writeback",),
    "upgrade_question": (
        "platform-u8-upgrade",
        "platform-odoo-upgrade-17",
        "purchasing-tryton-upgrade",
        "platform-sap-fps-upgrade",
    ),
}

#: How an article's product label starts, per demo product code.
_PRODUCT_PREFIX = {
    "sap": "SAP",
    "yonyou": "用友",
    "kingdee": "金蝶",
    "odoo": "Odoo",
    "tryton": "Tryton",
}
_GENERIC_PRODUCTS = frozenset({"通用", "All"})

#: Articles corrected after publication: (who, why). Version 1 lacks the last section.
EDITS: dict[str, tuple[str, str]] = {
    "gl-voucher-save-lock-timeout": ("engineer@erpcare.demo", "补充：不要调大锁超时参数"),
    "gl-period-closed-posting": ("klaus.becker@vendor.erpcare.demo", "Added related articles"),
    "ap-three-way-match": ("engineer@erpcare.demo", "补充结算后的检查步骤"),
    "inventory-negative-stock": ("david.wong@erpcare.demo", "Added how to prevent it"),
    "reporting-trial-balance-slow": ("engineer@erpcare.demo", "Autovacuum and upgrade notes"),
    "integration-bank-signature-failed": ("lin.tao@erpcare.demo", "补充证书到期提醒"),
    "platform-sso-ldap-login": ("david.wong@erpcare.demo", "Added the fix commands"),
}

#: Articles readers found less useful (more "not helpful" votes).
WEAK = frozenset({"ar-aging-mismatch", "production-flexible-consumption", "reporting-excel-export"})

NOT_HELPFUL = {
    "zh-hans": (
        "菜单路径和我们版本的界面不一样，找不到文中说的选项。",
        "照着做了还是不行，最后还是提了工单。",
        "文中的 SQL 在我们的库里报列名无效。",
        "希望补充截图，步骤 3 看不懂。",
        "和我们遇到的情况不一样，我们没有用接口。",
    ),
    "en": (
        "The menu path is different in our version; I could not find the setting.",
        "Followed the steps but it did not help, had to open a ticket anyway.",
        "The SQL fails on our database: the column does not exist.",
        "Please add a screenshot of the settings screen.",
        "Our case was different: we do not use that interface.",
    ),
}
HELPFUL = {
    "zh-hans": (
        "按步骤十分钟就解决了，谢谢！",
        "SQL 很有用，直接找到了问题单据。",
        "讲得很清楚，已经转给同事。",
    ),
    "en": (
        "Clear steps, worked the first time.",
        "The check query found the problem right away.",
        "Saved us a ticket, thanks.",
    ),
}


# ---------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KbSeedResult:
    articles: int
    links: int
    views: int
    votes: int
    deflections: int


def demo_kb_exists() -> bool:
    first = load_articles()[0]
    return Article.objects.filter(title=first.title, owner__email=first.owner).exists()


def seed_knowledge_base(
    plan: DemoPlan,
    tickets: Mapping[int, int],
    progress: Callable[[str], None] | None = None,
) -> KbSeedResult:
    """Write, publish and use the demo articles over the plan's history.

    ``tickets`` maps the plan's ticket slots to the ids of the tickets the seed created.
    Runs inside the caller's transaction; does nothing when the demo articles exist.
    """
    if demo_kb_exists():
        return KbSeedResult(Article.objects.count(), 0, 0, 0, 0)
    seeder = _Seeder(plan)
    seeder.write_articles()
    links = seeder.link_tickets(tickets)
    views, votes, deflections = seeder.use_articles()
    if progress:
        progress(
            f"{len(seeder.articles)} knowledge articles, {links} ticket links, {views} views, "
            f"{votes} votes, {deflections} deflections"
        )
    return KbSeedResult(len(seeder.articles), links, views, votes, deflections)


def _wiki_note(spec: DemoArticle) -> str:
    if spec.language == ArticleLanguage.ZH_HANS:
        return "从团队 Wiki 迁移"
    return "Moved from the team wiki"


def _without_last_section(body: str) -> str:
    """The body as first written: up to its last ``## `` heading (the later addition)."""
    heads = [match.start() for match in re.finditer(r"(?m)^## ", body)]
    return body[: heads[-1]].rstrip() if len(heads) > 1 else body


class _Seeder:
    def __init__(self, plan: DemoPlan) -> None:
        self.plan = plan
        self.now = plan.now
        self.rng = random.Random(KB_SEED)
        today = plan.now.astimezone(LOCAL).date()
        self.today = today
        # The team starts the knowledge base the day after the demo's setup day (when its
        # people and customers were created), by moving its wiki pages in.
        self.first_day = today - timedelta(days=HISTORY_DAYS + 29)
        self.specs = {article.key: article for article in load_articles()}
        users = User.objects.select_related("role", "organization")
        self.staff = {u.email: u for u in users.filter(email__in=[p.email for p in data.STAFF])}
        codes = [org.code for org in data.ORGANIZATIONS]
        self.orgs = {org.code: org for org in Organization.objects.filter(code__in=codes)}
        self.customers = list(
            users.filter(organization__code__in=codes, role__code="customer").order_by("email")
        )
        self.products = {
            org.code: org.instances[0].product for org in data.ORGANIZATIONS if org.instances
        }
        # A desk with fewer tickets has fewer readers: usage follows the ticket volume.
        self.usage = min(1.0, max(0.1, len(plan.tickets) / DEFAULT_TICKETS))
        self.articles: dict[str, Article] = {}
        self.published_at: dict[str, datetime] = {}

    # -- time -------------------------------------------------------------------------------

    def _moment(self, day: date, earliest: int = 9, latest: int = 17) -> datetime:
        while day.weekday() >= 5:  # the team writes on working days
            day += timedelta(days=1)
        at = datetime.combine(day, time(self.rng.randint(earliest, latest), self.rng.randrange(60)))
        return min(at.replace(tzinfo=LOCAL), self.now - timedelta(minutes=5))

    def _between(self, start: datetime, end: datetime) -> datetime:
        span = max(0.0, (end - start).total_seconds())
        return start + timedelta(seconds=self.rng.uniform(0, span))

    # -- writing ----------------------------------------------------------------------------

    def write_articles(self) -> None:
        manager = self.staff[MANAGER]
        for spec in load_articles():
            # Most pages move over from the wiki in the first weeks; the rest are written
            # later, while the demo's tickets come in. Stale pages are among the first.
            if spec.stale or self.rng.random() < 0.65:
                offset = self.rng.randint(1, 12 if spec.stale else 26)
            else:
                offset = self.rng.randint(30, HISTORY_DAYS + 16)
            created = self._moment(self.first_day + timedelta(days=offset))
            owner = self.staff[spec.owner]
            content = spec.content()
            if spec.key in EDITS:
                content["body"] = _without_last_section(spec.body)
            with clock.frozen_at(created):
                article = kb.create_article(
                    owner,
                    organization=self.orgs[spec.customer] if spec.customer else None,
                    note=_wiki_note(spec) if offset <= 26 else "",
                    **content,
                )
            self.articles[spec.key] = article
            if spec.status == ArticleStatus.DRAFT:
                continue
            submitted = created + timedelta(minutes=self.rng.randint(30, 300))
            with clock.frozen_at(submitted):
                article = kb.submit_for_review(owner, article)
            if spec.status == ArticleStatus.REVIEW:
                continue
            published = self._moment(submitted.astimezone(LOCAL).date() + timedelta(days=1), 10)
            review_by = None
            if spec.stale:
                # Reviewed a few months ago with a short review date that has passed.
                review_by = self.today - timedelta(days=self.rng.randint(3, 20))
            with clock.frozen_at(published):
                article = kb.publish(manager, article, review_by=review_by)
            self.published_at[spec.key] = published
            if spec.key in EDITS:
                editor, note = EDITS[spec.key]
                edited = self._between(published + timedelta(days=7), self.now)
                with clock.frozen_at(edited):
                    article = kb.update_article(
                        self.staff[editor], article, body=spec.body, note=note
                    )
            if spec.status == ArticleStatus.ARCHIVED:
                archived = self._between(published + timedelta(days=14), self.now)
                with clock.frozen_at(archived):
                    article = kb.archive(
                        manager, article, note="Northwind moved to Odoo 17; superseded."
                    )
                del self.published_at[spec.key]
            self.articles[spec.key] = article

    # -- tickets ----------------------------------------------------------------------------

    def _pick(self, template: str, lang: str, org: str, before: datetime) -> Article | None:
        """The article an agent would link to a ticket of ``template``: published before
        ``before``, for the customer's product (or any product), in the ticket's language
        when there is a choice."""
        product = _PRODUCT_PREFIX.get(self.products.get(org, ""), "")
        best: tuple[int, int] | None = None
        chosen = None
        for rank, key in enumerate(SOLVES.get(template, ())):
            spec = self.specs[key]
            published = self.published_at.get(key)
            if published is None or published >= before:
                continue
            if spec.customer and spec.customer != org:
                continue
            if spec.product.startswith(product) and product:
                fit = 2
            elif spec.product in _GENERIC_PRODUCTS:
                fit = 1
            else:
                continue
            fit += 1 if spec.language.startswith(lang) else 0
            score = (fit, -rank)
            if best is None or score > best:
                best, chosen = score, self.articles[key]
        return chosen

    def link_tickets(self, tickets: Mapping[int, int]) -> int:
        found = Ticket.objects.filter(pk__in=list(tickets.values())).only(
            "pk", "number", "organization_id", "status", "resolved_at", "created_at", "assignee_id"
        )
        by_id = {ticket.pk: ticket for ticket in found}
        staff_by_id = {user.pk: user for user in self.staff.values()}
        linked = 0
        for ticket_plan in self.plan.tickets:
            ticket = by_id.get(tickets.get(ticket_plan.slot, -1))
            if ticket is None or ticket_plan.template not in SOLVES:
                continue
            agent = staff_by_id.get(ticket.assignee_id or -1)
            if agent is None or not agent.is_support_staff:
                continue
            if ticket.status in (Status.RESOLVED, Status.CLOSED) and ticket.resolved_at:
                # Linked while writing the resolution, just before resolving.
                kind, at, chance = "solved_with", ticket.resolved_at - timedelta(minutes=3), 0.6
            else:
                kind, at, chance = "related", ticket.created_at + timedelta(hours=2), 0.3
            if at > self.now or self.rng.random() >= chance:
                continue
            article = self._pick(ticket_plan.template, ticket_plan.lang, ticket_plan.org, at)
            if article is None:
                continue
            with clock.frozen_at(at):
                kb.link_article(agent, ticket, article, kind=kind)
            linked += 1
        return linked

    # -- readers ----------------------------------------------------------------------------

    def _readers(self, spec: DemoArticle) -> tuple[list[User], list[float]]:
        """Who reads the article, and how likely: customers of its product and language
        most, staff some; internal articles staff only."""
        readers: list[User] = []
        weights: list[float] = []
        if spec.visibility != Visibility.INTERNAL:
            for user in self.customers:
                org = user.organization
                assert org is not None
                if spec.customer and spec.customer != org.code:
                    continue
                product = _PRODUCT_PREFIX.get(self.products.get(org.code, ""), "")
                same_language = spec.language.startswith(user.language[:2] or "zh")
                if product and spec.product.startswith(product):
                    weight = 3.0
                elif spec.product in _GENERIC_PRODUCTS:
                    weight = 1.5 if same_language else 0.3
                else:
                    weight = 0.1
                readers.append(user)
                weights.append(weight)
        for user in self.staff.values():
            if user.is_support_staff:
                readers.append(user)
                weights.append(0.6 if spec.visibility != Visibility.INTERNAL else 2.0)
        return readers, weights

    def use_articles(self) -> tuple[int, int, int]:
        views = votes = deflections = 0
        base = {"faq": 9, "case": 7, "sop": 5, "upgrade": 4}
        for key, published in self.published_at.items():
            spec, article = self.specs[key], self.articles[key]
            readers, weights = self._readers(spec)
            # Old articles have had time to be read; popularity varies a lot.
            age = (self.now - published).days / (HISTORY_DAYS + 30)
            popularity = self.rng.lognormvariate(0, 0.5)
            wanted = round(base[spec.type] * (0.4 + age) * popularity * self.usage)
            start = published + timedelta(hours=1)
            readings = sorted(
                (self._between(start, self.now), reader)
                for reader in self.rng.choices(readers, weights, k=min(wanted, 30))
            )
            for at, reader in readings:
                with clock.frozen_at(at):
                    views += kb.record_view(reader, article)
            votes += self._votes(spec, article, readings)
            deflections += self._deflections(spec, article, readings)
        return views, votes, deflections

    def _votes(
        self, spec: DemoArticle, article: Article, readings: Iterable[tuple[datetime, User]]
    ) -> int:
        helpful_share = 0.45 if spec.key in WEAK else 0.85
        voted: set[int] = set()
        count = 0
        for at, reader in readings:
            if reader.pk in voted or self.rng.random() > 0.3:
                continue
            voted.add(reader.pk)
            helpful = self.rng.random() < helpful_share
            comment = ""
            language = spec.language if spec.language in NOT_HELPFUL else "en"
            if not helpful and self.rng.random() < 0.8:
                comment = self.rng.choice(NOT_HELPFUL[language])
            elif helpful and self.rng.random() < 0.2:
                comment = self.rng.choice(HELPFUL[language])
            with clock.frozen_at(at + timedelta(minutes=self.rng.randint(2, 15))):
                kb.record_feedback(reader, article, helpful=helpful, comment=comment)
            count += 1
        return count

    def _deflections(
        self, spec: DemoArticle, article: Article, readings: Iterable[tuple[datetime, User]]
    ) -> int:
        if spec.type not in (ArticleType.FAQ, ArticleType.CASE):
            return 0
        count = 0
        for at, reader in readings:
            if not reader.is_customer or self.rng.random() > 0.15:
                continue
            # What they had typed as the ticket title before the suggestion solved it.
            typed = " ".join(spec.keywords[:2])
            with clock.frozen_at(at + timedelta(minutes=1)):
                kb.record_deflection(reader, article, query=typed)
            count += 1
        return count
