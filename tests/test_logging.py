"""Logging: every process that builds the app (a plain process, gunicorn, a command, a
Celery worker) writes one line per record with time, level, logger and message, at
NEWSLETTER_LOG_LEVEL, and no subscriber's address at INFO or above."""

from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.logs import Formatter
from newsletter.mailing.models import OutgoingMail
from newsletter.timeutil import utcnow
from tests.conftest import form_values
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"  # ISO 8601, UTC, milliseconds
LINE = re.compile(rf"^{TIME} (?P<level>[A-Z]+) (?P<logger>[\w.]+): (?P<message>.*)$")
REDIS_URL = os.environ.get("NEWSLETTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

_SCRIPT = """
import logging
from newsletter import create_app

config = {"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": %r}
for _ in range(3):
    create_app(config)
log = logging.getLogger("newsletter.check")
log.info("hello %%s", "world")
log.warning("refused by <bob@example.org>: mailbox full")
log.debug("looking at bob@example.org")
"""


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSLETTER_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def _records(text: str, *, strict: bool = True) -> list[tuple[str, str, str]]:
    """(level, logger, message) of every line of ours; with ``strict`` a line of another
    shape fails the test (servers print their own lines too: gunicorn's, say)."""
    records = []
    for line in text.splitlines():
        match = LINE.match(line)
        assert match or not strict, f"not a log line: {line!r}"
        if match:
            records.append((match["level"], match["logger"], match["message"]))
    return records


def _run_script(tmp_path: Path, **env: str) -> list[tuple[str, str, str]]:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT % str(tmp_path / "instance")],
        env=_env(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return _records(result.stderr)


def test_a_process_configures_logging_once_however_many_apps_it_builds(tmp_path):
    assert _run_script(tmp_path) == [
        ("INFO", "newsletter.check", "hello world"),
        ("WARNING", "newsletter.check", "refused by <<address>>: mailbox full"),
    ]


@pytest.mark.app_config(LOG_LEVEL="warning")
def test_the_level_is_a_setting(app, caplog):
    log = logging.getLogger("newsletter.check")
    log.info("not wanted")
    log.warning("wanted")
    assert [record.getMessage() for record in caplog.records] == ["wanted"]


def test_debug_lines_keep_addresses_for_developers():
    formatter = Formatter()
    debug = logging.LogRecord("newsletter.x", logging.DEBUG, "", 0, "to %s", ("a@b.example",), None)
    assert formatter.format(debug).endswith("DEBUG newsletter.x: to a@b.example")
    info = logging.LogRecord("newsletter.x", logging.INFO, "", 0, "to %s", ("a@b.example",), None)
    assert formatter.format(info).endswith("INFO newsletter.x: to <address>")


def test_an_unknown_level_stops_the_start(app_config):
    from newsletter import create_app

    with pytest.raises(RuntimeError, match="NEWSLETTER_LOG_LEVEL must be"):
        create_app({**app_config, "LOG_LEVEL": "chatty"})


def test_pytest_still_captures_the_application_logs(app, caplog):
    logging.getLogger("newsletter.check").info("seen by caplog")
    assert [record.getMessage() for record in caplog.records] == ["seen by caplog"]


# -- real servers ------------------------------------------------------------------------


def _server_env(app, tmp_path: Path, port: int = 5000, **extra: str) -> dict[str, str]:
    config = app.config
    return _env(
        NEWSLETTER_SECRET_KEY=config["SECRET_KEY"],
        NEWSLETTER_SQLALCHEMY_DATABASE_URI=config["SQLALCHEMY_DATABASE_URI"],
        NEWSLETTER_BASE_URL=f"http://127.0.0.1:{port}",  # cookies without Secure
        NEWSLETTER_MAIL_SERVER=config["MAIL_SERVER"],
        NEWSLETTER_MAIL_PORT=str(config["MAIL_PORT"]),
        NEWSLETTER_MAIL_DEFAULT_SENDER=config["MAIL_DEFAULT_SENDER"],
        NEWSLETTER_MAIL_LOCAL_HOSTNAME="test.local",
        NEWSLETTER_INSTANCE_PATH=str(tmp_path / "server-instance"),
        NEWSLETTER_SEND_BACKGROUND="false",
        **extra,
    )


def _wait_for_line(path: Path, pattern: str, timeout: float = 20.0) -> list[tuple[str, str, str]]:
    """The records written to ``path`` once one of them matches ``pattern``."""
    text = wait_until(
        lambda: (text := path.read_text()) and re.search(pattern, text) and text,
        timeout,
        lambda: f"no line matching {pattern!r} in:\n{path.read_text()}",
    )
    return _records(text, strict=False)


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _subscribe(url: str, email: str) -> None:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    values = form_values(opener.open(url + "/subscribe", timeout=10).read().decode())
    values.update({"email": email, "website": ""})
    body = urllib.parse.urlencode(values, doseq=True).encode()
    assert opener.open(url + "/subscribe", data=body, timeout=10).status == 200


@pytest.mark.slow
def test_gunicorn_and_a_command_log_alike_without_addresses(app, make_list, outbox, tmp_path):
    """A refused confirmation under gunicorn, then again from ``flask mail flush``: both
    log the deferral in the same shape, the address in the server's reply masked."""
    make_list("digest", "Dialogue digest", default=True)
    reader = "reader@example.org"
    outbox.reply_to_rcpt(
        reader, f"450 4.2.2 <{reader}>: mailbox full", "450 4.2.2 <reader@example.org> full"
    )
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log_file:
        # Port 0: gunicorn takes a free port itself and says which (no other process can
        # take it between a probe and the bind).
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0",
             "newsletter:create_app()"],
            env=_server_env(app, tmp_path),
            cwd=ROOT,
            stderr=log_file,
        )  # fmt: skip
    try:
        _wait_for_line(log_path, r"Booting worker", timeout=30)
        port = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text())
        assert port, log_path.read_text()
        url = f"http://127.0.0.1:{port.group(1)}"
        urllib.request.urlopen(url + "/healthz", timeout=30)  # noqa: S310 - http://
        _subscribe(url, reader)
        served = _wait_for_line(log_path, "deferred")
    finally:
        _stop(server)
    ours = [record for record in served if record[1].startswith("newsletter")]
    assert len(ours) == 1, served
    assert ours[0][:2] == ("WARNING", "newsletter.mailing.queue")
    assert re.fullmatch(r"mail \d+ deferred: .*450 4\.2\.2 <<address>>: mailbox full", ours[0][2])

    with app.app_context():  # due now, for the command
        due = utcnow() - timedelta(seconds=1)
        db.session.execute(sa.update(OutgoingMail).values(next_attempt_at=due))
        db.session.commit()
    flushed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "newsletter", "mail", "flush"],
        env=_server_env(app, tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [record] = _records(flushed.stderr)
    assert record[:2] == ("WARNING", "newsletter.mailing.queue")
    assert re.fullmatch(r"mail \d+ deferred: .*450 4\.2\.2 <<address>> full", record[2])
    assert reader not in log_path.read_text() + flushed.stderr


@pytest.mark.slow
def test_a_celery_worker_logs_as_the_app_does(app, tmp_path):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "newsletter.tasks", "worker",
             "--pool", "solo", "--loglevel", "info", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-Q", "newsletter"],
            env=_server_env(app, tmp_path, NEWSLETTER_CELERY_BROKER_URL=REDIS_URL),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,  # the banner
            stderr=log_file,
        )  # fmt: skip
    try:
        records = _wait_for_line(log_path, r"ready\.", timeout=60)
    finally:
        _stop(worker)
    assert any(
        level == "INFO" and logger.startswith("celery") and message.endswith("ready.")
        for level, logger, message in records
    ), records
