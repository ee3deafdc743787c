"""Uploading a report: the type read from the content, the size limit, versions kept,
files stored outside anything served, nothing half-written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter import ROOT
from newsletter.extensions import db
from newsletter.reports import filetypes
from newsletter.reports.models import ReportVersion
from newsletter.sessions.models import DialogueSession
from newsletter.validation import InvalidInput
from tests.reports.helpers import PDF, docx, multipart, odt, zip_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _kind(data: bytes) -> str:
    return filetypes.detect(io.BytesIO(data), len(data)).key


def test_types_are_read_from_the_content():
    assert _kind(PDF) == "pdf"
    assert _kind(docx()) == "docx"
    assert _kind(odt()) == "odt"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (PNG, "This file is a PNG image, not a PDF"),
        (b"MZ\x90\x00" + b"\x00" * 60, "a Windows program"),
        (PDF[: len(PDF) // 2], "seems cut short"),
        (docx(macros=True), "contains macros"),
        (odt(b"application/vnd.oasis.opendocument.spreadsheet"), "not a text document"),
        (zip_of({"notes.txt": b"hello"}), "This file is a ZIP archive, not a PDF"),
        (b"PK\x03\x04 not really a zip", "damaged ZIP archive"),
        (b"plain text pretending", "of a kind we do not recognise"),
    ],
)
def test_other_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(InvalidInput, match=reason):
        filetypes.detect(io.BytesIO(data), len(data))


def _session_id(app, slug: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(DialogueSession.id).where(DialogueSession.slug == slug))


def _upload(client, staff_login, session_id: int, data: bytes, name: str):
    token = staff_login.csrf_token(f"/staff/sessions/{session_id}/report")
    body, content_type = multipart({"csrf_token": token}, "file", data, name)
    return client.post(f"/staff/sessions/{session_id}/report", data=body, content_type=content_type)


def _versions(app) -> list[ReportVersion]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(ReportVersion).order_by(ReportVersion.id)))
        db.session.expunge_all()
        return found


def _stored_files(app) -> list[Path]:
    return sorted(Path(app.config["REPORTS_STORAGE_DIR"]).glob("*"))


def test_upload_and_replace_keeps_every_version(app, client, staff_login, make_session):
    slug = make_session(report=False)
    session_id = _session_id(app, slug)
    staff_login()
    first = _upload(client, staff_login, session_id, PDF, "Rapport final.pdf")
    assert first.status_code == 302
    second = _upload(client, staff_login, session_id, docx(), "report.docx")
    assert second.status_code == 302
    page = client.get(f"/staff/sessions/{session_id}/report").get_data(as_text=True)
    assert "Version 2 of the report is stored (Word document (DOCX))." in page
    assert "Rapport final.pdf" in page
    one, two = _versions(app)
    assert (one.number, one.kind, two.number, two.kind) == (1, "pdf", 2, "docx")
    assert one.uploaded_by == "editor@example.org"
    # Stored under names of ours in the storage folder, outside anything served.
    folder = Path(app.config["REPORTS_STORAGE_DIR"])
    assert folder.is_relative_to(Path(app.instance_path))
    assert not folder.is_relative_to(ROOT / "static")
    assert [path.name for path in _stored_files(app)] == sorted([one.stored_name, two.stored_name])
    assert (folder / one.stored_name).read_bytes() == PDF
    assert "Rapport" not in one.stored_name
    # Readers now get the DOCX, under the session's name.
    assert "Request the detailed report" in client.get(f"/sessions/{slug}").get_data(as_text=True)


def test_a_renamed_file_is_refused_and_nothing_is_kept(app, client, staff_login, make_session):
    slug = make_session(report=False)
    session_id = _session_id(app, slug)
    staff_login()
    response = _upload(client, staff_login, session_id, PNG, "report.pdf")
    assert response.status_code == 400
    assert "This file is a PNG image, not a PDF" in response.get_data(as_text=True)
    assert _versions(app) == []
    assert _stored_files(app) == []
    assert "Request the detailed report" not in client.get(f"/sessions/{slug}").get_data(
        as_text=True
    )


def test_an_upload_without_a_file_is_refused(app, client, staff_login, make_session):
    session_id = _session_id(app, make_session(report=False))
    staff_login()
    token = staff_login.csrf_token(f"/staff/sessions/{session_id}/report")
    response = client.post(
        f"/staff/sessions/{session_id}/report",
        data={"csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Choose the report&#39;s file." in response.get_data(as_text=True)


@pytest.mark.app_config(REPORT_MAX_MB=0.05)
def test_the_size_limit(app, client, staff_login, make_session):
    session_id = _session_id(app, make_session(report=False))
    staff_login()
    # Just over the limit: the form says so.
    over = PDF.replace(b"%%EOF", b"%" * 60_000 + b"\n%%EOF")
    response = _upload(client, staff_login, session_id, over, "big.pdf")
    assert response.status_code == 400
    assert "The file is larger than 0.05 MB" in response.get_data(as_text=True)
    # Far over it: refused before it is read, with the limit named.
    huge = _upload(client, staff_login, session_id, b"%PDF-" + b"0" * (2 * 1024 * 1024), "x.pdf")
    assert huge.status_code == 413
    assert "a report may be at most 0.05 MB" in huge.get_data(as_text=True)
    assert _versions(app) == []
    assert _stored_files(app) == []


def test_uploads_larger_than_other_forms_may_be(app, client, staff_login, make_session):
    """MAX_CONTENT_LENGTH (16 MB) stays for every other form; a report may be 25 MB."""
    session_id = _session_id(app, make_session(report=False))
    staff_login()
    big = PDF.replace(b"%%EOF", b"%" * (20 * 1024 * 1024) + b"\n%%EOF")
    assert _upload(client, staff_login, session_id, big, "big.pdf").status_code == 302
    assert _versions(app)[0].size == len(big)
    token = staff_login.csrf_token()
    elsewhere = client.post(
        "/staff/sessions/new", data={"csrf_token": token, "title": "x" * (17 * 1024 * 1024)}
    )
    assert elsewhere.status_code == 413


def test_a_rolled_back_upload_leaves_no_file(app, make_session):
    from newsletter.reports import storage

    make_session(report=False)
    with app.app_context():
        storage.store(io.BytesIO(PDF))
        assert len(_stored_files(app)) == 1
        db.session.rollback()
        assert _stored_files(app) == []


def test_the_storage_folder_may_not_be_served(app_config):
    from newsletter import create_app

    with pytest.raises(RuntimeError, match="inside the static folder"):
        create_app({**app_config, "REPORTS_STORAGE_DIR": str(ROOT / "static" / "reports")})


def test_the_rule_form(app, client, staff_login, make_session):
    session_id = _session_id(app, make_session())
    staff_login()
    token = staff_login.csrf_token(f"/staff/sessions/{session_id}/report")
    url = f"/staff/sessions/{session_id}/report/rule"
    empty = client.post(url, data={"csrf_token": token, "rule": "domains", "domains": ""})
    assert empty.status_code == 400
    assert "List at least one domain" in empty.get_data(as_text=True)
    bad = client.post(
        url, data={"csrf_token": token, "rule": "domains", "domains": "not a domain!"}
    )
    assert bad.status_code == 400
    assert "is not a domain name" in bad.get_data(as_text=True)
    saved = client.post(
        url, data={"csrf_token": token, "rule": "domains", "domains": "@Example.ORG\nun.int"}
    )
    assert saved.status_code == 302
    page = client.get(f"/staff/sessions/{session_id}/report").get_data(as_text=True)
    assert "example.org\nun.int" in page
    assert "rule changed" in page


def test_a_session_with_a_report_cannot_be_deleted(app, client, staff_login, slug):
    session_id = _session_id(app, slug)
    staff_login()
    token = staff_login.csrf_token(f"/staff/sessions/{session_id}/delete")
    response = client.post(f"/staff/sessions/{session_id}/delete", data={"csrf_token": token})
    assert response.status_code == 200
    assert "This session has a detailed report" in response.get_data(as_text=True)
    assert _session_id(app, slug) == session_id
    assert len(_versions(app)) == 1


def test_staff_fetch_a_version_on_record(app, client, staff_login, slug):
    session_id = _session_id(app, slug)
    (version,) = _versions(app)
    url = f"/staff/reports/versions/{version.id}/file"
    from tests.conftest import form_values

    public_token = form_values(client.get("/subscribe").get_data(as_text=True))["csrf_token"]
    assert client.post(url, data={"csrf_token": public_token}).status_code == 401  # log in
    staff_login()
    token = staff_login.csrf_token(f"/staff/sessions/{session_id}/report")
    assert client.get(url).status_code == 405  # a GET changes nothing, not even the record
    got = client.post(url, data={"csrf_token": token})
    assert got.status_code == 200
    assert got.data == PDF
    got.close()
    assert got.headers["Content-Disposition"].startswith("attachment; filename=2020-06-08-")
    page = client.get(f"/staff/sessions/{session_id}/report").get_data(as_text=True)
    assert "by staff" in page  # on record
    assert "<td>0</td>" in page  # not counted as a reader's download
    missing = client.post("/staff/reports/versions/999/file", data={"csrf_token": token})
    assert missing.status_code == 404
