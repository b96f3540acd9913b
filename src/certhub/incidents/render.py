"""Markdown to safe HTML: markdown-it-py (CommonMark, raw HTML off) then nh3 (an allow-list
sanitiser). Links get rel="noopener noreferrer nofollow"; images are not allowed (they would
fetch from third parties and break the CSP anyway)."""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt

_TAGS = {"p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a",
         "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "s",
         "del"}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table") \
        .enable("strikethrough")


def markdown_html(text: str) -> str:
    """Sanitised HTML for Markdown ``text`` (safe to mark safe in a template)."""
    if not text:
        return ""
    html = _parser().render(text)
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")
