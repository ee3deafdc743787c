"""Core fixtures: a new app per test on a real database, a real SMTP server, a client.

The database is SQLite (a file per test, a copy of the schema the models built once)
unless NEWSLETTER_TEST_DATABASE_URL names a PostgreSQL database: then the migrations
build the schema once and every table a test wrote to is emptied after it. What the
apps of a session share to start fast is in ``tests/setup_cache.py``.
"""

from __future__ import annotations

import os
import re
import smtplib
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from newsletter import create_app
from newsletter.extensions import db
from tests import setup_cache
from tests.smtp_sink import SMTPSink

TEST_DATABASE_URL = os.environ.get("NEWSLETTER_TEST_DATABASE_URL")

pytest_plugins = ["tests.browser", "tests.reports.fixtures"]


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SMTPSink]:
    sink = SMTPSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def _only_the_test_smtp_server(monkeypatch: pytest.MonkeyPatch, smtp_sink: SMTPSink) -> None:
    """Fail any SMTP connection other than to the test server."""
    real_connect = smtplib.SMTP.connect

    def guarded(
        self: smtplib.SMTP, host: str = "localhost", port: int = 0, *args: Any, **kwargs: Any
    ) -> Any:
        if (host, int(port)) != ("127.0.0.1", smtp_sink.port):
            raise AssertionError(f"test tried to reach SMTP server {host}:{port}")
        return real_connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded)
    smtp_sink.reset()


@pytest.fixture(scope="session", autouse=True)
def _shared_url_builders() -> Iterator[None]:
    undo = setup_cache.share_url_builders()
    yield
    undo()


@pytest.fixture(scope="session")
def _sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """On SQLite, an empty database with the schema, built once; each test gets a copy."""
    if TEST_DATABASE_URL:
        return None
    folder = tmp_path_factory.mktemp("schema")
    path = folder / "schema.sqlite3"
    setup_cache.build_sqlite_schema(create_app(_config(f"sqlite:///{path}", None, folder)), path)
    return path


@pytest.fixture(scope="session")
def _migrated_database() -> str | None:
    """On PostgreSQL, build the schema once with the migrations (as production does)."""
    if not TEST_DATABASE_URL:
        return None
    app = create_app(_config(TEST_DATABASE_URL, None, Path("/nonexistent")))
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return TEST_DATABASE_URL


def _config(database_url: str, smtp_port: int | None, tmp_path: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test secret key, as long as production needs",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BASE_URL": "https://news.example.org",
        "SITE_NAME": "Dialogue Digest",
        "ORGANISATION_NAME": "Example Society",
        "POSTAL_ADDRESS": "1 Example Street, 1000 Example City",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port or 25,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_DEFAULT_SENDER": "Dialogue Digest <digest@news.example.org>",
        "MAIL_DISPATCH": "inline",
        "MAIL_TIMEOUT": 5,
        "MAIL_LOCAL_HOSTNAME": "test.local",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_STORAGE_URI": "memory://",
        # The staff home shows the figures of the moment, not ones kept for minutes.
        "DASHBOARD_CACHE_SECONDS": 0,
        # Sends run where a test runs them, not in a background thread of the app.
        "SEND_BACKGROUND": False,
        # Staff passwords hash fast in tests; production uses scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


@pytest.fixture
def app_config(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    smtp_sink: SMTPSink,
    _migrated_database: str | None,
    _sqlite_schema: Path | None,
) -> dict[str, Any]:
    """The configuration ``app`` is built from; ``@pytest.mark.app_config(KEY=value)``
    changes it for one test."""
    url = _migrated_database
    if _sqlite_schema is not None:
        url = setup_cache.copy_sqlite_schema(_sqlite_schema, tmp_path / "test.sqlite3")
    assert url is not None
    config = _config(url, smtp_sink.port, tmp_path)
    for marker in reversed(list(request.node.iter_markers("app_config"))):
        config.update(marker.kwargs)
    return config


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    setup_cache.share_compiled_templates(app)
    yield app
    from newsletter.delivery import execution

    execution.stop_background(app)
    # Mail the test's requests handed to the background mail thread leaves now, not
    # into the next test's outbox.
    mail_thread = app.extensions.get("newsletter.mail_thread")
    if mail_thread is not None:
        mail_thread.shutdown(wait=True)
    with app.app_context():
        db.session.remove()
        if TEST_DATABASE_URL:
            with db.engine.begin() as connection:
                setup_cache.empty_written_tables(connection)
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def outbox(smtp_sink: SMTPSink) -> SMTPSink:
    """What the SMTP server received during this test."""
    return smtp_sink


# -- page helpers ----------------------------------------------------------------------


class _FormParser(HTMLParser):
    """The forms of a page's content (forms inside <nav>, like log out, are left out)."""

    def __init__(self, convert_charrefs: bool = True) -> None:
        super().__init__(convert_charrefs=convert_charrefs)
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None
        self._nav_depth = 0
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "nav":
            self._nav_depth += 1
        if self._nav_depth:
            return
        if tag == "form":
            self._in_form = True
            self.forms.append({"action": values.get("action"), "fields": {}})
        elif not self._in_form or "disabled" in values:
            return
        elif tag == "input" and values.get("name"):
            self._input(values)
        elif tag == "textarea" and values.get("name"):
            self._textarea = values["name"]
            self.forms[-1]["fields"].setdefault(self._textarea, []).append("")
        elif tag == "select" and values.get("name"):
            self._select = values["name"]
        elif tag == "option" and "selected" in values and getattr(self, "_select", None):
            self.forms[-1]["fields"].setdefault(self._select, []).append(values.get("value") or "")

    def _input(self, values: dict[str, str | None]) -> None:
        """The value an input sends: unticked boxes and buttons send none."""
        kind = values.get("type", "text")
        unticked = kind in ("checkbox", "radio") and "checked" not in values
        if unticked or kind in ("submit", "button"):
            return
        self.forms[-1]["fields"].setdefault(values["name"], []).append(values.get("value") or "")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.forms[-1]["fields"][self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._nav_depth:
            self._nav_depth -= 1
        elif tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def forms(html: str) -> list[dict[str, Any]]:
    """Each form of a page: its action and the values its inputs would send."""
    parser = _FormParser(convert_charrefs=True)
    parser.feed(html)
    for form in parser.forms:  # a textarea's first newline belongs to the markup
        for name, values in form["fields"].items():
            form["fields"][name] = [v[1:] if v.startswith("\n") else v for v in values]
    return parser.forms


def form_values(html: str, index: int = 0, having: str | None = None) -> dict[str, Any]:
    """The values a page's form would send, one value per field (lists for repeated
    fields): the ``index``-th form, or the first one with a field named ``having``."""
    found = forms(html)
    if having is not None:
        found = [form for form in found if having in form["fields"]]
        index = 0
    fields = found[index]["fields"]
    return {name: values if len(values) > 1 else values[0] for name, values in fields.items()}


def find_link(text: str, path: str) -> str:
    """The first absolute link in ``text`` whose path starts with ``path``."""
    match = re.search(r"https://news\.example\.org" + re.escape(path) + r"[^\s\"<>]*", text)
    assert match, f"no link to {path} in:\n{text}"
    return match.group(0)


def local(url: str) -> str:
    """A link from an email, made relative for the test client."""
    return url.replace("https://news.example.org", "")


STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_staff(app: Flask) -> Callable[..., Any]:
    """Create a staff account; returns its email."""
    from newsletter.auth.models import Role
    from newsletter.auth.services import create_staff

    def make(email: str = "editor@example.org", role: str = "editor", name: str = "") -> str:
        with app.app_context():
            user = create_staff(email, STAFF_PASSWORD, role=Role(role), name=name)
            db.session.commit()
            return user.email

    return make


class StaffLogin:
    """Log a test client in as a staff member, through the login form."""

    def __init__(self, client: FlaskClient, make_staff: Callable[..., Any]) -> None:
        self.client = client
        self.make_staff = make_staff

    def __call__(self, email: str = "editor@example.org", role: str = "editor") -> str:
        self.make_staff(email, role)
        login_page = self.client.get("/staff/login")
        values = form_values(login_page.get_data(as_text=True))
        values.update({"email": email, "password": STAFF_PASSWORD})
        response = self.client.post("/staff/login", data=values)
        assert response.status_code == 302, response.get_data(as_text=True)
        return email

    def csrf_token(self, path: str = "/staff/") -> str:
        """A CSRF token of this client's session, as any staff page carries it."""
        html = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)


@pytest.fixture
def staff_login(client: FlaskClient, make_staff: Callable[..., Any]) -> StaffLogin:
    return StaffLogin(client, make_staff)


@pytest.fixture
def make_list(app: Flask) -> Callable[..., Any]:
    from newsletter.subscriptions.lists import create_list

    def make(slug: str = "digest", name: str = "Dialogue digest", **kwargs: Any) -> Any:
        with app.app_context():
            created = create_list(slug, name, **kwargs)
            db.session.commit()
            return created.slug

    return make
