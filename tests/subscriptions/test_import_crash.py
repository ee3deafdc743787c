"""A real process killed (SIGKILL) in the middle of a browser import: the job is shown
failed, not running for ever, and nothing of the file was kept."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions import imports
from newsletter.subscriptions.lists import default_lists
from newsletter.subscriptions.models import ImportJob, ImportStatus, Subscriber
from tests.delivery.test_crash import ROOT, _env, _kill
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

_RUN = "import sys; from newsletter import create_app; from newsletter.subscriptions import imports; imports.run(create_app(), int(sys.argv[1]))"  # noqa: E501


def test_a_killed_import_is_marked_failed_and_kept_nothing(app, client, staff_login, make_list):
    make_list("digest", "Dialogue digest", default=True)
    rows = "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(300_000))
    with app.app_context():
        job = imports.store_upload(
            io.BytesIO(("email,name\n" + rows).encode()), "big.csv", None, "admin@example.org"
        )
        imports.start(job, default_lists(), consent_note="conference", dry_run=False)
        db.session.commit()
        job_id = job.id
        db.session.remove()

    process = subprocess.Popen(
        [sys.executable, "-c", _RUN, str(job_id)],
        env=_env(app),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    database = app.config["SQLALCHEMY_DATABASE_URI"]
    wal = Path(database.removeprefix("sqlite:///") + "-wal") if "sqlite" in database else None

    def writing() -> bool:
        """Running, and rows written (uncommitted): PostgreSQL's progress says so, on
        SQLite the write-ahead log grows."""
        with app.app_context():
            status, done = db.session.execute(
                sa.select(ImportJob.status, ImportJob.rows_done).where(ImportJob.id == job_id)
            ).one()
            db.session.remove()
        if status != ImportStatus.RUNNING:
            return False
        return wal.stat().st_size > 2**20 if wal is not None else done > 0

    try:
        wait_until(writing, timeout=60, message="the import never got going")
        assert process.poll() is None, "the import ended before it could be killed"
    finally:
        _kill(process)

    staff_login("admin@example.org", "admin")
    figures = client.get(f"/staff/import/{job_id}/progress.json").get_json()
    assert figures["status"] == "failed"
    assert "nothing of it was kept" in figures["error"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 0
        db.session.remove()
