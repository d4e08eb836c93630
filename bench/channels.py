#!/usr/bin/env python3
"""Channels benchmark: e-mail intake throughput and notification fan-out (issue 5).

    ERPCARE_PEERS_DIR=/tmp/peers .venv/bin/python bench/channels.py  # PG, 10,000 mails, 500 tickets
    .venv/bin/python bench/channels.py --messages 1000 --fanout-tickets 200 --db both --tag quick
    .venv/bin/python bench/channels.py --skip-fanout --profile --tag profile   # intake, profiled

Everything is measured in this one run and printed; the report also goes to
bench/.work/channels-report.md, raw figures to bench/.work/channels-results.json
(``channels-<tag>-…`` with ``--tag``).

1. **Intake**: N generated ``.eml`` messages of ERP support mail (70 % new tickets from 200
   known customer users of five organisations, 30 % replies by ``In-Reply-To`` to an
   earlier message of the set; bodies in UTF-8, GBK and GB18030, some HTML, RFC 2047
   subjects, 5 % with a small CSV or PNG attachment; deterministic, seed 5) are APPENDed
   to a real Dovecot started by this run (timed separately), then ``fetch_mailbox`` runs
   pass after pass until the mailbox is drained; anything still waiting afterwards is
   processed with ``intake.process_message`` inside the timed span. Messages/s end to end
   (raw stored, parsed, ticket or comment written), tickets / comments / held / failed,
   and the time per message (gaps between consecutive ``processed_at`` stamps).
   **Side by side**: the same messages in a second Dovecot user, read by django-helpdesk's
   own ``get_email`` command (a queue made for the run and deleted afterwards with its
   tickets; its attachments go to a temporary MEDIA_ROOT; row counts of the peer's
   database are checked unchanged afterwards), when the peer harness is set up
   (``$ERPCARE_PEERS_DIR``, default /work/shared/peers).
2. **Fan-out**: rules and destinations pointing at a local HTTP receiver in its own
   process (``channels/tests/http_receiver.py``: webhook, WeCom, DingTalk, Feishu, each
   request checked as the vendor would) and e-mail to requester and assignee through a local
   aiosmtpd server in its own process. M tickets are created and commented by an agent with
   the real ticket actions (events written by ``channels.events``; not timed as fan-out),
   then ``dispatch_pending`` runs until no event is left (events/s, deliveries created/s)
   and ``deliver_due`` until nothing is due (deliveries/s sent, per channel).

PostgreSQL (the default, ``--db sqlite|pg|both``): this benchmark's private cluster
(scripts/pg.sh, data in bench/.work/pg-channels, port --pg-port 54336), stopped at the
end if this run started it, or --pg-url. The measured code is the working tree (--app-root).
Machine speed (``calibrate()`` of bench/run.py) and the load average are taken before and
after: other work on the machine shows there.

The driver is stdlib only; each measured step runs in a child process (``--child``) with
its own Django set-up and prints one ``RESULT {json}`` line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as bench_run  # noqa: E402  (calibrate() — stdlib only)
from common import (  # noqa: E402
    ROOT,
    WORK,
    PrivatePostgres,
    child_env,
    django_setup,
    emit_result,
    fmt,
    free_port,
    pct,
    port_free,
    run_child,
    say,
)

PEERS_DIR = Path(os.environ.get("ERPCARE_PEERS_DIR", "/work/shared/peers"))
SUPPORT_ADDRESS = "support@erpcare-bench.example"
PEER_QUEUE_SLUG = "erpcare-bench-intake"
SECRETS = {"webhook": "bench webhook secret", "dingtalk": "SECbench", "feishu": "bench feishu"}

# ============================================================================ the mail set
ORGS = [
    ("hdjm", "华东精密制造", "hdjm.example.cn", "zh"),
    ("xyfood", "新源食品", "xinyuan-food.example.cn", "zh"),
    ("hkt", "恒康贸易", "hengkang.example.com.cn", "zh"),
    ("acme", "Acme Manufacturing", "acme-mfg.example.com", "en"),
    ("nordic", "Nordic Parts GmbH", "nordic-parts.example.de", "en"),
]
USERS_PER_ORG = 40
ZH_SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
               ("杨", "yang"), ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"),
               ("吴", "wu")]  # fmt: skip
ZH_GIVEN = [("芳", "fang"), ("伟", "wei"), ("敏", "min"), ("静", "jing"), ("磊", "lei"),
            ("洋", "yang"), ("婷", "ting"), ("军", "jun")]  # fmt: skip
EN_FIRST = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Henrik"]
EN_LAST = ["Schmidt", "Miller", "Berg", "Novak", "Larsen", "Weber", "Fischer", "Olsen", "Kohl",
           "Ray"]  # fmt: skip

ZH_TOPICS = [
    ("凭证过账报错 F5 {n}", "财务过账凭证 {doc} 时系统提示“余额不平，差异 {amt} 元”，"
     "公司代码 {cc}，期间 {per}。请尽快协助处理，月结在即。"),
    ("MRP 运行失败：工厂 {cc}", "今天早上 MRP 运行到物料 {mat} 时中断，日志显示 BOM 展开错误，"
     "生产计划无法下达，车间在等。"),
    ("库存盘点差异 {amt} 件", "仓库 {cc} 盘点后物料 {mat} 账实不符，差异 {amt} 件，"
     "盘点凭证 {doc}，麻烦看一下是不是移动类型配置问题。"),
    ("采购订单 {doc} 无法审批", "审批流在第二级卡住了，审批人看不到待办，订单金额 {amt} 元，"
     "供应商催货。"),
    ("销售发票打印乱码", "开票后打印出的发票抬头是乱码，发票号 {doc}，打印机是针式的，"
     "昨天还正常。"),
    ("银行对账导入失败", "导入工商银行对账单时报“文件格式不正确”，期间 {per}，账户尾号 {amt}。"),
    ("用户 {mat} 无法登录", "新同事账号 {mat} 登录提示密码已过期，重置后还是不行，急需开通。"),
    ("固定资产折旧计算错误", "资产 {doc} 本月折旧金额 {amt} 元明显偏高，折旧方法是直线法。"),
]  # fmt: skip
EN_TOPICS = [
    ("Posting error F5 {n} on document {doc}", "Posting document {doc} fails with 'balance "
     "not zero, difference {amt} EUR' in company code {cc}, period {per}. Month-end close "
     "is tomorrow, please help."),
    ("MRP run aborted for plant {cc}", "The MRP run stopped at material {mat} this morning with "
     "a BOM explosion error. Production orders cannot be released."),
    ("Invoice verification (MIRO) blocked", "Invoice {doc} is blocked for payment although the "
     "goods receipt was posted; price difference {amt} EUR."),
    ("Stock count difference in warehouse {cc}", "Physical inventory document {doc} shows a "
     "difference of {amt} pieces for material {mat}."),
    ("Cannot approve purchase order {doc}", "The release strategy stops at level 2 and the "
     "approver sees no work item. Order value {amt} EUR."),
    ("Report ZFI_{n} times out", "Our monthly report times out after 600 s since the upgrade. "
     "It used to run in two minutes."),
]  # fmt: skip
ZH_REPLIES = ["已按您的建议处理，但问题仍然存在，附上新的截图。", "谢谢，现在可以了。",
              "补充一下：其他公司代码也有同样的问题。",
              "请问大概什么时候能解决？业务部门在催。"]  # fmt: skip
EN_REPLIES = ["I tried what you suggested but the error is still there.", "Thanks, that fixed it.",
              "Additional info: the same happens in the test system.", "Any update on this? "
              "Users are waiting."]  # fmt: skip
GB18030_ONLY = "（仓库：𠮷祥物流 䶮 库）"  # characters outside GBK: the GB18030 four-byte range
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc00000030101004fb7a8920000000049454e44ae426082"
)


def customers() -> list[dict]:
    """The 200 known customer users (the child seeds the same list)."""
    out = []
    for code, _name, domain, lang in ORGS:
        for k in range(USERS_PER_ORG):
            if lang == "zh":
                (s, sp), (g, gp) = ZH_SURNAMES[k % 10], ZH_GIVEN[(k // 10 + k) % 8]
                name, local = s + g, f"{sp}.{gp}{k}"
            else:
                first, last = EN_FIRST[k % 8], EN_LAST[(k // 8 + k) % 10]
                name, local = f"{first} {last}", f"{first.lower()}.{last.lower()}{k}"
            out.append({"org": code, "name": name, "email": f"{local}@{domain}", "lang": lang})
    return out


def _fill(text: str, rnd: random.Random) -> str:
    return text.format(
        n=rnd.randint(100, 999), doc=rnd.randint(4_900_000_000, 4_999_999_999),
        amt=rnd.randint(1, 99_999), cc=rnd.choice(["1000", "2000", "3100", "CN01"]),
        per=f"2026/{rnd.randint(1, 12):02d}", mat=f"M-{rnd.randint(10000, 99999)}",
    )  # fmt: skip


def _encodes(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _subject_header(subject: str, charset: str, rnd: random.Random) -> str:
    if subject.isascii():
        return subject
    # RFC 2047, as mail clients write it: B or Q encoding, the body's charset or UTF-8.
    cs = charset if rnd.random() < 0.6 else "utf-8"
    return Header(subject, cs).encode()


def _text_part(body: str, charset: str, html: bool) -> MIMEText:
    if html:
        paras = "".join(f"<p>{line}</p>" for line in body.split("\n"))
        return MIMEText(f"<html><body>{paras}</body></html>", "html", charset)
    return MIMEText(body, "plain", charset)


def generate_messages(n: int, *, seed: int = 5, to: str = SUPPORT_ADDRESS) -> list[bytes]:
    rnd = random.Random(seed)
    people = customers()
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    roots: list[dict] = []  # new messages a reply can point at
    out: list[bytes] = []
    for i in range(n):
        reply_to = roots[rnd.randrange(len(roots))] if roots and rnd.random() < 0.30 else None
        if reply_to is None:
            person = rnd.choice(people)
            topics = ZH_TOPICS if person["lang"] == "zh" else EN_TOPICS
            subj_t, body_t = rnd.choice(topics)
            subject, body = _fill(subj_t, rnd), _fill(body_t, rnd)
        else:
            same_org = [p for p in people if p["org"] == reply_to["person"]["org"]]
            person = reply_to["person"] if rnd.random() < 0.8 else rnd.choice(same_org)
            zh = person["lang"] == "zh"
            subject = ("回复：" if zh and rnd.random() < 0.5 else "Re: ") + reply_to["subject"]
            quoted = "\n".join("> " + line for line in reply_to["body"].split("\n"))
            body = rnd.choice(ZH_REPLIES if zh else EN_REPLIES) + "\n\n" + quoted
        zh = person["lang"] == "zh"
        if zh:
            r = rnd.random()
            charset = "utf-8" if r < 0.5 else "gbk" if r < 0.75 else "gb18030"
            if charset == "gb18030":
                body += "\n" + GB18030_ONLY
        else:
            charset = "utf-8"
        if charset == "gbk" and not _encodes(body, "gbk"):  # quotes a GB18030-only text
            charset = "gb18030"
        body += "\n\n-- \n" + person["name"]
        kind = rnd.random()
        if kind < 0.2:  # text + HTML, as Outlook and Foxmail send it
            content: MIMEBase = MIMEMultipart("alternative")
            content.attach(_text_part(body, charset, False))
            content.attach(_text_part(body, charset, True))
        elif kind < 0.25:  # HTML only
            content = _text_part(body, charset, True)
        else:
            content = _text_part(body, charset, False)
        if rnd.random() < 0.05:
            msg: MIMEBase = MIMEMultipart("mixed")
            msg.attach(content)
            if rnd.random() < 0.5:
                part = MIMEApplication(
                    b"time,level,message\n2026-03-02 08:00,ERROR,F5 201\n", "csv"
                )
                part.replace_header("Content-Type", "text/csv")
                part.add_header("Content-Disposition", "attachment", filename="error_log.csv")
            else:
                part = MIMEApplication(PNG_1X1, "png")
                part.replace_header("Content-Type", "image/png")
                part.add_header("Content-Disposition", "attachment", filename="screenshot.png")
            msg.attach(part)
        else:
            msg = content
        domain = person["email"].rpartition("@")[2]
        message_id = f"<{seed}.{i}.{rnd.getrandbits(40):x}@mail.{domain}>"
        display = Header(person["name"], "utf-8").encode() if zh else person["name"]
        msg["From"] = formataddr((display, person["email"]))
        msg["To"] = to
        msg["Subject"] = _subject_header(subject, charset, rnd)
        msg["Date"] = format_datetime(start + timedelta(seconds=37 * i))
        msg["Message-ID"] = message_id
        if reply_to is not None:
            msg["In-Reply-To"] = reply_to["message_id"]
            msg["References"] = reply_to["message_id"]
        else:
            roots.append(
                {"person": person, "subject": subject, "body": body, "message_id": message_id}
            )
        out.append(msg.as_bytes())
    return out


def mail_mix(raw: list[bytes]) -> dict:
    text = [m[:4000] for m in raw]
    return {
        "messages": len(raw),
        "replies": sum(b"\nIn-Reply-To:" in m for m in text),
        "gbk": sum(b'charset="gbk"' in m for m in text),
        "gb18030": sum(b'charset="gb18030"' in m for m in text),
        "html": sum(b"text/html" in m for m in raw),
        "attachments": sum(b"Content-Disposition: attachment" in m for m in raw),
        "mean_bytes": round(statistics.mean(len(m) for m in raw)),
    }


class _Imap:
    """Just enough IMAP for loading: LOGIN, MULTIAPPEND with LITERAL+ (RFC 3502, 7888)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        self.n = 0
        greeting = self._line()
        if b"LITERAL+" not in greeting and b"LITERAL+" not in self.command(b"CAPABILITY"):
            raise SystemExit("the IMAP server has no LITERAL+")

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("the IMAP server closed the connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def command(self, text: bytes, *literals: bytes) -> bytes:
        self.n += 1
        tag = b"b%d" % self.n
        data = tag + b" " + text
        for lit in literals:
            data += b" {%d+}\r\n" % len(lit) + lit
        self.sock.sendall(data + b"\r\n")
        seen = b""
        while True:
            line = self._line()
            seen += line + b"\n"
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise SystemExit(f"IMAP {text[:40]!r} failed: {line!r}")
                return seen

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.command(b"LOGOUT")
        self.sock.close()


def imap_load(port: int, user: str, password: str, raw: list[bytes], batch: int = 250) -> float:
    """MULTIAPPEND the messages in order (UIDs follow the list: replies after what they
    answer), ``batch`` per command over one connection; returns seconds. One APPEND per
    message costs Dovecot an fsync each (~60 messages/s here)."""
    t = time.perf_counter()
    conn = _Imap(port)
    try:
        quoted = password.replace("\\", "\\\\").replace('"', '\\"')
        conn.command(f'LOGIN {user} "{quoted}"'.encode())
        for k in range(0, len(raw), batch):
            part = raw[k : k + batch]
            # CRLF line ends, as a message on the wire must have them.
            conn.command(
                b"APPEND INBOX", *(m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for m in part)
            )
    finally:
        conn.close()
    return time.perf_counter() - t


# ============================================================================ child side
def migrate() -> float:
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    return round(time.perf_counter() - t, 1)


def db_info() -> dict:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        version = str(c.fetchone()[0])
    return {"vendor": connection.vendor, "db_version": version}


def seed_people(*, orgs: list[tuple[str, str, str, str]], people: list[dict]) -> dict:
    """Organisations with their mail domains, the customer users, one L1 team of agents."""
    from erpcare.accounts.models import Team
    from erpcare.accounts.services import add_team_member, create_user
    from erpcare.channels.models import CustomerMailDomain
    from erpcare.customers.models import Organization

    by_code = {}
    for code, name, domain, _lang in orgs:
        org = Organization.objects.create(code=code, name=name, tier="standard")
        CustomerMailDomain.objects.create(organization=org, domain=domain)
        by_code[code] = org
    users = []
    for p in people:
        users.append(
            create_user(
                email=p["email"], display_name=p["name"], role_code="customer",
                organization=by_code[p["org"]],
                language="zh-hans" if p["lang"] == "zh" else "en",
            )
        )  # fmt: skip
    team = Team.objects.create(code="bench-l1", name="Bench L1 服务台", tier=1)
    agents = []
    for k in range(3):
        agent = create_user(
            email=f"agent{k}@erpcare-bench.example", display_name=f"Agent {k}",
            role_code="l1_agent", language=("zh-hans", "en")[k % 2],
        )  # fmt: skip
        add_team_member(team=team, user=agent)
        agents.append(agent)
    return {"orgs": by_code, "users": users, "team": team, "agents": agents}


def processed_gaps_ms() -> list[float]:
    from erpcare.channels.models import InboundEmail

    stamps = sorted(
        InboundEmail.objects.filter(processed_at__isnull=False).values_list(
            "processed_at", flat=True
        )
    )
    return [(b - a).total_seconds() * 1000 for a, b in pairwise(stamps)]


def stdlib_profiler():  # type: ignore[no-untyped-def]
    """bench/profile.py (the load profiler) shadows the standard library's ``profile`` that
    cProfile imports: import cProfile with bench/ off the path (as bench/search.py does)."""
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.modules.pop("profile", None)
    import cProfile
    import pstats

    sys.path[:] = saved
    return cProfile, pstats


def profile_text(profiler, pstats) -> str:  # type: ignore[no-untyped-def]
    """The 40 heaviest calls by cumulative time and the 20 by own time, paths shortened."""
    import io

    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(20)
    text = buf.getvalue().replace(str(ROOT) + "/", "").replace(".venv/lib/python3.11/", "")
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())[:16000]


def child_intake(a: argparse.Namespace) -> dict:
    from django.db.models import Count

    from erpcare.channels.models import InboundEmail, IntakeState, Mailbox, MailSecurity
    from erpcare.core import clock
    from erpcare.tickets.models import Attachment, Comment, Ticket

    migrate_s = migrate()
    say(f"[{a.label}] seeding 5 organisations, {5 * USERS_PER_ORG} customer users ...")
    cast = seed_people(orgs=ORGS, people=customers())
    mailbox = Mailbox.objects.create(
        name="Bench support", email=SUPPORT_ADDRESS, imap_host="127.0.0.1",
        imap_port=a.imap_port, imap_security=MailSecurity.NONE, imap_username=a.imap_user,
        imap_password=os.environ["BENCH_IMAP_PASSWORD"], folders=["INBOX"],
        team=cast["team"], created_at=clock.now(),
    )  # fmt: skip
    from erpcare.channels.email.inbound import fetch, intake

    tickets_before, comments_before = Ticket.objects.count(), Comment.objects.count()
    passes: list[dict] = []
    cProfile, pstats = stdlib_profiler() if a.profile else (None, None)
    profiler = cProfile.Profile() if cProfile else None
    say(f"[{a.label}] fetching {a.messages} messages from Dovecot ...")
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    stored = 0
    for _ in range(a.messages + 5):  # bounded: at least one message per pass, or stop
        t = time.perf_counter()
        counts = fetch.fetch_mailbox(mailbox)
        dt = time.perf_counter() - t
        now_stored = InboundEmail.objects.count()
        passes.append({"s": round(dt, 3), "stored": now_stored - stored, "result": counts})
        if now_stored == stored or now_stored >= a.messages:
            stored = now_stored
            break
        stored = now_stored
    fetch_s = time.perf_counter() - t0
    # Whatever the fetch left for the worker (queued processing) is done here, timed.
    waiting = list(
        InboundEmail.objects.filter(
            state__in=[IntakeState.RECEIVED, IntakeState.PROCESSING]
        ).values_list("id", flat=True)
    )
    t = time.perf_counter()
    for pk in waiting:
        intake.process_message(pk)
    after_s = time.perf_counter() - t
    total_s = time.perf_counter() - t0
    if profiler:
        profiler.disable()
    states = dict(
        InboundEmail.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    reasons = dict(
        InboundEmail.objects.exclude(reason="")
        .values_list("reason")
        .annotate(n=Count("id"))
        .values_list("reason", "n")
    )
    failed_sample = list(
        InboundEmail.objects.filter(state=IntakeState.FAILED).values_list("error", flat=True)[:3]
    )
    gaps = processed_gaps_ms()
    mailbox.refresh_from_db()
    out = {
        "db": a.label,
        **db_info(),
        "migrate_s": migrate_s,
        "messages": a.messages,
        "stored": InboundEmail.objects.count(),
        "passes": passes,
        "fetch_s": round(fetch_s, 2),
        "processed_after_fetch": len(waiting),
        "after_s": round(after_s, 2),
        "total_s": round(total_s, 2),
        "rate": round(a.messages / total_s, 1) if total_s else None,
        "states": states,
        "reasons": reasons,
        "failed_sample": [e[:300] for e in failed_sample],
        "tickets": Ticket.objects.count() - tickets_before,
        "comments": Comment.objects.count() - comments_before,
        "attachments": Attachment.objects.count(),
        "linked_tickets": InboundEmail.objects.filter(
            ticket__isnull=False, comment__isnull=True
        ).count(),
        "linked_comments": InboundEmail.objects.filter(comment__isnull=False).count(),
        "gap_p50_ms": round(pct(gaps, 50), 2) if gaps else None,
        "gap_p95_ms": round(pct(gaps, 95), 2) if gaps else None,
        "mailbox_error": mailbox.last_error[:300],
    }
    if profiler and pstats:
        out["profile"] = profile_text(profiler, pstats)
    return out


def child_fanout(a: argparse.Namespace) -> dict:
    from django.db.models import Count

    from erpcare.channels.dispatch import dispatch_pending
    from erpcare.channels.models import (
        Delivery,
        DeliveryAttempt,
        DeliveryState,
        Destination,
        DestinationKind,
        Event,
        Notification,
        NotificationRule,
        RecipientRole,
    )
    from erpcare.core import clock
    from erpcare.tickets.services.actions import add_comment, create_ticket

    migrate_s = migrate()
    orgs = ORGS[:3]
    people = [p for p in customers() if p["org"] in {o[0] for o in orgs}][:60]
    cast = seed_people(orgs=orgs, people=people)
    base = f"http://127.0.0.1:{a.receiver_port}"
    urls = {
        DestinationKind.WEBHOOK: f"{base}/webhook/bench",
        DestinationKind.WECOM: f"{base}/wecom/cgi-bin/webhook/send?key=bench-key",
        DestinationKind.DINGTALK: f"{base}/dingtalk/robot/send?access_token=bench-token",
        DestinationKind.FEISHU: f"{base}/feishu/open-apis/bot/v2/hook/bench-hook",
    }
    destinations = [
        Destination.objects.create(
            kind=kind,
            name=f"Bench {kind}",
            url=url,
            secret=SECRETS.get(str(kind), ""),
            language="zh-hans",
            allow_private_network=True,
            created_at=clock.now(),
        )
        for kind, url in urls.items()
    ]
    rule = NotificationRule.objects.create(
        name="Bench: every ticket event",
        recipient_roles=[RecipientRole.REQUESTER, RecipientRole.ASSIGNEE],
        channels=["email"],
    )
    rule.destinations.set(destinations)
    agent, assignee = cast["agents"][0], cast["agents"][1]
    users, orgs_by_code = cast["users"], cast["orgs"]
    rnd = random.Random(7)
    say(f"[{a.label}] creating and commenting {a.fanout_tickets} tickets (writes the events) ...")
    t = time.perf_counter()
    for i in range(a.fanout_tickets):
        requester = users[i % len(users)]
        ticket = create_ticket(
            agent, title=_fill(rnd.choice(ZH_TOPICS + EN_TOPICS)[0], rnd),
            description=_fill(rnd.choice(ZH_TOPICS + EN_TOPICS)[1], rnd),
            organization=orgs_by_code[people[i % len(people)]["org"]], requester=requester,
            team=cast["team"], assignee=assignee, channel="email",
        )  # fmt: skip
        add_comment(agent, ticket, body=rnd.choice(ZH_REPLIES + EN_REPLIES))
    actions_s = time.perf_counter() - t
    events = Event.objects.filter(dispatched_at__isnull=True).count()
    event_names = dict(
        Event.objects.values_list("name").annotate(n=Count("id")).values_list("name", "n")
    )

    say(f"[{a.label}] dispatching {events} events ...")
    t = time.perf_counter()
    dispatch_passes = []
    for _ in range(events + 5):  # bounded: every pass fans out at least one event, or stop
        n = dispatch_pending(limit=500)
        dispatch_passes.append(n)
        if not n:
            break
    dispatch_s = time.perf_counter() - t
    created = Delivery.objects.count()
    by_channel = dict(
        Delivery.objects.values_list("channel").annotate(n=Count("id")).values_list("channel", "n")
    )
    say(f"[{a.label}] {created} deliveries; sending ...")
    from erpcare.channels.delivery import deliver_due

    cProfile, pstats = stdlib_profiler() if a.profile else (None, None)
    profiler = cProfile.Profile() if cProfile else None
    if profiler:
        profiler.enable()
    t = time.perf_counter()
    deliver_passes = []
    for _ in range(created + 5):  # bounded: stop when a pass finds nothing due
        counts = deliver_due(limit=200)
        deliver_passes.append(counts)
        due = Delivery.objects.filter(
            state__in=[DeliveryState.PENDING, DeliveryState.RETRY],
            next_attempt_at__lte=clock.now(),
        ).exists()
        if not due or not any(counts.values()):
            break
    deliver_s = time.perf_counter() - t
    if profiler:
        profiler.disable()
    sent = dict(
        Delivery.objects.filter(state=DeliveryState.SENT)
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    states = dict(
        Delivery.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    attempts: dict[str, dict] = {}
    for channel in by_channel:
        ms = list(
            DeliveryAttempt.objects.filter(delivery__channel=channel).values_list(
                "duration_ms", flat=True
            )
        )
        if ms:
            attempts[channel] = {
                "n": len(ms),
                "ok": DeliveryAttempt.objects.filter(delivery__channel=channel, ok=True).count(),
                "p50_ms": pct(ms, 50),
                "p95_ms": pct(ms, 95),
                "sum_s": round(sum(ms) / 1000, 2),
            }
    errors = list(Delivery.objects.exclude(last_error="").values_list("channel", "last_error")[:5])
    total_sent = sum(sent.values())
    profile = ""
    if profiler and pstats:
        profile = profile_text(profiler, pstats)
    return {
        "profile": profile,
        "db": a.label,
        **db_info(),
        "migrate_s": migrate_s,
        "tickets": a.fanout_tickets,
        "actions_s": round(actions_s, 2),
        "events": events,
        "event_names": event_names,
        "dispatch_passes": len(dispatch_passes),
        "dispatch_s": round(dispatch_s, 3),
        "events_per_s": round(events / dispatch_s, 1) if dispatch_s else None,
        "deliveries": created,
        "created_per_s": round(created / dispatch_s, 1) if dispatch_s else None,
        "by_channel": by_channel,
        "notifications": Notification.objects.count(),
        "deliver_passes": len(deliver_passes),
        "deliver_result": deliver_passes[:3],
        "deliver_s": round(deliver_s, 2),
        "sent": sent,
        "sent_per_s": round(total_sent / deliver_s, 1) if deliver_s else None,
        "states": states,
        "attempts": attempts,
        "errors": [f"{c}: {e[:200]}" for c, e in errors],
    }


def child_receiver(a: argparse.Namespace) -> None:
    """The HTTP receiver in its own process: prints its port, counts until stdin says stop."""
    sys.path.insert(0, a.app_root)
    from erpcare.channels.tests.http_receiver import Receiver

    receiver = Receiver(secrets=SECRETS)
    print(f"PORT {receiver.port}", flush=True)
    sys.stdin.readline()
    receiver.close()
    by_vendor: dict[str, int] = {}
    problems: list[str] = []
    for r in receiver.requests:
        by_vendor[r.vendor] = by_vendor.get(r.vendor, 0) + 1
        problems += [f"{r.vendor}: {p}" for p in r.problems]
    emit_result(
        {"requests": len(receiver.requests), "by_vendor": by_vendor,
         "problems": len(problems), "problem_sample": problems[:5]}
    )  # fmt: skip


def child_smtp(a: argparse.Namespace) -> None:
    """An aiosmtpd server in its own process; checks our loop headers on every message."""
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    got = {"messages": 0, "recipients": 0, "problems": 0, "sample": []}

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            msg = message_from_bytes(envelope.content)
            got["messages"] += 1
            got["recipients"] += len(envelope.rcpt_tos)
            wrong = [
                h for h in ("Auto-Submitted", "X-ERPCare-Loop", "Message-ID") if not msg.get(h)
            ]
            subject = str(msg.get("Subject", ""))
            # An encoded-word subject is checked by its raw form: the number is ASCII.
            if not re.search(r"\[[A-Z]+-\d{4}-\d+\]", subject) and "=?" not in subject:
                wrong.append("no [TICKET-NUMBER] in the subject")
            if wrong:
                got["problems"] += 1
                if len(got["sample"]) < 5:
                    got["sample"].append(", ".join(wrong))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"PORT {port}", flush=True)
    sys.stdin.readline()
    controller.stop()
    emit_result(got)


def child_main(a: argparse.Namespace) -> None:
    if a.child == "receiver":
        child_receiver(a)
        return
    if a.child == "smtp":
        child_smtp(a)
        return
    django_setup(a.app_root)
    emit_result(child_intake(a) if a.child == "intake" else child_fanout(a))


# ============================================================================ driver side
class Helper:
    """A helper server (receiver, SMTP) in a child process: started, asked to stop, reaped."""

    def __init__(self, kind: str, a: argparse.Namespace) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
        cmd += ["--app-root", a.app_root]
        env = dict(os.environ, PYTHONPATH=a.app_root, PYTHONUNBUFFERED="1")
        self.p = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        if not line.startswith("PORT "):
            self.p.kill()
            raise SystemExit(f"{kind} helper did not start: {line!r}")
        self.port = int(line.split()[1])

    def stop(self) -> dict:
        assert self.p.stdin is not None
        assert self.p.stdout is not None
        with contextlib.suppress(BrokenPipeError):
            self.p.stdin.write("stop\n")
            self.p.stdin.flush()
        result: dict = {}
        for line in self.p.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return result


def reset_db(url: str) -> None:
    import seed as bench_seed  # reset_database(): drops and recreates the bench database

    bench_seed.reset_database(url, force=False)


def child_cmd(kind: str, label: str, a: argparse.Namespace, **extra: object) -> list[str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--label", label]
    cmd += ["--messages", str(a.messages), "--fanout-tickets", str(a.fanout_tickets)]
    cmd += ["--app-root", a.app_root] + (["--profile"] if a.profile else [])
    for k, v in extra.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    return cmd


PEER_CODE = r"""
import json, shutil, tempfile, time
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test.utils import override_settings
from helpdesk.models import FollowUp, FollowUpAttachment, Queue, Ticket

CODENAME = "queue_access_" + SLUG  # Queue.save() makes this permission, Queue.delete() drops it

def counts():
    return {"queues": Queue.objects.count(), "tickets": Ticket.objects.count(),
            "followups": FollowUp.objects.count(),
            "attachments": FollowUpAttachment.objects.count(),
            "permissions": Permission.objects.count()}

# A run killed half-way (or an older version of this script) may have left these behind.
for old in Queue.objects.filter(slug=SLUG):
    old.delete()
Permission.objects.filter(codename=CODENAME).delete()
before = counts()
other_mail_queues = Queue.objects.filter(email_box_type__isnull=False,
                                         allow_email_submission=True).count()
media = tempfile.mkdtemp(prefix="hd-bench-media-")
q = Queue.objects.create(
    title="ERPCare bench intake", slug=SLUG, email_address="support@helpdesk-bench.example",
    allow_email_submission=True, email_box_type="imap", email_box_host="127.0.0.1",
    email_box_port=PORT, email_box_ssl=False, email_box_user=USER, email_box_pass=PASSWORD,
    email_box_imap_folder="INBOX", email_box_interval=0, logging_type="none",
)
out = {"other_mail_queues": other_mail_queues}
try:
    with override_settings(MEDIA_ROOT=media):
        t = time.perf_counter()
        call_command("get_email", quiet=True)
        out["s"] = time.perf_counter() - t
    out["tickets"] = Ticket.objects.filter(queue=q).count()
    out["followups"] = FollowUp.objects.filter(ticket__queue=q).count()
    out["attachments"] = FollowUpAttachment.objects.filter(followup__ticket__queue=q).count()
finally:
    # The instance's delete(): its tickets, follow-ups, attachments and its permission.
    Queue.objects.get(pk=q.pk).delete()
    Permission.objects.filter(codename=CODENAME).delete()
    shutil.rmtree(media, ignore_errors=True)
out["before"], out["after"] = before, counts()
out["unchanged"] = out["before"] == out["after"]
print("PEER " + json.dumps(out))
"""


def peer_intake(db: str, port: int, user: str, password: str) -> dict:
    work = PEERS_DIR / ".work"
    py = work / "venv-helpdesk" / "bin" / "python"
    site = PEERS_DIR / "helpdesk" / "site"
    creds = work / f"creds-{db}.json"
    missing = [str(p) for p in (py, creds, site / "manage.py") if not p.exists()]
    if missing:
        return {
            "status": "not run",
            "why": f"the peer harness is not set up: {', '.join(missing)} missing "
            f"(run {PEERS_DIR}/helpdesk/setup.sh, or point ERPCARE_PEERS_DIR at a set-up copy)",
        }
    started_pg = False
    if db == "pg" and port_free(54329):
        pg = PEERS_DIR / "helpdesk" / "pg.sh"
        p = subprocess.run(
            ["setsid", str(pg), "start"], capture_output=True, text=True,
            env=dict(os.environ, HD_WORK=str(work)),
        )  # fmt: skip
        if p.returncode:
            return {"status": "not run", "why": f"the peer's PostgreSQL did not start: {p.stderr}"}
        started_pg = True
        say("[peer] started django-helpdesk's PostgreSQL (54329)")
    try:
        env = dict(os.environ, HD_DB=db, HD_WORK=str(work))
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.pop("PYTHONPATH", None)
        code = (
            PEER_CODE.replace("SLUG", repr(PEER_QUEUE_SLUG))
            .replace("PORT", str(port))
            .replace("USER", repr(user))
            .replace("PASSWORD", repr(password))
        )
        say(f"[peer {db}] django-helpdesk get_email ...")
        p = subprocess.run(
            [str(py), "manage.py", "shell", "-c", code],
            cwd=site, env=env, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        m = re.search(r"^PEER (\{.*\})$", p.stdout, re.M)
        if p.returncode or not m:
            return {"status": "failed", "why": (p.stdout + p.stderr)[-1500:]}
        res = json.loads(m.group(1))
        res["stderr_tail"] = p.stderr[-500:]
        return {"status": "ok", **res}
    finally:
        if started_pg:
            subprocess.run(
                [str(PEERS_DIR / "helpdesk" / "pg.sh"), "stop"], capture_output=True,
                env=dict(os.environ, HD_WORK=str(work)),
            )  # fmt: skip
            say("[peer] stopped django-helpdesk's PostgreSQL")


def run_intake(a: argparse.Namespace, urls: dict[str, str], res: dict) -> None:
    sys.path.insert(0, a.app_root)
    from erpcare.channels.tests.imap_server import start_dovecot

    say(f"[mail] generating {a.messages} messages ...")
    t = time.perf_counter()
    raw = generate_messages(a.messages)
    res["mail"] = mix = mail_mix(raw)
    mix["generate_s"] = round(time.perf_counter() - t, 2)
    say(f"[mail] {mix}")
    dbs = list(urls)
    users = tuple(f"erpcare-{db}" for db in dbs) + tuple(
        f"helpdesk-{db}" for db in dbs if not a.skip_peer
    )
    server = start_dovecot(users=users)
    say(f"[dovecot] pid {server.process.pid if server.process else '?'} on {server.port}")
    try:
        res["load"] = {}
        for user in users:
            s = imap_load(server.port, user, server.password, raw)
            res["load"][user] = {"s": round(s, 2), "rate": round(len(raw) / s, 1)}
            say(f"[dovecot] APPENDed {len(raw)} messages for {user} in {s:.1f} s")
        res["intake"], res["peer"] = {}, {}
        for db, url in urls.items():
            reset_db(url)
            env = child_env(
                url, a.app_root, BENCH_IMAP_PASSWORD=server.password,
                ERPCARE_MAIL_FLOOD_PER_HOUR=str(a.flood_per_hour),
            )  # fmt: skip
            cmd = child_cmd("intake", db, a, imap_port=server.port, imap_user=f"erpcare-{db}")
            res["intake"][db] = run_child(cmd, env, label=f"intake ({db})")
        if not a.skip_peer:
            for db in dbs:
                res["peer"][db] = p = peer_intake(
                    db, server.port, f"helpdesk-{db}", server.password
                )
                say(f"[peer {db}] {p['status']} {p.get('why', '')}".rstrip())
    finally:
        server.stop()
        say("[dovecot] stopped")


def run_fanout(a: argparse.Namespace, urls: dict[str, str], res: dict) -> None:
    res["fanout"] = {}
    for db, url in urls.items():
        receiver, smtp = Helper("receiver", a), Helper("smtp", a)
        try:
            reset_db(url)
            env = child_env(
                url, a.app_root,
                ERPCARE_SMTP_HOST="127.0.0.1", ERPCARE_SMTP_PORT=str(smtp.port),
                ERPCARE_SMTP_SECURITY="none",
                ERPCARE_FROM_EMAIL="ERPCare <support@erpcare-bench.example>",
            )  # fmt: skip
            cmd = child_cmd("fanout", db, a, receiver_port=receiver.port)
            out = run_child(cmd, env, label=f"fan-out ({db})")
        finally:
            out_receiver, out_smtp = receiver.stop(), smtp.stop()
        out["receiver"], out["smtp"] = out_receiver, out_smtp
        res["fanout"][db] = out


# ---------------------------------------------------------------------------- report
def report(res: dict, a: argparse.Namespace) -> str:
    L: list[str] = []
    calib, load = res["calibration_ms"], res["loadavg"]
    L.append(
        f"Run {res['started']}, {res['machine']}; Python {platform.python_version()}; machine "
        f"speed (`calibrate()`, lower is faster) {calib[0]} ms before, {calib[1]} ms after; "
        f"load average (1 min) {load[0]} before, {load[1]} after."
    )
    mix = res.get("mail")
    if mix:
        L += [
            "",
            f"**Mail set**: {mix['messages']:,} messages ({mix['replies']:,} replies by "
            f"In-Reply-To; {mix['gbk']:,} GBK and {mix['gb18030']:,} GB18030 bodies, "
            f"{mix['html']:,} with HTML, {mix['attachments']:,} with an attachment; mean "
            f"{mix['mean_bytes']:,} bytes; flood guard "
            f"{res['args']['flood_per_hour'] or 'off'}). APPEND into Dovecot: "
            + ", ".join(f"{u} {v['rate']:,.0f} msg/s" for u, v in res["load"].items())
            + " (not part of the intake figures).",
        ]
    intake = res.get("intake", {})
    if intake:
        L += ["", "**Intake** (`fetch_mailbox` until drained, end to end):", ""]
        L += ["| | " + " | ".join(intake) + " |", "|---|" + "---:|" * len(intake)]

        def row(label: str, fn) -> None:
            L.append(f"| {label} | " + " | ".join(fn(r) for r in intake.values()) + " |")

        row("database", lambda r: f"{r['vendor']} {r['db_version']}")
        row("messages stored", lambda r: f"{r['stored']:,} of {r['messages']:,}")
        row("fetch passes", lambda r: str(len(r["passes"])))
        row("seconds (fetch / processing left after it / total)",
            lambda r: f"{r['fetch_s']} / {r['after_s']} / {r['total_s']}")  # fmt: skip
        row("**messages/s**", lambda r: f"**{fmt(r['rate'])}**")
        row("tickets / comments made", lambda r: f"{r['tickets']:,} / {r['comments']:,}")
        row("attachments kept", lambda r: f"{r.get('attachments', 0):,}")
        row("states", lambda r: ", ".join(f"{k} {v:,}" for k, v in sorted(r["states"].items())))
        row("ms per message p50 / p95 (processed_at gaps)",
            lambda r: f"{fmt(r['gap_p50_ms'])} / {fmt(r['gap_p95_ms'])}")  # fmt: skip
        for db, r in intake.items():
            if r.get("reasons"):
                L.append(f"\nReasons on {db}: {r['reasons']}")
            if r.get("failed_sample"):
                L.append(f"\nFailures on {db} (first): {r['failed_sample']}")
    peers = res.get("peer", {})
    if peers:
        L += ["", "**Peer: django-helpdesk 2.6.1 `get_email`** (same messages, own user)", ""]
        for db, p in peers.items():
            if p["status"] != "ok":
                L.append(f"- {db}: {p['status']} — {p['why']}")
                continue
            rate = mix["messages"] / p["s"] if mix else 0
            ours = intake.get(db)
            ratio = f"; ERPCare / helpdesk {ours['rate'] / rate:.2f}×" if ours and rate else ""
            L.append(
                f"- {db}: {p['s']:.1f} s, {rate:,.1f} messages/s; {p['tickets']:,} tickets, "
                f"{p['followups']:,} follow-ups, {p['attachments']:,} attachments{ratio}. "
                f"Peer database unchanged afterwards: {'yes' if p['unchanged'] else '**no**'}."
            )
    fan = res.get("fanout", {})
    if fan:
        L += ["", "**Fan-out** (`dispatch_pending`, then `deliver_due` until nothing is due):", ""]
        L += ["| | " + " | ".join(fan) + " |", "|---|" + "---:|" * len(fan)]

        def frow(label: str, fn) -> None:
            L.append(f"| {label} | " + " | ".join(fn(r) for r in fan.values()) + " |")

        frow("database", lambda r: f"{r['vendor']} {r['db_version']}")
        frow("tickets created + commented (s, not fan-out)",
             lambda r: f"{r['tickets']:,} ({r['actions_s']} s)")  # fmt: skip
        frow("events", lambda r: f"{r['events']:,}")
        frow("dispatch s", lambda r: str(r["dispatch_s"]))
        frow("**events/s**", lambda r: f"**{fmt(r['events_per_s'])}**")
        frow("deliveries created", lambda r: f"{r['deliveries']:,}")
        frow("deliveries created/s", lambda r: fmt(r["created_per_s"]))
        frow("deliver s", lambda r: str(r["deliver_s"]))
        frow("**deliveries sent/s**", lambda r: f"**{fmt(r['sent_per_s'])}**")
        frow("delivery states",
             lambda r: ", ".join(f"{k} {v:,}" for k, v in sorted(r["states"].items())))  # fmt: skip
        channels = sorted({c for r in fan.values() for c in r["by_channel"]})
        for c in channels:
            frow(
                f"{c}: sent / created; attempt ms p50 / p95",
                lambda r, c=c: (
                    f"{r['sent'].get(c, 0):,} / {r['by_channel'].get(c, 0):,}; "
                    + (
                        f"{r['attempts'][c]['p50_ms']} / {r['attempts'][c]['p95_ms']}"
                        if c in r["attempts"]
                        else "–"
                    )
                ),
            )
        frow("receiver: requests / refused shapes",
             lambda r: f"{r['receiver'].get('requests', 0):,} / "
             f"{r['receiver'].get('problems', 0)}")  # fmt: skip
        frow("SMTP: messages / header problems",
             lambda r: f"{r['smtp'].get('messages', 0):,} / "
             f"{r['smtp'].get('problems', 0)}")  # fmt: skip
        for db, r in fan.items():
            if r.get("errors"):
                L.append(f"\nErrors on {db} (first): {r['errors']}")
            if r["receiver"].get("problem_sample"):
                L.append(f"\nReceiver problems on {db}: {r['receiver']['problem_sample']}")
            if r["smtp"].get("sample"):
                L.append(f"\nSMTP problems on {db}: {r['smtp']['sample']}")
    for db, r in intake.items():
        if r.get("profile"):
            L += ["", f"Profile of the intake on {db} (cumulative):", "", "```"]
            L += [r["profile"].rstrip(), "```"]
    for db, r in fan.items():
        if r.get("profile"):
            L += ["", f"Profile of `deliver_due` on {db} (cumulative):", "", "```"]
            L += [r["profile"].rstrip(), "```"]
    return "\n".join(L) + "\n"


def driver(a: argparse.Namespace) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    res: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} vCPU, {platform.machine()}, {platform.platform()}",
        "args": vars(a),
        "loadavg": [round(os.getloadavg()[0], 2)],
    }
    calib = [bench_run.calibrate()]
    say(f"[calibrate] {calib[0]} ms (lower is faster); load average {res['loadavg'][0]}")
    dbs = ["sqlite", "pg"] if a.db == "both" else [a.db]
    pg = PrivatePostgres("pg-channels", a.pg_port, "erpcare_channels_bench")
    started_pg = False
    try:
        urls: dict[str, str] = {}
        for db in dbs:
            if db == "sqlite":
                urls[db] = f"sqlite:///{WORK / 'channels-bench.sqlite3'}"
            elif a.pg_url:
                urls[db] = a.pg_url
            else:
                urls[db] = pg.start()
                started_pg = pg.started
        if not a.skip_intake:
            run_intake(a, urls, res)
        if not a.skip_fanout:
            run_fanout(a, urls, res)
    finally:
        if started_pg:
            pg.stop()
    calib.append(bench_run.calibrate())
    res["calibration_ms"] = calib
    res["loadavg"].append(round(os.getloadavg()[0], 2))
    text = report(res, a)
    stem = "channels" + (f"-{a.tag}" if a.tag else "")
    (WORK / f"{stem}-report.md").write_text(text)
    (WORK / f"{stem}-results.json").write_text(json.dumps(res, indent=1, default=str))
    say("\n" + text)
    say(f"(report: {WORK / f'{stem}-report.md'}, raw: {WORK / f'{stem}-results.json'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "pg", "both"], default="pg")
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--fanout-tickets", type=int, default=500)
    ap.add_argument("--skip-intake", action="store_true")
    ap.add_argument("--skip-fanout", action="store_true")
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument(
        "--flood-per-hour", type=int, default=0,
        help="ERPCARE_MAIL_FLOOD_PER_HOUR for the intake (0: off; the set is a backlog of "
        "weeks of mail from 200 people arriving at once, which the guard would hold)",
    )  # fmt: skip
    ap.add_argument("--profile", action="store_true", help="cProfile the intake and delivery")
    ap.add_argument(
        "--tag", default="", help="report as channels-<tag>-report.md (keeps the main report)"
    )
    ap.add_argument("--pg-port", type=int, default=54336)
    ap.add_argument("--pg-url", default="", help="an existing PostgreSQL database to use")
    ap.add_argument("--app-root", default=str(ROOT), help="checkout whose erpcare is measured")
    ap.add_argument(
        "--child", choices=["intake", "fanout", "receiver", "smtp"], help=argparse.SUPPRESS
    )
    ap.add_argument("--label", default="", help=argparse.SUPPRESS)
    ap.add_argument("--imap-port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--imap-user", default="", help=argparse.SUPPRESS)
    ap.add_argument("--receiver-port", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child_main(a)
    else:
        driver(a)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
