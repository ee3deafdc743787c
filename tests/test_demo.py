"""``flask demo``: demo content once, and a login and addresses that are really ours."""

from __future__ import annotations

import pytest


@pytest.mark.app_config(MAIL_SERVER=None)
def test_demo_prints_the_real_address_and_the_outbox(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "https://news.example.org/staff/  admin@example.org / " in result.output
    assert "127.0.0.1:5000" not in result.output
    assert "mail lands in the outbox, https://news.example.org/outbox/" in result.output
    assert "log in as the demo admin first" in result.output
    again = runner.invoke(args=["demo"])
    assert "Demo content is there already." in again.output


def test_demo_says_where_mail_goes_with_a_server(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Mail goes out through 127.0.0.1." in result.output
    assert "outbox" not in result.output
