"""Article Markdown to safe HTML, with the article's own images.

Like ``core.markdown.render_markdown`` (markdown-it, then nh3), plus images: an image or
link written as ``attachment:<id>`` points at that file of *this* article through the
scoped download URL the caller builds; ids of other articles' files, and images from
other servers (customers' networks are often closed, and remote images can track
readers), are shown as plain links instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "img",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip

_ATTACHMENT = re.compile(r"^attachment:(\d{1,18})$")


def referenced_attachment_ids(text: str) -> set[int]:
    """The ids referred to as ``attachment:<id>`` in ``text``."""
    return {int(match) for match in re.findall(r"attachment:(\d{1,18})", text or "")}


def _rewrite(
    tokens: Iterable[Token], allowed: set[int], url_for: Callable[[int], str]
) -> list[Token]:
    result: list[Token] = []
    for token in tokens:
        if token.children:
            token.children = _rewrite(token.children, allowed, url_for)
        if token.type == "link_open":
            match = _ATTACHMENT.match(str(token.attrGet("href") or ""))
            if match:
                file_id = int(match.group(1))
                token.attrSet("href", url_for(file_id) if file_id in allowed else "#")
        if token.type == "image":
            src = str(token.attrGet("src") or "")
            match = _ATTACHMENT.match(src)
            if match and int(match.group(1)) in allowed:
                token.attrSet("src", url_for(int(match.group(1))))
            else:
                # Not one of this article's files: a link to it, never an inline image.
                alt = token.content or src
                link_open = Token("link_open", "a", 1)
                link_open.attrSet("href", src if not match else "#")
                text = Token("text", "", 0, content=alt)
                result += [link_open, text, Token("link_close", "a", -1)]
                continue
        result.append(token)
    return result


def render_article_markdown(
    text: str, *, attachment_ids: Iterable[int], attachment_url: Callable[[int], str]
) -> str:
    """HTML for one Markdown field of an article.

    ``attachment_ids``: the ids of the article's files (``attachments_of(article)``);
    ``attachment_url(id)``: the URL of the scoped download view for that file.
    """
    env: dict[str, object] = {}
    tokens = _rewrite(_md.parse(text or "", env), set(attachment_ids), attachment_url)
    html = _md.renderer.render(tokens, _md.options, env)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={
            "a": {"href", "title"},
            "img": {"src", "alt", "title"},
            "th": {"align"},
            "td": {"align"},
        },
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
