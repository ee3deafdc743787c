"""Scheduling honours the time zone given, on the staff pages and the command line, and
says which zone it read the time in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsletter.digests.models import Digest
from newsletter.extensions import db
from tests.conftest import form_values

YEAR = datetime.now(UTC).year + 1


def _scheduled_at(app, digest_id: int) -> datetime:
    with app.app_context():
        return db.session.get(Digest, digest_id).scheduled_at


@pytest.mark.parametrize(
    ("when", "zone", "utc_hour", "said"),
    [
        (f"{YEAR}-01-10T10:00+05:00", "UTC", 5, "UTC+05:00"),
        (f"{YEAR}-01-10T10:00", "Asia/Tashkent", 5, "Asia/Tashkent"),
        (f"{YEAR}-07-10T10:00", "Europe/Berlin", 8, "Europe/Berlin"),  # summer time
        (f"{YEAR}-01-10T10:00", "UTC", 10, "UTC"),
    ],
)
def test_the_send_page_reads_the_time_in_the_zone_given(
    app, client, staff_login, digest_id, when, zone, utc_hour, said
):
    staff_login()
    page = client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True)
    assert "Time zone" in page
    values = form_values(page, having="when") | {"when": when, "zone": zone}
    done = client.post(f"/staff/digests/{digest_id}/schedule", data=values, follow_redirects=True)
    assert f"10:00 {said}" in done.get_data(as_text=True)
    assert _scheduled_at(app, digest_id) == datetime(YEAR, int(when[5:7]), 10, utc_hour, tzinfo=UTC)


def test_an_unknown_zone_is_refused_with_a_reason(app, client, staff_login, digest_id):
    staff_login()
    page = client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True)
    values = form_values(page, having="when") | {"when": f"{YEAR}-01-10T10:00", "zone": "Mars/Base"}
    done = client.post(f"/staff/digests/{digest_id}/schedule", data=values, follow_redirects=True)
    assert "is not a time zone" in done.get_data(as_text=True)
    assert _scheduled_at(app, digest_id) is None


def test_the_command_line_reads_the_zone_and_says_it(app, runner, digest_id):
    result = runner.invoke(
        args=["digest", "schedule", str(digest_id), f"{YEAR}-01-10T10:00", "--zone", "Asia/Kabul"]
    )
    assert result.exit_code == 0, result.output
    assert f"{YEAR}-01-10 10:00 Asia/Kabul ({YEAR}-01-10 05:30 UTC)" in result.output
    assert _scheduled_at(app, digest_id) == datetime(YEAR, 1, 10, 5, 30, tzinfo=UTC)
    offset = runner.invoke(args=["digest", "schedule", str(digest_id), f"{YEAR}-01-10T10:00+05:00"])
    assert offset.exit_code == 0, offset.output
    assert "10:00 UTC+05:00" in offset.output
    assert _scheduled_at(app, digest_id) == datetime(YEAR, 1, 10, 5, tzinfo=UTC)
