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


def test_commands_in_a_checkout_use_the_key_a_debug_run_made(app_config, monkeypatch, tmp_path):
    """After ``make run`` (debug, which makes the key), ``flask --app newsletter …``
    without --debug works in that checkout with the same key."""
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY", raising=False)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    debug = create_app({**app_config, "SECRET_KEY": None})
    monkeypatch.delenv("FLASK_DEBUG")
    plain = create_app({**app_config, "SECRET_KEY": None})
    assert plain.config["SECRET_KEY"] == debug.config["SECRET_KEY"]


def _production(app_config: dict) -> dict:
    return {**app_config, "TESTING": False, "SECRET_KEY": "k" * 48}


def test_a_short_secret_key_refuses_to_start_outside_debug(app_config, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        create_app({**_production(app_config), "SECRET_KEY": "x" * 31})
    assert create_app(_production(app_config)).config["SECRET_KEY"] == "k" * 48
    monkeypatch.setenv("FLASK_DEBUG", "1")
    create_app({**_production(app_config), "SECRET_KEY": "short"})  # debug may


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SECRET_KEY", "123456789012345678901234567890123456", "must be text"),
        ("MAIL_PASSWORD", "12345678", "must be text"),
        ("SITE_NAME", '["a", "b"]', "must be text, but it was read as a list"),
        ("MAIL_PORT", "twenty-five", "must be a number"),
        ("MAIL_USE_TLS", "yes", "must be true or false"),
        ("SEND_RETRY_DELAYS", '"soon"', "must be a JSON list of numbers"),
    ],
)
def test_values_of_the_wrong_kind_are_refused_at_start(
    app_config, monkeypatch, variable, value, message
):
    monkeypatch.setenv(f"NEWSLETTER_{variable}", value)
    config = {key: v for key, v in _production(app_config).items() if key != variable}
    with pytest.raises(RuntimeError, match=f"NEWSLETTER_{variable} {message}"):
        create_app(config)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("SITE_NAME", "News\r\nBcc: all@example.org", "one line"),
        ("SITE_NAME", "N" * 101, "at most 100"),
        ("ORGANISATION_NAME", "Org\ufffe", "one line"),
        ("MAIL_DEFAULT_SENDER", "Newsletter", "must be an email address"),
        ("MAIL_REPLY_TO", "Replies <replies at example.org>", "must be an email address"),
        ("UNSUBSCRIBE_MAILTO", "leave@exa mple.org", "must be an email address"),
        ("LIST_ID", "news list.example.org", "dotted name"),
        ("BOUNCE_DOMAIN", "bounces.example.org\n", "host name"),
    ],
)
def test_header_bound_settings_are_checked_at_start(app_config, key, value, message):
    with pytest.raises(RuntimeError, match=f"NEWSLETTER_{key} .*{message}"):
        create_app({**app_config, key: value})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("LANGUAGES", "en,fa-AF\r\nBcc: x@example.org", "is not a language tag"),
        ("LANGUAGES", "", "LANGUAGES must name at least one language"),
        ("LANGUAGES", "en,de", "there is no catalog for 'de'"),
        ("FEEDBACK_ID", "a:b", "FEEDBACK_ID must be a short identifier"),
        ("FEEDBACK_ID", "x" * 65, "FEEDBACK_ID must be a short identifier"),
    ],
)
def test_header_bound_mail_settings_are_checked_at_start(app_config, key, value, message):
    with pytest.raises(RuntimeError, match=message):
        create_app({**app_config, key: value})
