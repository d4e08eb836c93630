"""The demo as a plan: which tickets exist and what happens to each of them, and when.

Nothing here touches the database. ``build_plan`` is a pure function of the ticket count,
the seed and "now":

- the *content* of ticket k (customer, title, description, requester …) comes from one
  generator seeded with ``seed`` alone, so the k-th ticket has the same title on every
  day the demo is built;
- the creation *times* come from a second generator and depend on today's date
  (weekends and month ends look like they do in a real service desk);
- the *life* of ticket k (triage, replies, escalation, resolution …) comes from its own
  generator seeded with ``(seed, k)``, so one ticket's story never shifts another's.

Steps that would happen after "now" are dropped, which is what leaves recent tickets
new, open or in progress and older ones resolved or closed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from erpcare.demo import data
from erpcare.demo.data import DemoOrganization, Template

SEED = 20261101
DEFAULT_TICKETS = 600
HISTORY_DAYS = 90
#: The demo runs its own daily auto-close at this age, like the worker's periodic job.
AUTO_CLOSE_DAYS = 7
#: Office hours and dates are those of the support desk (all demo customers are UTC+8).
LOCAL = ZoneInfo("Asia/Shanghai")

# Ticket vocabulary, spelled out so the plan needs no Django import.
PRIORITY_MATRIX = {
    (1, 1): 0, (1, 2): 1, (2, 1): 1, (1, 3): 2, (2, 2): 2, (3, 1): 2,
    (2, 3): 3, (3, 2): 3, (3, 3): 3,
}  # fmt: skip

_ORG = {org.code: org for org in data.ORGANIZATIONS}
_STAFF = {person.email: person for person in data.STAFF}
_TEAM_MEMBERS: dict[str, list[data.DemoStaff]] = {team.code: [] for team in data.TEAMS}
for _person in data.STAFF:
    for _code in _person.teams:
        _TEAM_MEMBERS[_code].append(_person)

FINANCE_MODULES = frozenset({"gl", "ap", "ar", "fa", "hr", "reporting"})
PRODUCT_TAG = {
    "sap": "sap",
    "yonyou": "u8",
    "kingdee": "k3cloud",
    "odoo": "odoo",
    "tryton": "tryton",
}


@dataclass
class Step:
    """One call of a service function: ``action`` by ``actor`` at ``at``."""

    at: datetime
    action: str
    actor: str | None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class TicketPlan:
    slot: int
    org: str
    template: str
    lang: str  # "zh" or "en"
    title: str
    description: str
    type: str
    category: str
    module: str
    impact: int
    urgency: int
    channel: str
    requester: str | None
    instance: str
    tags: tuple[str, ...]
    watchers: tuple[str, ...] = ()
    role: str = "normal"  # normal | outage | symptom | original | duplicate
    partner: int | None = None  # the slot this one links to / merges into
    created: datetime | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def priority(self) -> int:
        return PRIORITY_MATRIX[(self.impact, self.urgency)]


@dataclass
class DemoPlan:
    now: datetime
    tickets: list[TicketPlan]
    auto_close_runs: list[datetime]

    def timeline(self) -> list[tuple[datetime, int, int, Step]]:
        """Every step of every ticket plus the auto-close runs, in the order they happen."""
        rows: list[tuple[datetime, int, int, Step]] = []
        for ticket in self.tickets:
            for index, step in enumerate(ticket.steps):
                rows.append((step.at, ticket.slot, index, step))
        for run in self.auto_close_runs:
            rows.append((run, -1, 0, Step(run, "auto_close", None)))
        rows.sort(key=lambda row: (row[0], row[1], row[2]))
        return rows


def build_plan(tickets: int = DEFAULT_TICKETS, *, now: datetime, seed: int = SEED) -> DemoPlan:
    if tickets < 1:
        raise ValueError("the demo needs at least one ticket")
    plans = _contents(tickets, seed)
    moments = _moments(tickets, now, seed)
    _gather_clusters(plans, moments, now, seed)
    for plan, moment in zip(plans, moments, strict=True):
        plan.created = moment
        plan.steps = [step for step in _life(plan, now, seed) if step.at <= now]
    first_day = moments[0].astimezone(LOCAL).date()
    runs = []
    day = first_day + timedelta(days=1)
    while True:
        run = datetime.combine(day, time(2, 0), LOCAL)
        if run > now:
            break
        runs.append(run)
        day += timedelta(days=1)
    return DemoPlan(now=now, tickets=plans, auto_close_runs=runs)


# ---------------------------------------------------------------------------
# Content: independent of the date
# ---------------------------------------------------------------------------


def _allowed(template: Template, org: DemoOrganization, lang: str) -> bool:
    if template.module not in org.modules:
        return False
    if template.products and org.product not in template.products:
        return False
    titles = template.zh if lang == "zh" else template.en
    return bool(titles) and lang in template.languages


def _contents(n: int, seed: int) -> list[TicketPlan]:
    rng = random.Random(seed)
    orgs = data.ORGANIZATIONS
    org_weights = [org.weight for org in orgs]
    plans: list[TicketPlan] = []
    for slot in range(n):
        org = rng.choices(orgs, weights=org_weights)[0]
        plans.append(_content(rng, slot, org))
    outages, originals = _special_slots(n)
    for slot in outages:
        org = rng.choices(orgs[:3], weights=[3, 2, 1])[0]
        plans[slot] = _content(rng, slot, org, keys=("erp_down",), role="outage")
        for follower in (slot + 1, slot + 2):
            plans[follower] = _content(
                rng, follower, org, keys=data.OUTAGE_SYMPTOMS, role="symptom", partner=slot
            )
    for slot in originals:
        customer = _ORG[plans[slot].org]
        incident_keys = tuple(
            t.key for t in data.TEMPLATES if t.type == "incident" and not t.channel and t.l2 < 0.9
        )
        original = _content(rng, slot, customer, keys=incident_keys, role="original")
        plans[slot] = original
        duplicate_note = rng.choice(data.DUPLICATE_NOTES)[0 if original.lang == "zh" else 1]
        plans[slot + 1] = replace(
            original,
            slot=slot + 1,
            channel="email" if original.channel != "email" else "portal",
            description=f"{duplicate_note}\n\n{original.description}",
            watchers=(),
            role="duplicate",
            partner=slot,
            steps=[],
        )
    # Recurring problems: now and then the agent links a ticket to an earlier twin.
    last_seen: dict[tuple[str, str], int] = {}
    for plan in plans:
        key = (plan.org, plan.template)
        twin = last_seen.get(key)
        if (
            plan.role == "normal"
            and twin is not None
            and plans[twin].role == "normal"
            and rng.random() < 0.12
        ):
            plan.partner = twin
        last_seen[key] = plan.slot
    return plans


def _special_slots(n: int) -> tuple[list[int], list[int]]:
    """Where the major outages (each followed by two symptom tickets) and the duplicate
    pairs sit; fixed fractions of the count, so they are stable for a given count."""
    if n < 12:
        return [], []
    outages = sorted({round(n * 0.3), round(n * 0.7)})
    originals = sorted({n - max(4, n // 25), n - max(10, n // 12)})
    taken: set[int] = set()
    kept_outages = []
    for slot in outages:
        block = {slot, slot + 1, slot + 2}
        if max(block) < n and not block & taken:
            kept_outages.append(slot)
            taken |= block
    kept_originals = []
    for slot in originals:
        block = {slot, slot + 1}
        if slot > 0 and max(block) < n and not block & taken:
            kept_originals.append(slot)
            taken |= block
    return kept_outages, kept_originals


def _content(
    rng: random.Random,
    slot: int,
    org: DemoOrganization,
    *,
    keys: Sequence[str] = (),
    role: str = "normal",
    partner: int | None = None,
) -> TicketPlan:
    lang = org.language if rng.random() >= org.other_language_share else _other(org.language)
    candidates = [
        t for t in data.TEMPLATES if (not keys or t.key in keys) and _allowed(t, org, lang)
    ]
    if not candidates:
        lang = org.language
        candidates = [
            t for t in data.TEMPLATES if (not keys or t.key in keys) and _allowed(t, org, lang)
        ]
    template = rng.choices(candidates, weights=[t.weight for t in candidates])[0]
    zh = lang == "zh"
    impact = _likely_first(rng, template.impact)
    urgency = _likely_first(rng, template.urgency)
    instance = org.instances[0]
    env_prefix = ""
    if (
        len(org.instances) > 1
        and not template.channel
        and template.category not in {"access", "how_to"}
        and role == "normal"
        and rng.random() < 0.1
    ):
        instance = org.instances[1]
        env_prefix = {
            ("test", True): "[测试环境] ",
            ("test", False): "[TEST] ",
            ("staging", True): "[预发布环境] ",
            ("staging", False): "[STAGING] ",
        }[(instance.environment, zh)]
        impact, urgency = 3, max(urgency, 2)
    values = _placeholders(rng, org, template, instance, zh)
    title = env_prefix + rng.choice(template.zh if zh else template.en).format_map(values)
    description = _describe(rng, template, org, instance, zh, impact, values)

    if template.channel:
        channel = template.channel
    elif template.key == "erp_down":
        channel = rng.choices(["phone", "chat", "email"], weights=[6, 3, 1])[0]
    else:
        channel = rng.choices(
            ["portal", "email", "phone", "chat", "api"], weights=[46, 26, 13, 12, 3]
        )[0]
    requester = None if channel == "monitoring" else _requester(rng, org, template)
    watchers: tuple[str, ...] = ()
    if requester and PRIORITY_MATRIX[(impact, urgency)] <= 1:
        it_people = [u.email for u in org.users if "platform" in u.modules and u.email != requester]
        watchers = tuple(it_people[:1])
    tags = [*template.tags, PRODUCT_TAG[org.product]]
    if instance.environment != "production":
        tags.append(instance.environment)
    return TicketPlan(
        slot=slot,
        org=org.code,
        template=template.key,
        lang=lang,
        title=title[:200],
        description=description,
        type=template.type,
        category=template.category,
        module=template.module,
        impact=impact,
        urgency=urgency,
        channel=channel,
        requester=requester,
        instance=instance.name,
        tags=tuple(dict.fromkeys(tags)),
        watchers=watchers,
        role=role,
        partner=partner,
    )


def _likely_first(rng: random.Random, options: Sequence[int]) -> int:
    """The first option is the usual one (three times as likely as each other)."""
    return rng.choices(options, weights=[3] + [1] * (len(options) - 1))[0]


def _other(language: str) -> str:
    return "en" if language == "zh" else "zh"


def _requester(rng: random.Random, org: DemoOrganization, template: Template) -> str:
    users = [u for u in org.users if template.module in u.modules] or list(org.users)
    return rng.choices(users, weights=[u.weight for u in users])[0].email


def _placeholders(
    rng: random.Random, org: DemoOrganization, template: Template, instance: Any, zh: bool
) -> dict[str, str]:
    product = org.product
    doc = {
        "sap": lambda: f"{rng.randint(1900000000, 1900099999)}",
        "yonyou": lambda: f"记-{rng.randint(1, 999):04d}",
        "kingdee": lambda: f"PZ{rng.randint(1, 99999):06d}",
        "odoo": lambda: f"MISC/{rng.randint(100, 9999):05d}",
        "tryton": lambda: f"M{rng.randint(1000, 99999)}",
    }[product]()
    po = {
        "sap": lambda: f"45000{rng.randint(10000, 99999)}",
        "yonyou": lambda: f"CG{rng.randint(100000, 999999)}",
        "kingdee": lambda: f"CGDD{rng.randint(100000, 999999)}",
        "odoo": lambda: f"P{rng.randint(1000, 99999):05d}",
        "tryton": lambda: f"PO{rng.randint(1000, 99999)}",
    }[product]()
    path = data.PATHS[product].get(template.function, "") if template.function else ""
    return {
        "doc": doc,
        "po": po,
        "item": rng.choice(data.ITEMS),
        "job": rng.choice(data.JOBS),
        "n": str(rng.randint(2, 9)),
        "path": path or (instance.name),
        "instance": instance.name,
        "product": data.PRODUCT_LABEL[product],
        "version": instance.version,
        "cc": rng.choice(data.COST_CENTERS),
        "dept": data.DEPARTMENT[template.module][0 if zh else 1],
        "person": rng.choice(data.ZH_PEOPLE if zh else data.EN_PEOPLE),
        "partner": rng.choice(data.ZH_PARTNERS if zh else data.EN_PARTNERS),
    }


def _describe(
    rng: random.Random,
    template: Template,
    org: DemoOrganization,
    instance: Any,
    zh: bool,
    impact: int,
    values: dict[str, str],
) -> str:
    parts = [(template.zh_what if zh else template.en_what).format_map(values)]
    steps = template.zh_steps if zh else template.en_steps
    if steps:
        heading = "**复现步骤**" if zh else "**Steps to reproduce**"
        lines = [f"{i}. {step.format_map(values)}" for i, step in enumerate(steps, 1)]
        parts.append(heading + "\n\n" + "\n".join(lines))
    if template.extra:
        parts.append(_table(rng, template.extra, zh, values))
    if template.error:
        errors = data.ERRORS[template.error]
        text = errors.get(data.DB_FAMILY[org.product]) or errors["*"]
        heading = "**报错信息**" if zh else "**Error message**"
        parts.append(f"{heading}\n\n```text\n{text}\n```")
    if template.type == "incident":
        n = values["n"]
        dept = values["dept"]
        impact_text = {
            1: (
                f"全公司业务受影响，{n}0 多人无法正常工作。",
                f"Company-wide: {n}0+ people cannot work.",
            ),
            2: (f"{dept}约 {n} 人受影响。", f"About {n} people in {dept} are affected."),
            3: (
                "目前只影响我本人，可以先用其他方式处理。",
                "Only me so far; I can work around it for now.",
            ),
        }[impact][0 if zh else 1]
        parts.append(("**影响范围**：" if zh else "**Impact**: ") + impact_text)
    if template.channel == "monitoring":
        parts.append(
            "**来源**：Alertmanager → ERPCare" if zh else "**Source**: Alertmanager → ERPCare"
        )
    product = data.PRODUCT_LABEL[org.product]
    if zh:
        parts.append(f"**系统**：{instance.name}（{product} {instance.version}）")
    else:
        parts.append(f"**System**: {instance.name} ({product} {instance.version})")
    return "\n\n".join(parts)


def _table(rng: random.Random, kind: str, zh: bool, values: dict[str, str]) -> str:
    if kind == "users":
        head = (
            "| 姓名 | 部门 | 岗位 | 参照用户 |"
            if zh
            else "| Name | Department | Job | Copy rights from |"
        )
        people = rng.sample(data.ZH_PEOPLE if zh else data.EN_PEOPLE, rng.randint(1, 3))
        rows = []
        for person in people:
            dept = rng.choice(data.ZH_DEPTS if zh else data.EN_DEPTS)
            role = rng.choice(data.ZH_ROLES if zh else data.EN_ROLES)
            rows.append(f"| {person} | {dept} | {role} | user{rng.randint(10, 99)} |")
        return "\n".join([head, "|---|---|---|---|", *rows])
    if kind == "items":
        head = "| 物料号 | 描述 | 单位 | 数量 |" if zh else "| Item | Description | Unit | Qty |"
        rows = []
        for item in rng.sample(data.ITEMS, rng.randint(2, 4)):
            name = rng.choice(
                ("精密轴承座", "铝合金外壳", "控制板 V2", "包装纸箱")
                if zh
                else ("Bearing housing", "Aluminium casing", "Control board V2", "Carton box")
            )
            rows.append(f"| {item} | {name} | {'件' if zh else 'pc'} | {rng.randint(1, 12)} |")
        return "\n".join([head, "|---|---|---|---|", *rows])
    head = (
        "| 成本中心 | 名称 | 上级 | 负责人 |" if zh else "| Cost center | Name | Parent | Owner |"
    )
    rows = []
    for code in rng.sample(data.COST_CENTERS, 2):
        name = rng.choice(
            ("数字化部", "华南销售", "质量中心") if zh else ("Digital", "Sales South", "Quality")
        )
        owner = rng.choice(data.ZH_PEOPLE if zh else data.EN_PEOPLE)
        rows.append(f"| {code}9 | {name} | {code} | {owner} |")
    return "\n".join([head, "|---|---|---|---|", *rows])


# ---------------------------------------------------------------------------
# Times: weekdays busier than weekends, month ends busier than mid-month
# ---------------------------------------------------------------------------


def _moments(n: int, now: datetime, seed: int) -> list[datetime]:
    rng = random.Random(f"{seed}:time")
    today = now.astimezone(LOCAL).date()
    days = [today - timedelta(days=offset) for offset in range(HISTORY_DAYS)]
    # Usage grows: the latest weeks bring about half again as many tickets as the first.
    weights = [
        _day_weight(day) * (1.5 - 0.5 * offset / HISTORY_DAYS) for offset, day in enumerate(days)
    ]
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    latest = now - timedelta(minutes=5)
    moments: list[datetime] = []
    while len(moments) < n:
        day = rng.choices(days, cum_weights=cumulative)[0]
        minute = _minute_of_day(rng)
        moment = datetime.combine(day, time(0), LOCAL) + timedelta(
            minutes=minute, seconds=rng.randint(0, 59)
        )
        if moment <= latest:
            moments.append(moment)
    moments.sort()
    return moments


def _day_weight(day: date) -> float:
    weight = {5: 0.25, 6: 0.15}.get(day.weekday(), 1.0)
    if day.day >= 26 or day.day <= 3:
        weight *= 1.35  # month-end close brings more finance questions
    return weight


def _minute_of_day(rng: random.Random) -> float:
    r = rng.random()
    if r < 0.45:
        return min(max(rng.gauss(600, 60), 480), 720)  # the morning peak around 10:00
    if r < 0.85:
        return rng.uniform(810, 1080)  # 13:30–18:00
    if r < 0.96:
        return rng.uniform(1080, 1320)  # evening
    return rng.uniform(0, 480)  # night


def _gather_clusters(
    plans: list[TicketPlan], moments: list[datetime], now: datetime, seed: int
) -> None:
    """Pull symptom tickets close behind their outage, and duplicates behind their
    original, without changing the order of the slots."""
    rng = random.Random(f"{seed}:clusters")
    for plan in plans:
        if plan.role not in {"outage", "original"}:
            continue
        followers = 2 if plan.role == "outage" else 1
        start = moments[plan.slot]
        after = plan.slot + followers + 1
        end = moments[after] if after < len(moments) else now - timedelta(minutes=2)
        span = max(end - start, timedelta(seconds=followers + 1))
        gap = timedelta(0)
        for j in range(1, followers + 1):
            gap += timedelta(
                minutes=rng.uniform(6, 25) if plan.role == "outage" else rng.uniform(25, 150)
            )
            moments[plan.slot + j] = start + min(gap, span * j / (followers + 1))


# ---------------------------------------------------------------------------
# Life: what happens to one ticket
# ---------------------------------------------------------------------------

Window = tuple[frozenset[int], int, int] | None  # weekdays, first minute, last minute
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))


class _Clock:
    """A cursor through one ticket's life that keeps each actor inside their hours."""

    def __init__(self, rng: random.Random, start: datetime, staff: Window, customer: Window):
        self.rng = rng
        self.t = start
        self.staff_window = staff
        self.customer_window = customer

    def _advance(self, minutes: float, window: Window) -> datetime:
        t = self.t + timedelta(minutes=max(minutes, 0.5))
        if window is not None:
            t = self._inside(t, window)
        self.t = max(t, self.t + timedelta(seconds=30))
        return self.t

    def _inside(self, t: datetime, window: tuple[frozenset[int], int, int]) -> datetime:
        days, first, last = window
        local = t.astimezone(LOCAL)
        minute = local.hour * 60 + local.minute
        if local.weekday() in days and first <= minute < last:
            return t
        day = local.date() if minute < first else local.date() + timedelta(days=1)
        while day.weekday() not in days:
            day += timedelta(days=1)
        jitter = self.rng.uniform(2, 50)
        return datetime.combine(day, time(0), LOCAL) + timedelta(minutes=first + jitter)

    def staff(self, minutes: float) -> datetime:
        return self._advance(minutes, self.staff_window)

    def customer(self, minutes: float) -> datetime:
        return self._advance(minutes, self.customer_window)

    def any(self, minutes: float) -> datetime:
        return self._advance(minutes, None)


def _windows(org: DemoOrganization, priority: int) -> tuple[Window, Window]:
    """(staff hours, customer hours) for a ticket: P0 and VIP P1 around the clock, other
    P1 in the contract's hours, P2/P3 in office hours on weekdays."""
    if priority == 0 or (org.support_hours == "24x7" and priority == 1):
        staff: Window = None
    elif priority == 1 and org.support_hours == "extended":
        staff = (EVERY_DAY, 8 * 60, 22 * 60)
    else:
        staff = (WEEKDAYS, 8 * 60 + 30, 18 * 60)
    customer: Window = (
        (EVERY_DAY, 7 * 60 + 30, 23 * 60) if priority <= 1 else (WEEKDAYS, 8 * 60 + 30, 19 * 60)
    )
    return staff, customer


def _member(team: str, rng: random.Random) -> data.DemoStaff:
    members = _TEAM_MEMBERS[team]
    return rng.choices(members, weights=[m.weight for m in members])[0]


def _l1_team(plan: TicketPlan, rng: random.Random) -> str:
    org = _ORG[plan.org]
    serving = [t.code for t in data.TEAMS if t.tier == 1 and t.serves and org.code in t.serves]
    if serving and rng.random() < 0.75:
        return serving[0]
    if plan.module in FINANCE_MODULES:
        return "l1-finance"
    if plan.module in {"purchasing", "inventory", "sales", "production", "integration"}:
        return "l1-supply"
    return rng.choice(["l1-finance", "l1-supply"])


def _say(rng: random.Random, options: Sequence[tuple[str, str]], zh: bool, **values: str) -> str:
    text = rng.choice(options)[0 if zh else 1]
    return text.format(**values) if values else text


# Working time (minutes) per priority, before the template's effort factor. Sized so
# that most tickets meet the default SLA targets (a desk at ~85–90 % compliance) and
# the slow ones, the long-queue days and the travelling key users breach them.
WORK = {0: (20, 120), 1: (60, 300), 2: (120, 1200), 3: (60, 2400)}
TRIAGE = {0: (2, 10), 1: (5, 30), 2: (10, 180), 3: (20, 480)}


def _life(plan: TicketPlan, now: datetime, seed: int) -> list[Step]:
    rng = random.Random(f"{seed}:life:{plan.slot}")
    org = _ORG[plan.org]
    template = data.TEMPLATE_BY_KEY[plan.template]
    zh = plan.lang == "zh"
    priority = plan.priority
    assert plan.created is not None
    clock = _Clock(rng, plan.created, *_windows(org, priority))
    steps: list[Step] = []
    channel = plan.channel if plan.channel in {"email", "chat", "phone"} else "portal"

    def add(at: datetime, action: str, actor: str | None, **args: Any) -> None:
        steps.append(Step(at, action, actor, args))

    slow = 4.0 if rng.random() < 0.1 else 1.0  # some tickets simply take longer

    def work(low: float = 1.0, high: float = 1.0) -> float:
        lo, hi = WORK[priority]
        return rng.uniform(lo * low, hi * high) * template.effort * slow

    def comment(
        at: datetime, actor: str, body: str, *, internal: bool = False, partner: int | None = None
    ) -> None:
        # A body mentioning another ticket says {number}; the seed fills in its number.
        add(at, "comment", actor, body=body, internal=internal, channel=channel, partner=partner)

    # -- monitoring alerts: opened by the on-call L2 engineer, no customer requester ----
    if plan.channel == "monitoring":
        oncall = _member("l2-platform", rng).email
        add(plan.created, "create", oncall, team="l2-platform", priority=min(priority, 2))
        add(clock.any(rng.uniform(2, 12)), "assign", oncall, assignee=oncall)
        comment(
            clock.any(rng.uniform(1, 5)),
            oncall,
            _say(rng, data.MONITORING_NOTES, zh),
            internal=True,
        )
        add(clock.any(rng.uniform(1, 5)), "transition", oncall, to="in_progress")
        code, zh_text, en_text = rng.choice(template.resolutions)
        comment(clock.any(rng.uniform(20, 240)), oncall, zh_text if zh else en_text)
        add(
            clock.any(rng.uniform(1, 10)),
            "transition",
            oncall,
            to="resolved",
            resolution_code=code,
            resolution=zh_text if zh else en_text,
        )
        return steps

    l1_team = _l1_team(plan, rng)
    agent = _member(l1_team, rng)
    requester = plan.requester
    assert requester is not None

    # -- intake -------------------------------------------------------------------------
    if plan.channel == "phone":
        add(plan.created, "create", agent.email, team=l1_team, assignee=agent.email)
        owner: str | None = agent.email
    else:
        add(plan.created, "create", requester)
        owner = None

    if plan.role == "duplicate":
        merger = _member(l1_team, rng).email
        reason = _say(rng, data.MERGE_REASONS, zh)
        add(clock.staff(rng.uniform(15, 120)), "merge", merger, target=plan.partner, reason=reason)
        return steps

    # -- triage and first response -----------------------------------------------------
    triage = rng.uniform(*TRIAGE[priority])
    if priority >= 2 and rng.random() < 0.08:
        triage += rng.uniform(240, 2880)  # the queue was long that day
    t = clock.staff(triage)
    if owner is None:
        add(t, "assign", agent.email, assignee=agent.email, team=l1_team)
        owner = agent.email
    if plan.role == "outage":
        comment(
            clock.any(1), "manager@erpcare.demo", _say(rng, data.MAJOR_NOTES, zh), internal=True
        )
    if plan.role == "symptom" and plan.partner is not None:
        add(clock.staff(rng.uniform(1, 8)), "link", owner, target=plan.partner, kind="caused_by")
    elif plan.partner is not None:
        at = clock.staff(rng.uniform(1, 10))
        add(at, "link", owner, target=plan.partner, kind="related_to")
        note = _say(rng, data.LINK_NOTES, zh)
        comment(clock.staff(1), owner, note, internal=True, partner=plan.partner)
    if plan.channel != "phone" and rng.random() < 0.07:
        changes: dict[str, int] = {}
        if plan.urgency > 1:
            changes["urgency"] = plan.urgency - 1
        elif plan.impact < 3:
            changes["impact"] = plan.impact + 1
        if changes:
            add(clock.staff(1), "update", owner, **changes)
    # Simple requests and how-to questions: the first reply is the answer.
    if plan.role == "normal" and template.effort <= 0.5 and rng.random() < 0.7:
        code, zh_text, en_text = rng.choice(template.resolutions)
        answer = zh_text if zh else en_text
        comment(clock.staff(work(0.05, 0.15)), owner, answer)
        add(
            clock.staff(rng.uniform(0.5, 5)),
            "transition",
            owner,
            to="resolved",
            resolution_code=code,
            resolution=answer,
        )
        steps.extend(_after_resolution(rng, clock, zh, requester, owner, priority, work, channel))
        return steps
    staff_name = _STAFF[owner].name
    comment(clock.staff(rng.uniform(1, 12)), owner, _say(rng, data.ACKS, zh, agent=staff_name))
    if rng.random() < 0.75:  # some agents never set "in progress" and go straight on
        start = rng.uniform(0.5, 6) if rng.random() < 0.6 else rng.uniform(30, 600)
        add(clock.staff(start), "transition", owner, to="in_progress")

    # -- change requests wait for the customer's approval of the estimate -----------------
    if template.category == "change_request":
        days = str(rng.randint(2, 12))
        comment(clock.staff(work(0.2, 0.5)), owner, _say(rng, data.CHANGE_QUOTES, zh, days=days))
        add(clock.staff(0.5), "transition", owner, to="waiting_customer")
        approval = _say(rng, data.CHANGE_APPROVALS, zh)
        comment(clock.customer(rng.uniform(1, 8) * 1440), requester, approval)
        add(clock.staff(rng.uniform(30, 600)), "transition", owner, to="in_progress")
        clock.staff(rng.uniform(1, 6) * 1440)  # building and testing it
    # -- asking the customer --------------------------------------------------------------
    elif rng.random() < template.waiting_customer:
        asks = template.asks or data.ASKS
        comment(clock.staff(work(0.1, 0.2)), owner, _say(rng, asks, zh))
        add(clock.staff(0.5), "transition", owner, to="waiting_customer")
        reply_delay = rng.uniform(10, 90) if priority <= 1 else rng.uniform(30, 1800)
        if priority >= 2 and rng.random() < 0.3:
            reply_delay = rng.uniform(2880, 10080)  # the key user is travelling
        comment(clock.customer(reply_delay), requester, _say(rng, data.CUSTOMER_REPLIES, zh))
        add(clock.staff(rng.uniform(5, 120)), "transition", owner, to="in_progress")

    # -- working at L1 ---------------------------------------------------------------------
    roll = rng.random()
    if roll < 0.3:
        comment(clock.staff(work(0.2, 0.4)), owner, _say(rng, data.INTERNAL_L1, zh), internal=True)
    elif roll < 0.5:
        comment(clock.staff(work(0.2, 0.4)), owner, _say(rng, data.PROGRESS, zh))
    if rng.random() < 0.12:
        comment(clock.customer(work(0.2, 0.5)), requester, _say(rng, data.CUSTOMER_CHASERS, zh))

    # -- escalation L1 → L2 → L3 -----------------------------------------------------------
    if plan.role == "original" or rng.random() < template.l2:
        add(
            clock.staff(work(0.1, 0.3)),
            "escalate",
            owner,
            tier=2,
            team="l2-platform",
            reason=_say(rng, data.ESCALATE_L2, zh),
        )
        engineer = _member("l2-platform", rng).email
        add(clock.staff(rng.uniform(10, 150)), "assign", engineer, assignee=engineer)
        owner = engineer
        family = data.DB_FAMILY[org.product]
        if template.error in {"deadlock", "lock_timeout", "timeout", "space", "connection"}:
            note = ("排查阻塞会话：" if zh else "Checking blocking sessions:") + (
                f"\n\n```sql\n{data.LOCK_SQL[family]}\n```"
            )
        else:
            note = (
                "已拉取应用日志和接口日志，正在比对。"
                if zh
                else "Pulled application and interface logs; comparing."
            )
        comment(clock.staff(work(0.2, 0.5)), owner, note, internal=True)
        if plan.role == "original":
            comment(clock.staff(work(0.2, 0.5)), owner, _say(rng, data.PROGRESS, zh))
            return steps  # still being worked on when the duplicate is merged into it
        if rng.random() < template.l3:
            vendor = data.VENDOR_ENGINEER.get(org.product) if template.vendor else None
            l3_team = "l3-vendor" if vendor else "l3-experts"
            add(
                clock.staff(work(0.3, 0.6)),
                "escalate",
                owner,
                tier=3,
                team=l3_team,
                reason=_say(rng, data.ESCALATE_L3[:1] if vendor else data.ESCALATE_L3[1:], zh),
            )
            expert = vendor or _member("l3-experts", rng).email
            add(clock.staff(rng.uniform(30, 480)), "assign", expert, assignee=expert)
            owner = expert
            comment(
                clock.staff(work(0.3, 0.8)),
                owner,
                _say(
                    rng,
                    data.VENDOR_NOTES if vendor else data.L3_NOTES,
                    zh,
                    vendor_case=f"#{rng.randint(100000, 999999)}",
                ),
                internal=True,
            )
            if vendor:
                add(clock.staff(1), "transition", owner, to="waiting_vendor")
                comment(
                    clock.staff(rng.uniform(3, 25) * 1440),
                    owner,
                    _say(rng, data.VENDOR_REPLIES, zh),
                    internal=True,
                )
                add(clock.staff(2), "transition", owner, to="in_progress")
            comment(clock.staff(work(0.5, 1.0)), owner, _say(rng, data.PROGRESS, zh))
        elif rng.random() < 0.08:
            add(
                clock.staff(work(0.2, 0.5)),
                "escalate",
                owner,
                tier=1,
                team=l1_team,
                assignee=agent.email,
                reason=_say(rng, data.DE_ESCALATE, zh),
            )
            owner = agent.email

    # -- resolution ---------------------------------------------------------------------------
    code, zh_text, en_text = rng.choice(template.resolutions)
    if rng.random() < 0.6:
        comment(clock.staff(work(0.5, 1.0)), owner, _say(rng, data.RESOLVE_NOTES, zh))
    add(
        clock.staff(work(0.05, 0.2)),
        "transition",
        owner,
        to="resolved",
        resolution_code=code,
        resolution=zh_text if zh else en_text,
    )

    steps.extend(_after_resolution(rng, clock, zh, requester, owner, priority, work, channel))
    return steps


def _after_resolution(
    rng: random.Random,
    clock: _Clock,
    zh: bool,
    requester: str,
    owner: str,
    priority: int,
    work: Callable[[float, float], float],
    channel: str,
) -> list[Step]:
    """The customer confirms, or reopens, or stays silent and the auto-close takes it."""
    steps: list[Step] = []

    def add(at: datetime, action: str, actor: str, **args: Any) -> None:
        steps.append(Step(at, action, actor, args))

    def comment(at: datetime, actor: str, body: str) -> None:
        add(at, "comment", actor, body=body, internal=False, channel=channel, partner=None)

    roll = rng.random()
    if roll < 0.035:
        add(
            clock.customer(rng.uniform(60, 2880)),
            "reopen",
            requester,
            reason=_say(rng, data.REOPEN_REASONS, zh),
        )
        comment(
            clock.staff(rng.uniform(*TRIAGE[priority])),
            owner,
            _say(rng, data.REOPEN_ACKS, zh),
        )
        add(clock.staff(1), "transition", owner, to="in_progress")
        code, zh_text, en_text = rng.choice(data.REOPEN_RESOLUTIONS)
        add(
            clock.staff(work(0.3, 0.8)),
            "transition",
            owner,
            to="resolved",
            resolution_code=code,
            resolution=zh_text if zh else en_text,
        )
        comment(clock.customer(rng.uniform(30, 1440)), requester, _say(rng, data.CONFIRMATIONS, zh))
        add(clock.customer(1), "transition", requester, to="closed")
    elif roll < 0.6:
        if rng.random() < 0.5:
            comment(
                clock.customer(rng.uniform(20, 2880)), requester, _say(rng, data.CONFIRMATIONS, zh)
            )
        add(clock.customer(rng.uniform(1, 30)), "transition", requester, to="closed")
    return steps
