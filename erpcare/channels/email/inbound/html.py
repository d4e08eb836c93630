"""HTML mail → sanitised Markdown.

nh3 cleans first (scripts, styles, event handlers and javascript: URLs go), then
markdownify converts. Remote images are never fetched: they become their alt text; an
inline ``cid:`` image becomes a mention of the attachment it refers to.
"""

from __future__ import annotations

import re
from typing import Any

import nh3
from markdownify import MarkdownConverter

_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td",
    "th", "thead", "tr", "u", "ul", "font",
}  # fmt: skip
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_markdown(html: str, inline_names: dict[str, str] | None = None) -> str:
    names = inline_names or {}

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src":
            if value.lower().startswith("cid:"):
                return value
            return None  # a remote image: never fetched, never linked
        return value

    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes={"a": {"href"}, "img": {"src", "alt"}},
        url_schemes={"http", "https", "mailto", "cid"},
        attribute_filter=attribute_filter,
        link_rel=None,
        strip_comments=True,
    )

    text = _Converter(names, heading_style="ATX", bullets="-", strip=["span", "font", "u"]).convert(
        cleaned
    )
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", text).strip()


class _Converter(MarkdownConverter):
    def __init__(self, inline_names: dict[str, str], **options: Any) -> None:
        super().__init__(**options)
        self.inline_names = inline_names

    def convert_img(self, el: object, text: str, parent_tags: object = None) -> str:
        src = str(el.get("src") or "")  # type: ignore[attr-defined]
        alt = str(el.get("alt") or "").strip()  # type: ignore[attr-defined]
        if src.lower().startswith("cid:"):
            cid = src[4:].strip("<>")
            return f"[{self.inline_names.get(cid, alt or cid)}]"
        return alt
