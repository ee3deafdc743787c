"""Importing subscribers in the browser, through the HTTP layer: upload, preview, the
options, the run in the background, its report and the rejected rows as CSV."""

from __future__ import annotations

import csv
import io
import os
import socket
import threading

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions import imports
from newsletter.subscriptions.models import (
    ConsentEvent,
    ImportJob,
    ImportStatus,
    Subscriber,
    SubscriberStatus,
)
from tests.conftest import form_values
from tests.reports.helpers import multipart
from tests.waiting import all_mail_attempted, wait_until

GOOD_AND_BAD = (
    "Email,Name,Organisation,Phone\n"
    "ada@example.org,Ada Lovelace,Analytical Society,123\n"
    "not-an-address,Nobody,,\n"
    "grace@example.org,Grace Hopper,,\n"
    "ADA@example.org,Ada again,,\n"
    "bob@example.org,Bob,Org,1,extra\n"
)


@pytest.fixture
def admin(client, staff_login, runner):
    for args in (["digest", "Dialogue digest", "--default"], ["events", "Event invitations"]):
        assert runner.invoke(args=["lists", "create", *args]).exit_code == 0
    staff_login("admin@example.org", "admin")
    return client


def _upload(client, text: str | bytes, name: str = "people.csv"):
    page = client.get("/staff/import").get_data(as_text=True)
    token = form_values(page, having="csrf_token")["csrf_token"]
    data = text.encode() if isinstance(text, str) else text
    body, content_type = multipart({"csrf_token": token}, "file", data, name)
    return client.post("/staff/import", data=body, content_type=content_type)


def _start(client, job_url: str, **choices):
    values = form_values(client.get(job_url).get_data(as_text=True), having="consent_note")
    values.update(choices)
    return client.post(f"{job_url}/start", data=values)


def _finished(client, job_url: str) -> dict:
    def ended():
        data = client.get(f"{job_url}/progress.json").get_json()
        return data if data["status"] in ("done", "failed") else None

    figures = wait_until(ended, timeout=30, message="the import never ended")
    wait_until(imports.idle, message="the import's thread never ended")  # its mail sent
    return figures


def _people(app) -> dict[str, tuple[SubscriberStatus, str, list[str]]]:
    with app.app_context():
        found = {
            s.email_key: (s.status, s.name, sorted(m.mailing_list.slug for m in s.memberships))
            for s in db.session.scalars(sa.select(Subscriber))
        }
        db.session.remove()
        return found


def test_a_file_with_bad_rows_is_previewed_imported_and_reported(app, admin, outbox):
    response = _upload(admin, GOOD_AND_BAD)
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = admin.get(job_url).get_data(as_text=True)
    assert "Read as UTF-8" in page
    assert "Email → email" in page
    assert "Phone: ignored" in page
    assert "Ada Lovelace" in page
    assert "5 data lines" in page
    assert not _people(app)  # nothing imported before it is started

    response = _start(
        admin, job_url, consent="consented", consent_note="met at the 2026 forum", lists="events"
    )
    assert response.status_code == 302
    figures = _finished(admin, job_url)
    assert figures["status"] == "done"
    assert (figures["added"], figures["merged"], figures["rejected"]) == (2, 1, 2)

    report = admin.get(job_url).get_data(as_text=True)
    assert "Imported" in report
    assert "line 3" not in report  # lines are a column of their own
    assert "<td>3</td>" in report
    assert "<td>6</td>" in report
    assert "more fields than the header has columns" in report

    download = admin.get(f"{job_url}/rejected.csv")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["line", "reason"]
    assert [row[0] for row in rows[1:]] == ["3", "6"]
    assert "more fields" in rows[2][1]

    assert _people(app) == {
        "ada@example.org": (SubscriberStatus.ACTIVE, "Ada Lovelace", ["events"]),
        "grace@example.org": (SubscriberStatus.ACTIVE, "Grace Hopper", ["events"]),
    }
    with app.app_context():
        notes = set(db.session.scalars(sa.select(ConsentEvent.note)))
        job = db.session.scalar(sa.select(ImportJob))
        assert (job.created_by, job.file_name, job.lists) == (
            "admin@example.org",
            "people.csv",
            "events",
        )
        assert job.consent_note == "met at the 2026 forum"
        assert not job.dry_run
        assert job.rejected == [[3, job.rejected[0][1]], [6, job.rejected[1][1]]]
        stored = os.path.join(app.instance_path, "imports", job.stored_name)
        db.session.remove()
    assert notes == {"met at the 2026 forum"}
    assert not os.path.exists(stored)  # the file is gone once imported
    all_mail_attempted(app)
    assert outbox.received == []  # consented: nobody is asked to confirm


def test_a_dry_run_writes_nothing_then_runs_for_real(app, admin):
    job_url = _upload(admin, GOOD_AND_BAD).headers["Location"]
    _start(admin, job_url, consent="consented", consent_note="paper forms", dry_run="y")
    figures = _finished(admin, job_url)
    assert (figures["status"], figures["added"], figures["rejected"]) == ("done", 2, 2)
    page = admin.get(job_url).get_data(as_text=True)
    assert "Dry run: nothing was stored" in page
    assert _people(app) == {}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ConsentEvent.id))) == 0
        db.session.remove()

    token = form_values(page, having="csrf_token")["csrf_token"]
    response = admin.post(f"{job_url}/again", data={"csrf_token": token})
    assert response.status_code == 302
    real_url = response.headers["Location"]
    assert real_url != job_url
    assert _finished(admin, real_url)["added"] == 2
    assert set(_people(app)) == {"ada@example.org", "grace@example.org"}


def test_consent_needs_a_note_and_confirmation_leaves_people_pending(app, admin, outbox):
    job_url = _upload(admin, GOOD_AND_BAD).headers["Location"]
    response = _start(admin, job_url, consent="consented", consent_note="  ", lists="digest")
    assert response.status_code == 400
    assert "Say how and when these people consented" in response.get_data(as_text=True)
    response = _start(admin, job_url, consent="consented", consent_note="x", lists=[])
    assert response.status_code == 400
    assert "Choose at least one list" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(ImportJob.status)) == ImportStatus.UPLOADED
        db.session.remove()

    assert _start(admin, job_url, consent="confirm", lists="digest").status_code == 302
    assert _finished(admin, job_url)["added"] == 2
    people = _people(app)
    assert {status for status, _, _ in people.values()} == {SubscriberStatus.PENDING}
    all_mail_attempted(app)
    assert sorted(m.to for m in outbox.received) == ["ada@example.org", "grace@example.org"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "The file is empty."),
        (b"name,organisation\nAda,Org\n", "one of them &#39;email&#39;"),
        ("email\nzoë@example.org\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_at_upload(app, admin, content, reason):
    response = _upload(admin, content)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ImportJob.id))) == 0
        db.session.remove()
    assert os.listdir(os.path.join(app.instance_path, "imports")) == []


@pytest.mark.app_config(IMPORT_MAX_MB=0.001)
def test_a_file_over_the_limit_is_refused(app, admin):
    response = _upload(admin, "email\n" + "someone@example.org\n" * 200)
    assert response.status_code == 400
    assert "The file is larger than 0.001 MB" in response.get_data(as_text=True)


def test_two_imports_of_the_same_list_at_once_are_safe(app, admin):
    first = "email,name\n" + "".join(f"p{n}@example.org,First {n}\n" for n in range(3000))
    second = "email,organisation\n" + "".join(
        f"p{n}@example.org,Org {n}\n" for n in range(1500, 4500)
    )
    urls = [_upload(admin, text).headers["Location"] for text in (first, second)]
    forms = [
        form_values(admin.get(url).get_data(as_text=True), having="consent_note") for url in urls
    ]
    responses = []

    def start(url, values):
        values.update(consent="consented", consent_note="conference", lists="digest")
        responses.append(admin.post(f"{url}/start", data=values).status_code)

    threads = [threading.Thread(target=start, args=pair) for pair in zip(urls, forms, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert responses == [302, 302]
    results = [_finished(admin, url) for url in urls]
    assert [r["status"] for r in results] == ["done", "done"]
    assert sum(r["added"] for r in results) == 4500  # each address added once
    assert sum(r["updated"] for r in results) == 1500  # the overlap, completed by the later
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(Subscriber.id)))
        completed = db.session.scalar(
            sa.select(sa.func.count(Subscriber.id)).where(
                Subscriber.name != "", Subscriber.organisation != ""
            )
        )
        db.session.remove()
    assert (count, completed) == (4500, 1500)


def test_a_job_whose_process_died_is_marked_failed(app, admin):
    job_url = _upload(admin, GOOD_AND_BAD).headers["Location"]
    with app.app_context():
        job = db.session.scalar(sa.select(ImportJob))
        job.status = ImportStatus.RUNNING
        # This machine, a process that does not exist.
        job.runner = f"{socket.gethostname()[:40]}:{2**22 + 12345}:deadbeef"
        db.session.commit()
        db.session.remove()
    figures = admin.get(f"{job_url}/progress.json").get_json()
    assert figures["status"] == "failed"
    assert "stopped" in figures["error"]
    assert "nothing of it was kept" in admin.get(job_url).get_data(as_text=True)


def test_editors_may_not_import(client, staff_login):
    staff_login("editor@example.org", "editor")
    assert client.get("/staff/import").status_code == 403
    assert "Import" not in client.get("/staff/").get_data(as_text=True).split("</nav>")[0]


@pytest.mark.app_config(IMPORT_MAX_MB=0.01)
def test_a_body_far_over_the_limit_is_refused_before_it_is_read(app, admin):
    response = _upload(admin, "email\n" + "someone@example.org\n" * 60_000)  # 1.2 MB
    assert response.status_code == 413
    assert "an import may be at most 0.01 MB" in response.get_data(as_text=True)
