"""Replies as Telegram HTML: escaped, well formed, split within 4096 characters."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from companion.channels.telegram import TELEGRAM_LIMIT, escape, render_reply, to_html

_ALLOWED = {"b", "i", "s", "code", "pre", "a"}


class _Checker(HTMLParser):
    """Fails on unknown tags or tags that are not closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in _ALLOWED, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _shown(markup: str) -> str:
    checker = _Checker()
    checker.feed(markup)
    checker.close()
    assert not checker.stack, checker.stack
    return "".join(checker.text)


def test_everything_is_escaped_and_the_subset_becomes_tags() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert to_html("<b>not bold</b> & **bold**") == "&lt;b&gt;not bold&lt;/b&gt; &amp; <b>bold</b>"
    assert (
        to_html("*soft* and _also_ and ~~gone~~") == "<i>soft</i> and <i>also</i> and <s>gone</s>"
    )
    assert to_html("use `x<y`") == "use <code>x&lt;y</code>"
    assert to_html("```python\nif a < b:\n    pass\n```") == (
        '<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>'
    )
    assert to_html('[docs](https://example.com/a?b=1&c="2")') == (
        '<a href="https://example.com/a?b=1&amp;c=&quot;2&quot;">docs</a>'
    )


def test_unbalanced_markers_stay_literal() -> None:
    assert to_html("2 * 3 * 4 and snake_case_name") == "2 * 3 * 4 and snake_case_name"
    assert to_html("**never closed and a `tick") == "**never closed and a `tick"
    assert to_html("[click](javascript:alert(1))") == "[click](javascript:alert(1))"


def test_an_unclosed_code_block_runs_to_the_end() -> None:
    assert to_html("see:\n```\n<tag>") == "see:\n<pre><code>&lt;tag&gt;</code></pre>"


def test_long_replies_split_on_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 400 for i in range(8)]
    chunks = render_reply("\n\n".join(paragraphs))
    assert len(chunks) > 1
    assert all(len(_shown(c)) <= TELEGRAM_LIMIT for c in chunks)
    assert all(c.startswith("Paragraph ") for c in chunks)


_pieces = st.sampled_from(
    ["**", "*", "_", "`", "```", "```py\n", "~~", "<", ">", "&", "[a](https://x.y)", "\n\n", ". "]
)
_text = st.lists(st.one_of(_pieces, st.text(max_size=30)), max_size=400).map("".join)


@settings(max_examples=200, deadline=None)
@given(_text)
def test_any_text_renders_well_formed_and_within_the_limit(text: str) -> None:
    for chunk in render_reply(text, limit=200):
        shown = _shown(chunk)
        assert len(shown) <= 200
        # Nothing the model wrote can become markup of its own.
        assert "<" not in re.sub(r"</?(b|i|s|code|pre|a)( [^>]*)?>", "", chunk)
        assert html.unescape(chunk) is not None
