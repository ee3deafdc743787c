"""A session holds at most MAX_POINTS_PER_SESSION points; its points are saved in bulk,
and the import form's fields are bounded before anything is saved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from newsletter.extensions import db
from newsletter.sessions.models import DialogueSession, SummaryPoint
from tests.conftest import form_values


@pytest.fixture
def review(client, staff_login):
    """The import review form, filled in as the parser left it for a short summary."""
    staff_login()
    page = client.get("/staff/sessions/import")
    values = form_values(page.get_data(as_text=True))
    values["text"] = "Series: A title\n\nOn 8 June 2020 the Society hosted it.\n\n- One point.\n"
    html = client.post("/staff/sessions/import", data=values).get_data(as_text=True)
    return form_values(html)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_default_cap_is_two_hundred_points(app, client, review):
    review["points"] = "\n\n".join(f"Point number {n}." for n in range(201))
    response = client.post("/staff/sessions/import/save", data=review)
    assert response.status_code == 400
    assert "at most 200 summary points" in response.get_data(as_text=True)
    assert _count(app, DialogueSession) == 0
    assert _count(app, SummaryPoint) == 0

    review["points"] = "\n\n".join(f"Point number {n}." for n in range(200))
    assert client.post("/staff/sessions/import/save", data=review).status_code == 302
    assert _count(app, SummaryPoint) == 200


@pytest.mark.app_config(MAX_POINTS_PER_SESSION=3)
def test_adding_a_point_past_the_cap_is_refused(app, client, review):
    review["points"] = "One.\n\nTwo.\n\nThree."
    assert client.post("/staff/sessions/import/save", data=review).status_code == 302
    with app.app_context():
        session_id = db.session.scalar(sa.select(DialogueSession.id))
    page = client.get(f"/staff/sessions/{session_id}").get_data(as_text=True)
    values = form_values(page, having="text")
    url = f"/staff/sessions/{session_id}/points"
    refused = client.post(url, data=values | {"text": "Four."}, follow_redirects=True)
    assert "at most 3 summary points" in refused.get_data(as_text=True)
    assert _count(app, SummaryPoint) == 3


def test_the_points_field_is_bounded_before_it_is_read(app, client, review):
    review["points"] = "x" * 200_001
    response = client.post("/staff/sessions/import/save", data=review)
    assert response.status_code == 400
    assert "at most 200,000 characters" in response.get_data(as_text=True)
    assert _count(app, DialogueSession) == 0


@pytest.mark.app_config(MAX_POINTS_PER_SESSION=1000)
def test_points_are_inserted_in_bulk(app, client, review):
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("INSERT INTO summary_points"):
            statements.append(statement)

    review["points"] = "\n\n".join(f"Point number {n}." for n in range(1000))
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.post("/staff/sessions/import/save", data=review).status_code == 302
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", seen)
    assert _count(app, SummaryPoint) == 1000
    assert 1 <= len(statements) <= 3  # not one statement (and one flush) per point
    with app.app_context():
        positions = db.session.scalars(
            sa.select(SummaryPoint.position).order_by(SummaryPoint.id)
        ).all()
    assert positions == list(range(1, 1001))
