"""What a security review tried on the running app: no 500 for odd URLs, no header
injection through ``next``, private pages never cached, HSTS on an https site."""

from __future__ import annotations

import pytest

from tests.conftest import STAFF_PASSWORD, form_values
from tests.subscriptions.helpers import confirm_link, subscribe


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)


@pytest.mark.parametrize(
    "url",
    [
        "/archive?page=99999999999999999999999",
        "/archive?page=9223372036854775807",
        "/archive?page=-5",
        "/archive/%00",
        "/archive/a%00b",
        "/sessions/%00",
        "/unsubscribe/%00",
        "/preferences/%00",
        "/confirm/%00",
        "/?x=%00",
        "/subscribe?email=%00",
    ],
)
def test_odd_public_urls_get_an_answer_not_a_500(app, client, url):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    response = client.get(url)
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)[:500]
    assert "Something went wrong on our side" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/staff/digests/99999999999999999999999", "/staff/sessions/9223372036854775808"]
)
def test_ids_too_large_for_the_database_are_404(app, client, staff_login, url):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    staff_login()
    assert client.get(url).status_code == 404


def test_hidden_fields_with_a_nul_byte_are_refused_with_a_reason(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    page = client.get("/subscribe").get_data(as_text=True)
    for field, value in (("consent_version", "ab\x00cd"), ("lists", "dig\x00est")):
        values = form_values(page)
        values.pop("website", None)
        values.update({"email": "nul@example.org", field: value})
        response = client.post("/subscribe", data=values)
        assert response.status_code == 400, field
        assert "Something went wrong" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "next_", ["/staff/\r\nSet-Cookie: x=1", "/staff/\nX-Injected: 1", "/staff/%0d%0aX: 1"]
)
def test_line_breaks_in_next_never_reach_a_header(app, client, make_staff, next_):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    make_staff("editor@example.org")
    values = form_values(client.get("/staff/login").get_data(as_text=True))
    values.update({"email": "editor@example.org", "password": STAFF_PASSWORD, "next": next_})
    response = client.post("/staff/login", data=values)
    assert response.status_code == 302
    assert "\n" not in response.headers["Location"]
    assert "Set-Cookie: x" not in str(response.headers)


def test_staff_pages_are_never_cached(client, staff_login):
    assert client.get("/staff/login").headers["Cache-Control"] == "no-store"
    staff_login()
    for path in ("/staff/", "/staff/digests", "/staff/sessions", "/staff/account"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_pages_reached_by_a_personal_link_are_never_cached(client, outbox):
    subscribe(client, "private@example.org")
    link = confirm_link(outbox.wait_for(1)[0])
    assert client.get(link).headers["Cache-Control"] == "no-store"
    confirmed = client.post(link, data=form_values(client.get(link).get_data(as_text=True)))
    assert confirmed.headers["Cache-Control"] == "no-store"
    welcome = outbox.wait_for(2)[1]
    text = welcome.message.get_body(("plain",)).get_content()
    for marker in ("/unsubscribe/", "/preferences/"):
        url = text.split("https://news.example.org" + marker, 1)[1].split()[0]
        page = client.get(marker + url)
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "no-store", marker
    # Public pages may be cached as usual.
    assert "no-store" not in client.get("/archive").headers.get("Cache-Control", "")


def test_hsts_when_the_site_is_https(client):
    assert client.get("/").headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.app_config(BASE_URL="http://127.0.0.1:5000")
def test_no_hsts_on_a_plain_http_site(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
