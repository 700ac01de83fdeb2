"""HTML helpers of the Telegram renderers."""

from __future__ import annotations

from handlers.render.markup import esc, html_to_plain


def test_escape_and_plain() -> None:
    assert esc("M&M <b>") == "M&amp;M &lt;b&gt;"
    assert html_to_plain("<b>M&amp;M</b>") == "M&M"
