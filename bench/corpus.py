"""The benchmark data generator, shared by the seeder and the load bodies (stdlib only).

The word lists, the distributions and ``random.Random(42)`` are copied from the peer
benchmark's generator (``peers/helpdesk/site/benchseed/management/commands/benchseed.py``,
django-helpdesk 2.6.1) so that ERPCare is measured on the *same* 100,000 tickets: the
random numbers are drawn in exactly the same order as there, so ticket k has the same
title, body, status, priority, queue, submitter and creation offset in both systems.

Mapping of the peer's fields to ERPCare's:

* queue → team (one per queue) + ``category`` + ERP ``module`` (``QUEUE_MAP``);
* ``submitter_email`` ``user<n>@example.com`` → customer organization ``C<n>`` (n in 1..5000);
* status 1 open / 2 reopened → open statuses (``new``/``open``; reopened: ``open`` with
  ``reopen_count=1``), 3 resolved → ``resolved``, 4 closed → ``closed``,
  5 duplicate → ``closed`` with resolution code ``duplicate``;
* priority 1..5 (critical … very low) → P0, P1, P2, P3, P3;
* ``assigned_to`` (30 %) → an agent of the queue's team.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

SEED = 42
CUSTOMERS = 5000  # user1..user5000@example.com in the peer's generator → C1..C5000

QUEUES = [
    ("ERP Finance / 财务", "erp-fin"), ("ERP Manufacturing / 生产", "erp-mfg"),
    ("ERP Sales & Distribution", "erp-sd"), ("Warehouse / 仓库", "wms"),
    ("HR & Payroll / 人事", "hr"), ("IT Infrastructure", "infra"),
    ("Network / 网络", "net"), ("Email & Collaboration", "mail"),
    ("Access & Accounts / 权限", "iam"), ("Reporting & BI / 报表", "bi"),
]  # fmt: skip
# queue slug → (category, ERP module)
QUEUE_MAP = {
    "erp-fin": ("business_process", "gl"),
    "erp-mfg": ("system_failure", "production"),
    "erp-sd": ("business_process", "sales"),
    "wms": ("data_issue", "inventory"),
    "hr": ("data_issue", "hr"),
    "infra": ("system_failure", "platform"),
    "net": ("system_failure", "platform"),
    "mail": ("how_to", "integration"),
    "iam": ("access", "platform"),
    "bi": ("performance", "reporting"),
}
EN_SUBJECTS = [
    "MRP run fails with lock timeout", "Invoice posting hangs at step 3",
    "Cannot post goods receipt for PO {n}", "Month-end closing job aborted",
    "Payroll export missing cost centre {n}", "VPN drops every {m} minutes",
    "Printer on floor {m} offline", "Outlook cannot sync shared mailbox",
    "Password reset link expired", "BI dashboard shows stale data since {d}",
    "Sales order {n} stuck in credit block", "Stock transfer posts wrong batch",
    "Deadlock detected in inventory valuation", "Report export to Excel times out",
    "SSO login loops back to portal", "Disk usage above 90% on db-{m}",
]  # fmt: skip
ZH_SUBJECTS = [
    "凭证无法保存", "物料需求计划运行失败：锁等待超时", "发票过账卡在第三步",
    "采购订单 {n} 收货无法过账", "月结作业中止", "工资导出缺少成本中心 {n}",
    "VPN 每 {m} 分钟断开一次", "{m} 楼打印机离线", "共享邮箱无法同步",
    "报表数据自 {d} 起未更新", "销售订单 {n} 被信用冻结", "库存转移过账批次错误",
    "库存估价出现死锁", "导出 Excel 超时", "单点登录反复跳转", "数据库服务器磁盘使用率超过 90%",
]  # fmt: skip
EN_BODY = [
    "User reports the error appears after clicking Save. Screenshot attached.",
    "Started after last night's patch. Affects all users in plant {m}.",
    "Error message: ORA-00060 deadlock detected while waiting for resource.",
    "Steps to reproduce: open transaction, enter document {n}, press post.",
    "Business impact: shipments for customer C{n} are blocked.",
    "Tried clearing cache and re-login, no change.",
]
ZH_BODY = [
    "用户点击保存后出现错误，截图见附件。", "昨晚补丁之后开始出现，影响 {m} 号工厂全部用户。",
    "错误信息：等待资源时检测到死锁。", "复现步骤：打开事务，输入单据 {n}，点击过账。",
    "业务影响：客户 C{n} 的发货被阻塞。", "已尝试清除缓存并重新登录，问题依旧。",
]  # fmt: skip
STATUS_WEIGHTS = [(1, 40), (2, 5), (3, 25), (4, 25), (5, 5)]
PRIORITY_MAP = {1: 0, 2: 1, 3: 2, 4: 3, 5: 3}  # helpdesk 1 critical … 5 very low → P0..P3
# A staff-set priority keeps a consistent impact × urgency pair (PRIORITY_MATRIX).
IMPACT_URGENCY = {0: (1, 1), 1: (1, 2), 2: (2, 2), 3: (3, 3)}


def fill(s: str, rnd: random.Random) -> str:
    # Same draws as the peer: n, m, then month and day, on every call.
    return s.format(
        n=rnd.randint(100000, 999999),
        m=rnd.randint(1, 60),
        d=f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
    )


@dataclass(frozen=True)
class Row:
    """One generated ticket in the peer's terms."""

    title: str
    body: str
    age_seconds: int  # created = now - age
    status: int  # helpdesk 1..5
    queue: int  # index into QUEUES
    customer: int  # 1..5000
    priority: int  # helpdesk 1..5
    assigned: bool


def rows(count: int, seed: int = SEED):
    """Yield ``count`` rows drawing from one random.Random(seed) in the peer's order."""
    rnd = random.Random(seed)
    statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
    for _ in range(count):
        zh = rnd.random() < 0.5
        title = fill(rnd.choice(ZH_SUBJECTS if zh else EN_SUBJECTS), rnd)
        body = " ".join(
            fill(rnd.choice(ZH_BODY if zh else EN_BODY), rnd) for _ in range(rnd.randint(2, 5))
        )
        if rnd.random() < 0.2:  # mixed-language tickets
            body += " " + fill(rnd.choice(EN_BODY if zh else ZH_BODY), rnd)
        age = rnd.randint(0, 365 * 86400)
        status = rnd.choice(statuses)
        # The peer evaluates Ticket(queue=…, submitter_email=…, priority=…, assigned_to=…)
        # keyword arguments left to right: queue, submitter, priority, assignment.
        queue = rnd.randrange(len(QUEUES))  # rnd.choice(queues) == queues[rnd._randbelow(n)]
        customer = rnd.randint(1, CUSTOMERS)
        priority = rnd.randint(1, 5)
        assigned = rnd.random() < 0.3
        yield Row(title[:200], body, age, status, queue, customer, priority, assigned)


PRIORITY_WORDS = ["urgent", "high", "normal", "low", "P0", "P1", "P2", "P3"]


def create_bodies(n: int = 2000, seed: int = 1) -> list[str]:
    """JSON bodies for ``POST /api/v1/tickets``: half Chinese, half English (as the peer's
    create scenario), customers C1..C5000, priority as a word or P0–P3."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        zh = rnd.random() < 0.5
        title = fill(rnd.choice(ZH_SUBJECTS if zh else EN_SUBJECTS), rnd)
        desc = " ".join(
            fill(rnd.choice(ZH_BODY if zh else EN_BODY), rnd) for _ in range(rnd.randint(1, 3))
        )
        body = {
            "title": title[:200],
            "description": f"{desc} ref {rnd.randint(1, 10**9)}",
            "priority": rnd.choice(PRIORITY_WORDS),
            "customer": f"C{rnd.randint(1, CUSTOMERS)}",
        }
        out.append(json.dumps(body, ensure_ascii=False))
    return out
