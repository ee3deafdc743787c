"""``flask demo`` gives the sample session a real, small PDF as its detailed report."""

from __future__ import annotations

import io

import pypdf
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.reports.models import ReportVersion
from newsletter.reports.storage import path_of


def test_demo_loads_a_report_once(app, runner, client):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "a demo detailed report" in first.output
    assert "/sessions/" in first.output
    assert "/report" in first.output
    with app.app_context():
        (version,) = db.session.scalars(sa.select(ReportVersion)).all()
        data = path_of(version.stored_name).read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Detailed report (demo)" in text
    assert "Summary points" in text
    assert len(reader.pages) >= 2  # the narrative and fifteen points do not fit on one

    again = runner.invoke(args=["demo"])
    assert "Demo content is there already." in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion)) == 1

    slug = first.output.split("/sessions/", 1)[1].split("/report", 1)[0]
    assert "Request the detailed report" in client.get(f"/sessions/{slug}").get_data(as_text=True)
