"""Staff logins under attack: nobody can lock the owner out, limits follow the address as
the lookup reads it, the owner hears of repeated failures, sessions end at logout and
are new at login, weak passwords are refused."""

from __future__ import annotations

import time

import pytest

from tests.conftest import STAFF_PASSWORD, form_values
from tests.subscriptions.helpers import subscribe, text_of

OWNER_IP = {"REMOTE_ADDR": "198.51.100.7"}


def _login(client, email: str, password: str, environ: dict[str, str] | None = None):
    environ = environ or {"REMOTE_ADDR": "127.0.0.1"}
    page = client.get("/staff/login", environ_base=environ)
    values = form_values(page.get_data(as_text=True))
    values.update({"email": email, "password": password})
    return client.post("/staff/login", data=values, environ_base=environ)


@pytest.mark.app_config(
    LOGIN_SLOWDOWN_AFTER=5, LOGIN_SLOWDOWN_MAX_SECONDS=0.3, LOGIN_ALERT_AFTER=10
)
def test_failures_from_elsewhere_never_refuse_the_right_password(app, client, make_staff, outbox):
    make_staff("editor@example.org")
    for attempt in range(24):  # an attacker spread over many addresses
        attacker = {"REMOTE_ADDR": f"203.0.113.{attempt % 12 + 1}"}
        assert _login(client, "editor@example.org", "guess", attacker).status_code == 400

    started = time.monotonic()
    owner = app.test_client()
    response = _login(owner, "editor@example.org", STAFF_PASSWORD, OWNER_IP)
    assert response.status_code == 302  # slowed down, not refused
    assert time.monotonic() - started >= 0.3
    assert owner.get("/staff/").status_code == 200

    # The owner was told once, however many failures followed.
    alerts = [m for m in outbox.received if "failed" in str(m.message["Subject"]).lower()]
    assert [m.to for m in alerts] == ["editor@example.org"]
    assert "24" not in str(alerts[0].message["Subject"])
    assert "None was accepted" in text_of(alerts[0])


@pytest.mark.app_config(LOGIN_LIMIT_PER_ACCOUNT="3 per hour", LOGIN_SLOWDOWN_AFTER=100)
def test_one_address_guessing_one_account_is_refused_and_the_owner_is_not(client, make_staff):
    make_staff("editor@example.org")
    codes = [
        _login(client, "editor@example.org", "guess", {"REMOTE_ADDR": "203.0.113.9"}).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    assert _login(client, "editor@example.org", STAFF_PASSWORD, OWNER_IP).status_code == 302


@pytest.mark.app_config(LOGIN_LIMIT_PER_ACCOUNT="3 per hour", LOGIN_SLOWDOWN_AFTER=100)
@pytest.mark.parametrize(
    "variant", ["editor@ｅｘａｍｐｌｅ.org", "editor@example．org", " EDITOR@Example.ORG "]
)
def test_login_limit_is_keyed_on_the_address_the_lookup_uses(client, make_staff, variant):
    make_staff("editor@example.org")
    for _ in range(3):
        assert _login(client, "editor@example.org", "guess").status_code == 400
    assert _login(client, variant, "guess").status_code == 429


@pytest.mark.app_config(SUBSCRIBE_LIMIT_PER_ADDRESS="2 per hour")
@pytest.mark.parametrize("variant", ["target@ｅｘａｍｐｌｅ.org", "target@example．org"])
def test_subscribe_limit_is_keyed_on_the_normalised_address(client, make_list, variant):
    make_list("digest", "Dialogue digest", default=True)
    for number in range(2):
        environ = {"REMOTE_ADDR": f"203.0.113.{number + 1}"}
        assert subscribe(client, "target@example.org", environ).status_code == 302
    assert subscribe(client, variant, {"REMOTE_ADDR": "203.0.113.50"}).status_code == 429


def test_a_copied_cookie_stops_working_at_logout(app, client, staff_login):
    staff_login()
    stolen = client.get_cookie("session").value
    token = staff_login.csrf_token()
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="localhost")
    assert thief.get("/staff/").status_code == 302


def test_login_starts_a_new_session(client, make_staff):
    make_staff("editor@example.org")
    before = form_values(client.get("/staff/login").get_data(as_text=True))["csrf_token"]
    response = _login(client, "editor@example.org", STAFF_PASSWORD)
    assert response.status_code == 302
    page = client.get("/staff/account").get_data(as_text=True)
    after = form_values(page, having="current")["csrf_token"]
    assert client.get_cookie("session") is not None
    # A token issued before the login (which someone may have seen) is of no use after.
    refused = client.post(
        "/staff/account",
        data={"csrf_token": before, "current": STAFF_PASSWORD, "password": "x" * 20},
    )
    assert refused.status_code == 400
    assert "expired" in refused.get_data(as_text=True)
    assert before != after


@pytest.mark.app_config(LOGIN_LIMIT_PER_ACCOUNT="3 per hour")
def test_the_current_password_check_is_rate_limited(client, staff_login):
    staff_login()
    token = staff_login.csrf_token("/staff/account")
    codes = [
        client.post(
            "/staff/account",
            data={"csrf_token": token, "current": "guess", "password": "a brand new password"},
        ).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("qwerty123456", "too common"),
        ("QwertyQwerty", "too common"),
        ("new.person@example.org", "your email address"),
        ("New.Person@Example.org", "your email address"),
    ],
)
def test_common_passwords_and_the_own_address_are_refused(client, staff_login, password, reason):
    staff_login("admin@example.org", "admin")
    token = staff_login.csrf_token("/staff/people")
    response = client.post(
        "/staff/people",
        data={
            "csrf_token": token,
            "email": "new.person@example.org",
            "role": "editor",
            "password": password,
        },
    )
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)


def test_a_common_new_password_is_refused_on_the_account_page(client, staff_login):
    staff_login()
    token = staff_login.csrf_token("/staff/account")
    response = client.post(
        "/staff/account",
        data={"csrf_token": token, "current": STAFF_PASSWORD, "password": "1q2w3e4r5t6y7u8i9o0p"},
    )
    assert response.status_code == 400
    assert "too common" in response.get_data(as_text=True)
