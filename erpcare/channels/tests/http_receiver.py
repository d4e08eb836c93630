"""A real HTTP server on 127.0.0.1 that stands in for WeCom, DingTalk, Feishu, Slack,
Teams and webhook receivers, and checks what we send the way each vendor documents it.

Paths pick the vendor: ``/wecom/cgi-bin/webhook/send?key=…``, ``/dingtalk/robot/send?
access_token=…``, ``/feishu/open-apis/bot/v2/hook/<token>``, ``/slack/services/…``,
``/teams/…``, ``/webhook/…``, and ``/redirect`` (answers 302 to /webhook). Every request
is recorded with the problems found in it; a request with a wrong signature or shape is
answered as the vendor would refuse it. ``fail_first(n)`` makes the next n requests fail
(HTTP 500, or the vendor's rate-limit answer with ``how="vendor"``); ``delay`` slows
every answer down (timeouts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WEBHOOK_TOLERANCE = 300
VENDOR_TOLERANCE = 3600


@dataclass
class Received:
    vendor: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    problems: list[str] = field(default_factory=list)


@dataclass
class _Failures:
    left: int = 0
    how: str = "500"


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None


def check_wecom(r: Received, secret: str) -> None:
    if not r.query.get("key"):
        r.problems.append("no key in the query")
    data = r.json
    if not isinstance(data, dict) or set(data) != {"msgtype", "markdown"}:
        r.problems.append(f"body is not {{msgtype, markdown}}: {data!r:.200}")
        return
    if data["msgtype"] != "markdown" or not isinstance(data["markdown"], dict):
        r.problems.append("msgtype is not markdown")
        return
    content = data["markdown"].get("content")
    if not isinstance(content, str) or not content:
        r.problems.append("markdown.content missing")
    elif len(content.encode("utf-8")) > 4096:
        r.problems.append("markdown.content over 4096 bytes")


def dingtalk_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_dingtalk(r: Received, secret: str) -> None:
    if not r.query.get("access_token"):
        r.problems.append("no access_token in the query")
    if secret:
        timestamp, sign = r.query.get("timestamp", ""), r.query.get("sign", "")
        if not timestamp.isdigit():
            r.problems.append("timestamp (ms) missing from the query")
        elif abs(time.time() * 1000 - int(timestamp)) > VENDOR_TOLERANCE * 1000:
            r.problems.append("timestamp more than an hour off")
        elif not hmac.compare_digest(sign, dingtalk_sign(secret, timestamp)):
            r.problems.append("sign does not match")
    data = r.json
    if not isinstance(data, dict) or data.get("msgtype") != "markdown":
        r.problems.append("msgtype is not markdown")
        return
    markdown = data.get("markdown")
    if not isinstance(markdown, dict) or not all(
        isinstance(markdown.get(k), str) and markdown.get(k) for k in ("title", "text")
    ):
        r.problems.append("markdown needs title and text")


def feishu_sign(secret: str, timestamp: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def check_feishu(r: Received, secret: str) -> None:
    data = r.json
    if not isinstance(data, dict):
        r.problems.append("body is not a JSON object")
        return
    if secret:
        timestamp, sign = data.get("timestamp"), data.get("sign")
        if not isinstance(timestamp, str) or not timestamp.isdigit():
            r.problems.append("timestamp (seconds, string) missing from the body")
        elif abs(time.time() - int(timestamp)) > VENDOR_TOLERANCE:
            r.problems.append("timestamp more than an hour off")
        elif not isinstance(sign, str) or not hmac.compare_digest(
            sign, feishu_sign(secret, timestamp)
        ):
            r.problems.append("sign does not match")
    if data.get("msg_type") != "interactive":
        r.problems.append("msg_type is not interactive")
        return
    card = data.get("card") or {}
    title = ((card.get("header") or {}).get("title") or {}).get("content")
    if not title:
        r.problems.append("card header title missing")
    elements = card.get("elements") or []
    if not any(
        e.get("tag") == "div" and (e.get("text") or {}).get("tag") == "lark_md" for e in elements
    ):
        r.problems.append("no lark_md text element")
    buttons = [a for e in elements if e.get("tag") == "action" for a in e.get("actions", [])]
    if not buttons or not all(b.get("tag") == "button" and b.get("url") for b in buttons):
        r.problems.append("no button with a URL")


def check_slack(r: Received, secret: str) -> None:
    data = r.json
    if not isinstance(data, dict) or not isinstance(data.get("text"), str) or not data["text"]:
        r.problems.append("text (fallback) missing")
        return
    blocks = data.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        r.problems.append("blocks missing")
        return
    for block in blocks:
        if block.get("type") not in {"header", "section", "actions", "divider", "context"}:
            r.problems.append(f"unknown block type {block.get('type')}")
        if len(block.get("fields", [])) > 10:
            r.problems.append("more than 10 fields in a section")


def check_teams(r: Received, secret: str) -> None:
    data = r.json
    if not isinstance(data, dict) or data.get("type") != "message":
        r.problems.append('type is not "message"')
        return
    attachments = data.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        r.problems.append("exactly one attachment expected")
        return
    attachment = attachments[0]
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        r.problems.append("contentType is not an adaptive card")
    content = attachment.get("content") or {}
    if content.get("type") != "AdaptiveCard" or content.get("version") != "1.4":
        r.problems.append("content is not an AdaptiveCard 1.4")
    if not isinstance(content.get("body"), list) or not content["body"]:
        r.problems.append("card body missing")
    actions = content.get("actions") or []
    if not actions or any(a.get("type") != "Action.OpenUrl" or not a.get("url") for a in actions):
        r.problems.append("no Action.OpenUrl")


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def check_webhook(r: Received, secret: str) -> None:
    headers = r.headers
    if headers.get("content-type") != "application/json":
        r.problems.append(f"content-type {headers.get('content-type')}")
    if headers.get("user-agent") != "ERPCare-Webhook/1":
        r.problems.append(f"user-agent {headers.get('user-agent')}")
    timestamp = headers.get("x-erpcare-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > WEBHOOK_TOLERANCE:
        r.problems.append("timestamp missing or stale")
    elif secret and not hmac.compare_digest(
        headers.get("x-erpcare-signature", ""), webhook_signature(secret, timestamp, r.body)
    ):
        r.problems.append("signature does not match")
    data = r.json
    if not isinstance(data, dict) or set(data) != {"id", "event", "created_at", "delivery", "data"}:
        r.problems.append(f"body keys {sorted(data) if isinstance(data, dict) else data!r}")
        return
    if headers.get("x-erpcare-event") != data["event"]:
        r.problems.append("X-ERPCare-Event differs from the body")
    if headers.get("x-erpcare-delivery") != str(data["delivery"]):
        r.problems.append("X-ERPCare-Delivery differs from the body")


CHECKS = {
    "wecom": check_wecom,
    "dingtalk": check_dingtalk,
    "feishu": check_feishu,
    "slack": check_slack,
    "teams": check_teams,
    "webhook": check_webhook,
}

# How each vendor answers: success, a refused request, and its rate limit.
OK = {
    "wecom": (200, {"errcode": 0, "errmsg": "ok"}),
    "dingtalk": (200, {"errcode": 0, "errmsg": "ok"}),
    "feishu": (200, {"code": 0, "data": {}, "msg": "success"}),
    "slack": (200, "ok"),
    "teams": (202, ""),
    "webhook": (200, {"received": True}),
}
REFUSED = {
    "wecom": (200, {"errcode": 93000, "errmsg": "invalid webhook url"}),
    "dingtalk": (200, {"errcode": 310000, "errmsg": "sign not match"}),
    "feishu": (200, {"code": 19021, "data": {}, "msg": "sign match fail"}),
    "slack": (400, "invalid_payload"),
    "teams": (400, "Bad payload"),
    "webhook": (401, {"error": "bad signature"}),
}
RATE_LIMITED = {
    "wecom": (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
    "dingtalk": (200, {"errcode": 130101, "errmsg": "send too fast"}),
    "feishu": (200, {"code": 11232, "msg": "frequency limited"}),
    "slack": (429, "rate_limited"),
    "teams": (429, "Too many requests"),
    "webhook": (429, {"error": "slow down"}),
}


class Receiver:
    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets = dict(secrets or {})
        self.requests: list[Received] = []
        self.delay = 0.0
        self._failures = _Failures()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                receiver._handle(self)

            def do_GET(self) -> None:
                receiver._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def fail_first(self, n: int, how: str = "500") -> None:
        with self._lock:
            self._failures = _Failures(left=n, how=how)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        vendor = parts.path.strip("/").split("/", 1)[0]
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        received = Received(
            vendor=vendor,
            path=parts.path,
            query=query,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            json=_json(body),
        )
        if vendor == "redirect":
            with self._lock:
                self.requests.append(received)
            handler.send_response(302)
            handler.send_header("Location", "/webhook/moved")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        check = CHECKS.get(vendor)
        if check is None:
            received.problems.append(f"unknown vendor path {parts.path}")
        else:
            check(received, self.secrets.get(vendor, ""))
        with self._lock:
            self.requests.append(received)
            failing = self._failures.left > 0
            how = self._failures.how
            if failing:
                self._failures.left -= 1
        if self.delay:
            time.sleep(self.delay)
        if check is None:
            status, answer = 404, "not found"
        elif received.problems:
            status, answer = REFUSED[vendor]
        elif failing:
            status, answer = RATE_LIMITED[vendor] if how == "vendor" else (500, "boom")
        else:
            status, answer = OK[vendor]
        data = answer if isinstance(answer, str) else json.dumps(answer)
        encoded = data.encode()
        try:
            handler.send_response(status)
            content_type = "text/plain" if isinstance(answer, str) else "application/json"
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(encoded)))
            handler.end_headers()
            handler.wfile.write(encoded)
        except OSError:
            pass  # the client gave up (a timeout test)


# ---------------------------------------------------------------------------
# Outbox rows for the transport tests
# ---------------------------------------------------------------------------


def snapshot(**ticket_changes: Any) -> dict[str, Any]:
    """An event snapshot as the events module writes it (docs: the event snapshot)."""
    ticket = {
        "id": 7,
        "number": "INC-2026-000123",
        "title": "总账过账失败 / GL posting fails",
        "type": "incident",
        "priority": 1,
        "status": "in_progress",
        "channel": "portal",
        "module": "gl",
        "category": "system",
        "organization": {"id": 0, "code": "acme", "name": "Acme 制造"},
        "team": {"id": 1, "name": "财务组 L1"},
        "assignee": {"id": 3, "name": "Lina Zhao", "email": "lina@erpcare.example"},
        "requester": {"id": 2, "name": "Alice Wang", "email": "alice@acme.example"},
        "response_due_at": "2026-11-30T02:00:00+00:00",
        "resolution_due_at": "2026-11-30T10:30:00+00:00",
        "sla_state": "ok",
        "created_at": "2026-11-30T01:00:00+00:00",
        "desk_url": "http://erpcare.test/desk/tickets/INC-2026-000123",
        "portal_url": "http://erpcare.test/portal/tickets/INC-2026-000123",
    }
    ticket.update(ticket_changes)
    return {
        "ticket": ticket,
        "actor": {"id": 3, "name": "Lina Zhao"},
        "changes": [{"field": "status", "old": "open", "new": "in_progress"}],
    }


def make_delivery(
    kind: str,
    url: str,
    *,
    secret: str = "",
    language: str = "en",
    allow_private: bool = True,
    event_name: str = "ticket.updated",
    data: dict[str, Any] | None = None,
) -> Any:
    from erpcare.channels.models import Delivery, Destination, Event
    from erpcare.core import clock

    now = clock.now()
    destination = Destination.objects.create(
        kind=kind,
        name=f"{kind} robot",
        url=url,
        secret=secret,
        language=language,
        allow_private_network=allow_private,
        created_at=now,
    )
    event = Event.objects.create(
        name=event_name, data=snapshot() if data is None else data, created_at=now
    )
    return Delivery.objects.create(
        event=event,
        channel=kind,
        destination=destination,
        language=language,
        next_attempt_at=now,
        created_at=now,
    )
