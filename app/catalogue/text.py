"""Offer descriptions: Markdown written by providers, shown as HTML without any raw HTML of theirs."""

from markdown_it import MarkdownIt
from markupsafe import Markup

# "commonmark" with html disabled escapes any HTML the author typed; markdown-it also refuses
# javascript: and data: links. Headings are demoted so the page keeps one h1.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.disable(["image"])


def render_description(text: str) -> Markup:
    html = _markdown.render(text or "")
    for level in (4, 3, 2, 1):
        html = html.replace(f"<h{level}>", f"<h{min(level + 2, 6)}>").replace(
            f"</h{level}>", f"</h{min(level + 2, 6)}>"
        )
    return Markup(html)  # noqa: S704 - produced by markdown-it with raw HTML disabled
