"""Answers as the widget shows them: plain text, with http(s) links written out.

The widget renders text, never HTML, so whatever an answer was written or imported in
(a Shopify policy is HTML, a Saleor page is Editor.js blocks turned to HTML, a merchant
may paste Markdown) becomes text here: tags dropped, `<a href>` kept as "label (url)"
when the url is http(s), other schemes (javascript:, data:, mailto: …) dropped with the
link, scripts and styles dropped with their content, entities decoded, paragraphs kept.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "blockquote",
}
_HIDDEN = {"script", "style", "template", "noscript", "iframe", "object", "svg", "head"}
_HTTP = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
# [label](url), as merchants paste from elsewhere.
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(\s*((?:[^()\s]|\([^()\s]*\))+)\s*\)")
# A scheme that is not a web link, written out as text ("javascript:alert(1)").
_UNSAFE_SCHEME = re.compile(r"\b(?:javascript|vbscript|data|file):\S*", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def safe_link(url: str) -> str | None:
    """`url` if it is an http(s) link, else None."""
    url = url.strip()
    return url if _HTTP.match(url) else None


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("• ")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._links.append((safe_link(href), len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:]).strip()
            if href and href.rstrip("/") != label.rstrip("/"):
                self.parts.append(f" ({href})" if label else href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _markdown_link(found: re.Match[str]) -> str:
    label, url = found.group(1).strip(), safe_link(found.group(2))
    return f"{label} ({url})" if url and url != label else label


def plain_text(markup: str) -> str:
    """`markup` (HTML, Markdown links or plain text) as plain text with http(s) links only."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    text = _MARKDOWN_LINK.sub(_markdown_link, text)
    text = _UNSAFE_SCHEME.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
