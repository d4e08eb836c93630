"""Text for the search benchmark (``bench/search.py``): ERP tickets and articles at scale,
the fixed query mix, and readers of the public relevance data sets.

Runs in the benchmark's child processes (PyYAML from the project's venv).

**Where the words come from.** Sentences, titles, keywords, log lines and products are
taken from the demo knowledge base (``erpcare/demo/articles/*.yaml``, 82 articles written
by ERP support people, half Chinese, half English) as of commit ``BANK_COMMIT`` (pinned,
so that later edits of the demo articles do not change the benchmark's data), plus the
peer benchmark's ticket subjects and sentences (``bench/corpus.py``). Generated documents
recombine them: a ticket is a subject and one to four sentences in its language, often
with a document number, an error code or a log line, sometimes a sentence in the other
language; an article is a title varied from a demo title or composed from a keyword and a
clause, a summary and four to fourteen sentences, mostly of its own module. Every number
is random, so the vocabulary has the long tail of codes and numbers a real desk has. The
word list is smaller than a real desk's (a few thousand distinct words), so the posting
lists of common words are *longer* than in natural text: pessimistic for latency.

Everything is drawn from ``random.Random`` seeded per shard, so a shard is the same text
in every run and on both databases.
"""

from __future__ import annotations

import csv
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import corpus

VERSION = 3  # bump when the generated text changes (invalidates the analysed-row cache)
BANK_COMMIT = "358b8c0"  # the demo articles the text is made of
QUERIES_COMMIT = "6d2b511"  # the search app's judged queries, used as phrase queries
BANK_FILES = "erpcare/demo/articles"
QUERIES_FILE = "erpcare/search/tests/relevance/queries.yaml"
T_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # "now" of the generated data
MODULES = [
    "gl", "ap", "ar", "fa", "purchasing", "inventory", "sales", "production", "hr",
    "reporting", "integration", "platform",
]  # fmt: skip
# the peer corpus' queues map to modules (bench/corpus.py QUEUE_MAP)
QUEUE_MODULE = {i: corpus.QUEUE_MAP[slug][1] for i, (_t, slug) in enumerate(corpus.QUEUES)}
TICKET_TYPES = ["incident"] * 7 + ["request"] * 2 + ["question"]
STATUS_MIX = [("new", 15), ("open", 25), ("in_progress", 10), ("waiting_customer", 5),
              ("resolved", 20), ("closed", 25)]  # fmt: skip
ARTICLE_TYPES = {"faq", "sop", "case", "upgrade"}

_CJK = re.compile(r"[\u3400-\u9fff]")
_SENTENCE = re.compile(r"(?<=[。！？；])|(?<=[.!?;])\s+|\n+")
_MD = re.compile(r"^\s*(?:#+|>|[-*]|\d+\.)\s+|\*\*|`")


def is_zh(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass
class Bank:
    """What the generator recombines, per language ("zh", "en")."""

    sentences: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    by_module: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    titles: dict[str, list[tuple[str, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # (title, module, type)
    keywords: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    logs: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)


def _sentences(text: str) -> list[str]:
    out = []
    in_code = False
    for raw in _SENTENCE.split(text or ""):
        line = raw.strip()
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not line or in_code or line.startswith("|") or set(line) <= set("-|: "):
            continue
        line = _MD.sub("", line).strip()
        if len(line) >= 6:
            out.append(line)
    return out


def extract_sources(repo: Path, dest: Path) -> Path:
    """The pinned demo articles and judged queries, copied out of git into ``dest``
    (once); the children read them from there."""
    import subprocess

    done = dest / ".complete"
    if done.exists():
        return dest
    (dest / "articles").mkdir(parents=True, exist_ok=True)
    names = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "--name-only", f"{BANK_COMMIT}:{BANK_FILES}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for name in names:
        if name.endswith(".yaml"):
            blob = subprocess.run(
                ["git", "-C", str(repo), "show", f"{BANK_COMMIT}:{BANK_FILES}/{name}"],
                capture_output=True, check=True,
            ).stdout  # fmt: skip
            (dest / "articles" / name).write_bytes(blob)
    blob = subprocess.run(
        ["git", "-C", str(repo), "show", f"{QUERIES_COMMIT}:{QUERIES_FILE}"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    (dest / "queries.yaml").write_bytes(blob)
    done.touch()
    return dest


def load_bank(sources: Path) -> Bank:
    import yaml

    bank = Bank()
    products: set[str] = set()
    for path in sorted((sources / "articles").glob("*.yaml")):
        for art in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            lang = "zh" if art.get("language") == "zh-hans" else "en"
            module = art.get("module") or "platform"
            bank.articles.append(art)
            bank.titles[lang].append((art["title"], module, art.get("type", "faq")))
            for key in ("summary", "symptom", "cause", "resolution", "body"):
                for s in _sentences(art.get(key) or ""):
                    sl = "zh" if is_zh(s) else "en"
                    bank.sentences[sl].append(s)
                    bank.by_module[(sl, module)].append(s)
            for kw in art.get("keywords") or []:
                kw = str(kw)
                bank.keywords["zh" if is_zh(kw) else "en"].append(kw)
            for line in (art.get("log_excerpt") or "").splitlines():
                if len(line.strip()) > 8:
                    bank.logs.append(line.strip())
            if art.get("product") not in (None, "通用", "All"):
                products.add(str(art["product"]))
    bank.products = sorted(products)
    return bank


# ---------------------------------------------------------------------------- codes
def _code(rnd: random.Random) -> str:
    r = rnd.random()
    if r < 0.25:
        return f"ORA-{rnd.choice([60, 1555, 4031, 1017, 12541, 28000, 942, 1400]):05d}"
    if r < 0.4:
        return f"HTTP {rnd.choice([400, 401, 403, 404, 409, 413, 500, 502, 503, 504])}"
    if r < 0.55:
        return f"SQLSTATE {rnd.choice(['40001', '40P01', '23505', '57014', '08006', '53300'])}"
    if r < 0.7:
        return f"{rnd.choice(['M7', 'M8', 'F5', 'KI', 'FF', 'V1'])}{rnd.randint(0, 799):03d}"
    if r < 0.85:
        return f"ERR-{rnd.randint(1000, 9999)}"
    return f"0x{rnd.randint(0, 0xFFFFFFF):08X}"


def _docno(rnd: random.Random, zh: bool) -> str:
    r = rnd.random()
    if r < 0.3:
        return f"45{rnd.randint(0, 99_999_999):08d}"  # SAP purchase order
    if r < 0.5:
        return f"{'记' if zh else 'JV'}-{rnd.randint(1, 9999):04d}"
    if r < 0.7:
        return f"SO{rnd.randint(2024, 2026)}{rnd.randint(1, 99999):05d}"
    return str(rnd.randint(100000, 999999))


def _log_line(bank: Bank, rnd: random.Random) -> str:
    if bank.logs and rnd.random() < 0.6:
        return rnd.choice(bank.logs)
    ts = f"2026-{rnd.randint(1, 11):02d}-{rnd.randint(1, 28):02d} {rnd.randint(0, 23):02d}:" + (
        f"{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}"
    )
    return f"[{ts}] ERROR {_code(rnd)} at {rnd.choice(['posting', 'mrp', 'api', 'batch'])}." + (
        f"{rnd.choice(['run', 'save', 'sync', 'commit'])}()"
    )


# ---------------------------------------------------------------------------- tickets
@dataclass
class TicketText:
    title: str
    description: str
    resolution: str
    module: str
    type: str
    status: str
    organization: int  # 0-based index into the organizations
    created_at: datetime


def tickets(bank: Bank, start: int, count: int, organizations: int, seed: int) -> list[TicketText]:
    """Tickets ``start .. start+count-1`` (the shard's own random stream)."""
    rnd = random.Random(seed)
    statuses = [s for s, w in STATUS_MIX for _ in range(w)]
    peer = corpus.rows(count, seed=seed)  # the peer's subjects and sentences, other draws
    out = []
    for _ in range(count):
        p = next(peer)
        zh = rnd.random() < 0.5
        lang = "zh" if zh else "en"
        r = rnd.random()
        if r < 0.35:
            title = corpus.fill(rnd.choice(corpus.ZH_SUBJECTS if zh else corpus.EN_SUBJECTS), rnd)
            module = QUEUE_MODULE[p.queue]
        elif r < 0.7:
            title, module, _t = rnd.choice(bank.titles[lang])
        else:
            kw = rnd.choice(bank.keywords[lang])
            clause = re.split(r"[，,：:（(]", rnd.choice(bank.sentences[lang]))[0][:40]
            title = f"{kw}：{clause}" if zh else f"{kw}: {clause}"
            module = rnd.choice(MODULES)
        parts = []
        pool = bank.by_module.get((lang, module)) or bank.sentences[lang]
        for _k in range(rnd.randint(1, 4)):
            parts.append(rnd.choice(pool if rnd.random() < 0.7 else bank.sentences[lang]))
        if rnd.random() < 0.4:
            parts.append(p.body)
        if rnd.random() < 0.35:
            label = "单据号" if zh else "Document"
            parts.append(f"{label} {_docno(rnd, zh)}")
        if rnd.random() < 0.2:
            parts.append(f"{'错误代码' if zh else 'Error code'} {_code(rnd)}")
        if rnd.random() < 0.15:
            parts.append(_log_line(bank, rnd))
        if rnd.random() < 0.2:
            parts.append(rnd.choice(bank.sentences["en" if zh else "zh"]))
        status = rnd.choice(statuses)
        resolution = ""
        if status in ("resolved", "closed"):
            resolution = rnd.choice(bank.sentences[lang])
        out.append(
            TicketText(
                title=title[:200],
                description=("" if zh else " ").join(parts),
                resolution=resolution,
                module=module,
                type=rnd.choice(TICKET_TYPES),
                status=status,
                organization=rnd.randrange(organizations),
                created_at=T_NOW - timedelta(seconds=rnd.randint(0, 3 * 365 * 86400)),
            )
        )
    return out


# ---------------------------------------------------------------------------- articles
@dataclass
class ArticleText:
    title: str
    summary: str
    body: str
    symptom: str
    cause: str
    resolution: str
    language: str
    type: str
    module: str
    product: str
    keywords: str
    visibility: str  # public, internal, customer
    organization: int | None
    helpful: int
    not_helpful: int
    updated_at: datetime


def articles(bank: Bank, count: int, organizations: int, seed: int) -> list[ArticleText]:
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        base = rnd.choice(bank.articles)
        lang = "zh" if base.get("language") == "zh-hans" else "en"
        zh = lang == "zh"
        module = base.get("module") or "platform"
        pool = bank.by_module.get((lang, module)) or bank.sentences[lang]
        product = base.get("product") or ""
        if rnd.random() < 0.5 and bank.products:
            product = rnd.choice(bank.products)
        r = rnd.random()
        if r < 0.4:
            title = base["title"]
            if rnd.random() < 0.5:
                title = f"{title}（{product}）" if zh else f"{title} ({product})"
        elif r < 0.75:
            kw = rnd.choice(base.get("keywords") or bank.keywords[lang])
            clause = re.split(r"[，,：:（(。.]", rnd.choice(pool))[0][:50]
            title = f"{kw}：{clause}" if zh else f"{kw}: {clause}"
        else:
            clause = re.split(r"[，,：:（(。.]", rnd.choice(pool))[0][:60]
            title = f"{clause} {_code(rnd)}" if rnd.random() < 0.4 else clause
        sentences = [
            rnd.choice(pool if rnd.random() < 0.7 else bank.sentences[lang])
            for _k in range(rnd.randint(6, 20))
        ]
        sep = "" if zh else " "
        paragraphs = []
        while sentences:
            take, sentences = sentences[: rnd.randint(2, 4)], sentences[4:]
            paragraphs.append(sep.join(take))
        if rnd.random() < 0.3:
            paragraphs.append("```\n" + "\n".join(_log_line(bank, rnd) for _ in range(3)) + "\n```")
        atype = base.get("type") if base.get("type") in ARTICLE_TYPES else "faq"
        symptom = cause = resolution = ""
        if atype == "case":
            symptom, cause, resolution = (rnd.choice(pool) for _ in range(3))
        keywords = list(dict.fromkeys(str(k) for k in (base.get("keywords") or [])))
        rnd.shuffle(keywords)
        keywords = keywords[: rnd.randint(2, 6)] + ([_code(rnd)] if rnd.random() < 0.3 else [])
        v = rnd.random()
        visibility = "public" if v < 0.6 else "internal" if v < 0.9 else "customer"
        votes = rnd.randint(0, 40)
        helpful = rnd.randint(0, votes)
        out.append(
            ArticleText(
                title=title[:200],
                summary=rnd.choice(pool)[:1000],
                body="\n\n".join(paragraphs),
                symptom=symptom,
                cause=cause,
                resolution=resolution,
                language="zh-hans" if zh else "en",
                type=atype,
                module=module,
                product=product[:80],
                keywords=", ".join(keywords)[:500],
                visibility=visibility,
                organization=rnd.randrange(organizations) if visibility == "customer" else None,
                helpful=helpful,
                not_helpful=votes - helpful,
                updated_at=T_NOW - timedelta(seconds=rnd.randint(0, 3 * 365 * 86400)),
            )
        )
    return out


# ---------------------------------------------------------------------------- queries
TYPOS_EN = [
    "dedlock", "deadlok", "timeuot", "tiemout", "invocie", "invoce", "recievable", "recieve",
    "paymnet", "payrol", "vocuher", "postign", "purchse", "inventroy", "reconcilation",
    "depreciaton", "suplier", "vendro", "ledgre", "balnce", "approvel", "shipmnet",
    "warehosue", "exprot", "permision",
]  # fmt: skip
ZH_WORDS = [
    "凭证", "发票", "死锁", "结账", "月结", "库存", "批次", "审批", "折旧", "工资", "个税",
    "报表", "接口", "采购订单", "销售订单", "物料需求计划", "三单匹配", "红字发票", "锁等待",
    "超时", "过账", "盘点", "供应商", "客户", "权限", "登录", "打印", "汇率", "预付款", "核销",
]  # fmt: skip
EN_WORDS = [
    "deadlock", "timeout", "invoice", "voucher", "posting", "payroll", "depreciation",
    "inventory", "batch", "approval", "vendor", "customer", "report", "export", "login",
    "password", "printer", "mailbox", "dashboard", "reconciliation", "tolerance", "warehouse",
    "shipment", "credit", "currency", "closing", "interface", "permission", "MRP", "VPN",
]  # fmt: skip
MIXED = [
    "VPN 断开", "SAP 凭证", "Excel 导出 超时", "MRP 运算", "ORA-00060 死锁", "U8 月结",
    "Odoo 发票", "SSO 登录", "BI 报表 数据", "PO 收货", "API 接口 超时", "K/3 Cloud 结账",
    "HTTP 504 网关", "VAT 发票 红冲", "GR/IR 清账", "F110 付款", "SQL 锁等待", "BOM 替代料",
    "IDoc 失败", "EDI 订单",
]  # fmt: skip
KINDS = ["zh_word", "en_word", "zh_phrase", "en_phrase", "code", "typo", "mixed", "long"]


@dataclass(frozen=True)
class Query:
    kind: str
    text: str


def _relevance_queries(sources: Path) -> list[tuple[str, str]]:
    """The judged queries of the search app's relevance set (text, language)."""
    import yaml

    path = sources / "queries.yaml"
    if not path.exists():
        return []
    return [(q["query"], q.get("lang", "")) for q in yaml.safe_load(path.read_text()) or []]


def query_mix(bank: Bank, sources: Path, ticket_numbers: list[str], seed: int = 11) -> list[Query]:
    """At least 200 queries: one word (zh/en), phrases (zh/en: the search app's judged
    queries, then clauses of the bank), codes (error codes, document and ticket numbers),
    Latin typos, mixed zh/en, and long pasted text (a sentence, a log line)."""
    rnd = random.Random(seed)
    out: list[Query] = []
    out += [Query("zh_word", w) for w in ZH_WORDS]
    out += [Query("en_word", w) for w in EN_WORDS]
    judged = _relevance_queries(sources)
    zh_p = [q for q, lang in judged if lang == "zh"]
    en_p = [q for q, lang in judged if lang == "en"]
    rnd.shuffle(zh_p)
    rnd.shuffle(en_p)
    while len(zh_p) < 30:
        zh_p.append(re.split(r"[，,：:。]", rnd.choice(bank.sentences["zh"]))[0][:16])
    while len(en_p) < 30:
        words = rnd.choice(bank.sentences["en"]).split()
        at = rnd.randrange(max(1, len(words) - 3))
        en_p.append(" ".join(words[at : at + rnd.randint(2, 4)]))
    out += [Query("zh_phrase", q) for q in zh_p[:30]]
    out += [Query("en_phrase", q) for q in en_p[:30]]
    codes = [_code(rnd) for _ in range(12)] + [_docno(rnd, rnd.random() < 0.5) for _ in range(6)]
    codes += [rnd.choice(ticket_numbers) for _ in range(6)] if ticket_numbers else []
    codes += ["ORA-00060", "ORA-01555", "HTTP 504", "SQLSTATE 40001", "F110", "MIGO"]
    out += [Query("code", c) for c in codes[:30]]
    out += [Query("typo", t) for t in TYPOS_EN]
    out += [Query("mixed", m) for m in MIXED]
    longs = []
    for lang, size, n in (("zh", 40, 10), ("en", 120, 10)):
        for _ in range(n):  # a pasted paragraph: sentences until it is long enough
            text = rnd.choice(bank.sentences[lang])
            while len(text) < size:
                text += ("" if lang == "zh" else " ") + rnd.choice(bank.sentences[lang])
            longs.append(text)
    longs += [_log_line(bank, rnd) + " " + _log_line(bank, rnd) for _ in range(5)]
    out += [Query("long", s[:600]) for s in longs]
    return out


def suggest_prefixes(titles: list[str], n: int = 200, seed: int = 12) -> list[str]:
    """What someone typing a new ticket's title has typed so far: a prefix of an article
    title, cut inside or after a word (Chinese: after 2-8 characters)."""
    rnd = random.Random(seed)
    out = []
    while len(out) < n:
        title = rnd.choice(titles)
        if is_zh(title):
            cut = rnd.randint(2, min(8, len(title)))
            out.append(title[:cut])
        else:
            words = title.split()
            k = rnd.randint(1, min(4, len(words)))
            head = words[:k]
            last = head[-1]
            if len(last) > 3 and rnd.random() < 0.6:
                head[-1] = last[: rnd.randint(2, len(last) - 1)]
            out.append(" ".join(head))
    return out


# ---------------------------------------------------------------------------- relevance
@dataclass
class Dataset:
    name: str
    docs: list[tuple[str, str]]  # (title, body) per document; the id is the position
    queries: list[tuple[str, set[int]]]  # (query text, ids of the relevant documents)
    note: str


def baoxianzhidao(path: Path) -> Dataset:
    """Every reply a document (its text as the body, no title); one query per title that
    has a best reply: the title; relevant = that title's ``is_best=1`` replies."""
    docs: list[tuple[str, str]] = []
    best: dict[str, set[int]] = defaultdict(set)
    order: list[str] = []
    with (path / "baoxianzhidao_filter.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            title = (row.get("title") or "").strip()
            reply = (row.get("reply") or "").strip()
            if not title or not reply:
                continue
            if title not in best:
                order.append(title)
            docs.append(("", reply))
            best.setdefault(title, set())
            if str(row.get("is_best", "")).strip() == "1":
                best[title].add(len(docs) - 1)
    queries = [(t, best[t]) for t in order if best[t]]
    return Dataset(
        "baoxianzhidao-zh",
        docs,
        queries,
        "every reply indexed as an article body (no title); query = the question title; "
        "relevant = the title's is_best=1 replies",
    )


def banking77(path: Path) -> Dataset:
    """Train questions as articles (the question as the title); test questions as
    queries; relevant = every train question of the same intent."""

    def read(name: str) -> list[tuple[str, str]]:
        with (path / name).open(encoding="utf-8", newline="") as fh:
            return [(r["text"].strip(), r["category"].strip()) for r in csv.DictReader(fh)]

    train, test = read("train.csv"), read("test.csv")
    by_intent: dict[str, set[int]] = defaultdict(set)
    for i, (_text, intent) in enumerate(train):
        by_intent[intent].add(i)
    return Dataset(
        "banking77-en",
        [(text, "") for text, _intent in train],
        [(text, by_intent[intent]) for text, intent in test],
        "train questions indexed as article titles; query = each test question; "
        "relevant = any train question of the same intent",
    )
