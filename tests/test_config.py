"""Configuration order and refusals."""

from __future__ import annotations

import pytest

from newsletter import create_app


def test_missing_secret_key_outside_debug_refuses_to_start(app_config, monkeypatch):
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    config = {**app_config, "SECRET_KEY": None}
    with pytest.raises(RuntimeError, match="NEWSLETTER_SECRET_KEY is not set"):
        create_app(config)


def test_debug_generates_a_key_once_in_the_instance_folder(app_config, monkeypatch, tmp_path):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    config = {**app_config, "SECRET_KEY": None}
    first = create_app(config)
    second = create_app(config)
    assert first.instance_path == str(tmp_path / "instance")
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 40
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.read_text() == first.config["SECRET_KEY"]
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_environment_overrides_defaults_and_test_config_wins(app_config, monkeypatch):
    monkeypatch.setenv("NEWSLETTER_SITE_NAME", "From Env")
    monkeypatch.setenv("NEWSLETTER_MAIL_PORT", "2525")
    monkeypatch.setenv("NEWSLETTER_MAIL_USE_TLS", "true")
    config = {
        key: value for key, value in app_config.items() if key not in ("SITE_NAME", "MAIL_PORT")
    }
    app = create_app(config)
    assert app.config["SITE_NAME"] == "From Env"
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["MAIL_USE_TLS"] is True
    assert create_app({**config, "SITE_NAME": "From Test"}).config["SITE_NAME"] == "From Test"


@pytest.mark.parametrize("url", ["news.example.org", "ftp://x.example", "https://"])
def test_base_url_must_be_an_origin(app_config, url):
    with pytest.raises(RuntimeError, match="NEWSLETTER_BASE_URL"):
        create_app({**app_config, "BASE_URL": url})


def test_https_base_url_makes_cookies_secure(app_config):
    app = create_app(app_config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    plain = create_app({**app_config, "BASE_URL": "http://127.0.0.1:5000"})
    assert plain.config["SESSION_COOKIE_SECURE"] is False
    assert plain.config["MAIL_DEFAULT_SENDER"] == app_config["MAIL_DEFAULT_SENDER"]
    default_sender = create_app(
        {**app_config, "BASE_URL": "http://127.0.0.1:5000", "MAIL_DEFAULT_SENDER": None}
    )
    assert default_sender.config["MAIL_DEFAULT_SENDER"] == (
        "Dialogue Digest <newsletter@localhost.localdomain>"
    )


def test_an_unexpected_error_is_a_plain_500_page(app):
    def broken() -> str:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/broken", "broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (tests see the exception)
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("CONTENT_LANGUAGE", "en\r\nBcc: x@example.org", "CONTENT_LANGUAGE must be a language"),
        ("CONTENT_LANGUAGE", "", "CONTENT_LANGUAGE must be a language"),
        ("FEEDBACK_ID", "a:b", "FEEDBACK_ID must be a short identifier"),
        ("FEEDBACK_ID", "x" * 65, "FEEDBACK_ID must be a short identifier"),
    ],
)
def test_header_bound_mail_settings_are_checked_at_start(app_config, key, value, message):
    with pytest.raises(RuntimeError, match=message):
        create_app({**app_config, key: value})
