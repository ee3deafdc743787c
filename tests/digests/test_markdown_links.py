"""Links staff write in a digest's Markdown work from any mailbox: relative and
protocol-relative links are made absolute to the site's address."""

from __future__ import annotations

import pytest

from newsletter import markdown
from tests.cpu_time import least_cpu_seconds


@pytest.mark.parametrize(
    ("written", "link"),
    [
        ("[the archive](/archive)", "https://news.example.org/archive"),
        ("[a report](reports/2020.pdf)", "https://news.example.org/reports/2020.pdf"),
        ("[elsewhere](//other.example/page)", "https://other.example/page"),
        ("[top](#top)", "https://news.example.org/#top"),
        ("[as written](https://example.com/a?b=1)", "https://example.com/a?b=1"),
        ("[mail us](mailto:team@example.org)", "mailto:team@example.org"),
    ],
)
def test_links_in_both_parts_are_absolute(app, written, link):
    with app.app_context():
        html = str(markdown.to_html(f"See {written}."))
        text = markdown.to_text(f"See {written}.")
    assert f'href="{link}"' in html
    assert f"({link})" in text


def test_reference_links_are_made_absolute_too(app):
    with app.app_context():
        html = str(markdown.to_html("See [the archive][a].\n\n[a]: /archive"))
    assert 'href="https://news.example.org/archive"' in html


def test_many_unclosed_brackets_read_in_linear_time(app):
    with app.app_context():
        spent = least_cpu_seconds(lambda: markdown.to_text("[" * 20_000 + "](" * 5_000))
    assert spent < 1.0
