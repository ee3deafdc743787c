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
    assert "15 summary point(s) found" in html
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

    token = form_values(client.get(edit_url).get_data(as_text=True))["csrf_token"]
    for text in ("First point.", "Second point.", "Third point."):
        client.post(
            f"/staff/sessions/{session.id}/points", data={"csrf_token": token, "text": text}
        )
    with app.app_context():
        points = db.session.scalars(sa.select(SummaryPoint).order_by(SummaryPoint.position)).all()
        ids = [point.id for point in points]
    client.post(f"/staff/points/{ids[2]}/move", data={"csrf_token": token, "direction": "up"})
    client.post(f"/staff/points/{ids[0]}", data={"csrf_token": token, "text": "First,  edited."})
    client.post(f"/staff/points/{ids[1]}/delete", data={"csrf_token": token})
    assert _only_session(app).point_texts == ["First, edited.", "Third point."]

    empty = client.post(
        f"/staff/points/{ids[0]}", data={"csrf_token": token, "text": "  "}, follow_redirects=True
    )
    assert "A summary point needs some text." in empty.get_data(as_text=True)
    assert _only_session(app).point_texts[0] == "First, edited."


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
    assert page.count("<li>") == 15


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
    assert "15 summary point(s)" in confirm.get_data(as_text=True)
    client.post(f"/staff/sessions/{session.id}/delete", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SummaryPoint.id))) == 0
        assert db.session.scalar(sa.select(Series.name)) == "HAS Dialogue"
    client.post(f"/staff/series/{series_id}/delete", data={"csrf_token": token})
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
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00")
    failed = runner.invoke(args=["sessions", "import", str(bad)])
    assert failed.exit_code == 1
    assert "not UTF-8" in failed.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DialogueSession.id))) == 1
