"""Who may reach which staff page: the guard on the blueprint, roles, login rules."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from newsletter.auth.models import StaffUser
from newsletter.extensions import db
from newsletter.web.staff import ADMIN_ONLY, PUBLIC_ENDPOINTS
from tests.conftest import STAFF_PASSWORD, form_values


def _staff_urls(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every staff route and every value of its ``any``
    parts, with 1 for each id."""
    from werkzeug.routing.converters import AnyConverter

    adapter = app.url_map.bind("localhost")
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff.") or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        choices: list[dict[str, object]] = [{}]
        for name, converter in rule._converters.items():
            options = sorted(converter.items) if isinstance(converter, AnyConverter) else [1]
            choices = [{**values, name: option} for values in choices for option in options]
        for values in choices:
            url = adapter.build(rule.endpoint, values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                urls.append((rule.endpoint, method, url))
    return urls


def test_every_staff_url_needs_a_login(app, client):
    urls = _staff_urls(app)
    assert len(urls) > 30  # the walk found the staff routes
    token = form_values(client.get("/subscribe").get_data(as_text=True))["csrf_token"]
    for endpoint, method, url in urls:
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302, endpoint
            assert response.headers["Location"].startswith("/staff/login?next="), endpoint
        else:
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 401, endpoint
            assert "Please log in" in response.get_data(as_text=True)


def test_admin_pages_refuse_editors(app, client, staff_login):
    staff_login("editor@example.org", "editor")
    admin_urls = [entry for entry in _staff_urls(app) if entry[0] in ADMIN_ONLY]
    assert {endpoint for endpoint, _, _ in admin_urls} == {
        "staff.people",
        "staff.person",
        "staff.person_password",
        "staff.settings",
        "staff.reports_erase",  # erasing a report requester's data is an admin's
        # subscribers: editors see them and change their lists; adding, exporting
        # (the CSV, one person's data, the record of exports) and erasing are an admin's
        "staff.subscribers_new",
        "staff.subscribers_export",
        "staff.subscribers_exports",
        "staff.subscriber_data",
        "staff.subscriber_erase",
        # lists: editors see their figures; changing them is an admin's
        "staff.lists_create",
        "staff.lists_edit",
        "staff.lists_archive",
        "staff.lists_restore",
        "staff.lists_delete",
        "staff.imports_index",  # importing subscribers is an admin's
        "staff.imports_upload",
        "staff.imports_show",
        "staff.imports_start",
        "staff.imports_again",
        "staff.imports_progress",
        "staff.imports_rejected",
    }
    token = staff_login.csrf_token()
    for endpoint, method, url in admin_urls:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 403, endpoint
        assert "Only an admin can do that." in response.get_data(as_text=True)


def test_editor_reaches_content_pages(client, staff_login):
    staff_login()
    for path in (
        "/staff/",
        "/staff/sessions",
        "/staff/series",
        "/staff/digests",
        "/staff/sessions/import",
        "/staff/sessions/new",
        "/staff/account",
        "/staff/reports",
        "/staff/reports?status=all",
        "/staff/reports/record.csv",
        "/staff/subscribers",
        "/staff/subscribers?status=active&sort=email",
        "/staff/lists",
        "/staff/inbound",
        "/staff/inbound?show=all",
    ):
        assert client.get(path).status_code == 200, path


def _login(client, email: str, password: str, next_: str = "") -> object:
    values = form_values(client.get(f"/staff/login?next={next_}").get_data(as_text=True))
    values.update({"email": email, "password": password})
    return client.post("/staff/login", data=values)


def test_failed_login_does_not_say_whether_the_account_exists(client, make_staff):
    make_staff("editor@example.org")
    wrong_password = _login(client, "editor@example.org", "not the password")
    unknown = _login(client, "nobody@example.org", "not the password")
    not_an_address = _login(client, "nobody", "x")
    for response in (wrong_password, unknown, not_an_address):
        assert response.status_code == 400
        assert "Email or password is incorrect." in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize(
    ("next_", "expected"),
    [
        ("/staff/digests", "/staff/digests"),
        ("//evil.example/steal", "/staff/"),
        ("https://evil.example/", "/staff/"),
        ("/\\evil.example", "/staff/"),
        ("", "/staff/"),
    ],
)
def test_next_redirect_stays_on_our_site(client, make_staff, next_, expected):
    make_staff("editor@example.org")
    response = _login(client, "editor@example.org", STAFF_PASSWORD, next_)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


@pytest.mark.app_config(LOGIN_LIMIT_PER_IP="3 per minute")
def test_login_is_rate_limited(client, make_staff):
    make_staff("editor@example.org")
    codes = [_login(client, "editor@example.org", "wrong password").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]


def test_session_cookie_flags(client, staff_login):
    staff_login()
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.secure  # BASE_URL is https in the tests
    assert cookie.same_site == "Lax"


def test_logout_ends_the_session(client, staff_login):
    staff_login()
    response = client.post("/staff/logout", data={"csrf_token": staff_login.csrf_token()})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 302


def test_deactivation_ends_sessions_at_once(app, client, staff_login):
    staff_login()
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser))
        user.is_active = False
        user.session_version += 1
        db.session.commit()
    assert client.get("/staff/").status_code == 302


def test_admin_manages_staff(app, client, staff_login):
    staff_login("admin@example.org", "admin")
    token = staff_login.csrf_token("/staff/people")
    added = client.post(
        "/staff/people",
        data={
            "csrf_token": token,
            "email": "New@Example.org",
            "name": "New Editor",
            "role": "editor",
            "password": "a long enough password",
        },
    )
    assert added.status_code == 302
    too_short = client.post(
        "/staff/people",
        data={
            "csrf_token": token,
            "email": "x@example.org",
            "role": "editor",
            "password": "short",
        },
    )
    assert too_short.status_code == 400
    assert "at least 12 characters" in too_short.get_data(as_text=True)
    duplicate = client.post(
        "/staff/people",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "role": "editor",
            "password": "a long enough password",
        },
    )
    assert "There is a staff account for new@example.org already." in duplicate.get_data(
        as_text=True
    )

    with app.app_context():
        new = db.session.scalar(
            sa.select(StaffUser).where(StaffUser.email_key == "new@example.org")
        )
        admin = db.session.scalar(
            sa.select(StaffUser).where(StaffUser.email_key == "admin@example.org")
        )
        new_id, admin_id = new.id, admin.id
    response = client.post(f"/staff/people/{new_id}", data={"csrf_token": token, "role": "admin"})
    assert response.status_code == 302
    with app.app_context():
        changed = db.session.get(StaffUser, new_id)
        assert changed.role.value == "admin"
        assert changed.is_active is False  # the box was not ticked

    own = client.post(
        f"/staff/people/{admin_id}", data={"csrf_token": token, "role": "editor", "active": "y"}
    )
    assert own.status_code == 400
    assert "You cannot change your own role" in own.get_data(as_text=True)


def test_password_change_logs_out_other_sessions(app, client, staff_login):
    staff_login()
    other = app.test_client()
    values = form_values(other.get("/staff/login").get_data(as_text=True))
    values.update({"email": "editor@example.org", "password": STAFF_PASSWORD})
    assert other.post("/staff/login", data=values).status_code == 302

    token = staff_login.csrf_token("/staff/account")
    wrong = client.post(
        "/staff/account",
        data={"csrf_token": token, "current": "nope", "password": "a brand new password"},
    )
    assert "That is not your current password." in wrong.get_data(as_text=True)
    changed = client.post(
        "/staff/account",
        data={"csrf_token": token, "current": STAFF_PASSWORD, "password": "a brand new password"},
    )
    assert changed.status_code == 302
    assert client.get("/staff/").status_code == 200
    assert other.get("/staff/").status_code == 302


def test_staff_create_command(runner, app):
    result = runner.invoke(
        args=["staff", "create", "boss@example.org", "--role", "admin"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org." in result.output
    short = runner.invoke(args=["staff", "create", "b@example.org", "--password", "short"])
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    listed = runner.invoke(args=["staff", "list"])
    assert "boss@example.org" in listed.output
    assert "admin" in listed.output
