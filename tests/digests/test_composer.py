"""Composing a digest in the staff pages: texts, lists, points from sessions, order."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from newsletter.digests.models import Digest, DigestItem, DigestStatus
from newsletter.extensions import db
from newsletter.sessions.models import SummaryPoint
from tests.conftest import form_values


@pytest.fixture
def editor(staff_login):
    return staff_login()


def _digest(app, digest_id: int) -> dict:
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        return {
            "subject": digest.subject,
            "status": digest.status,
            "lists": [lst.slug for lst in digest.lists],
            "items": [(item.point_id, item.text, item.text_override) for item in digest.items],
            "intro": digest.intro,
        }


def _new_digest(client, subject: str = "June digest") -> int:
    token = form_values(client.get("/staff/digests").get_data(as_text=True), having="subject")
    token["subject"] = subject
    response = client.post("/staff/digests", data=token)
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_compose_from_two_sessions(app, client, editor, two_sessions, make_list):
    make_list("events", "Event invitations")
    digest_id = _new_digest(client)
    page = client.get(f"/staff/digests/{digest_id}").get_data(as_text=True)
    assert "Regional Connectivity &amp; Trade" in page
    token = form_values(page, having="subject")["csrf_token"]

    first = two_sessions["first_points"]
    second = two_sessions["second_points"]
    picked = [first[0], first[1], second[0]]
    response = client.post(
        f"/staff/digests/{digest_id}/points",
        data={"csrf_token": token, "point_ids": [str(p) for p in picked]},
    )
    assert response.status_code == 302
    assert [item[0] for item in _digest(app, digest_id)["items"]] == picked

    # Adding a point twice keeps one item.
    client.post(
        f"/staff/digests/{digest_id}/points",
        data={"csrf_token": token, "point_ids": [str(first[0])]},
    )
    assert len(_digest(app, digest_id)["items"]) == 3

    with app.app_context():
        item_ids = [item.id for item in db.session.get(Digest, digest_id).items]
    client.post(
        f"/staff/digest-items/{item_ids[2]}/move", data={"csrf_token": token, "direction": "up"}
    )
    client.post(
        f"/staff/digest-items/{item_ids[0]}/move", data={"csrf_token": token, "direction": "down"}
    )
    assert [item[0] for item in _digest(app, digest_id)["items"]] == [second[0], first[0], first[1]]

    # Edit an item's words for this digest; the point keeps its own.
    client.post(
        f"/staff/digest-items/{item_ids[0]}",
        data={"csrf_token": token, "text": "Broad consensus on peace, in short."},
    )
    items = _digest(app, digest_id)["items"]
    assert items[1] == (
        first[0],
        "Broad consensus on peace, in short.",
        "Broad consensus on peace, in short.",
    )
    with app.app_context():
        assert db.session.get(SummaryPoint, first[0]).text.startswith("In Afghanistan there is")
    client.post(f"/staff/digest-items/{item_ids[0]}", data={"csrf_token": token, "reset": "1"})
    assert _digest(app, digest_id)["items"][1][2] is None

    client.post(f"/staff/digest-items/{item_ids[1]}/remove", data={"csrf_token": token})
    assert [item[0] for item in _digest(app, digest_id)["items"]] == [second[0], first[0]]

    values = form_values(
        client.get(f"/staff/digests/{digest_id}").get_data(as_text=True), having="subject"
    )
    values.update(
        {
            "subject": "Digest: June",
            "preheader": "Two sessions",
            "intro": "Dear **all**",
            "lists": ["digest", "events"],
        }
    )
    assert client.post(f"/staff/digests/{digest_id}", data=values).status_code == 302
    saved = _digest(app, digest_id)
    assert saved["subject"] == "Digest: June"
    assert saved["lists"] == ["digest", "events"]
    assert saved["intro"] == "Dear **all**"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "", "This field is required."),
        ("subject", "Line\r\nBcc: x@example.org", "control character"),
        ("lists", ["nope"], "not a valid choice"),
        ("preheader", "p" * 201, "Field cannot be longer than 200 characters."),
    ],
)
def test_composer_refuses_bad_input(app, client, editor, two_sessions, field, value, message):
    digest_id = _new_digest(client)
    values = form_values(
        client.get(f"/staff/digests/{digest_id}").get_data(as_text=True), having="subject"
    )
    values[field] = value
    response = client.post(f"/staff/digests/{digest_id}", data=values)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _digest(app, digest_id)["subject"] == "June digest"


def test_a_sent_digest_cannot_change(app, client, editor, two_sessions):
    digest_id = _new_digest(client)
    with app.app_context():
        db.session.get(Digest, digest_id).status = DigestStatus.SENT
        db.session.commit()
    page = client.get(f"/staff/digests/{digest_id}").get_data(as_text=True)
    token = form_values(page)["csrf_token"]
    response = client.post(
        f"/staff/digests/{digest_id}/points",
        follow_redirects=True,
        data={"csrf_token": token, "point_ids": [str(two_sessions["first_points"][0])]},
    )
    assert "its content can no longer change" in response.get_data(as_text=True)
    assert _digest(app, digest_id)["items"] == []


def test_unknown_point_ids_are_refused(app, client, editor, two_sessions):
    digest_id = _new_digest(client)
    token = form_values(client.get(f"/staff/digests/{digest_id}").get_data(as_text=True))[
        "csrf_token"
    ]
    missing = client.post(
        f"/staff/digests/{digest_id}/points",
        follow_redirects=True,
        data={"csrf_token": token, "point_ids": ["999999"]},
    )
    assert "does not exist any more" in missing.get_data(as_text=True)
    garbage = client.post(
        f"/staff/digests/{digest_id}/points", data={"csrf_token": token, "point_ids": ["x"]}
    )
    assert garbage.status_code == 400
    # Beyond any id, beyond int() at 4,300 digits, zero, a digit that is not ASCII.
    for huge in ("9" * 30, "9" * 10_000, "0" * 5000 + "1" * 5000, "0", "²"):
        response = client.post(
            f"/staff/digests/{digest_id}/points", data={"csrf_token": token, "point_ids": [huge]}
        )
        assert response.status_code == 400
        assert "The chosen points were not understood." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DigestItem.id))) == 0


def test_digest_commands(app, runner, two_sessions):
    created = runner.invoke(args=["digest", "create-from-session", str(two_sessions["first"])])
    assert created.exit_code == 0, created.output
    assert "with 15 points" in created.output
    listed = runner.invoke(args=["digest", "list"])
    assert "draft" in listed.output
    assert "Political Agreement in Kabul" in listed.output
    missing = runner.invoke(args=["digest", "create-from-session", "no-such-session"])
    assert missing.exit_code == 1
    assert "No session 'no-such-session'" in missing.output


def test_delete_a_draft(app, client, editor, two_sessions):
    digest_id = _new_digest(client)
    token = form_values(client.get(f"/staff/digests/{digest_id}/delete").get_data(as_text=True))
    assert client.post(f"/staff/digests/{digest_id}/delete", data=token).status_code == 302
    with app.app_context():
        assert db.session.get(Digest, digest_id) is None
