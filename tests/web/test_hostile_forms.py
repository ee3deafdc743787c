"""Every form of the site, staff and public, posted with hostile text: no 500 anywhere,
and a refused post leaves everything as it was.

The forms are found, not listed: every page the site serves (and every page a valid post
answers with) is read, and each form on it becomes a target; every mutating route of
``app.url_map`` must be reached that way (or be named below), so a new form is covered
as soon as a page shows it. For each target, a valid post must be accepted (else the
hostile ones would prove nothing); then each text field in turn is set to 10,000 characters,
to text with CR/LF, and to text with a NUL byte, the other fields valid (boxes ticked).

After every post: no text in the database holds a NUL or is longer than its column (what
PostgreSQL would refuse, checked on SQLite too). After a refused post (a 4xx, or an
error flashed): every row of every table and every file of the outbox is unchanged.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing.converters import AnyConverter

from newsletter.auth.models import Role
from newsletter.auth.services import create_staff
from newsletter.digests import services as digests
from newsletter.extensions import db
from newsletter.mailing import outbox
from newsletter.reports.models import ReportRequest
from newsletter.sessions import services as sessions
from newsletter.subscriptions import roster
from newsletter.subscriptions import services as subscriptions
from newsletter.subscriptions.lists import create_list
from newsletter.tokens import Purpose, make_token
from tests.conftest import STAFF_PASSWORD

pytestmark = [
    pytest.mark.slow,
    # No mail server: mail lands in the outbox, whose routes are then served (and posted).
    # Limits no walk reaches.
    pytest.mark.app_config(
        MAIL_SERVER=None,
        SUBSCRIBE_LIMIT_PER_IP="100000 per minute",
        SUBSCRIBE_LIMIT_PER_ADDRESS="100000 per minute",
        LOGIN_LIMIT_PER_IP="100000 per minute",
        LOGIN_LIMIT_PER_ACCOUNT="100000 per minute",
        REPORT_REQUEST_LIMIT_PER_IP="100000 per minute",
        REPORT_REQUEST_LIMIT_PER_ADDRESS="100000 per minute",
        LOGIN_SLOWDOWN_AFTER=100000,  # wrong passwords here are the walk's, not a guesser's
    ),
]

SAMPLE = Path(__file__).resolve().parents[2] / "newsletter/demo/has-track2-session-2020-06-08.txt"
ADMIN = "admin@example.org"
HOSTILE = {
    "10,000 characters": "x" * 10_000,
    "CR/LF": "first line\r\nBcc: victim@example.org\r\n",
    "a NUL byte": "before\x00after",
}
# A valid value for a field its page leaves empty; per route where one value cannot fit.
VALID = {
    "email": ADMIN,
    "password": STAFF_PASSWORD,
    "current": STAFF_PASSWORD,
    "series_name": "Series",
    "title": "A session",
    "subject": "A subject",
    "text": "A point of the summary.",
    "points": "A point.\n\nAnother point.",
    "when": "2999-01-01T10:00",
    "sure": "y",
}
VALID_FOR = {
    "staff.people": {"email": "new.colleague@example.org"},
    "staff.lists_create": {"slug": "events", "name": "Events"},
    "staff.subscribers_new": {"email": "added@example.org", "consent_note": "by letter"},
    "staff.subscriber_resubscribe": {"consent_note": "by letter"},
    "public.subscribe": {"email": "reader@example.org"},
    "staff.sessions_import": {"text": SAMPLE.read_text(encoding="utf-8")},
    "public.report_request": {
        "email": "reader@example.org",
        "name": "A reader",
        "purpose": "Research on the talks.",
    },
}
# Routes whose form no page of this world shows, with the fields they take.
NOT_ON_A_PAGE: dict[str, dict[str, str]] = {
    "staff.logout": {},  # in the navigation
    "public.confirm_resend": {},  # on the page of an expired link
    "staff.lists_restore": {},  # on an archived list's page
    "staff.imports_again": {},  # on the report of a finished dry run
}
# Routes that refuse even a valid post in this world (what they refuse is tested elsewhere).
REFUSED_WHEN_VALID = {
    # The digest is a draft: nothing to pause, resume, cancel or unschedule.
    ("staff.digests_control", action)
    for action in ("pause", "resume", "cancel", "unschedule")
} | {
    # A form post carries no file here (uploads are tested in tests/reports/test_files.py).
    ("staff.reports_upload", None),
    ("staff.imports_upload", None),
    # The world's uploaded import has lost its file, and is no finished dry run.
    ("staff.imports_start", None),
    ("staff.imports_again", None),
}
# Inputs that choose rather than take text.
_CHOICES = {"checkbox", "radio", "submit", "button", "file", "image", "reset"}
# Which token a route's <token> is, by the first part (or two) of its path.
TOKENS = {
    "confirm": "confirm",
    "unsubscribe": "unsubscribe",
    "preferences": "preferences",
    "reports/verify": "report_verify",
    "reports/download": "report_download",
    "reports/erase": "report_erase",
}


# -- forms on pages ------------------------------------------------------------------------


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    texts: set[str] = field(default_factory=set)  # the fields a person types into
    formactions: list[str] = field(default_factory=list)  # buttons that post elsewhere


class _Forms(HTMLParser):
    """Every form of a page (navigation included), each field with a value it may send:
    a box counts as ticked (its value is a valid one; the first, for a group) and a
    select sends its chosen option, else its first."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._field: str | None = None  # the select or textarea being read
        self._textarea = False
        self._chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("method", "get").lower() == "post":
            self.forms.append(Form(values.get("action") or self.page))
        elif not self.forms or "disabled" in values:
            return
        elif tag == "button" and values.get("formaction"):
            self.forms[-1].formactions.append(values["formaction"])
        elif tag == "input" and values.get("name") and values.get("type") != "submit":
            self.forms[-1].fields.setdefault(values["name"], values.get("value", "on"))
            if values.get("type", "text") not in _CHOICES:
                self.forms[-1].texts.add(values["name"])
        elif tag in ("textarea", "select") and values.get("name"):
            self._field, self._textarea, self._chosen = values["name"], tag == "textarea", False
            self.forms[-1].fields.setdefault(self._field, "")
            if tag == "textarea":
                self.forms[-1].texts.add(self._field)
        elif tag == "option" and self._field and (not self._chosen or "selected" in values):
            if not self.forms[-1].fields[self._field] or "selected" in values:
                self.forms[-1].fields[self._field] = values.get("value", "")
            self._chosen = "selected" in values

    def handle_data(self, data: str) -> None:
        if self._textarea and self._field:
            self.forms[-1].fields[self._field] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._field:  # its first line break is markup
            fields = self.forms[-1].fields
            fields[self._field] = re.sub(r"^\r?\n", "", fields[self._field])
        if tag in ("textarea", "select"):
            self._field, self._textarea = None, False


def forms_on(page: str, html: str) -> list[Form]:
    parser = _Forms(page)
    parser.feed(html)
    return parser.forms


# -- the world the forms act on --------------------------------------------------------------


def build_world(app: Flask) -> dict[str, Any]:
    """Staff, two lists, a session with points, a digest of them, an empty series, an active
    and a pending subscriber, and a message in the outbox."""
    with app.test_request_context():
        admin = create_staff(ADMIN, STAFF_PASSWORD, role=Role.ADMIN)
        editor = create_staff("editor@example.org", STAFF_PASSWORD, role=Role.EDITOR)
        digest_list = create_list("digest", "Dialogue digest", default=True)
        other_list = create_list("briefings", "Briefings")  # one that can be archived
        session = sessions.create_session(
            sessions.SessionData(series_name="Series", title="A session", is_published=True),
            ["The first point.", "The second point."],
        )
        sessions.series_named("Unused series")  # one that can be deleted
        digest = digests.create_from_session(session, admin)
        sessions.add_point(session, "A point not in the digest yet.")
        active = roster.add_subscriber(
            "active@example.org", lists=[digest_list], consent_note="test"
        ).subscriber
        subscriptions.request_subscription(
            subscriptions.SubscribeRequest(
                email="pending@example.org", consent_version=subscriptions.current_consent()[0]
            ),
            subscriptions.Origin(),
        )
        pending = subscriptions.subscriber_by_email("pending@example.org")
        assert pending is not None
        reports = _report_requests(session)
        job_id, message_id = _import_and_reply()
        db.session.commit()
        world = {
            "session_id": session.id,
            "point_id": session.points[0].id,
            "digest_id": digest.id,
            "item_id": digest.items[0].id,
            "series_id": session.series_id,
            "user_id": editor.id,
            "list_id": other_list.id,
            "subscriber_id": pending.id,  # whose page offers every action
            "slug": session.slug,
            "confirm": make_token(Purpose.CONFIRM, pending.public_id.hex),
            "unsubscribe": make_token(Purpose.UNSUBSCRIBE, active.public_id.hex),
            "preferences": make_token(Purpose.PREFERENCES, active.public_id.hex),
            "job_id": job_id,
            "message_id": message_id,
            **reports,
        }
    world["key"] = outbox.list_messages(app.config["OUTBOX_DIR"])[0].key
    return world


def _import_and_reply() -> tuple[int, int]:
    """An uploaded CSV file waiting for its options, whose file is gone (so starting it
    is refused here: the import's run is tested in tests/subscriptions/), and a reader's
    reply kept for staff."""
    from newsletter.bounces.models import InboundMessage, InboundOutcome
    from newsletter.subscriptions import imports

    job = imports.store_upload(io.BytesIO(b"email\na@example.org\n"), "a.csv", None, ADMIN)
    imports.path_of(job).unlink()
    reply = InboundMessage(
        fingerprint="0" * 64, origin="file", outcome=InboundOutcome.KEPT,
        sender_key="reader@example.org", subject="Re: the digest",
        raw=b"From: reader@example.org\r\nSubject: Re: the digest\r\n\r\nThanks.\r\n",
    )  # fmt: skip
    db.session.add(reply)
    db.session.flush()
    return job.id, reply.id


def _report_requests(session: Any) -> dict[str, Any]:
    """The session's detailed report, and requests for it: one unverified, one waiting
    for staff, one approved (its link sent)."""
    from newsletter.reports import decisions, files
    from newsletter.reports import services as reports
    from newsletter.reports.record import Actor
    from tests.reports.helpers import PDF

    version = files.upload(session, io.BytesIO(PDF), "report.pdf", Actor.operator())
    report = version.report
    found = {}
    for email in ("unverified@example.org", "waiting@example.org", "approved@example.org"):
        ask = reports.Ask(email=email, name="A reader", purpose="Research.")
        reports.ask(report, ask, subscriptions.Origin())
        found[email] = db.session.scalar(
            sa.select(ReportRequest).where(ReportRequest.email == email)
        )
    for email in ("waiting@example.org", "approved@example.org"):
        reports.verify(found[email].public_id.hex, subscriptions.Origin())
    grant = decisions.approve(found["approved@example.org"], Actor.operator())
    approved = found["approved@example.org"]
    return {
        "version_id": version.id,
        "request_id": approved.id,  # its page shows revocation and erasure
        "report_verify": make_token(
            Purpose.REPORT_VERIFY, found["unverified@example.org"].public_id.hex
        ),
        "report_download": make_token(Purpose.REPORT_DOWNLOAD, grant.public_id.hex),
        "report_erase": make_token(Purpose.REPORT_ERASE, approved.public_id.hex),
    }


@dataclass
class State:
    """Every row of every table and every file of the outbox."""

    rows: dict[str, list[dict[str, Any]]]
    files: dict[str, bytes]

    @classmethod
    def read(cls, app: Flask) -> State:
        with app.app_context(), db.engine.connect() as connection:
            rows = {
                table.name: [dict(row._mapping) for row in connection.execute(table.select())]
                for table in db.metadata.sorted_tables
            }
        folder = Path(app.config["OUTBOX_DIR"])
        files = {str(path.relative_to(folder)): path.read_bytes() for path in _files(folder)}
        return cls(rows, files)

    def restore(self, app: Flask) -> None:
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as connection:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())
                for table in db.metadata.sorted_tables:
                    if self.rows[table.name]:
                        connection.execute(table.insert(), self.rows[table.name])
        folder = Path(app.config["OUTBOX_DIR"])
        for path in _files(folder):
            path.unlink()
        for name, data in self.files.items():
            (folder / name).write_bytes(data)

    def same_as(self, other: State) -> bool:
        return self.files == other.files and all(
            sorted(map(repr, rows)) == sorted(map(repr, other.rows[name]))
            for name, rows in self.rows.items()
        )

    def text_problems(self) -> list[str]:
        """Texts PostgreSQL would refuse: a NUL, or more characters than the column holds."""
        problems = []
        for table in db.metadata.sorted_tables:
            for row in self.rows[table.name]:
                for column in table.columns:
                    value = row[column.name]
                    texts = value if isinstance(value, list) else [value]
                    for text in (item for item in texts if isinstance(item, str)):
                        length = getattr(column.type, "length", None)
                        if "\x00" in text or (length and len(text) > length):
                            problems.append(f"{table.name}.{column.name} = {text[:40]!r}…")
        return problems


def _files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


# -- the walk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    endpoint: str
    args: tuple[tuple[str, Any], ...]  # the URL's parts, as the page's form had them
    fields: tuple[tuple[str, str], ...]
    texts: frozenset[str]

    @property
    def key(self) -> tuple[str, Any]:
        return self.endpoint, dict(self.args).get("action")


class Walk:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.adapter = app.url_map.bind("localhost")
        self.rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
        self.targets: dict[tuple[str, Any], Target] = {}
        self.failures: list[str] = []
        self.world: dict[str, Any] = {}
        self.client: FlaskClient = app.test_client()
        self.token = ""

    def start(self) -> None:
        self.world = build_world(self.app)
        self.log_in()
        self.saved = self.state = State.read(self.app)

    def log_in(self) -> None:
        self.client = self.app.test_client()
        page = self.client.get("/staff/login").get_data(as_text=True)
        token = self._csrf(page)
        response = self.client.post(
            "/staff/login", data={"csrf_token": token, "email": ADMIN, "password": STAFF_PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        self.token = self._csrf(self.client.get("/staff/").get_data(as_text=True))

    def rebuild(self) -> None:
        """Back to the world as built (and logged in again, if a post logged out)."""
        if self.state is not self.saved and not self.state.same_as(self.saved):
            self.saved.restore(self.app)
        self.state = self.saved
        with self.client.session_transaction() as flask_session:
            logged_in = "_user_id" in flask_session
        if not logged_in or self.client.get("/staff/").status_code != 200:
            self.log_in()  # which records the login: the state to compare with is now
            self.state = State.read(self.app)

    @staticmethod
    def _csrf(html: str) -> str:
        match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
        assert match, "no CSRF token"
        return match.group(1)

    # Finding forms.

    def url(self, endpoint: str, args: dict[str, Any]) -> str:
        """A route's URL in this world: its ids and tokens are the world's."""
        values = {}
        for name, value in args.items():
            if name == "token":
                values[name] = self.world[_token_of(self.rules[endpoint].rule)]
            else:
                values[name] = self.world.get(name, value)
        return self.adapter.build(endpoint, values)

    def read(self, page: str, html: str) -> None:
        for form in forms_on(page, html):
            for action in (form.action, *form.formactions):
                self._add(action, form.fields, form.texts)

    def _add(self, action: str, fields: dict[str, str], texts: set[str]) -> None:
        try:
            endpoint, args = self.adapter.match(urlsplit(action).path, method="POST")
        except (NotFound, MethodNotAllowed):
            self.failures.append(f"a form posts to {action}, which is no route")
            return
        target = Target(
            endpoint, tuple(sorted(args.items())), tuple(sorted(fields.items())), frozenset(texts)
        )
        self.targets.setdefault(target.key, target)

    def crawl(self) -> None:
        """Every page the site serves, in this world: each URL part from the world, every
        value of an ``any`` part, as a visitor and as the logged-in admin."""
        for client in (self.app.test_client(), self.client):
            for rule in self.app.url_map.iter_rules():
                if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
                    continue
                for args in _choices(rule):
                    url = self.url(rule.endpoint, args)
                    response = client.get(url)
                    if response.status_code == 200 and response.mimetype == "text/html":
                        self.read(url, response.get_data(as_text=True))
        for endpoint, fields in NOT_ON_A_PAGE.items():
            args = dict.fromkeys(self.rules[endpoint].arguments, "")
            self._add(self.url(endpoint, args), fields, set(fields))

    # Posting.

    def post(self, target: Target, data: dict[str, str]) -> tuple[bool, bool] | None:
        """Post; return (refused, changed), or None after recording a failure. The world
        is restored row for row, so the ids in a page's form stay valid."""
        url = self.adapter.build(target.endpoint, dict(target.args))
        try:
            response = self.client.post(url, data={**data, "csrf_token": self.token})
        except Exception as error:  # the app raised: a 500 in production
            self.failures.append(f"{target.key}: {error!r} for {_describe(data)}")
            self.state = State.read(self.app)
            return None
        with self.client.session_transaction() as flask_session:
            flashed = flask_session.pop("_flashes", [])
        if target.endpoint == "staff.login" and response.status_code == 302:
            # A login starts a new session, with a new CSRF token: take it.
            self.token = self._csrf(self.client.get("/staff/").get_data(as_text=True))
        refused = response.status_code >= 400 or any(kind == "error" for kind, _ in flashed)
        if response.status_code >= 500:
            self.failures.append(f"{target.key}: {response.status_code} for {_describe(data)}")
        before, self.state = self.state, State.read(self.app)
        problems = self.state.text_problems()
        if problems:
            self.failures.append(f"{target.key}: stored {problems} for {_describe(data)}")
        changed = not self.state.same_as(before)
        if refused and changed:
            self.failures.append(f"{target.key}: refused but changed data for {_describe(data)}")
        if not refused and response.mimetype == "text/html":
            self.read(url, response.get_data(as_text=True))
        response.close()  # a file sent (a report) is open until then
        return refused, changed

    def valid(self, target: Target) -> dict[str, str]:
        overrides = VALID_FOR.get(target.endpoint, {})
        return {
            name: overrides.get(name) or value or VALID.get(name, "")
            for name, value in target.fields
            if name != "csrf_token"
        }

    def attack(self, target: Target) -> None:
        valid = self.valid(target)
        outcome = self.post(target, valid)
        if outcome is None:
            self.rebuild()
        else:
            refused, changed = outcome
            if refused != (target.key in REFUSED_WHEN_VALID):
                verdict = "refused" if refused else "accepted"
                self.failures.append(f"{target.key}: a valid post was {verdict}: {valid}")
            if changed or not refused:
                self.rebuild()
        # Each text field in turn (hidden ones too: they reach services as well); a form
        # of buttons and boxes gets text fields it does not expect, all at once.
        texts = sorted(target.texts - {"csrf_token"})
        posts = [{**valid, name: text} for name in texts for text in HOSTILE.values()] or [
            {f"unexpected{number}": text for number, text in enumerate(HOSTILE.values())}
        ]
        for data in posts:
            outcome = self.post(target, data)
            if outcome is None or outcome[1] or not outcome[0]:
                self.rebuild()  # accepted (or failed): the next post starts afresh


def _choices(rule: Any) -> list[dict[str, Any]]:
    choices: list[dict[str, Any]] = [{}]
    for name, converter in rule._converters.items():
        options = sorted(converter.items) if isinstance(converter, AnyConverter) else [""]
        choices = [{**values, name: option} for values in choices for option in options]
    return choices


def _token_of(path: str) -> str:
    parts = path.split("/")
    found = next((key for key in ("/".join(parts[1:3]), parts[1]) if key in TOKENS), None)
    assert found is not None, f"say in TOKENS which token the <token> of {path} is"
    return TOKENS[found]


def _describe(data: dict[str, str]) -> str:
    hostile = {name: value for name, value in data.items() if value in HOSTILE.values()}
    return ", ".join(f"{name}={next(k for k, v in HOSTILE.items() if v == value)}"
                     for name, value in hostile.items()) or "valid values"  # fmt: skip


def test_every_form_survives_hostile_text(app):
    walk = Walk(app)
    walk.start()
    walk.crawl()
    done: set[tuple[str, Any]] = set()
    while pending := [key for key in walk.targets if key not in done]:
        for key in pending:
            done.add(key)
            walk.attack(walk.targets[key])

    mutating = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
    }
    assert mutating - {endpoint for endpoint, _ in done} == set(), "no form found on any page"
    # The walk found the site's forms (a session's points and a digest's items are one form
    # each: the seven per-row routes they replaced are gone).
    assert len(done) > 30
    assert walk.failures == [], "\n".join(walk.failures)
