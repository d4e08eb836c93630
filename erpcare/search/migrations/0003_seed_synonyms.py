"""ERP synonym groups in Chinese and English; managers edit them later through the API."""

from django.db import migrations
from django.utils import timezone

GROUPS = [
    ["凭证", "记账凭证", "会计凭证", "voucher", "journal entry"],
    ["GR", "goods receipt", "入库单", "采购入库", "收货单"],
    ["GI", "goods issue", "出库单"],
    ["MRP", "物料需求计划", "material requirements planning"],
    ["MPS", "主生产计划", "master production schedule"],
    ["PO", "采购订单", "purchase order"],
    ["PR", "采购申请", "请购单", "purchase requisition"],
    ["SO", "销售订单", "sales order"],
    ["BOM", "物料清单", "bill of materials"],
    ["结账", "月结", "关账", "期末结账", "period close", "month end close"],
    ["反结账", "reopen period", "reverse closing"],
    ["总账", "GL", "general ledger"],
    ["明细账", "subsidiary ledger", "detail ledger"],
    ["应付账款", "应付", "AP", "accounts payable"],
    ["应收账款", "应收", "AR", "accounts receivable"],
    ["固定资产", "FA", "fixed asset"],
    ["折旧", "计提折旧", "depreciation"],
    ["工资", "薪资", "payroll", "salary"],
    ["个税", "个人所得税", "IIT", "individual income tax"],
    ["增值税", "VAT", "value added tax"],
    ["进项税", "进项税额", "input tax", "input VAT"],
    ["销项税", "销项税额", "output tax", "output VAT"],
    ["发票", "invoice"],
    ["红字发票", "credit note", "red invoice"],
    ["核销", "clearing", "settlement"],
    ["三单匹配", "three-way match", "3-way match"],
    ["批次", "批号", "batch", "lot"],
    ["序列号", "serial number", "SN"],
    ["库存盘点", "盘点", "stock count", "physical inventory", "cycle count"],
    ["库存", "存货", "inventory", "stock"],
    ["负库存", "negative stock", "negative inventory"],
    ["物料", "material", "item"],
    ["供应商", "vendor", "supplier"],
    ["工单", "生产订单", "work order", "production order", "manufacturing order"],
    ["成本核算", "成本计算", "cost accounting", "costing"],
    ["试算平衡", "试算平衡表", "trial balance"],
    ["科目余额表", "account balance report"],
    ["会计科目", "chart of accounts", "GL account"],
    ["过账", "posting"],
    ["审核", "审批", "approve", "approval"],
    ["权限", "permission", "authorization", "access right"],
    ["死锁", "deadlock"],
    ["报错", "错误", "error"],
    ["登录", "login", "log in", "sign in"],
    ["汇率", "exchange rate", "FX"],
    ["银行对账", "bank reconciliation"],
    ["付款", "付款单", "payment"],
    ["期初余额", "opening balance"],
    ["计量单位", "UoM", "unit of measure"],
    ["主数据", "master data"],
    ["打印模板", "套打", "print template", "print layout"],
    # Everyday support words, so a Chinese question finds an English article and back.
    ["打印", "print"],
    ["报表", "report"],
    ["超时", "timeout", "time out"],
    ["中文", "Chinese"],
    ["方框", "boxes", "squares", "tofu"],
    ["乱码", "garbled", "mojibake"],
    ["字体", "font"],
    ["密码", "password"],
    ["锁定", "locked", "lockout"],
    ["接口", "interface", "API"],
    ["队列", "queue"],
    ["同步", "synchronization", "sync"],
    ["导入", "import"],
    ["导出", "export"],
    ["税率", "tax rate"],
    ["退货", "return", "returned goods"],
    ["发货单", "delivery slip", "delivery note"],
    ["发货", "delivery", "shipment"],
    ["客户", "customer"],
    ["月底", "月末", "month end"],
    ["会计期间", "accounting period", "posting period"],
    ["性能", "performance"],
    ["卡住", "卡死", "hang", "freeze", "not responding"],
    ["备份", "backup"],
    ["升级", "upgrade"],
    ["补丁", "patch"],
    ["服务器", "server"],
    ["数据库", "database"],
    ["日志", "log"],
    ["用户", "user"],
    ["审批流", "工作流", "workflow", "approval workflow"],
    ["银行", "bank"],
    ["预付款", "prepayment", "down payment", "advance payment"],
]


def seed(apps, schema_editor):
    Synonym = apps.get_model("search", "Synonym")
    now = timezone.now()
    Synonym.objects.bulk_create(
        [Synonym(terms=terms, created_at=now, updated_at=now) for terms in GROUPS]
    )


def unseed(apps, schema_editor):
    Synonym = apps.get_model("search", "Synonym")
    for terms in GROUPS:
        Synonym.objects.filter(terms=terms).delete()


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext")]

    operations = [migrations.RunPython(seed, unseed)]
