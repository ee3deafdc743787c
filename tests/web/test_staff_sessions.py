"""Recording sessions and their points in the staff pages, and the public session page."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.sessions.models import DialogueSession, Series, SummaryPoint
from tests.conftest import form_values

SAMPLE = Path(__file__).resolve().parents[2] / "newsletter/demo/has-track2-session-2020-06-08.txt"


@pytest.fixture
def editor(staff_login):
    return staff_login()


def _only_session(app) -> DialogueSession:
    with app.app_context():
        session = db.session.scalar(sa.select(DialogueSession))
        session.point_texts = [point.text for point in session.points]
        session.series_name = session.series.name
        db.session.expunge_all()
        return session


def _import(client) -> object:
    page = client.get("/staff/sessions/import")
    values = form_values(page.get_data(as_text=True))
    values["text"] = SAMPLE.read_text(encoding="utf-8")
    return client.post("/staff/sessions/import", data=values)


def test_import_the_sample_then_save(app, client, editor):
    review = _import(client)
    assert review.status_code == 200
    html = review.get_data(as_text=True)
    assert "15 summary points found" in html
    assert "Skipped the closing call to action" in html
    values = form_values(html)
    assert values["series_name"] == "HAS Track 2 Dialogue Series"
    assert values["held_on"] == "2020-06-08"
    assert values["number"] == "2"
    assert values["host"] == "Heart of Asia Society (HAS)"

    # Staff correct the draft before saving: the host, and one point split in two.
    values["host"] = "Heart of Asia Society"
    points = review_points(html)
    assert len(points) == 15
    points[0] = points[0].replace(" The HCNR", "\n\nThe HCNR")
    values["points"] = "\n\n".join(points)
    saved = client.post("/staff/sessions/import/save", data=values)
    assert saved.status_code == 302

    session = _only_session(app)
    assert session.host == "Heart of Asia Society"
    assert session.held_on == date(2020, 6, 8)
    assert session.series_name == "HAS Track 2 Dialogue Series"
    assert session.supporters == ["Konrad Adenauer Stiftung (KAS)"]
    assert session.partners == ["New York University’s Center on International Cooperation (CIC)"]
    assert len(session.participant_countries) == 11
    assert len(session.point_texts) == 16
    assert session.point_texts[1].startswith("The HCNR and the Cabinet agree")
    assert session.slug.endswith("-2020-06-08")


def review_points(html: str) -> list[str]:
    start = html.index('name="points"')
    body = html[html.index(">", start) + 1 : html.index("</textarea>", start)]
    import html as html_lib

    return [block.strip() for block in html_lib.unescape(body).split("\n\n") if block.strip()]


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        ("   ", 400, "Paste the text of a session summary."),
        ("nul\x00byte summary", 400, ""),
        ("Just a line of text without anything else in it.", 200, "No summary points found"),
    ],
)
def test_text_it_cannot_read_gets_a_clear_message(client, editor, text, status, message):
    values = form_values(client.get("/staff/sessions/import").get_data(as_text=True))
    values["text"] = text
    response = client.post("/staff/sessions/import", data=values)
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert message in body
    if status == 400:
        assert 'class="error"' in body


def test_new_session_by_hand_and_points(app, client, editor):
    values = form_values(client.get("/staff/sessions/new").get_data(as_text=True))
    values.update(
        {
            "series_name": "Track 2 Dialogue",
            "title": "Regional Trade",
            "number": "3",
            "held_on": "2020-09-14",
            "participant_countries": "India\nPakistan\n\n",
            "narrative": "First paragraph.\r\n\r\nSecond.",
        }
    )
    created = client.post("/staff/sessions/new", data=values)
    assert created.status_code == 302
    edit_url = created.headers["Location"]
    session = _only_session(app)
    assert session.participant_countries == ["India", "Pakistan"]
    assert session.narrative == "First paragraph.\n\nSecond."
    assert session.is_published is False

    # Points are added, moved, reworded and removed in the session's one form.
    _edit(client, edit_url, new_point="First point.\n\nSecond point.\n\nThird point.")
    with app.app_context():
        points = db.session.scalars(sa.select(SummaryPoint).order_by(SummaryPoint.position)).all()
        ids = [point.id for point in points]
    assert _only_session(app).point_texts == ["First point.", "Second point.", "Third point."]
    _edit(client, edit_url, move=f"{ids[2]}:up")
    _edit(client, edit_url, **{f"point-{ids[0]}-text": "First,  edited."})
    moved = _edit(client, edit_url, **{f"point-{ids[1]}-remove": "y"})
    assert "Removed 1 point." in client.get(moved.headers["Location"]).get_data(as_text=True)
    assert _only_session(app).point_texts == ["First, edited.", "Third point."]

    empty = _edit(client, edit_url, title="Kept title", **{f"point-{ids[0]}-text": "  "})
    assert empty.status_code == 400
    page = empty.get_data(as_text=True)
    assert "Point 1: A summary point needs some text." in page
    assert 'value="Kept title"' in page  # what was typed is still there
    assert _only_session(app).point_texts[0] == "First, edited."


def _edit(client, edit_url: str, **changes) -> object:
    """Post the session's page as the browser would, with ``changes``."""
    values = form_values(client.get(edit_url).get_data(as_text=True), having="title")
    values.update(changes)
    return client.post(edit_url, data=values)


def test_editing_two_points_saves_both(app, client, editor):
    """The lost edit of the issue: points 1 and 2 edited, one Save keeps both."""
    client.post(
        "/staff/sessions/import/save", data=form_values(_import(client).get_data(as_text=True))
    )
    session = _only_session(app)
    with app.app_context():
        ids = [p.id for p in db.session.get(DialogueSession, session.id).points]
    saved = _edit(
        client,
        f"/staff/sessions/{session.id}",
        **{f"point-{ids[0]}-text": "Edited one.", f"point-{ids[1]}-text": "Edited two."},
    )
    assert saved.status_code == 302
    assert _only_session(app).point_texts[:2] == ["Edited one.", "Edited two."]


def test_importing_the_same_summary_again_warns_and_updates(app, client, editor):
    client.post(
        "/staff/sessions/import/save", data=form_values(_import(client).get_data(as_text=True))
    )
    first = _only_session(app)
    again = _import(client).get_data(as_text=True)
    assert "This session is here already" in again
    assert f"/staff/sessions/{first.id}" in again
    values = form_values(again)
    # Saving without choosing does not make a copy.
    refused = client.post("/staff/sessions/import/save", data=values)
    assert refused.status_code == 400
    values["host"] = "Heart of Asia Society"
    values["update"] = str(first.id)
    updated = client.post("/staff/sessions/import/save", data=values)
    assert updated.status_code == 302
    assert "Updated the session with 15 points." in client.get(
        updated.headers["Location"]
    ).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DialogueSession.id))) == 1
    assert _only_session(app).host == "Heart of Asia Society"
    # A number no column holds is refused as usual, not matched against the sessions.
    huge = client.post("/staff/sessions/import/save", data={**values, "number": "9" * 30})
    assert huge.status_code == 400
    values.pop("update")
    values["as_new"] = "1"
    assert client.post("/staff/sessions/import/save", data=values).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DialogueSession.id))) == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "This field is required."),
        ("number", "0", "Number must be between 1 and 9999."),
        ("held_on", "8 June", "Not a valid date value."),
        ("host", "Host\x07", "The host contains a control character."),
        ("series_name", "x" * 201, "Field cannot be longer than 200 characters."),
    ],
)
def test_session_form_errors(app, client, editor, field, value, message):
    values = form_values(client.get("/staff/sessions/new").get_data(as_text=True))
    values.update({"series_name": "Series", "title": "Title", field: value})
    response = client.post("/staff/sessions/new", data=values)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DialogueSession.id))) == 0


def test_publishing_shows_a_public_page(app, client, editor):
    _import(client)
    values = form_values(_import(client).get_data(as_text=True))
    client.post("/staff/sessions/import/save", data=values)
    session = _only_session(app)
    assert client.get(f"/sessions/{session.slug}").status_code == 404

    edit = form_values(
        client.get(f"/staff/sessions/{session.id}").get_data(as_text=True), having="title"
    )
    edit["is_published"] = "y"
    client.post(f"/staff/sessions/{session.id}", data=edit)
    public = app.test_client().get(f"/sessions/{session.slug}")
    assert public.status_code == 200
    page = public.get_data(as_text=True)
    assert "Heart of Asia Society (HAS)" in page
    assert "Afghanistan, China, Russia" in page
    points = page[page.index('<ul class="points">') :]
    assert points[: points.index("</ul>")].count("<li>") == 15
    assert "Get the next digest by email" in page


def test_delete_session_and_series(app, client, editor):
    client.post(
        "/staff/sessions/import/save", data=form_values(_import(client).get_data(as_text=True))
    )
    session = _only_session(app)
    token = form_values(client.get("/staff/series").get_data(as_text=True))["csrf_token"]
    with app.app_context():
        series_id = db.session.scalar(sa.select(Series.id))
    refused = client.post(
        f"/staff/series/{series_id}/delete", data={"csrf_token": token}, follow_redirects=True
    )
    assert "Only a series without sessions can be deleted." in refused.get_data(as_text=True)
    renamed = client.post(
        f"/staff/series/{series_id}",
        data={"csrf_token": token, "name": "HAS Dialogue", "description": ""},
    )
    assert renamed.status_code == 302

    confirm = client.get(f"/staff/sessions/{session.id}/delete")
    assert "15 summary points" in confirm.get_data(as_text=True)
    client.post(f"/staff/sessions/{session.id}/delete", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SummaryPoint.id))) == 0
        assert db.session.scalar(sa.select(Series.name)) == "HAS Dialogue"
    asked = client.post(f"/staff/series/{series_id}/delete", data={"csrf_token": token})
    assert "Delete the series “HAS Dialogue”?" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Series.id))) == 1
    client.post(f"/staff/series/{series_id}/delete", data={"csrf_token": token, "confirmed": "1"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Series.id))) == 0


def test_sessions_commands(app, runner, tmp_path):
    result = runner.invoke(args=["sessions", "import", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "date:           2020-06-08" in result.output
    assert "participant countries (11): Afghanistan; China" in result.output
    assert "points (15):" in result.output
    assert re.search(
        r"Saved as session \d+ \(political-agreement-in-kabul-[a-z-]+-2020-06-08\)\.", result.output
    )
    listed = runner.invoke(args=["sessions", "list"])
    assert "2020-06-08" in listed.output
    assert "Political Agreement in Kabul" in listed.output

    dry = runner.invoke(args=["sessions", "import", str(SAMPLE), "--dry-run"])
    assert "Saved as" not in dry.output
    assert "has the same series, number and date; use --update" in dry.output
    updated = runner.invoke(args=["sessions", "import", str(SAMPLE), "--update"])
    assert re.search(r"Updated session \d+ ", updated.output), updated.output
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00")
    failed = runner.invoke(args=["sessions", "import", str(bad)])
    assert failed.exit_code == 1
    assert "not UTF-8" in failed.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DialogueSession.id))) == 1
