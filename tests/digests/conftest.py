"""Content for digest tests: the sample session and a second, short one."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newsletter.extensions import db
from newsletter.sessions import services as sessions
from newsletter.sessions.importer import parse_summary

SAMPLE = Path(__file__).resolve().parents[2] / "newsletter/demo/has-track2-session-2020-06-08.txt"


@pytest.fixture
def two_sessions(app, make_list) -> dict[str, Any]:
    """The sample session (15 points, published) and a second session (3 points)."""
    make_list("digest", "Dialogue digest", default=True)
    with app.app_context():
        parsed = parse_summary(SAMPLE.read_text(encoding="utf-8"))
        data = sessions.SessionData.from_parsed(parsed)
        data.is_published = True
        first = sessions.create_session(data, parsed.points)
        second = sessions.create_session(
            sessions.SessionData(
                series_name=parsed.series,
                title="Regional Connectivity & Trade",
                number=3,
                held_on=date(2020, 9, 14),
            ),
            [
                "Trade corridors need <security> guarantees.",
                "Transit agreements matter.",
                "Energy projects can bind the region together.",
            ],
        )
        db.session.commit()
        return {
            "first": first.id,
            "second": second.id,
            "first_points": [point.id for point in first.points],
            "second_points": [point.id for point in second.points],
        }
