"""Each application enforces its own rate-limit settings, however many are built in one
process (a test run, several sites served by one server)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask

from newsletter import create_app
from newsletter.extensions import db
from tests.subscriptions.helpers import subscribe


@contextmanager
def _another_app(app_config: dict[str, Any], **changes: Any) -> Iterator[Flask]:
    other = create_app({**app_config, **changes})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def _codes(app: Flask, prefix: str, count: int) -> list[int]:
    client = app.test_client()
    return [subscribe(client, f"{prefix}{n}@example.org").status_code for n in range(count)]


@pytest.mark.app_config(SUBSCRIBE_LIMIT_PER_IP="2 per minute")
def test_an_app_built_later_with_limits_off_leaves_the_first_ones_on(app, app_config, outbox):
    with _another_app(app_config, RATELIMIT_ENABLED=False) as relaxed:
        assert _codes(relaxed, "relaxed", 4) == [302, 302, 302, 302]
        assert _codes(app, "strict", 3) == [302, 302, 429]
        # and an app built after it, with no word on the switch, limits again
        with _another_app(app_config, SUBSCRIBE_LIMIT_PER_IP="1 per minute") as third:
            assert _codes(third, "third", 2) == [302, 429]


@pytest.mark.app_config(SUBSCRIBE_LIMIT_PER_IP="2 per minute")
def test_each_app_counts_in_its_own_storage(app, app_config, outbox):
    with _another_app(app_config, SUBSCRIBE_LIMIT_PER_IP="2 per minute") as other:
        assert _codes(app, "first", 3) == [302, 302, 429]
        assert _codes(other, "second", 3) == [302, 302, 429]
