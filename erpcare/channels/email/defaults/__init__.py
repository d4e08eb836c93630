"""The built-in wording of every e-mail, per message key and language.

These are data, not gettext strings: an admin overrides them per language with an
``EmailTemplate`` row, and the same placeholder rules apply to both (see ``templates``).
Subjects carry ``[{ticket_number}]`` so that replies thread back to the ticket.
"""

from __future__ import annotations

# key -> language -> (subject, body as Markdown)
WORDINGS: dict[str, dict[str, tuple[str, str]]] = {
    "ticket_created": {
        "en": (
            "[{ticket_number}] We have received your request: {ticket_title}",
            "Hello {requester},\n\n"
            "we have received your request and registered it as **{ticket_number}**.\n\n"
            "> {ticket_title}\n\n"
            "Priority: {priority}  \nStatus: {status}\n\n"
            "You can follow it at {ticket_url}, or simply reply to this e-mail to add "
            "information.\n\n{site_name}",
        ),
        "zh-hans": (
            "[{ticket_number}] 我们已收到您的请求：{ticket_title}",
            "{requester}，您好：\n\n"
            "我们已收到您的请求，工单编号为 **{ticket_number}**。\n\n"
            "> {ticket_title}\n\n"
            "优先级：{priority}  \n状态：{status}\n\n"
            "您可以在 {ticket_url} 查看进度，也可以直接回复本邮件补充信息。\n\n{site_name}",
        ),
    },
    "ticket_created_staff": {
        "en": (
            "[{ticket_number}] New ticket from {customer}: {ticket_title}",
            "A new ticket was opened by {requester} ({customer}).\n\n"
            "**{ticket_title}**\n\n"
            "Priority: {priority}  \nModule: {module}  \nCategory: {category}  \n"
            "Queue: {team}  \nAssignee: {assignee}  \nDue: {due_at}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] {customer} 的新工单：{ticket_title}",
            "{requester}（{customer}）提交了新工单。\n\n"
            "**{ticket_title}**\n\n"
            "优先级：{priority}  \n模块：{module}  \n分类：{category}  \n"
            "队列：{team}  \n处理人：{assignee}  \n到期：{due_at}\n\n{ticket_url}",
        ),
    },
    "reply": {
        "en": (
            "[{ticket_number}] New reply: {ticket_title}",
            "{actor} replied to **{ticket_number}** ({ticket_title}):\n\n{comment}\n\n"
            "---\n\nReply to this e-mail to answer, or open {ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] 新回复：{ticket_title}",
            "{actor} 回复了工单 **{ticket_number}**（{ticket_title}）：\n\n{comment}\n\n"
            "---\n\n直接回复本邮件即可答复，或打开 {ticket_url}",
        ),
    },
    "note": {
        "en": (
            "[{ticket_number}] Internal note: {ticket_title}",
            "{actor} added an internal note to **{ticket_number}** ({customer}):\n\n"
            "{comment}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] 内部备注：{ticket_title}",
            "{actor} 在工单 **{ticket_number}**（{customer}）中添加了内部备注：\n\n"
            "{comment}\n\n{ticket_url}",
        ),
    },
    "assigned": {
        "en": (
            "[{ticket_number}] Assigned to {assignee}: {ticket_title}",
            "**{ticket_number}** ({ticket_title}) is now handled by {assignee}.\n\n"
            "Priority: {priority}  \nStatus: {status}  \nDue: {due_at}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] 已分配给 {assignee}：{ticket_title}",
            "工单 **{ticket_number}**（{ticket_title}）现由 {assignee} 处理。\n\n"
            "优先级：{priority}  \n状态：{status}  \n到期：{due_at}\n\n{ticket_url}",
        ),
    },
    "escalated": {
        "en": (
            "[{ticket_number}] Escalated to {team}: {ticket_title}",
            "{actor} escalated **{ticket_number}** ({customer}) to {team}.\n\n"
            "{changes}\n\nPriority: {priority}  \nDue: {due_at}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] 已升级至 {team}：{ticket_title}",
            "{actor} 将工单 **{ticket_number}**（{customer}）升级至 {team}。\n\n"
            "{changes}\n\n优先级：{priority}  \n到期：{due_at}\n\n{ticket_url}",
        ),
    },
    "updated": {
        "en": (
            "[{ticket_number}] Updated: {ticket_title}",
            "{actor} changed **{ticket_number}** ({ticket_title}):\n\n{changes}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] 已更新：{ticket_title}",
            "{actor} 修改了工单 **{ticket_number}**（{ticket_title}）：\n\n{changes}\n\n"
            "{ticket_url}",
        ),
    },
    "status_changed": {
        "en": (
            "[{ticket_number}] Status: {status} – {ticket_title}",
            "The status of **{ticket_number}** ({ticket_title}) is now **{status}**.\n\n"
            "{changes}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] 状态：{status} – {ticket_title}",
            "工单 **{ticket_number}**（{ticket_title}）的状态已变为 **{status}**。\n\n"
            "{changes}\n\n{ticket_url}",
        ),
    },
    "resolved": {
        "en": (
            "[{ticket_number}] Resolved: {ticket_title}",
            "Hello {requester},\n\n**{ticket_number}** ({ticket_title}) has been resolved.\n\n"
            "{comment}\n\n"
            "If the problem is not solved, reply to this e-mail or reopen the ticket at "
            "{ticket_url} – it will come back to us.\n\n{site_name}",
        ),
        "zh-hans": (
            "[{ticket_number}] 已解决：{ticket_title}",
            "{requester}，您好：\n\n工单 **{ticket_number}**（{ticket_title}）已解决。\n\n"
            "{comment}\n\n"
            "如果问题仍未解决，请直接回复本邮件，或在 {ticket_url} 重新打开工单，"
            "我们会继续处理。\n\n{site_name}",
        ),
    },
    "reopened": {
        "en": (
            "[{ticket_number}] Reopened: {ticket_title}",
            "{actor} reopened **{ticket_number}** ({ticket_title}).\n\n{comment}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] 已重新打开：{ticket_title}",
            "{actor} 重新打开了工单 **{ticket_number}**（{ticket_title}）。\n\n{comment}\n\n"
            "{ticket_url}",
        ),
    },
    "sla_warning": {
        "en": (
            "[{ticket_number}] SLA warning ({sla_target}): {ticket_title}",
            "The {sla_target} target of **{ticket_number}** ({customer}, {priority}) is due "
            "at **{due_at}**.\n\nAssignee: {assignee}  \nQueue: {team}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] SLA 预警（{sla_target}）：{ticket_title}",
            "工单 **{ticket_number}**（{customer}，{priority}）的{sla_target}时限将于 "
            "**{due_at}** 到期。\n\n处理人：{assignee}  \n队列：{team}\n\n{ticket_url}",
        ),
    },
    "sla_breached": {
        "en": (
            "[{ticket_number}] SLA breached ({sla_target}): {ticket_title}",
            "The {sla_target} target of **{ticket_number}** ({customer}, {priority}) was due "
            "at **{due_at}** and has been missed.\n\nAssignee: {assignee}  \nQueue: {team}\n\n"
            "{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] SLA 已超时（{sla_target}）：{ticket_title}",
            "工单 **{ticket_number}**（{customer}，{priority}）的{sla_target}时限 **{due_at}** "
            "已超时。\n\n处理人：{assignee}  \n队列：{team}\n\n{ticket_url}",
        ),
    },
    "sla_escalated": {
        "en": (
            "[{ticket_number}] SLA escalation: {ticket_title}",
            "**{ticket_number}** ({customer}, {priority}) was escalated because its "
            "{sla_target} target ({due_at}) is at risk.\n\n{changes}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] SLA 升级：{ticket_title}",
            "工单 **{ticket_number}**（{customer}，{priority}）的{sla_target}时限（{due_at}）"
            "面临超时，已自动升级。\n\n{changes}\n\n{ticket_url}",
        ),
    },
    "incident_opened": {
        "en": (
            "[{ticket_number}] Incident: {ticket_title}",
            "An incident was opened for {customer}: **{ticket_title}**\n\n"
            "Priority: {priority}  \nQueue: {team}\n\n{ticket_url}",
        ),
        "zh-hans": (
            "[{ticket_number}] 故障：{ticket_title}",
            "{customer} 出现故障：**{ticket_title}**\n\n优先级：{priority}  \n队列：{team}\n\n"
            "{ticket_url}",
        ),
    },
    "survey": {
        "en": (
            "[{ticket_number}] How did we do? {ticket_title}",
            "Hello {requester},\n\n**{ticket_number}** ({ticket_title}) was resolved. "
            "Please tell us how satisfied you are – it takes one click: {survey_url}\n\n"
            "{site_name}",
        ),
        "zh-hans": (
            "[{ticket_number}] 请评价我们的服务：{ticket_title}",
            "{requester}，您好：\n\n工单 **{ticket_number}**（{ticket_title}）已解决。"
            "请花一秒钟告诉我们您是否满意：{survey_url}\n\n{site_name}",
        ),
    },
    "digest": {
        "en": (
            "{site_name}: your daily summary",
            "Hello {recipient},\n\nhere is what happened on your low-priority tickets:\n\n{digest}",
        ),
        "zh-hans": (
            "{site_name}：每日摘要",
            "{recipient}，您好：\n\n以下是您关注的低优先级工单的动态：\n\n{digest}",
        ),
    },
    "test": {
        "en": (
            "[{ticket_number}] Test message from {site_name}",
            "This is a test message from {site_name}. If you can read it, this channel "
            "works.\n\nSent by {actor}.",
        ),
        "zh-hans": (
            "[{ticket_number}] 来自 {site_name} 的测试消息",
            "这是来自 {site_name} 的测试消息。收到本消息说明该渠道配置正确。\n\n发送人：{actor}",
        ),
    },
}
