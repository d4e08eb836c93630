# ruff: noqa: E501 - long Chinese and English text lines are data, not code
"""What the demo is made of: customers, staff, teams and the ERP problems they raise.

Everything here is plain data. ``plan.py`` draws from it with a seeded random generator;
changing a list changes the demo, so keep entries appended rather than reordered when
you want earlier demo tickets to stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ---------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoInstance:
    name: str
    product: str
    version: str
    environment: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class DemoCustomerUser:
    email: str
    name: str
    language: str  # "zh-hans" or "en"
    modules: tuple[str, ...]  # what this person usually raises tickets about
    weight: int = 1


@dataclass(frozen=True)
class DemoContact:
    name: str
    kind: str
    email: str
    phone: str


@dataclass(frozen=True)
class DemoOrganization:
    code: str
    name: str
    tier: str
    language: str  # main language of its users: "zh" or "en"
    time_zone: str
    notes: str
    weight: float  # share of the tickets
    service_level: str
    support_hours: str
    contract_name: str
    instances: tuple[DemoInstance, ...]
    contacts: tuple[DemoContact, ...]
    users: tuple[DemoCustomerUser, ...]
    other_language_share: float = 0.15  # share of its tickets written in the other language

    @property
    def product(self) -> str:
        return self.instances[0].product

    @property
    def modules(self) -> frozenset[str]:
        return frozenset(m for instance in self.instances for m in instance.modules)


FINANCE = ("gl", "ap", "ar", "fa", "reporting")
SUPPLY = ("purchasing", "inventory", "sales", "production")

ORGANIZATIONS: tuple[DemoOrganization, ...] = (
    DemoOrganization(
        code="huadong",
        name="华东精密制造有限公司",
        tier="vip",
        language="zh",
        time_zone="Asia/Shanghai",
        notes="精密零部件制造，苏州、宁波两个工厂；SAP S/4HANA 2023 于去年上线。驻场团队：华东驻场组。",
        weight=0.32,
        service_level="vip",
        support_hours="24x7",
        contract_name="华东精密 SAP 运维服务合同（VIP，7×24）",
        instances=(
            DemoInstance(
                "HDP S/4HANA 生产 (PRD)",
                "sap",
                "S/4HANA 2023 FPS02",
                "production",
                (
                    "gl",
                    "ap",
                    "ar",
                    "fa",
                    "purchasing",
                    "inventory",
                    "sales",
                    "production",
                    "hr",
                    "reporting",
                    "integration",
                    "platform",
                ),
            ),
            DemoInstance(
                "HDQ S/4HANA 测试 (QAS)",
                "sap",
                "S/4HANA 2023 FPS02",
                "test",
                (
                    "gl",
                    "ap",
                    "ar",
                    "fa",
                    "purchasing",
                    "inventory",
                    "sales",
                    "production",
                    "reporting",
                    "integration",
                    "platform",
                ),
            ),
        ),
        contacts=(
            DemoContact("王晓梅", "key_user", "customer@huadong.demo", "+86 512 6288 1001"),
            DemoContact("周建国", "it", "zhou.jianguo@huadong.demo", "+86 512 6288 1100"),
            DemoContact("沈卫东", "escalation", "shen.weidong@huadong.demo", "+86 139 1234 5678"),
            DemoContact("陆佳", "billing", "lu.jia@huadong.demo", "+86 512 6288 1005"),
        ),
        users=(
            DemoCustomerUser("customer@huadong.demo", "王晓梅", "zh-hans", FINANCE, weight=4),
            DemoCustomerUser(
                "li.qiang@huadong.demo", "李强", "zh-hans", ("inventory", "purchasing"), weight=2
            ),
            DemoCustomerUser(
                "zhang.wei@huadong.demo", "张伟", "zh-hans", ("production", "sales"), weight=2
            ),
            DemoCustomerUser(
                "zhou.jianguo@huadong.demo",
                "周建国",
                "zh-hans",
                ("platform", "integration", "reporting", "hr"),
                weight=2,
            ),
        ),
    ),
    DemoOrganization(
        code="yuanhang",
        name="远航物流股份有限公司",
        tier="standard",
        language="zh",
        time_zone="Asia/Shanghai",
        notes="第三方物流，全国 28 个仓库；用友 U8+ V16，SQL Server 2019。",
        weight=0.22,
        service_level="standard",
        support_hours="extended",
        contract_name="远航物流 U8 年度运维合同（标准）",
        instances=(
            DemoInstance(
                "远航 U8 生产账套",
                "yonyou",
                "U8+ V16.0",
                "production",
                (
                    "gl",
                    "ap",
                    "ar",
                    "fa",
                    "purchasing",
                    "inventory",
                    "sales",
                    "hr",
                    "reporting",
                    "integration",
                    "platform",
                ),
            ),
        ),
        contacts=(
            DemoContact("刘洋", "key_user", "liu.yang@yuanhang.demo", "+86 21 5899 2001"),
            DemoContact("孙浩", "it", "sun.hao@yuanhang.demo", "+86 21 5899 2010"),
            DemoContact("高敏", "escalation", "gao.min@yuanhang.demo", "+86 138 0000 2233"),
        ),
        users=(
            DemoCustomerUser("liu.yang@yuanhang.demo", "刘洋", "zh-hans", FINANCE, weight=3),
            DemoCustomerUser(
                "chen.li@yuanhang.demo",
                "陈丽",
                "zh-hans",
                ("inventory", "sales", "purchasing"),
                weight=2,
            ),
            DemoCustomerUser("huang.fang@yuanhang.demo", "黄芳", "zh-hans", ("hr",)),
            DemoCustomerUser(
                "sun.hao@yuanhang.demo",
                "孙浩",
                "zh-hans",
                ("platform", "integration"),
            ),
        ),
    ),
    DemoOrganization(
        code="northwind",
        name="Northwind Foods Ltd.",
        tier="standard",
        language="en",
        time_zone="Asia/Singapore",
        notes="Food distribution in Singapore and Malaysia, plant in Kunshan. Odoo 17 on "
        "PostgreSQL 15, self-hosted.",
        weight=0.20,
        service_level="standard",
        support_hours="extended",
        contract_name="Northwind Odoo support (standard)",
        instances=(
            DemoInstance(
                "Northwind Odoo production",
                "odoo",
                "17.0 Enterprise",
                "production",
                (
                    "gl",
                    "ap",
                    "ar",
                    "purchasing",
                    "inventory",
                    "sales",
                    "production",
                    "reporting",
                    "integration",
                    "platform",
                ),
            ),
            DemoInstance(
                "Northwind Odoo staging",
                "odoo",
                "17.0 Enterprise",
                "staging",
                (
                    "gl",
                    "ap",
                    "ar",
                    "purchasing",
                    "inventory",
                    "sales",
                    "production",
                    "reporting",
                    "integration",
                    "platform",
                ),
            ),
        ),
        contacts=(
            DemoContact("Sarah Lim", "key_user", "sarah.lim@northwind.demo", "+65 6123 4501"),
            DemoContact("Daniel Tan", "it", "daniel.tan@northwind.demo", "+65 6123 4520"),
            DemoContact("Grace Ong", "escalation", "grace.ong@northwind.demo", "+65 9123 4567"),
        ),
        users=(
            DemoCustomerUser("sarah.lim@northwind.demo", "Sarah Lim", "en", FINANCE, weight=3),
            DemoCustomerUser(
                "raj.kumar@northwind.demo",
                "Raj Kumar",
                "en",
                ("inventory", "purchasing", "sales"),
                weight=2,
            ),
            DemoCustomerUser(
                "mei.ling@northwind.demo",
                "Chen Meiling",
                "zh-hans",
                ("production", "inventory"),
            ),
            DemoCustomerUser(
                "daniel.tan@northwind.demo",
                "Daniel Tan",
                "en",
                ("platform", "integration", "reporting"),
            ),
        ),
        other_language_share=0.1,
    ),
    DemoOrganization(
        code="jinshi",
        name="金石医药集团有限公司",
        tier="basic",
        language="zh",
        time_zone="Asia/Shanghai",
        notes="医药流通与制剂生产，GSP 合规要求；金蝶 K/3 Cloud 8.1，Oracle 19c。",
        weight=0.15,
        service_level="basic",
        support_hours="business",
        contract_name="金石医药 K/3 Cloud 基础运维合同",
        instances=(
            DemoInstance(
                "金石 K/3 Cloud 正式库",
                "kingdee",
                "K/3 Cloud 8.1",
                "production",
                (
                    "gl",
                    "ap",
                    "ar",
                    "fa",
                    "purchasing",
                    "inventory",
                    "sales",
                    "hr",
                    "reporting",
                    "platform",
                ),
            ),
        ),
        contacts=(
            DemoContact("赵敏", "key_user", "zhao.min@jinshi.demo", "+86 571 8765 3001"),
            DemoContact("钟磊", "it", "zhong.lei@jinshi.demo", "+86 571 8765 3010"),
        ),
        users=(
            DemoCustomerUser("zhao.min@jinshi.demo", "赵敏", "zh-hans", FINANCE, weight=2),
            DemoCustomerUser(
                "xu.hui@jinshi.demo",
                "徐慧",
                "zh-hans",
                ("inventory", "purchasing", "sales"),
            ),
            DemoCustomerUser(
                "zhong.lei@jinshi.demo",
                "钟磊",
                "zh-hans",
                ("platform", "hr", "reporting"),
            ),
        ),
        other_language_share=0.05,
    ),
    DemoOrganization(
        code="lakeside",
        name="Lakeside Instruments (HK) Ltd.",
        tier="basic",
        language="en",
        time_zone="Asia/Hong_Kong",
        notes="Laboratory instruments maker in Hong Kong and Shenzhen, 120 staff; Tryton on "
        "PostgreSQL, run by a two-person IT team.",
        weight=0.11,
        service_level="basic",
        support_hours="business",
        contract_name="Lakeside Tryton support (basic)",
        instances=(
            DemoInstance(
                "Lakeside Tryton",
                "tryton",
                "8.2",
                "production",
                (
                    "gl",
                    "ap",
                    "ar",
                    "fa",
                    "purchasing",
                    "inventory",
                    "sales",
                    "reporting",
                    "platform",
                ),
            ),
        ),
        contacts=(
            DemoContact("Tom Baker", "it", "tom.baker@lakeside.demo", "+852 2345 6701"),
            DemoContact("Priya Shah", "key_user", "priya.shah@lakeside.demo", "+852 2345 6710"),
        ),
        users=(
            DemoCustomerUser("priya.shah@lakeside.demo", "Priya Shah", "en", FINANCE, weight=2),
            DemoCustomerUser(
                "tom.baker@lakeside.demo",
                "Tom Baker",
                "en",
                ("platform", "purchasing", "inventory", "sales"),
            ),
        ),
        other_language_share=0.0,
    ),
)

#: The first organization is the marker the seed checks for idempotency.
MARKER_ORGANIZATION = ORGANIZATIONS[0].code

DB_FAMILY = {
    "sap": "hana",
    "yonyou": "mssql",
    "kingdee": "oracle",
    "odoo": "postgres",
    "tryton": "postgres",
}
PRODUCT_LABEL = {
    "sap": "SAP",
    "yonyou": "用友",
    "kingdee": "金蝶",
    "odoo": "Odoo",
    "tryton": "Tryton",
}

# ---------------------------------------------------------------------------
# Staff and teams
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoTeam:
    code: str
    name: str
    tier: int
    serves: tuple[str, ...] = ()  # organization codes; empty = every customer


@dataclass(frozen=True)
class DemoStaff:
    email: str
    name: str
    role: str
    teams: tuple[str, ...] = ()
    lead: bool = False
    language: str = ""
    weight: int = 1  # share of the work within their team


TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam("l1-finance", "财务组", 1),
    DemoTeam("l1-supply", "供应链组", 1),
    DemoTeam("l1-huadong", "华东驻场组", 1, serves=("huadong",)),
    DemoTeam("l2-platform", "平台组", 2),
    DemoTeam("l3-experts", "专家组", 3),
    DemoTeam("l3-vendor", "原厂支持 (Vendor)", 3, serves=("huadong", "yuanhang", "jinshi")),
)

STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("admin@erpcare.demo", "顾明 (Admin)", "admin"),
    DemoStaff("manager@erpcare.demo", "刘芳", "manager"),
    DemoStaff("auditor@erpcare.demo", "孙磊", "auditor"),
    DemoStaff("agent@erpcare.demo", "赵琳", "l1_agent", ("l1-finance",), lead=True, weight=3),
    DemoStaff("qian.xiaodong@erpcare.demo", "钱晓东", "l1_agent", ("l1-finance",), weight=2),
    DemoStaff("wu.ting@erpcare.demo", "吴婷", "l1_agent", ("l1-supply",), lead=True, weight=2),
    DemoStaff("zheng.kai@erpcare.demo", "郑凯", "l1_agent", ("l1-supply",), weight=2),
    DemoStaff(
        "emily.zhang@erpcare.demo",
        "Emily Zhang",
        "l1_agent",
        ("l1-huadong",),
        lead=True,
        language="en",
        weight=2,
    ),
    DemoStaff("he.jing@erpcare.demo", "何静", "l1_agent", ("l1-huadong",)),
    DemoStaff(
        "engineer@erpcare.demo", "陈刚", "l2_engineer", ("l2-platform",), lead=True, weight=3
    ),
    DemoStaff("lin.tao@erpcare.demo", "林涛", "l2_engineer", ("l2-platform",), weight=2),
    DemoStaff(
        "david.wong@erpcare.demo", "David Wong", "l2_engineer", ("l2-platform",), language="en"
    ),
    DemoStaff("expert@erpcare.demo", "许明", "l3_expert", ("l3-experts",), lead=True, weight=2),
    DemoStaff("ma.jun@erpcare.demo", "马骏", "l3_expert", ("l3-experts",)),
    DemoStaff(
        "klaus.becker@vendor.erpcare.demo",
        "Klaus Becker (SAP)",
        "l3_expert",
        ("l3-vendor",),
        lead=True,
        language="en",
    ),
    DemoStaff(
        "zhou.haitao@vendor.erpcare.demo", "周海涛（用友/金蝶）", "l3_expert", ("l3-vendor",)
    ),
)

#: Which vendor engineer handles which product.
VENDOR_ENGINEER = {
    "sap": "klaus.becker@vendor.erpcare.demo",
    "yonyou": "zhou.haitao@vendor.erpcare.demo",
    "kingdee": "zhou.haitao@vendor.erpcare.demo",
}

#: The documented sign-ins, in the order the command prints them.
SIGN_INS: tuple[tuple[str, str, str], ...] = (
    ("administrator", "admin@erpcare.demo", "users, teams, settings; sees everything"),
    ("support manager", "manager@erpcare.demo", "all tickets, SLA and KPI views"),
    ("L1 agent", "agent@erpcare.demo", "财务组 (L1): first response, triage, escalation"),
    ("L2 engineer", "engineer@erpcare.demo", "平台组 (L2): database, interfaces, performance"),
    ("L3 expert", "expert@erpcare.demo", "专家组 (L3): bugs, tuning, major incidents"),
    ("auditor", "auditor@erpcare.demo", "read-only, audit trail"),
    ("customer (VIP)", "customer@huadong.demo", "华东精密制造 portal user (SAP S/4HANA)"),
    ("customer (standard)", "sarah.lim@northwind.demo", "Northwind Foods portal user (Odoo 17)"),
)

# ---------------------------------------------------------------------------
# Vocabulary for descriptions
# ---------------------------------------------------------------------------

#: Where a function lives in each product, by the "function" a template names.
PATHS: dict[str, dict[str, str]] = {
    "sap": {
        "voucher": "FB50（过账总账凭证）",
        "close": "OB52 / MMPV 期间控制",
        "payment": "F110 自动付款",
        "invoice": "MIRO / Fiori“上传供应商发票”",
        "receipt": "F-28 收款 / F-32 清账",
        "depreciation": "AFAB 折旧运行",
        "asset": "AS02 / ABUMN 资产转移",
        "mrp": "MD01N（MRP Live）",
        "po": "ME29N 采购订单审批",
        "stock": "MIGO 货物移动",
        "stocktake": "MI01 / MI07 实地盘点",
        "so": "VA01 / VA02 销售订单",
        "delivery": "VL02N 交货单输出",
        "production": "CO02 / CO15 生产订单",
        "costing": "CK11N / CK40N 成本估算",
        "payroll": "PC00_M28_CALC 中国工资核算",
        "report": "Fiori“试算平衡表”/ S_ALR_87012277",
        "user": "SU01 / PFCG",
        "master": "BP / MM01 主数据",
        "job": "SM37 后台作业",
        "print": "SPAD 输出设备",
        "client": "SAP GUI 8.00 / Fiori Launchpad",
    },
    "yonyou": {
        "voucher": "总账 → 凭证 → 填制凭证",
        "close": "总账 → 期末 → 结账",
        "payment": "应付款管理 → 付款处理 → 付款单",
        "invoice": "应付款管理 → 发票处理 → 采购发票导入",
        "receipt": "应收款管理 → 收款处理 → 收款单 / 核销",
        "depreciation": "固定资产 → 处理 → 计提本月折旧",
        "asset": "固定资产 → 卡片 → 变动单",
        "mrp": "生产制造 → 物料需求计划 → MRP 计划作业",
        "po": "采购管理 → 采购订货 → 采购订单（审批流）",
        "stock": "库存管理 → 出库业务 → 材料出库单",
        "stocktake": "库存管理 → 盘点业务 → 盘点单",
        "so": "销售管理 → 销售订货 → 销售订单",
        "delivery": "销售管理 → 销售发货 → 发货单打印",
        "production": "生产制造 → 生产订单 → 生产订单关闭",
        "costing": "存货核算 → 业务核算 → 期末处理",
        "payroll": "人力资源 → 薪资管理 → 业务处理 → 工资变动 / 计算",
        "report": "UFO 报表 / 总账 → 账表",
        "user": "系统服务 → 权限 → 用户 / 角色",
        "master": "基础档案 → 存货档案 / 供应商档案",
        "job": "U8 服务管理器 → 预警和定时任务",
        "print": "打印设置 → 单据格式设置",
        "client": "U8+ 客户端（企业应用平台）",
    },
    "kingdee": {
        "voucher": "财务会计 → 总账 → 凭证录入",
        "close": "财务会计 → 总账 → 期末处理 → 总账结账",
        "payment": "财务会计 → 出纳管理 → 付款单",
        "invoice": "财务会计 → 应付款管理 → 采购增值税专用发票",
        "receipt": "财务会计 → 应收款管理 → 收款单 / 应收核销",
        "depreciation": "资产管理 → 固定资产 → 计提折旧",
        "asset": "资产管理 → 固定资产 → 资产调拨",
        "mrp": "生产制造 → 计划管理 → MRP 运算",
        "po": "供应链 → 采购管理 → 采购订单（工作流）",
        "stock": "供应链 → 库存管理 → 其他出库单",
        "stocktake": "供应链 → 库存管理 → 物料盘点作业",
        "so": "供应链 → 销售管理 → 销售订单",
        "delivery": "供应链 → 销售管理 → 发货通知单 套打",
        "production": "生产制造 → 生产管理 → 生产订单结案",
        "costing": "成本管理 → 存货核算 → 标准成本",
        "payroll": "人力资源 → 薪酬管理 → 薪资计算",
        "report": "财务会计 → 报表 → 科目余额表",
        "user": "系统管理 → 用户管理 / 角色管理",
        "master": "基础管理 → 物料 / 供应商",
        "job": "系统管理 → 执行计划",
        "print": "套打设置",
        "client": "K/3 Cloud 客户端 / 浏览器",
    },
    "odoo": {
        "voucher": "Accounting ▸ Accounting ▸ Journal Entries",
        "close": "Accounting ▸ Accounting ▸ Lock Dates",
        "payment": "Accounting ▸ Vendors ▸ Payments (batch payment)",
        "invoice": "Accounting ▸ Vendors ▸ Bills ▸ Upload",
        "receipt": "Accounting ▸ Accounting ▸ Reconcile",
        "depreciation": "Accounting ▸ Accounting ▸ Assets ▸ Compute Depreciation",
        "asset": "Accounting ▸ Accounting ▸ Assets",
        "mrp": "Inventory ▸ Operations ▸ Replenishment / scheduler",
        "po": "Purchase ▸ Orders ▸ Purchase Orders (approval)",
        "stock": "Inventory ▸ Operations ▸ Transfers",
        "stocktake": "Inventory ▸ Operations ▸ Physical Inventory",
        "so": "Sales ▸ Orders ▸ Quotations",
        "delivery": "Inventory ▸ Delivery Orders ▸ Print ▸ Delivery Slip",
        "production": "Manufacturing ▸ Operations ▸ Manufacturing Orders",
        "costing": "Inventory ▸ Reporting ▸ Valuation",
        "payroll": "Payroll ▸ Payslips ▸ Batches",
        "report": "Accounting ▸ Reporting ▸ General Ledger",
        "user": "Settings ▸ Users & Companies ▸ Users",
        "master": "Inventory ▸ Products / Contacts",
        "job": "Settings ▸ Technical ▸ Scheduled Actions",
        "print": "Settings ▸ Technical ▸ Reports",
        "client": "Odoo web client / mobile app",
    },
    "tryton": {
        "voucher": "Financial ▸ Entries ▸ Account Moves",
        "close": "Financial ▸ Processing ▸ Close Periods",
        "payment": "Financial ▸ Payments ▸ Payments",
        "invoice": "Financial ▸ Invoices ▸ Supplier Invoices",
        "receipt": "Financial ▸ Processing ▸ Reconcile Accounts",
        "depreciation": "Financial ▸ Processing ▸ Assets ▸ Create Assets Moves",
        "asset": "Financial ▸ Assets",
        "mrp": "Inventory & Stock ▸ Supply ▸ Create Supply Request",
        "po": "Purchase ▸ Purchases (quotation → confirmed)",
        "stock": "Inventory & Stock ▸ Shipments ▸ Customer Shipments",
        "stocktake": "Inventory & Stock ▸ Inventories",
        "so": "Sales ▸ Sales",
        "delivery": "Inventory & Stock ▸ Shipments ▸ Delivery Note",
        "production": "Production ▸ Productions",
        "costing": "Product ▸ Products ▸ Cost Price",
        "payroll": "Payroll (not in Tryton — external)",
        "report": "Financial ▸ Reporting ▸ General Ledger",
        "user": "Administration ▸ Users ▸ Users",
        "master": "Product ▸ Products / Party ▸ Parties",
        "job": "Administration ▸ Scheduler ▸ Scheduled Actions",
        "print": "Administration ▸ User Interface ▸ Actions ▸ Reports",
        "client": "Tryton desktop client / Sao web client",
    },
}

#: Error text for each kind of failure, in the dialect of each product's database.
ERRORS: dict[str, dict[str, str]] = {
    "deadlock": {
        "hana": "SQL error 133: transaction rolled back by detected deadlock\n"
        "  [133] deadlock detected while waiting for lock on table SAPHANADB.ACDOCA",
        "mssql": "Msg 1205, Level 13, State 51, Line 1\nTransaction (Process ID 87) was "
        "deadlocked on lock resources with another process and has been chosen as the "
        "deadlock victim. Rerun the transaction.",
        "oracle": "ORA-00060: deadlock detected while waiting for resource\n"
        'ORA-06512: at "K3CLOUD.SP_GL_VOUCHER_SAVE", line 214',
        "postgres": "psycopg2.errors.DeadlockDetected: deadlock detected\n"
        "DETAIL:  Process 18231 waits for ShareLock on transaction 99812341; blocked by "
        "process 18190.\nProcess 18190 waits for ShareLock on transaction 99812337; blocked "
        "by process 18231.\nSQLSTATE: 40P01",
    },
    "lock_timeout": {
        "hana": "SQL error 131: transaction rolled back by lock wait timeout\n"
        "  Lock wait timeout exceeded on table SAPHANADB.MATDOC",
        "mssql": "Msg 1222, Level 16, State 45, Line 1\nLock request time out period exceeded.",
        "oracle": "ORA-00054: resource busy and acquire with NOWAIT specified or timeout expired",
        "postgres": "ERROR:  canceling statement due to lock timeout\n"
        'CONTEXT:  while updating tuple (4211,7) in relation "stock_quant"\nSQLSTATE: 55P03',
    },
    "timeout": {
        "hana": "Runtime Error TIME_OUT\nShort text: Time limit exceeded.\n"
        "The program was not finished within the maximum time (600 s).",
        "mssql": "Execution Timeout Expired.  The timeout period elapsed prior to completion "
        "of the operation or the server is not responding.\n(Msg -2)",
        "oracle": "ORA-01013: user requested cancel of current operation\n"
        "(report cancelled by the client after 600 s)",
        "postgres": "ERROR:  canceling statement due to statement timeout\nSQLSTATE: 57014\n"
        "odoo.service.server: Thread <Thread(odoo.service.http.request.140210)> "
        "virtual real time limit (151/120s) reached.",
    },
    "space": {
        "hana": "SQL error 4: cannot allocate enough memory\n"
        "  Out of memory; $size$=1073741824; $name$=Pool/JoinEvaluator",
        "mssql": "Msg 9002, Level 17, State 4\nThe transaction log for database "
        "'UFDATA_001_2021' is full due to 'LOG_BACKUP'.",
        "oracle": "ORA-01653: unable to extend table K3CLOUD.T_GL_VOUCHERENTRY by 8192 in "
        "tablespace K3DATA",
        "postgres": 'ERROR:  could not extend file "base/16384/2619": No space left on device\n'
        "HINT:  Check free disk space.\nSQLSTATE: 53100",
    },
    "duplicate": {
        "hana": "SQL error 301: unique constraint violated: Table(SAPHANADB.RBKP), Index(RBKP~0)",
        "mssql": "Msg 2627, Level 14, State 1\nViolation of PRIMARY KEY constraint "
        "'PK_PurBillVouch'. Cannot insert duplicate key in object 'dbo.PurBillVouch'. "
        "The duplicate key value is (1000023811).",
        "oracle": "ORA-00001: unique constraint (K3CLOUD.PK_T_AP_PAYABLE) violated",
        "postgres": 'ERROR:  duplicate key value violates unique constraint "account_move_name_uniq"\n'
        "DETAIL:  Key (name, journal_id)=(BILL/00412, 2) already exists.\nSQLSTATE: 23505",
    },
    "connection": {
        "hana": "SQL error -10709: Connection failed (RTE:[89006] System call 'connect' failed, "
        "rc=111:Connection refused {10.20.1.15:30015})",
        "mssql": 'Msg 4060, Level 11, State 1\nCannot open database "UFDATA_001_2021" '
        "requested by the login. The login failed.",
        "oracle": "ORA-12541: TNS:no listener",
        "postgres": 'psycopg2.OperationalError: connection to server at "10.20.1.15", port '
        "5432 failed: FATAL:  sorry, too many clients already\nSQLSTATE: 53300",
    },
    "bank": {
        "*": "POST https://bank-gateway.example/cmb/payment  →  HTTP 502 Bad Gateway\n"
        "response: <error><code>E0012</code><msg>签名验证失败 / signature check failed</msg>"
        "</error>\ninterface log: 3 payment orders in status SENDING since 09:15",
    },
    "sync": {
        "*": "sync job customer_master → ERP: HTTP 401 Unauthorized\n"
        '{"error": "invalid_token", "error_description": "The access token expired"}\n'
        "records pending: 1,284",
    },
    "edi": {
        "*": "EDI inbound ORDERS D96A from GLN 6901234567892: mapping failed\n"
        "UNH+1+ORDERS:D:96A:UN:EAN008'  segment LIN+3: unknown article number 6901234000123",
    },
    "tax": {
        "*": '开票接口返回：{"code": "E1003", "msg": "购方税号校验不通过", '
        '"invoiceNo": ""}\n已推送 12 张，失败 5 张',
    },
    "workflow": {
        "*": "workflow engine: no approver resolved for step 'Dept. head approval' "
        "(org unit 3100, amount > 50,000)\ninstance status: WAITING, since 3 days",
    },
    "print": {
        "*": "Spool request 48211: output device LOCL not reachable\n"
        "PDF generation failed: font 'SimSun' not found, falling back",
    },
    "client": {
        "*": "Setup failed: error 1603 while installing the client runtime\n"
        "(MSI log: Microsoft Visual C++ 2015-2022 Redistributable (x86) missing)",
    },
    "backup": {
        "*": "backup job erp-db-nightly FAILED at 02:41\n"
        "error: archive destination /backup/erp is 98% full; 0 of 1 files written",
    },
    "disk": {
        "*": "[FIRING] ERPDiskSpaceLow  instance=erp-db-01:9100  mountpoint=/data  "
        "value=91.4%  severity=critical",
    },
    "depreciation": {
        "hana": "Depreciation run for company code 1000 terminated with errors\n"
        "Asset 100000217-0: no depreciation key in area 01; 14 assets with errors (see log)",
        "mssql": "计提折旧失败：卡片 00312 的累计折旧大于原值，请检查卡片数据。",
        "oracle": "计提折旧失败：资产卡片 ZC-000418 的折旧方法未设置；共 6 张卡片报错。",
        "postgres": "ValidationError: Depreciation board of asset 'Forklift FL-07' cannot be "
        "computed: the first depreciation date is before the lock date.",
    },
    "payroll": {
        "*": "工资计算完成，但 23 名员工的“本期应纳税额”与个税系统申报结果不一致；"
        "差异合计 1,842.36 元。",
    },
}

#: What L2 runs to see what is blocking whom, per database.
LOCK_SQL = {
    "hana": "SELECT * FROM M_BLOCKED_TRANSACTIONS;\n"
    "SELECT STATEMENT_STRING, DURATION_MICROSEC FROM M_EXPENSIVE_STATEMENTS\n"
    "ORDER BY DURATION_MICROSEC DESC LIMIT 10;",
    "mssql": "SELECT session_id, blocking_session_id, wait_type, wait_time, command\n"
    "FROM sys.dm_exec_requests WHERE blocking_session_id <> 0;",
    "oracle": "SELECT sid, serial#, blocking_session, event, seconds_in_wait\n"
    "FROM v$session WHERE blocking_session IS NOT NULL;",
    "postgres": "SELECT pid, pg_blocking_pids(pid) AS blocked_by, state, wait_event,\n"
    "       left(query, 80) FROM pg_stat_activity\n"
    "WHERE cardinality(pg_blocking_pids(pid)) > 0;",
}

DEPARTMENT = {
    "gl": ("财务部", "Finance"),
    "ap": ("财务部应付组", "Accounts payable"),
    "ar": ("财务部应收组", "Accounts receivable"),
    "fa": ("财务部资产组", "Finance (fixed assets)"),
    "reporting": ("财务部", "Finance"),
    "purchasing": ("采购部", "Purchasing"),
    "inventory": ("仓储部", "Warehouse"),
    "sales": ("销售部", "Sales"),
    "production": ("生产计划部", "Production planning"),
    "hr": ("人力资源部", "HR"),
    "integration": ("IT 部", "IT"),
    "platform": ("IT 部", "IT"),
}

# ---------------------------------------------------------------------------
# Ticket templates
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """One kind of problem. Titles and descriptions use ``{placeholders}`` that the plan
    fills in: doc, po, item, job, n, path, instance, product, version, cc, dept,
    person, partner."""

    key: str
    module: str
    category: str
    type: str
    weight: float
    impact: tuple[int, ...]
    urgency: tuple[int, ...]
    zh: tuple[str, ...]
    en: tuple[str, ...]
    zh_what: str
    en_what: str
    function: str = ""
    zh_steps: tuple[str, ...] = ()
    en_steps: tuple[str, ...] = ()
    error: str = ""  # a key of ERRORS
    extra: str = ""  # "users" | "items" | "cost_centers": a Markdown table
    tags: tuple[str, ...] = ()
    products: frozenset[str] = frozenset()  # empty = every product
    languages: frozenset[str] = frozenset({"zh", "en"})
    l2: float = 0.0  # chance of escalation to L2
    l3: float = 0.0  # chance, once at L2, of escalation to L3
    vendor: bool = False  # L3 work goes to the vendor team when the product has one
    waiting_customer: float = 0.25
    channel: str = ""  # forced channel, e.g. "monitoring"
    effort: float = 1.0  # scales working time
    resolutions: tuple[tuple[str, str, str], ...] = field(default_factory=tuple)
    asks: tuple[tuple[str, str], ...] = ()  # template-specific questions to the customer


T = Template

TEMPLATES: tuple[Template, ...] = (
    # ---- general ledger / finance --------------------------------------------------
    T(
        key="voucher_save",
        module="gl",
        category="system_failure",
        type="incident",
        weight=6,
        impact=(2, 3),
        urgency=(1, 2),
        function="voucher",
        error="lock_timeout",
        zh=("凭证无法保存", "记账凭证保存时报错", "凭证 {doc} 保存报错，提示锁等待超时"),
        en=("Journal entry cannot be saved", "Error when saving journal entry {doc}"),
        zh_what="在 {path} 录入凭证 {doc}，点击“保存”后界面卡住约 30 秒，然后报错，凭证没有保存。"
        "重试三次都一样，同事那边也偶尔出现。",
        en_what="Entering journal entry {doc} in {path}: after clicking Save the screen hangs "
        "for about 30 seconds, then shows an error and nothing is saved. Colleagues see it "
        "too, on and off.",
        zh_steps=("打开 {path}", "录入凭证 {doc}（3 行分录）", "点击“保存”"),
        en_steps=("Open {path}", "Enter journal entry {doc} (3 lines)", "Click Save"),
        tags=("凭证", "lock"),
        l2=0.45,
        l3=0.1,
        resolutions=(
            (
                "fixed",
                "锁等待由夜间未结束的批处理作业引起，已终止该作业并调整作业计划到 23:00 之后；凭证可正常保存。",
                "The lock waits came from a night batch job still running; the job was stopped and "
                "rescheduled after 23:00. Journal entries save normally again.",
            ),
            (
                "workaround",
                "已释放阻塞会话，凭证保存成功。根因（并发过账）另行跟踪。",
                "Released the blocking session; the entry saves now. Root cause (concurrent "
                "posting) is followed up separately.",
            ),
        ),
    ),
    T(
        key="voucher_deadlock",
        module="gl",
        category="system_failure",
        type="incident",
        weight=2,
        impact=(2,),
        urgency=(1, 2),
        function="voucher",
        error="deadlock",
        zh=("批量过账凭证时报死锁", "凭证过账偶发死锁错误"),
        en=("Deadlock when posting journal entries in batch", "Intermittent deadlock on posting"),
        zh_what="月底批量过账（约 {n}00 张凭证）时，部分凭证报死锁错误，重新过账后又能成功。",
        en_what="During the month-end batch posting (about {n}00 entries) some entries fail "
        "with a deadlock error; posting them again works.",
        tags=("deadlock", "月结"),
        l2=0.85,
        l3=0.35,
        vendor=True,
        effort=1.5,
        resolutions=(
            (
                "fixed",
                "两个过账任务按相反顺序锁定科目余额表导致死锁；已应用厂商补丁并将批量过账改为单线程队列。",
                "Two posting jobs locked the balance table in opposite order; applied the vendor "
                "patch and made batch posting a single queue.",
            ),
            (
                "workaround",
                "调整批量过账的并发数为 1，暂时规避；厂商补丁计划在下个维护窗口应用。",
                "Reduced batch posting parallelism to 1 as a workaround; the vendor patch is "
                "planned for the next maintenance window.",
            ),
        ),
    ),
    T(
        key="month_close",
        module="gl",
        category="business_process",
        type="incident",
        weight=5,
        impact=(2, 1),
        urgency=(2, 1),
        function="close",
        zh=("月结关账失败", "期末结账失败：存在未过账凭证", "月结关账报错，无法进入下一期间"),
        en=("Period close blocked by unposted documents", "Month-end close fails"),
        zh_what="执行 {path} 时系统提示存在未过账凭证/未审核单据，无法结账。我们核对了凭证列表，"
        "没有找到未过账的凭证。今天必须完成结账，集团合并报表等着用。",
        en_what="Running {path} stops with a message that unposted documents exist, so the "
        "period cannot be closed. We checked the entry list and found nothing unposted. "
        "We must close today; group consolidation is waiting.",
        tags=("月结", "month-end"),
        l2=0.3,
        l3=0.05,
        waiting_customer=0.35,
        resolutions=(
            (
                "data_corrected",
                "查出 3 张由接口生成、状态异常的暂存凭证（不在常规列表中显示），已与用户确认后删除，结账成功。",
                "Found 3 parked entries created by an interface with a broken status (hidden from "
                "the usual list); deleted them with the user's consent and the close went through.",
            ),
            (
                "user_error",
                "存货模块尚未完成期末处理，按顺序先结存货再结总账即可；已指导用户完成。",
                "Inventory period-end had not been run; closing inventory first and then the "
                "ledger works. Walked the user through it.",
            ),
        ),
        asks=(("请导出结账检查报告发给我们。", "Please send us the close check report."),),
    ),
    T(
        key="reverse_entry",
        module="gl",
        category="how_to",
        type="question",
        weight=4,
        impact=(3,),
        urgency=(2, 3),
        function="voucher",
        zh=("如何冲销已过账凭证", "已过账凭证录错科目，怎么处理"),
        en=("How to reverse a posted journal entry", "Wrong account on a posted entry — what now?"),
        zh_what="凭证 {doc} 已经过账，但科目录错了（应为管理费用，录成了销售费用）。请问是冲销重做，"
        "还是可以直接修改？冲销日期用哪一天？",
        en_what="Journal entry {doc} is posted but uses the wrong expense account. Should we "
        "reverse and re-enter it, or can it be corrected? Which reversal date should we use?",
        tags=("how-to", "凭证"),
        waiting_customer=0.1,
        effort=0.4,
        resolutions=(
            (
                "answered",
                "已发送操作说明：使用冲销功能生成红字凭证（冲销日期取当前未结期间），再重新录入正确凭证。已同步更新知识库 FAQ。",
                "Sent the steps: reverse the entry (reversal date in the current open period) "
                "and enter a new one with the right account. The KB FAQ was updated.",
            ),
        ),
    ),
    T(
        key="fx_revaluation",
        module="gl",
        category="business_process",
        type="incident",
        weight=2,
        impact=(2,),
        urgency=(2, 3),
        function="close",
        zh=("外币评估结果异常", "期末汇兑损益计算金额不对"),
        en=("Foreign currency revaluation posts wrong amounts",),
        zh_what="期末执行外币评估，美元往来科目算出的汇兑损益比手工测算多了约 {n}8,000 元。"
        "汇率表已维护当月月末汇率。",
        en_what="The period-end FX revaluation for USD receivables posts about {n}8,000 more "
        "exchange difference than our own calculation. The month-end rate is maintained.",
        tags=("外汇", "month-end"),
        l2=0.3,
        effort=1.2,
        resolutions=(
            (
                "configuration",
                "评估使用的汇率类型配置成了“买入价”，已改为“中间价”并冲回重算。",
                "The revaluation used the buying-rate type; changed to the middle rate, reversed "
                "and re-ran.",
            ),
        ),
    ),
    T(
        key="trial_balance",
        module="reporting",
        category="data_issue",
        type="incident",
        weight=3,
        impact=(2,),
        urgency=(2,),
        function="report",
        zh=("科目余额表与总账不一致", "资产负债表不平"),
        en=("Trial balance does not match the general ledger", "Balance sheet does not balance"),
        zh_what="本月科目余额表中 {cc} 相关科目的期末余额与总账明细账合计相差 {n},236.50 元，"
        "上月是平的。",
        en_what="For this month the trial balance shows {n},236.50 more on the {cc} accounts "
        "than the general ledger detail; last month matched.",
        tags=("报表", "reconciliation"),
        l2=0.55,
        l3=0.15,
        effort=1.5,
        resolutions=(
            (
                "data_corrected",
                "一张跨期凭证只更新了明细未更新余额表，已执行余额重算（重建汇总表），报表一致。",
                "One cross-period entry updated the detail but not the balance table; rebuilt the "
                "totals and the reports agree.",
            ),
            (
                "fixed",
                "报表取数公式引用了已停用的科目段，已修正报表模板。",
                "The report formula referenced a retired account segment; fixed the template.",
            ),
        ),
    ),
    T(
        key="open_period",
        module="gl",
        category="how_to",
        type="question",
        weight=2,
        impact=(3,),
        urgency=(2, 3),
        function="close",
        zh=("如何打开下一个会计期间",),
        en=("How to open the next posting period",),
        zh_what="下个月的业务已经开始录入，系统提示期间未打开。请问在哪里打开期间？需要什么权限？",
        en_what="Users are starting next month's postings and get 'period not open'. Where do "
        "we open the period and which authorization is needed?",
        tags=("how-to",),
        waiting_customer=0.05,
        effort=0.3,
        resolutions=(
            (
                "answered",
                "已告知操作路径并确认用户具备期间维护权限。",
                "Explained where to open the period and confirmed the user has the authorization.",
            ),
        ),
    ),
    T(
        key="cost_center",
        module="gl",
        category="change_request",
        type="request",
        weight=2,
        impact=(3,),
        urgency=(3,),
        function="master",
        extra="cost_centers",
        zh=("新增成本中心申请", "组织调整：新增成本中心并调整层级"),
        en=("Request: new cost centers for the reorganization",),
        zh_what="因组织调整，下月 1 日起启用以下成本中心，请协助在系统中创建并挂到对应层级：",
        en_what="Because of the reorganization, the cost centers below go live on the 1st of "
        "next month. Please create them and attach them to the hierarchy:",
        tags=("主数据", "request"),
        effort=0.8,
        waiting_customer=0.2,
        resolutions=(
            (
                "configuration",
                "成本中心已在测试系统验证后于生产创建，层级已更新。",
                "Cost centers created in production after a test-system check; hierarchy updated.",
            ),
        ),
    ),
    # ---- payables / receivables --------------------------------------------------
    T(
        key="invoice_import",
        module="ap",
        category="data_issue",
        type="incident",
        weight=5,
        impact=(2, 3),
        urgency=(1, 2),
        function="invoice",
        error="duplicate",
        zh=("发票导入报错", "进项发票批量导入失败", "供应商发票导入提示主键重复"),
        en=("Invoice import error", "Vendor invoice import fails with duplicate key"),
        zh_what="通过 {path} 批量导入本周的 {n}6 张供应商发票，导入到一半报错，之后的发票都没有进来。",
        en_what="Importing this week's {n}6 vendor invoices via {path} stops halfway with an "
        "error; nothing after that invoice is imported.",
        zh_steps=("打开 {path}", "选择模板文件 invoices_week.xlsx", "点击“导入”"),
        en_steps=("Open {path}", "Select the file invoices_week.xlsx", "Click Import"),
        tags=("发票", "import"),
        l2=0.4,
        l3=0.05,
        resolutions=(
            (
                "data_corrected",
                "导入文件中有一张发票与上周已导入的发票号重复，已剔除后重新导入成功。",
                "One invoice in the file had already been imported last week; removed it and the "
                "import went through.",
            ),
            (
                "fixed",
                "发票号序列被手工改小导致主键冲突，已重置序列。",
                "The invoice number sequence had been set back manually; reset it.",
            ),
        ),
        asks=(
            (
                "请把导入文件和报错截图发给我们。",
                "Please attach the import file and a screenshot of the error.",
            ),
        ),
    ),
    T(
        key="payment_run",
        module="ap",
        category="business_process",
        type="incident",
        weight=3,
        impact=(2,),
        urgency=(1, 2),
        function="payment",
        zh=("付款建议生成为空", "自动付款没有带出到期发票"),
        en=("Payment run proposes no items", "Automatic payment run ignores due invoices"),
        zh_what="执行 {path}，到期日截至本周五的发票应有 {n}0 多张，但付款建议是空的。供应商在催款。",
        en_what="Running {path} for invoices due by Friday should propose {n}0+ items, but the "
        "proposal is empty. Vendors are chasing us.",
        tags=("付款", "payment"),
        l2=0.35,
        waiting_customer=0.3,
        resolutions=(
            (
                "configuration",
                "付款方式未分配到新开的银行账户，已补充配置，重新生成建议正常。",
                "The payment method was not assigned to the new house bank account; added it and "
                "the proposal is correct.",
            ),
            (
                "user_error",
                "发票被设置了付款冻结，已说明如何批量解除冻结。",
                "The invoices had a payment block; explained how to release it in bulk.",
            ),
        ),
    ),
    T(
        key="receipt_matching",
        module="ar",
        category="data_issue",
        type="incident",
        weight=3,
        impact=(3, 2),
        urgency=(2, 3),
        function="receipt",
        zh=("收款核销后客户余额不正确", "应收核销后对账单金额不对"),
        en=("Customer balance wrong after receipt matching",),
        zh_what="客户 {partner} 的收款 {doc} 核销后，客户余额反而增加了，对账单和总账对不上。",
        en_what="After matching receipt {doc} for customer {partner}, the customer balance went "
        "up instead of down; statement and ledger disagree.",
        tags=("应收", "reconciliation"),
        l2=0.3,
        resolutions=(
            (
                "data_corrected",
                "收款单方向录反（借贷方向），已反核销、冲销后重新录入。",
                "The receipt was entered with the wrong sign; unmatched, reversed and re-entered.",
            ),
            (
                "user_error",
                "核销时选错了客户的分支机构，已指导重新核销。",
                "The receipt was matched against the wrong branch of the customer; re-matched.",
            ),
        ),
    ),
    T(
        key="credit_block",
        module="sales",
        category="business_process",
        type="question",
        weight=3,
        impact=(2, 3),
        urgency=(1, 2),
        function="so",
        zh=("客户信用额度超限无法发货", "销售订单被信用控制冻结"),
        en=("Sales order blocked by credit limit", "Delivery blocked: credit check failed"),
        zh_what="销售订单 {doc} 保存后被信用检查冻结，客户上周已经回款，系统里可用额度却没有变化。",
        en_what="Sales order {doc} is blocked by the credit check right after saving. The "
        "customer paid last week, but the available credit did not change.",
        tags=("信用", "credit"),
        waiting_customer=0.2,
        effort=0.6,
        resolutions=(
            (
                "answered",
                "回款尚未核销，已核销并重新执行信用检查，订单释放。",
                "The payment was not matched yet; matched it, re-ran the credit check and the order "
                "is released.",
            ),
        ),
    ),
    T(
        key="expense_workflow",
        module="ap",
        category="business_process",
        type="incident",
        weight=2,
        impact=(3, 2),
        urgency=(2,),
        error="workflow",
        zh=("报销单审批流卡住", "费用报销单一直停在部门经理审批"),
        en=("Expense report stuck in approval",),
        zh_what="员工 {person} 的报销单 {doc} 提交三天了，一直停在“部门经理审批”，部门经理的待办里看不到。",
        en_what="Expense report {doc} from {person} has been waiting at 'manager approval' for "
        "three days; the manager does not see it in the inbox.",
        tags=("审批流", "workflow"),
        l2=0.2,
        resolutions=(
            (
                "configuration",
                "员工调岗后组织关系未更新，审批人解析为空；已更新组织并重新推送流程。",
                "After the employee changed department the org assignment was stale, so no approver was found; updated it and restarted the workflow.",
            ),
        ),
    ),
    T(
        key="tax_invoice",
        module="integration",
        category="system_failure",
        type="incident",
        weight=2,
        impact=(2,),
        urgency=(1,),
        error="tax",
        languages=frozenset({"zh"}),
        products=frozenset({"sap", "yonyou", "kingdee"}),
        zh=("金税开票接口返回错误", "销项发票推送税控系统失败"),
        en=(),
        zh_what="今天上午开始，销售发票推送到开票系统失败，客户在等发票付款。",
        en_what="",
        tags=("金税", "interface"),
        l2=0.6,
        l3=0.2,
        vendor=True,
        resolutions=(
            (
                "fixed",
                "客户主数据中购方税号含空格，接口校验失败；已清洗 37 个客户的税号并增加保存校验。",
                "Customer tax IDs contained spaces; cleaned 37 records and added a save check.",
            ),
        ),
    ),
    # ---- fixed assets ----------------------------------------------------------------
    T(
        key="depreciation",
        module="fa",
        category="system_failure",
        type="incident",
        weight=3,
        impact=(2,),
        urgency=(2, 1),
        function="depreciation",
        error="depreciation",
        zh=("固定资产折旧计提失败", "月末计提折旧报错"),
        en=("Fixed asset depreciation run fails",),
        zh_what="执行 {path} 时报错，本月折旧没有生成，影响月结。",
        en_what="{path} fails, so no depreciation is posted this month, which holds up the "
        "month-end close.",
        tags=("折旧", "month-end"),
        l2=0.4,
        l3=0.1,
        resolutions=(
            (
                "data_corrected",
                "个别资产卡片缺少折旧参数，补充后重新计提成功。",
                "A few asset records were missing depreciation settings; completed them and re-ran.",
            ),
            (
                "fixed",
                "上月资产调拨单未完成导致卡片状态异常，已修复状态并重新计提。",
                "An unfinished transfer last month left assets in a broken state; repaired and re-ran.",
            ),
        ),
    ),
    T(
        key="asset_transfer",
        module="fa",
        category="how_to",
        type="question",
        weight=2,
        impact=(3,),
        urgency=(3,),
        function="asset",
        zh=("资产卡片如何批量调整使用部门",),
        en=("How to transfer assets to another cost center in bulk",),
        zh_what="组织调整后有 {n}4 张资产卡片需要调整使用部门，一张张改太慢，有没有批量的办法？",
        en_what="After the reorganization {n}4 assets must move to another cost center. Is "
        "there a bulk way instead of one by one?",
        tags=("how-to", "资产"),
        effort=0.4,
        resolutions=(
            (
                "answered",
                "已提供批量变动导入模板和操作步骤。",
                "Sent the bulk transfer template and steps.",
            ),
        ),
    ),
    # ---- supply chain ----------------------------------------------------------------
    T(
        key="mrp_lock",
        module="production",
        category="performance",
        type="incident",
        weight=4,
        impact=(2, 1),
        urgency=(2, 1),
        function="mrp",
        error="lock_timeout",
        zh=("MRP运算锁表", "MRP 运算期间其他用户无法出入库", "MRP 运算时间过长导致锁表"),
        en=("MRP run locks tables", "Warehouse blocked while MRP is running"),
        zh_what="每天 {n}:30 跑 {path}，以前 20 分钟跑完，这周要 2 个多小时，期间仓库出入库全部卡住报错。",
        en_what="{path} starts at {n}:30 every day; it used to take 20 minutes, this week it "
        "takes over 2 hours and the warehouse cannot post goods movements meanwhile.",
        tags=("mrp", "lock", "performance"),
        l2=0.8,
        l3=0.35,
        effort=1.6,
        resolutions=(
            (
                "fixed",
                "MRP 读取了 3 年前未关闭的计划订单，清理历史数据并为需求表补建索引后运算恢复到 18 分钟。",
                "MRP was reading years of stale planned orders; archived them and added an index on "
                "the demand table — the run takes 18 minutes again.",
            ),
            (
                "configuration",
                "将 MRP 改为净改变模式并调整到夜间 01:00 运行，白天不再锁表。",
                "Switched MRP to net-change mode and moved it to 01:00; no more locks in the day.",
            ),
        ),
    ),
    T(
        key="po_approval",
        module="purchasing",
        category="business_process",
        type="incident",
        weight=5,
        impact=(2, 3),
        urgency=(2, 1),
        function="po",
        error="workflow",
        zh=("采购订单审批流卡住", "采购订单 {po} 一直停在待审批"),
        en=("Purchase order approval workflow stuck", "PO {po} stuck waiting for approval"),
        zh_what="采购订单 {po}（金额超过 5 万）提交后一直是“待审批”，审批人说没有收到待办。供应商等着订单确认。",
        en_what="PO {po} (over 50,000) has been 'awaiting approval' since it was submitted; "
        "the approver never got a task. The supplier is waiting for the confirmation.",
        tags=("审批流", "workflow", "purchasing"),
        l2=0.3,
        resolutions=(
            (
                "configuration",
                "审批规则中金额区间有缺口（50,000 整不匹配任何规则），已修正规则并重新触发。",
                "The approval rules had a gap at exactly 50,000; fixed the ranges and restarted "
                "the workflow.",
            ),
            (
                "workaround",
                "已由管理员手工转办给替代审批人，规则问题另行修改。",
                "An administrator forwarded the task to the deputy approver; the rule is fixed "
                "separately.",
            ),
        ),
    ),
    T(
        key="stock_mismatch",
        module="inventory",
        category="data_issue",
        type="incident",
        weight=4,
        impact=(2,),
        urgency=(2,),
        function="stock",
        zh=("库存数量与财务不一致", "存货明细账与总账存货科目有差异"),
        en=("Inventory quantity does not match finance", "Stock valuation differs from the GL"),
        zh_what="月末对账发现，仓库 {cc} 的库存金额与总账存货科目相差 {n}3,410.00 元，物料 {item} 差异最大。",
        en_what="At month-end, warehouse {cc} stock value differs from the inventory GL "
        "account by {n}3,410.00; item {item} has the largest difference.",
        tags=("库存", "reconciliation"),
        l2=0.65,
        l3=0.2,
        effort=1.8,
        waiting_customer=0.35,
        resolutions=(
            (
                "data_corrected",
                "有 4 张出库单在期末处理后才记账，已补做成本调整凭证，差异消除。",
                "Four goods issues were posted after the period-end run; posted the cost "
                "adjustments and the difference is gone.",
            ),
            (
                "fixed",
                "接口重复回写一笔采购入库，已冲回并修复接口幂等处理。",
                "An interface posted one goods receipt twice; reversed it and made the interface "
                "idempotent.",
            ),
        ),
    ),
    T(
        key="negative_stock",
        module="inventory",
        category="business_process",
        type="incident",
        weight=3,
        impact=(3, 2),
        urgency=(1, 2),
        function="stock",
        zh=("出库时提示负库存无法过账", "材料出库报库存不足，但账面有库存"),
        en=("Goods issue fails: negative stock not allowed",),
        zh_what="物料 {item} 在 {path} 出库时提示库存不足，但库存查询显示有 {n}20 件。",
        en_what="Goods issue of item {item} in {path} says stock is insufficient, but the stock "
        "overview shows {n}20 pieces.",
        tags=("库存",),
        waiting_customer=0.3,
        l2=0.15,
        effort=0.7,
        resolutions=(
            (
                "user_error",
                "库存在另一个库位/批次中，已指导按批次出库。",
                "The stock sits in another bin/batch; showed how to issue by batch.",
            ),
            (
                "data_corrected",
                "存在未审核的调拨单占用了库存，审核后可以出库。",
                "An unapproved transfer reserved the stock; once approved the issue works.",
            ),
        ),
    ),
    T(
        key="stocktake",
        module="inventory",
        category="how_to",
        type="question",
        weight=2,
        impact=(3,),
        urgency=(3, 2),
        function="stocktake",
        zh=("盘点差异如何调整",),
        en=("How to post stocktake differences",),
        zh_what="年中盘点完成，差异 {n}7 项。请问差异调整的正确步骤？需要财务先审批吗？",
        en_what="Our mid-year count found {n}7 differences. What are the right steps to post "
        "them, and does finance approve first?",
        tags=("how-to", "盘点"),
        effort=0.4,
        resolutions=(("answered", "已发送盘点差异处理 SOP。", "Sent the stocktake SOP."),),
    ),
    T(
        key="price_list",
        module="sales",
        category="data_issue",
        type="incident",
        weight=3,
        impact=(3, 2),
        urgency=(2,),
        function="so",
        zh=("销售订单价格取错", "销售订单没有带出新价目表价格"),
        en=("Sales order picks the wrong price list",),
        zh_what="新价目表从本月 1 日生效，但今天录入的销售订单 {doc} 仍带出旧价格。",
        en_what="The new price list is valid from the 1st, but sales order {doc} entered today "
        "still gets the old prices.",
        tags=("价格", "sales"),
        l2=0.2,
        effort=0.7,
        resolutions=(
            (
                "configuration",
                "新价目表的客户组范围漏选，已补充。",
                "The new price list missed a customer group; added it.",
            ),
        ),
    ),
    T(
        key="delivery_print",
        module="sales",
        category="system_failure",
        type="incident",
        weight=2,
        impact=(3,),
        urgency=(2,),
        function="delivery",
        error="print",
        zh=("发货单打印格式错乱", "发货单打印中文乱码"),
        en=("Delivery note print layout broken",),
        zh_what="从昨天开始打印发货单，中文显示为方框，条码位置也偏了。",
        en_what="Since yesterday delivery notes print Chinese text as boxes and the barcode "
        "is misplaced.",
        tags=("打印", "print"),
        l2=0.25,
        effort=0.6,
        resolutions=(
            (
                "fixed",
                "打印服务器更新后缺少中文字体，已重新安装字体并刷新打印模板。",
                "The print server update removed the CJK font; reinstalled it.",
            ),
        ),
    ),
    T(
        key="bom_change",
        module="production",
        category="change_request",
        type="request",
        weight=2,
        impact=(3,),
        urgency=(3,),
        function="master",
        extra="items",
        zh=("BOM 变更申请", "新增物料清单版本：{item}"),
        en=("Request: new BOM version for {item}",),
        zh_what="工程变更 ECN 已批准，请协助为 {item} 创建新的 BOM 版本，下月起生效：",
        en_what="The engineering change is approved; please create a new BOM version for "
        "{item}, valid from next month:",
        tags=("bom", "request"),
        effort=1.2,
        waiting_customer=0.3,
        l2=0.1,
        resolutions=(
            (
                "configuration",
                "新 BOM 版本已创建并设置生效日期，旧版本同日失效。",
                "New BOM version created with its validity date; the old one ends the same day.",
            ),
        ),
    ),
    T(
        key="order_close",
        module="production",
        category="business_process",
        type="incident",
        weight=2,
        impact=(3,),
        urgency=(2, 3),
        function="production",
        zh=("生产订单无法关闭", "生产订单结案提示存在未清预留"),
        en=("Production order cannot be closed (open reservations)",),
        zh_what="生产订单 {doc} 已完工入库，结案时提示存在未清的物料预留，无法关闭。",
        en_what="Production order {doc} is finished and received, but closing it fails with "
        "open material reservations.",
        tags=("生产订单",),
        waiting_customer=0.2,
        l2=0.15,
        effort=0.6,
        resolutions=(
            (
                "user_error",
                "有两行物料未做最终发料标记，已指导处理后结案。",
                "Two component lines lacked the final-issue flag; showed how to set it.",
            ),
        ),
    ),
    T(
        key="cost_rollup",
        module="production",
        category="data_issue",
        type="incident",
        weight=2,
        impact=(2,),
        urgency=(2,),
        function="costing",
        zh=("标准成本卷算结果异常", "成本卷算后部分成品成本为零"),
        en=("Standard cost roll-up gives zero cost",),
        zh_what="执行 {path} 后，{n}2 个成品的标准成本为 0，包括 {item}。",
        en_what="After {path}, {n}2 finished goods including {item} have a standard cost of 0.",
        tags=("成本", "costing"),
        l2=0.45,
        l3=0.15,
        effort=1.3,
        resolutions=(
            (
                "data_corrected",
                "半成品缺少采购价格，卷算时取不到成本；已补价格重新卷算。",
                "Semi-finished components had no price; added prices and re-ran.",
            ),
        ),
    ),
    T(
        key="wms_sync",
        module="integration",
        category="system_failure",
        type="incident",
        weight=3,
        impact=(2,),
        urgency=(1, 2),
        function="stock",
        error="lock_timeout",
        zh=("WMS 接口同步失败", "WMS 出库回传 ERP 失败，消息积压"),
        en=("WMS interface sync failed: messages stuck in queue",),
        zh_what="从今天 {n}:00 开始，WMS 回传的出库确认在中间件队列里积压（当前 {n}40 条），ERP 没有扣减库存。",
        en_what="Since {n}:00 today the WMS goods-issue confirmations pile up in the middleware "
        "queue ({n}40 messages now) and ERP stock is not reduced.",
        tags=("接口", "wms", "interface"),
        l2=0.85,
        l3=0.2,
        waiting_customer=0.15,
        resolutions=(
            (
                "fixed",
                "ERP 侧一条消息因锁超时反复重试阻塞了队列，已跳过并单独处理，队列已清空。",
                "One message kept failing on a lock timeout and blocked the queue; skipped and "
                "handled it separately, the queue is empty.",
            ),
        ),
    ),
    T(
        key="edi_orders",
        module="integration",
        category="system_failure",
        type="incident",
        weight=2,
        impact=(2,),
        urgency=(1, 2),
        error="edi",
        zh=("EDI 订单导入失败", "客户 EDI 订单未进入 ERP"),
        en=("Customer EDI orders (ORDERS D96A) not imported",),
        zh_what="大客户 {partner} 昨晚发送的 EDI 订单没有导入，影响今天排产。",
        en_what="EDI orders sent last night by key account {partner} were not imported; today's "
        "production plan depends on them.",
        tags=("edi", "interface"),
        l2=0.8,
        l3=0.15,
        resolutions=(
            (
                "data_corrected",
                "客户新启用的商品条码未在物料主数据维护，已补充映射并重新处理 EDI 报文。",
                "The customer's new article numbers were not mapped; added the mapping and reprocessed.",
            ),
        ),
    ),
    T(
        key="mrp_question",
        module="production",
        category="how_to",
        type="question",
        weight=2,
        impact=(3,),
        urgency=(3,),
        function="mrp",
        zh=("MRP 建议数量与预期不符",),
        en=("MRP suggests unexpected quantities",),
        zh_what="物料 {item} 的 MRP 建议采购量是 {n}000，但我们算下来只需要 {n}00 左右，是不是安全库存参数有问题？",
        en_what="MRP proposes {n}000 of item {item}, we expected about {n}00. Is the safety "
        "stock setting wrong?",
        tags=("mrp", "how-to"),
        effort=0.5,
        waiting_customer=0.3,
        resolutions=(
            (
                "answered",
                "批量规则为固定批量 1000，已解释并建议改为按需批量。",
                "Lot size is fixed at 1,000; explained and suggested lot-for-lot.",
            ),
        ),
    ),
    T(
        key="vendor_master",
        module="purchasing",
        category="change_request",
        type="request",
        weight=2,
        impact=(3,),
        urgency=(3,),
        function="master",
        zh=("新增供应商主数据", "供应商银行账户变更申请"),
        en=("Request: create new vendor master record", "Request: change vendor bank account"),
        zh_what="请为供应商 {partner} 创建/更新主数据，营业执照和开户许可证已附上，采购经理已批准。",
        en_what="Please create/update vendor {partner}; registration and bank letter attached, "
        "approved by the purchasing manager.",
        tags=("主数据", "request"),
        effort=0.4,
        resolutions=(
            (
                "configuration",
                "已按四眼原则完成维护并通知申请人。",
                "Done under the four-eyes rule; requester informed.",
            ),
        ),
    ),
    T(
        key="material_codes",
        module="inventory",
        category="change_request",
        type="request",
        weight=2,
        impact=(3,),
        urgency=(3,),
        function="master",
        extra="items",
        zh=("新增物料编码申请",),
        en=("Request: new material codes",),
        zh_what="新品下月上市，请创建以下物料编码：",
        en_what="New products launch next month; please create these items:",
        tags=("主数据", "request"),
        effort=0.5,
        waiting_customer=0.2,
        resolutions=(
            (
                "configuration",
                "物料已创建并扩展到各工厂/仓库。",
                "Items created and extended to all plants and warehouses.",
            ),
        ),
    ),
    # ---- HR / payroll ----------------------------------------------------------------
    T(
        key="payroll_wrong",
        module="hr",
        category="data_issue",
        type="incident",
        weight=3,
        impact=(2,),
        urgency=(1, 2),
        function="payroll",
        error="payroll",
        products=frozenset({"sap", "yonyou", "kingdee"}),
        zh=("工资计算结果错误", "个税计算结果与税务系统不一致"),
        en=("Payroll calculation result is wrong",),
        zh_what="本月工资计算完成后，部分员工的个税与个税申报系统的结果不一致，后天就要发工资。",
        en_what="After this month's payroll run, income tax for several employees differs "
        "from the tax bureau system; salaries are paid the day after tomorrow.",
        tags=("工资", "payroll"),
        l2=0.4,
        l3=0.15,
        vendor=True,
        waiting_customer=0.3,
        resolutions=(
            (
                "data_corrected",
                "这些员工年中入职，累计预扣的起始月份设置错误；已修正并重算。",
                "These employees joined mid-year and the cumulative withholding started in the "
                "wrong month; corrected and re-ran.",
            ),
            (
                "fixed",
                "已应用厂商发布的个税算法补丁并重算。",
                "Applied the vendor's tax calculation patch and re-ran.",
            ),
        ),
    ),
    T(
        key="social_insurance",
        module="hr",
        category="how_to",
        type="question",
        weight=2,
        impact=(3,),
        urgency=(3,),
        function="payroll",
        languages=frozenset({"zh"}),
        products=frozenset({"sap", "yonyou", "kingdee"}),
        zh=("如何调整社保缴费基数", "社保基数年度调整怎么批量导入"),
        en=(),
        zh_what="7 月起社保缴费基数调整，请问如何批量更新 {n}00 名员工的缴费基数？",
        en_what="",
        tags=("how-to", "社保"),
        effort=0.4,
        resolutions=(
            (
                "answered",
                "已提供批量导入模板和注意事项（需在计算工资前导入）。",
                "Sent the import template.",
            ),
        ),
    ),
    # ---- reporting -------------------------------------------------------------------
    T(
        key="report_timeout",
        module="reporting",
        category="performance",
        type="incident",
        weight=5,
        impact=(2, 3),
        urgency=(2, 1),
        function="report",
        error="timeout",
        zh=("报表运行超时", "{path} 运行超过 10 分钟后报错", "月度管理报表跑不出来"),
        en=(
            "Report slow",
            "Report times out after 10 minutes",
            "Monthly management report never finishes",
        ),
        zh_what="运行 {path}（选全年、全部公司）超过 10 分钟后报错。只选一个月可以出来，但也要 3 分钟。",
        en_what="Running {path} for the full year and all companies fails after 10 minutes. "
        "A single month works but takes 3 minutes.",
        tags=("报表", "performance"),
        l2=0.6,
        l3=0.25,
        effort=1.4,
        resolutions=(
            (
                "fixed",
                "执行计划走了全表扫描，已更新统计信息并为过账日期列增加索引，全年报表 40 秒出结果。",
                "The plan used a full scan; refreshed statistics and indexed the posting date — "
                "the full-year report takes 40 s now.",
            ),
            (
                "workaround",
                "报表改为后台作业夜间生成，用户早上直接查看结果。",
                "The report now runs as a night job and users read the result in the morning.",
            ),
        ),
    ),
    T(
        key="custom_report",
        module="reporting",
        category="change_request",
        type="request",
        weight=2,
        impact=(3,),
        urgency=(3,),
        function="report",
        zh=("新增自定义报表需求", "需求：按客户毛利分析报表"),
        en=("Change request: new sales margin report",),
        zh_what="管理层希望每月看到按客户、按产品线的毛利分析（收入、成本、毛利率，支持下钻到订单）。"
        "请评估工作量和上线时间。",
        en_what="Management wants a monthly margin report by customer and product line "
        "(revenue, cost, margin %, drill-down to orders). Please estimate effort and date.",
        tags=("报表", "change"),
        l2=0.6,
        l3=0.6,
        effort=4.0,
        waiting_customer=0.4,
        resolutions=(
            (
                "fixed",
                "报表已开发完成并在测试环境验收，已传输到生产。",
                "Report built, accepted in test and transported to production.",
            ),
        ),
    ),
    T(
        key="excel_export",
        module="reporting",
        category="how_to",
        type="question",
        weight=3,
        impact=(3,),
        urgency=(3,),
        function="report",
        zh=("如何导出明细到 Excel", "导出的 Excel 数字变成文本了"),
        en=("How to export line items to Excel",),
        zh_what="{path} 的明细导出到 Excel 后，金额列是文本格式，无法求和。有什么办法？",
        en_what="When exporting {path} to Excel the amount column is text and cannot be summed. "
        "How do we fix that?",
        tags=("how-to", "excel"),
        effort=0.3,
        resolutions=(
            (
                "answered",
                "已说明使用“导出为 xlsx（保留格式）”选项，并更新了知识库文章。",
                "Explained the 'xlsx with formats' option; KB article updated.",
            ),
        ),
    ),
    # ---- access and platform -------------------------------------------------------
    T(
        key="account_locked",
        module="platform",
        category="access",
        type="request",
        weight=7,
        impact=(3,),
        urgency=(1, 2),
        function="user",
        zh=("用户账号被锁定", "账号登录失败次数过多被锁", "{person} 账号被锁，请解锁"),
        en=("Account locked", "User locked after too many failed logins"),
        zh_what="用户 {person} 输错密码多次，账号被锁定，无法登录系统，请尽快解锁。",
        en_what="User {person} entered a wrong password several times and is locked out. "
        "Please unlock the account.",
        tags=("账号", "access"),
        waiting_customer=0.05,
        effort=0.15,
        resolutions=(
            (
                "fixed",
                "已解锁账号并重置初始密码，用户已成功登录。",
                "Account unlocked and password reset; the user signed in.",
            ),
        ),
    ),
    T(
        key="access_request",
        module="platform",
        category="access",
        type="request",
        weight=5,
        impact=(3,),
        urgency=(3, 2),
        function="user",
        extra="users",
        zh=("新增用户权限申请", "申请开通 {dept} 新员工账号和权限", "权限申请：新员工入职"),
        en=("Permission request for new user", "Access request: new hire in {dept}"),
        zh_what="以下新员工下周一入职，请开通账号和权限（部门经理已在 OA 审批）：",
        en_what="The following people start on Monday; please create accounts and roles "
        "(approved by the department head):",
        tags=("权限", "access"),
        waiting_customer=0.15,
        effort=0.3,
        resolutions=(
            (
                "configuration",
                "账号已创建并分配角色，初始密码已通过短信发送。",
                "Accounts created with their roles; initial passwords sent by SMS.",
            ),
        ),
        asks=(
            (
                "请确认是否需要审批权限（金额上限多少）。",
                "Please confirm whether approval rights are needed, and the limit.",
            ),
        ),
    ),
    T(
        key="password_reset",
        module="platform",
        category="access",
        type="request",
        weight=3,
        impact=(3,),
        urgency=(2,),
        function="user",
        zh=("密码重置", "忘记密码，申请重置"),
        en=("Password reset request",),
        zh_what="{person} 忘记了系统密码，请重置。",
        en_what="{person} forgot the ERP password; please reset it.",
        tags=("账号", "access"),
        waiting_customer=0.05,
        effort=0.1,
        resolutions=(
            (
                "fixed",
                "已重置密码，用户已确认可以登录。",
                "Password reset; the user confirmed the sign-in works.",
            ),
        ),
    ),
    T(
        key="slow_login",
        module="platform",
        category="performance",
        type="incident",
        weight=3,
        impact=(2, 1),
        urgency=(2, 1),
        function="client",
        error="connection",
        zh=("系统登录很慢", "早上登录 ERP 要等好几分钟"),
        en=("ERP very slow this morning", "Login takes minutes"),
        zh_what="今天早上 8 点半开始，登录系统要等 2–3 分钟，有时直接报连接错误。全公司都这样。",
        en_what="Since 8:30 this morning logging in takes 2–3 minutes and sometimes fails with "
        "a connection error. Everyone is affected.",
        tags=("performance", "login"),
        l2=0.75,
        l3=0.2,
        resolutions=(
            (
                "fixed",
                "数据库连接池耗尽（一个接口程序泄漏连接），已重启接口服务并修复连接释放。",
                "The database connection pool was exhausted by an interface leaking connections; "
                "restarted it and fixed the leak.",
            ),
            (
                "configuration",
                "应用服务器内存不足导致频繁 GC，已调整 JVM 参数并增加一台应用服务器。",
                "The app server was short of memory; tuned the JVM and added a server.",
            ),
        ),
    ),
    T(
        key="erp_down",
        module="platform",
        category="system_failure",
        type="incident",
        weight=0.7,
        impact=(1,),
        urgency=(1,),
        function="client",
        error="connection",
        zh=("生产系统无法登录", "ERP 生产环境宕机，所有用户无法使用"),
        en=("ERP production system down", "Nobody can log in to production"),
        zh_what="**紧急**：{n}:10 起所有用户无法登录 ERP 生产系统，仓库发货、财务付款全部停止。",
        en_what="**Urgent**: since {n}:10 nobody can log in to ERP production. Shipping and "
        "payments have stopped.",
        tags=("p0", "outage"),
        l2=0.95,
        l3=0.5,
        waiting_customer=0.0,
        effort=0.5,
        resolutions=(
            (
                "fixed",
                "数据库日志卷写满导致数据库挂起；已扩容并清理归档日志，系统已恢复。已开问题单跟踪根因和监控告警阈值。",
                "The database log volume was full and the database hung; extended the volume and "
                "cleaned archives — the system is back. A problem record follows up root cause "
                "and alert thresholds.",
            ),
        ),
    ),
    T(
        key="disk_alert",
        module="platform",
        category="system_failure",
        type="incident",
        weight=1.5,
        impact=(2,),
        urgency=(2, 1),
        error="disk",
        channel="monitoring",
        zh=("[告警] 数据库服务器磁盘使用率超过 90%",),
        en=("[Alert] Database server disk usage above 90%",),
        zh_what="监控告警：数据库服务器数据盘使用率持续 15 分钟超过 90%。",
        en_what="Monitoring alert: the database server data volume has been above 90% for 15 "
        "minutes.",
        tags=("monitoring", "disk"),
        waiting_customer=0.0,
        effort=0.3,
        resolutions=(
            (
                "fixed",
                "清理过期归档日志和临时导出文件，使用率降至 62%；已提交扩容变更。",
                "Removed old archive logs and exports (62% used now); a change for more disk is filed.",
            ),
        ),
    ),
    T(
        key="backup_failed",
        module="platform",
        category="system_failure",
        type="incident",
        weight=1,
        impact=(2,),
        urgency=(2,),
        error="backup",
        channel="monitoring",
        zh=("[告警] 夜间备份作业失败",),
        en=("[Alert] Nightly backup job failed",),
        zh_what="备份监控：昨晚数据库全量备份失败，需要当天补做并确认原因。",
        en_what="Backup monitoring: last night's full database backup failed; it must be "
        "repeated today and the cause found.",
        tags=("monitoring", "backup"),
        waiting_customer=0.0,
        effort=0.4,
        resolutions=(
            (
                "fixed",
                "备份目标盘空间不足，已清理过期备份并手工补做全备，校验通过。",
                "The backup target was full; pruned expired sets and re-ran the full backup, checksum verified.",
            ),
        ),
    ),
    T(
        key="batch_job",
        module="platform",
        category="system_failure",
        type="incident",
        weight=2,
        impact=(2,),
        urgency=(2,),
        function="job",
        error="deadlock",
        zh=("夜间批处理作业 {job} 失败", "后台作业失败"),
        en=("Nightly batch job {job} failed",),
        zh_what="{path} 中夜间作业 {job} 状态为“已取消”，日志如下。依赖它的晨报没有数据。",
        en_what="In {path} the night job {job} is cancelled; log below. The morning reports "
        "that depend on it are empty.",
        tags=("batch", "job"),
        l2=0.7,
        l3=0.1,
        channel="",
        resolutions=(
            (
                "fixed",
                "作业与备份窗口重叠导致死锁，已调整作业时间并手工重跑。",
                "The job overlapped the backup window and deadlocked; rescheduled and re-ran it.",
            ),
        ),
    ),
    T(
        key="print_fail",
        module="platform",
        category="system_failure",
        type="incident",
        weight=2,
        impact=(3,),
        urgency=(2,),
        function="print",
        error="print",
        zh=("打印机无法打印", "ERP 打印任务一直在队列里"),
        en=("Cannot print from ERP",),
        zh_what="仓库的打印机从系统里打不出单据，打印任务一直排队，Windows 里打测试页是正常的。",
        en_what="The warehouse printer prints nothing from ERP; jobs stay queued. A Windows "
        "test page works.",
        tags=("打印", "print"),
        waiting_customer=0.3,
        effort=0.4,
        resolutions=(
            (
                "fixed",
                "打印机 IP 变更后输出设备未更新，已修改。",
                "The printer got a new IP; updated the output device.",
            ),
        ),
    ),
    T(
        key="client_install",
        module="platform",
        category="how_to",
        type="question",
        weight=2,
        impact=(3,),
        urgency=(2, 3),
        function="client",
        error="client",
        zh=("客户端安装报错", "新电脑安装 ERP 客户端失败"),
        en=("Client installation fails on a new laptop",),
        zh_what="新领的笔记本（Windows 11）安装 {path} 时报错，安装中止。",
        en_what="Installing {path} on a new Windows 11 laptop fails and the setup aborts.",
        tags=("客户端", "how-to"),
        waiting_customer=0.3,
        effort=0.3,
        resolutions=(
            (
                "answered",
                "缺少 VC++ 运行库，已提供离线安装包并远程协助完成安装。",
                "Missing VC++ runtime; sent the offline package and helped remotely.",
            ),
        ),
    ),
    T(
        key="crm_sync",
        module="integration",
        category="system_failure",
        type="incident",
        weight=2,
        impact=(2,),
        urgency=(2,),
        error="sync",
        zh=("CRM 与 ERP 客户主数据同步失败",),
        en=("CRM → ERP customer sync fails with 401",),
        zh_what="CRM 新建的客户从昨天起没有同步到 ERP，销售无法下单。",
        en_what="Customers created in CRM since yesterday are not synced to ERP; sales cannot "
        "enter orders for them.",
        tags=("接口", "crm", "interface"),
        l2=0.85,
        l3=0.1,
        resolutions=(
            (
                "fixed",
                "接口账号的访问令牌过期，已更新令牌并设置到期前提醒；积压数据已补传。",
                "The interface token had expired; renewed it with an expiry reminder and replayed the backlog.",
            ),
        ),
    ),
    T(
        key="bank_edi",
        module="integration",
        category="system_failure",
        type="incident",
        weight=3,
        impact=(2,),
        urgency=(1,),
        function="payment",
        error="bank",
        zh=("银企直连付款指令发送失败", "银行回单导入失败"),
        en=("EDI interface to bank failed", "Bank statement import (MT940) fails"),
        zh_what="今天的付款指令通过银企直连发送失败，{n} 笔付款卡在“发送中”，下午 4 点前必须付出。",
        en_what="Today's payment orders to the bank fail; {n} payments are stuck in 'sending' "
        "and must leave before 4 pm.",
        tags=("银企直连", "bank", "interface"),
        l2=0.8,
        l3=0.25,
        vendor=True,
        resolutions=(
            (
                "fixed",
                "银行更换了签名证书，已导入新证书并重发付款指令，银行已回执成功。",
                "The bank rotated its signing certificate; imported the new one and resent the "
                "orders — the bank acknowledged them.",
            ),
        ),
    ),
    T(
        key="oa_writeback",
        module="integration",
        category="system_failure",
        type="incident",
        weight=2,
        impact=(3, 2),
        urgency=(2,),
        error="workflow",
        languages=frozenset({"zh"}),
        zh=("OA 审批结果未回写到 ERP", "OA 审批通过但 ERP 单据仍是未审核"),
        en=(),
        zh_what="OA 中已审批通过的付款申请 {doc}，ERP 中还是未审核状态，影响付款。",
        en_what="",
        tags=("接口", "oa"),
        l2=0.7,
        resolutions=(
            (
                "fixed",
                "回写服务在 OA 升级后地址变化，已修改配置并补处理积压单据。",
                "The write-back URL changed with the OA upgrade; fixed the config and replayed.",
            ),
        ),
    ),
    T(
        key="restore_doc",
        module="platform",
        category="data_issue",
        type="request",
        weight=1.5,
        impact=(3,),
        urgency=(2,),
        function="voucher",
        zh=("误删除单据恢复申请",),
        en=("Restore an accidentally deleted document",),
        zh_what="用户误删除了单据 {doc}（昨天下午录入），请问能否恢复？",
        en_what="A user deleted document {doc} by mistake (entered yesterday afternoon). Can it "
        "be restored?",
        tags=("数据恢复", "request"),
        l2=0.7,
        effort=0.8,
        waiting_customer=0.2,
        resolutions=(
            (
                "data_corrected",
                "从昨晚备份恢复到临时库，导出该单据后重新导入生产，已核对一致。",
                "Restored last night's backup to a scratch database and re-imported the document.",
            ),
            (
                "wont_fix",
                "单据已被后续业务引用，恢复风险高；建议按原始凭证重新录入。",
                "The document is referenced by later postings; restoring is too risky — please re-enter it.",
            ),
        ),
    ),
    T(
        key="upgrade_question",
        module="platform",
        category="how_to",
        type="question",
        weight=1.5,
        impact=(3,),
        urgency=(3,),
        function="client",
        zh=("版本升级前需要做哪些准备",),
        en=("What to prepare before the version upgrade",),
        zh_what="计划下季度升级到 {version} 的下一个补丁版本，请提供升级检查清单和停机时间估算。",
        en_what="We plan to move from {version} to the next patch level next quarter. Please "
        "share the checklist and expected downtime.",
        tags=("upgrade",),
        l2=0.5,
        effort=0.8,
        resolutions=(
            (
                "answered",
                "已提供升级检查清单、回退方案和停机时间估算（约 4 小时）。",
                "Sent the checklist, rollback plan and downtime estimate (about 4 hours).",
            ),
        ),
    ),
)

TEMPLATE_BY_KEY = {t.key: t for t in TEMPLATES}

#: Templates that follow a major outage at the same customer ("caused by" links).
OUTAGE_SYMPTOMS = ("voucher_save", "report_timeout", "slow_login", "wms_sync")

# ---------------------------------------------------------------------------
# Conversation snippets (zh, en)
# ---------------------------------------------------------------------------

ACKS = (
    (
        "您好，已收到您的问题，我是负责处理的工程师{agent}，正在排查，有进展第一时间告诉您。",
        "Hello, this is {agent}. I have your ticket and I am looking into it; I will update you "
        "as soon as I know more.",
    ),
    ("您好，问题已收到，正在复现中，请稍候。", "Thanks, got it. I am trying to reproduce it now."),
    (
        "您好，已受理。我先远程看一下日志。",
        "Hi, ticket accepted. I will check the logs remotely first.",
    ),
)
ASKS = (
    (
        "请提供完整的报错截图和单据号，以及出现问题的大概时间，谢谢。",
        "Could you send a screenshot of the full error, the document number and roughly when it "
        "happened?",
    ),
    (
        "请问是所有用户都这样，还是只有您一个人？换一台电脑是否也一样？",
        "Does this affect everyone or only you? Does it happen on another PC too?",
    ),
    (
        "方便的话请约个时间远程，我们一起看一下。",
        "If convenient, let's schedule a remote session to look at it together.",
    ),
)
CHANGE_QUOTES = (
    (
        "需求已评估：预计 {days} 人天，先在测试环境实施，验收后安排在周末维护窗口上线。请审批工作量后我们开始。",
        "Estimate: {days} person-days, built in the test system first and moved to production "
        "in a weekend maintenance window after your acceptance. Please approve and we start.",
    ),
)
CHANGE_APPROVALS = (
    ("已审批，请安排实施。", "Approved — please go ahead."),
    ("部门经理已签字确认，可以开始。", "Signed off by our department head, you can start."),
)
CUSTOMER_REPLIES = (
    (
        "截图和单据号已补充在附件里，是今天上午 10 点左右出现的。",
        "Screenshot and document number attached; it happened around 10 am today.",
    ),
    (
        "部门里其他同事也遇到了，换电脑也一样。",
        "Colleagues in my department see it too, and on other PCs as well.",
    ),
    (
        "下午 2 点可以远程，会议号稍后发您。",
        "2 pm works for a remote session, I'll send the meeting link.",
    ),
    (
        "补充一下：昨天还是正常的，今天早上才开始。",
        "One more detail: it was fine yesterday, it started this morning.",
    ),
)
CUSTOMER_CHASERS = (
    ("请问有进展吗？这边业务比较急。", "Any update? This is blocking our work."),
    (
        "财务总监在问，今天能解决吗？",
        "Our finance director is asking whether this will be fixed today.",
    ),
)
PROGRESS = (
    (
        "已定位到原因，正在测试环境验证修复方案，预计今天内给您结果。",
        "I found the cause and I am testing the fix in the test system; expect a result today.",
    ),
    (
        "问题可以复现，正在和二线工程师一起分析。",
        "I can reproduce it and I am analysing it with L2.",
    ),
    (
        "临时方案：请先按附件步骤操作，正式修复我们还在处理。",
        "Workaround for now: please follow the attached steps; the permanent fix is in progress.",
    ),
)
INTERNAL_L1 = (
    (
        "已远程确认现象，与知识库中的已知问题不完全一致，需要看数据库。",
        "Confirmed remotely; does not match the known KB case, needs a database look.",
    ),
    (
        "客户很急，已电话安抚，承诺下午给进展。",
        "Customer is anxious; called them and promised an update this afternoon.",
    ),
)
ESCALATE_L2 = (
    (
        "需要数据库层面分析（锁/执行计划），超出一线处理范围。",
        "Needs database analysis (locks / execution plans), beyond L1.",
    ),
    (
        "涉及接口与中间件日志，转平台组处理。",
        "Involves the interface and middleware logs; handing over to the platform team.",
    ),
    (
        "已排除操作问题，疑似配置或数据问题，请二线继续。",
        "Ruled out user error; looks like configuration or data — L2 please take over.",
    ),
)
ESCALATE_L3 = (
    (
        "疑似产品缺陷，需要原厂确认并提供补丁。",
        "Looks like a product defect; needs the vendor to confirm and provide a patch.",
    ),
    (
        "需要性能专家做执行计划和参数调优。",
        "Needs a performance expert for execution plans and parameter tuning.",
    ),
    (
        "涉及客户化开发代码，转专家组评估。",
        "Involves custom code; the expert team should assess it.",
    ),
)
DE_ESCALATE = (
    (
        "数据库与接口均正常，属于操作和培训问题，退回一线跟进。",
        "Database and interfaces are fine; this is a usage/training matter — back to L1.",
    ),
)
L3_NOTES = (
    (
        "已在实验环境复现并定位根因，修复方案正在测试环境验证。",
        "Reproduced in the lab and found the root cause; the fix is being verified in the "
        "test system.",
    ),
    (
        "已分析执行计划和相关客户化代码，修改方案已评审，今晚在测试环境部署。",
        "Analysed the execution plans and the custom code involved; the change is reviewed and "
        "goes to the test system tonight.",
    ),
)
VENDOR_NOTES = (
    (
        "已提交原厂工单 {vendor_case}，原厂确认是已知问题，正在等待补丁。",
        "Opened vendor case {vendor_case}; the vendor confirms a known issue, waiting for the "
        "patch.",
    ),
)
VENDOR_REPLIES = (
    (
        "原厂回复：补丁已发布，请在测试系统验证后于维护窗口导入生产。",
        "Vendor answer: the patch is released; verify in test and import it in the maintenance "
        "window.",
    ),
)
RESOLVE_NOTES = (
    (
        "问题已处理，请您验证一下，如有问题随时回复。",
        "This is fixed now; please check and reply if anything is still wrong.",
    ),
    ("已处理完毕，处理过程和结果见解决说明。", "Done — see the resolution for what was changed."),
)
CONFIRMATIONS = (
    ("已验证，问题解决，谢谢！", "Confirmed, it works now. Thanks!"),
    ("确认没问题了，辛苦了。", "All good on our side, thank you."),
    ("好的，可以关闭。", "OK, you can close it."),
)
REOPEN_REASONS = (
    (
        "同样的问题今天又出现了，请再看一下。",
        "The same error came back today, please take another look.",
    ),
    ("修复后还有一部分单据不正常。", "Some documents are still wrong after the fix."),
)
REOPEN_ACKS = (
    (
        "收到，重新排查中，给您带来不便抱歉。",
        "Got it — looking into it again, sorry for the trouble.",
    ),
)
REOPEN_RESOLUTIONS = (
    (
        "fixed",
        "第一次处理遗漏了另一家公司代码下的同类数据，已一并修复并复核。",
        "The first fix missed the same data in a second company code; fixed and re-checked.",
    ),
)
MERGE_REASONS = (
    (
        "客户重复提交了同一问题，合并到 {number}，请在该工单中跟进。",
        "The same problem was submitted twice; merged into {number} — please follow that one.",
    ),
)
DUPLICATE_NOTES = (
    (
        "再发一次，上午通过门户提交的好像没有成功。",
        "Sending this again — I'm not sure the portal submission this morning worked.",
    ),
)
LINK_NOTES = (
    (
        "与 {number} 现象相同，可参考当时的处理。",
        "Same symptoms as {number}; see how it was handled then.",
    ),
)
MONITORING_NOTES = (
    (
        "监控自动告警，已通知客户 IT，值班工程师处理中。",
        "Raised by monitoring; customer IT informed, the on-call engineer is on it.",
    ),
)
MAJOR_NOTES = (
    (
        "已启动重大故障流程，经理已知悉，每 30 分钟向客户通报一次进展。",
        "Major incident procedure started, manager informed; customer updated every 30 minutes.",
    ),
)

# ---------------------------------------------------------------------------
# Names and numbers for the placeholders
# ---------------------------------------------------------------------------

ZH_PEOPLE = (
    "张敏",
    "王磊",
    "李娜",
    "刘波",
    "陈晨",
    "杨帆",
    "黄丽",
    "吴刚",
    "周洁",
    "徐涛",
    "孙悦",
    "马超",
)
EN_PEOPLE = (
    "Alan Ng",
    "Bella Cruz",
    "Chris Lee",
    "Dana Wu",
    "Ethan Goh",
    "Fiona Koh",
    "Gavin Teo",
    "Hana Ito",
    "Ian Low",
    "Julia Fox",
)
ZH_PARTNERS = (
    "苏州恒通电子",
    "宁波海德机械",
    "上海联华超市",
    "杭州万向贸易",
    "无锡新材科技",
    "昆山协鑫包装",
)
EN_PARTNERS = (
    "FreshMart Pte Ltd",
    "Oceanic Traders",
    "Golden Harvest Sdn Bhd",
    "Blue River Supply",
    "Acorn Retail",
    "Summit Labs",
)
ZH_DEPTS = ("财务部", "采购部", "仓储部", "销售部", "生产计划部", "人力资源部")
EN_DEPTS = ("Finance", "Purchasing", "Warehouse", "Sales", "Planning", "HR")
ZH_ROLES = ("总账会计", "应付会计", "仓库管理员", "采购员", "销售内勤", "计划员", "薪资专员")
EN_ROLES = (
    "GL accountant",
    "AP clerk",
    "Warehouse clerk",
    "Buyer",
    "Sales admin",
    "Planner",
    "Payroll officer",
)
ITEMS = (
    "FG-10023",
    "FG-10458",
    "SF-20871",
    "RM-30112",
    "RM-30540",
    "PK-40007",
    "FG-11802",
    "SF-21335",
)
JOBS = (
    "Z_FI_DAILY_RECON",
    "MRP_NIGHTLY",
    "STOCK_VALUATION",
    "BANK_STMT_IMPORT",
    "SALES_DWH_EXTRACT",
    "AR_DUNNING",
)
COST_CENTERS = ("CC1010", "CC1020", "CC2100", "CC3100", "CC4200", "CC5300")
