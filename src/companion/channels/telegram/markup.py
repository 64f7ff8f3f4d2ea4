"""Replies rendered for Telegram's HTML parse mode, safely; no I/O.

The model writes light Markdown. Telegram rejects a whole message whose markup does
not parse, and MarkdownV2 needs a dozen characters escaped, so replies go out as
HTML: every character of the model's text is escaped, and only a small Markdown
subset becomes tags — fenced and inline code, bold, italic, strikethrough and
http(s) links. Each tag is opened and closed by the same match, so the output is
always well formed, whatever the input.
"""

from __future__ import annotations

import html
import re

from companion.channels.chunking import split_message

__all__ = ["TELEGRAM_LIMIT", "escape", "render_reply", "to_html"]

#: Telegram's limit on a message's text, counted after the markup is parsed.
TELEGRAM_LIMIT = 4096

_FENCE = re.compile(r"```([\w+-]{0,20})[^\S\n]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_INLINE = re.compile(
    r"`(?P<code>[^`\n]+)`"
    r"|\*\*(?P<bold>[^*\s](?:[^\n]*?[^*\s])?)\*\*"
    r"|~~(?P<strike>[^~\n]+)~~"
    r"|(?<![\w*])\*(?P<italic>[^*\s](?:[^*\n]*?[^*\s])?)\*(?![\w*])"
    r"|(?<![\w_])_(?P<under>[^_\s](?:[^_\n]*?[^_\s])?)_(?![\w_])"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<url>https?://[^)\s]+)\)"
)
_TAGS = {"bold": "b", "strike": "s", "italic": "i", "under": "i"}


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` (all Telegram's HTML mode needs outside attributes)."""
    return html.escape(text, quote=False)


def _inline(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        out.append(escape(text[position : match.start()]))
        position = match.end()
        kind = match.lastgroup
        if kind == "code":
            out.append(f"<code>{escape(match['code'])}</code>")
        elif kind in _TAGS:
            tag = _TAGS[kind]
            out.append(f"<{tag}>{escape(match[kind])}</{tag}>")
        else:  # a link (the label group matched; the URL group comes with it)
            href = html.escape(match["url"], quote=True)
            out.append(f'<a href="{href}">{escape(match["label"])}</a>')
    out.append(escape(text[position:]))
    return "".join(out)


def to_html(text: str) -> str:
    """``text`` (light Markdown) as Telegram HTML: escaped, with the subset as tags."""
    out: list[str] = []
    position = 0
    for match in _FENCE.finditer(text):
        out.append(_inline(text[position : match.start()]))
        position = match.end()
        language, code = match.group(1), match.group(2).rstrip("\n")
        attribute = f' class="language-{language}"' if language else ""
        out.append(f"<pre><code{attribute}>{escape(code)}</code></pre>")
    out.append(_inline(text[position:]))
    return "".join(out)


def render_reply(text: str, *, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split ``text`` on paragraph or sentence boundaries, then render each part as HTML.

    Splitting happens on the Markdown, before escaping: Telegram counts the limit on
    the text after parsing, and the markup only ever removes characters from it.
    """
    return [to_html(chunk) for chunk in split_message(text, limit=limit)]
