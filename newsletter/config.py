"""Configuration: code defaults, then ``instance/config.py``, then ``NEWSLETTER_*``
environment variables, then the mapping a test passes to ``create_app``.

Every key below can be set from the environment with the ``NEWSLETTER_`` prefix;
values are parsed as JSON when they can be (``true``, ``587``), as strings otherwise.
"""

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Config, Flask

from newsletter.validation import InvalidInput, check_characters

DEFAULTS: dict[str, Any] = {
    # Core
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,  # default: SQLite file in the instance folder
    "BASE_URL": "http://127.0.0.1:5000",
    "SITE_NAME": "Newsletter",
    "ORGANISATION_NAME": "",
    "POSTAL_ADDRESS": "",
    # Defaults of what admins change in /staff/settings (the database wins once saved).
    "BRAND_COLOUR": "#17324d",
    "TIME_ZONE": "UTC",
    "PROXY_FIX_X_FOR": 0,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # A pasted summary (200,000 characters, up to 4 bytes each) fits in one form field.
    "MAX_FORM_MEMORY_SIZE": 1_000_000,
    "LOG_LEVEL": "INFO",  # of the application's loggers (see logs.py)
    # Mail: with no MAIL_SERVER, mail goes to the local outbox in the instance folder.
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": None,  # default: "SITE_NAME <newsletter@BASE_URL host>"
    "MAIL_REPLY_TO": None,
    "MAIL_TIMEOUT": 30,
    "MAIL_LOCAL_HOSTNAME": None,
    "MAIL_DISPATCH": "auto",  # auto | inline | celery (see mailing/queue.py)
    "OUTBOX_DIR": None,  # default: <instance>/outbox
    "LIST_ID": None,  # default: "newsletter.<sender domain>"
    "UNSUBSCRIBE_MAILTO": None,  # default: "unsubscribe@<sender domain>"
    # The languages of pages and mail (catalogs in newsletter/translations); the first is
    # the default, and mail to someone in a language the site no longer offers is in it.
    "LANGUAGES": "en,fa-AF,ps",
    "FEEDBACK_ID": None,  # set: Feedback-ID campaign:kind:FEEDBACK_ID (Gmail)
    # Subscription life
    "CONSENT_TEXT": (
        "I agree to receive this newsletter by email. I can leave at any time with the "
        "link in every message. A record of this consent (when, from where and this "
        "text) is kept as evidence."
    ),
    "CONFIRM_TOKEN_MAX_AGE_HOURS": 48,
    "CONFIRM_RESEND_MINUTES": 10,
    "SUPPRESSION_KEY": None,  # default: derived from SECRET_KEY
    # Detailed reports of sessions (files that are never public) and requests for them
    "REPORTS_STORAGE_DIR": None,  # default: <instance>/reports; never under static/
    "REPORT_MAX_MB": 25,  # largest report file (MB of 2**20 bytes)
    "REPORT_LINK_DAYS": 7,  # life of a download link
    "REPORT_REISSUE_WITHOUT_DECISION": True,  # asking again after approval: a fresh link
    "REPORT_NOTIFY": "staff",  # staff | admins | none | addresses (list or comma-separated)
    "REPORT_REQUEST_LIMIT_PER_IP": "5 per minute;30 per hour",
    "REPORT_REQUEST_LIMIT_PER_ADDRESS": "3 per hour",
    "DASHBOARD_CACHE_SECONDS": 300,  # how long the staff home's figures are kept (0: never)
    # Subscriber imports from the staff pages (files kept in <instance>/imports)
    "IMPORT_MAX_MB": 50,  # largest CSV file (MB of 2**20 bytes)
    "IMPORT_STALE_SECONDS": 120,  # a running import not heard from for this long failed
    # Rate limits (Flask-Limiter syntax). Storage: memory, or Redis in production.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "SUBSCRIBE_LIMIT_PER_IP": "10 per minute;60 per hour",
    "SUBSCRIBE_LIMIT_PER_ADDRESS": "5 per hour",
    # Sending digests
    "CELERY_BROKER_URL": None,  # set: sends run on Celery workers (see README)
    "SEND_BACKGROUND": True,  # without a broker, the web process sends in a thread
    "SEND_CONCURRENCY": 4,  # SMTP connections working on one send (1 on SQLite)
    "SEND_BATCH_SIZE": 100,  # deliveries a worker claims at a time
    "SEND_RATE_PER_SECOND": 0,  # 0: no limit
    "SEND_RATE_PER_HOUR": 0,
    "SEND_MAX_ATTEMPTS": 5,
    "SEND_RETRY_DELAYS": [300, 900, 3600, 14400],  # seconds before retry n (last repeats)
    "SEND_ERROR_BUDGET": 25,  # consecutive errors that pause a send
    "SEND_CLAIM_SECONDS": 120,  # a claimed batch not worked on for this long is freed
    "SEND_MAX_PER_CONNECTION": 1000,
    "SEND_TICK_SECONDS": 30,  # how often scheduled digests and due retries are checked
    "BOUNCE_THRESHOLD": 3,  # failures that mark a subscriber bounced (see bounces/)
    "BOUNCE_WINDOW_DAYS": 30,  # transient failures count within this many days
    "BOUNCE_ALERTS_PAUSE": 3,  # rejections blaming us that pause a send
    "BOUNCE_DOMAIN": None,  # set: VERP return path bounces+TOKEN@BOUNCE_DOMAIN
    "DKIM_DOMAIN": None,  # all three set: every digest is DKIM-signed
    "DKIM_SELECTOR": None,
    "DKIM_PRIVATE_KEY": None,  # PEM text, or:
    "DKIM_PRIVATE_KEY_FILE": None,
    # Sessions
    "MAX_POINTS_PER_SESSION": 200,
    # Mail that comes back (bounces, complaints, mailto unsubscribes, replies)
    "INBOUND_FORWARD_TO": None,  # replies from readers go here; unset: kept for staff
    "INBOUND_MAX_BYTES": 2 * 1024 * 1024,  # a message is read from its first 2 MiB
    "INBOUND_IMAP_HOST": None,  # set: the clock fetches new mail from this mailbox
    "INBOUND_IMAP_PORT": 993,
    "INBOUND_IMAP_SECURITY": "ssl",  # ssl | starttls
    "INBOUND_IMAP_USERNAME": None,
    "INBOUND_IMAP_PASSWORD": None,
    "INBOUND_IMAP_FOLDER": "INBOX",
    "INBOUND_IMAP_MOVE_TO": None,  # a folder for processed mail; unset: deleted
    "INBOUND_POP3_HOST": None,  # or POP3 (processed mail is deleted)
    "INBOUND_POP3_PORT": 995,
    "INBOUND_POP3_SECURITY": "ssl",  # ssl | starttls
    "INBOUND_POP3_USERNAME": None,
    "INBOUND_POP3_PASSWORD": None,
    "INBOUND_TLS_CA_FILE": None,  # trust this CA for the mailbox (default: the system's)
    "INBOUND_BATCH": 200,  # messages fetched per tick
    # Staff
    "PASSWORD_HASH_METHOD": "scrypt",
    # Wrong passwords from one IP, for any account; from one IP for one account.
    "LOGIN_LIMIT_PER_IP": "10 per minute;100 per hour",
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per hour",
    # Wrong passwords for one account from anywhere, within the window: past SLOWDOWN
    # each attempt waits (at most MAX seconds), past ALERT the owner is emailed once.
    "LOGIN_FAILURE_WINDOW_MINUTES": 60,
    "LOGIN_SLOWDOWN_AFTER": 5,
    "LOGIN_SLOWDOWN_MAX_SECONDS": 5,
    "LOGIN_ALERT_AFTER": 10,
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    # Cookies
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session
}


# Settings that are text, whatever their default: from_prefixed_env reads JSON first, so
# NEWSLETTER_MAIL_PASSWORD=12345678 would arrive as a number.
_TEXT_SETTINGS = {
    "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MAIL_SERVER", "MAIL_USERNAME",
    "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER", "MAIL_REPLY_TO", "MAIL_LOCAL_HOSTNAME",
    "OUTBOX_DIR", "LIST_ID", "UNSUBSCRIBE_MAILTO", "SUPPRESSION_KEY", "CELERY_BROKER_URL",
    "BOUNCE_DOMAIN", "DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY",
    "DKIM_PRIVATE_KEY_FILE",
}  # fmt: skip
MIN_SECRET_KEY = 32  # bytes
_MAX_SITE_NAME = 100
_DOT_ATOM_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$"
)
_HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("NEWSLETTER")
    for key, default in DEFAULTS.items():  # an empty variable means "not set"
        if app.config.get(key) == "" and default not in (None, ""):
            app.config[key] = default
    if test_config is not None:
        app.config.from_mapping(test_config)
    _check_types(app.config)
    _derive(app)
    _check_header_settings(app.config)


def _kind(value: object) -> str:
    return {bool: "true or false", int: "a number", float: "a number", list: "a list"}.get(
        type(value), type(value).__name__
    )


def _check_types(config: Config) -> None:
    """Refuse values of the wrong kind at start, naming the variable: text that the
    environment parsed as a number or a list, a number given as words."""
    for key, default in DEFAULTS.items():
        value = config.get(key)
        if value is None:
            continue
        wants_text = key in _TEXT_SETTINGS or isinstance(default, str)
        if wants_text and not isinstance(value, str):
            raise RuntimeError(
                f"NEWSLETTER_{key} must be text, but it was read as {_kind(value)} "
                f"({value!r}). Quote it as JSON text: NEWSLETTER_{key}='\"{value}\"'."
            )
        if isinstance(default, bool) and not isinstance(value, bool):
            raise RuntimeError(f"NEWSLETTER_{key} must be true or false, not {value!r}.")
        numeric = isinstance(default, int | float) and not isinstance(default, bool)
        if numeric and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise RuntimeError(f"NEWSLETTER_{key} must be a number, not {value!r}.")
        if isinstance(default, list) and not (
            isinstance(value, list) and all(isinstance(item, int | float) for item in value)
        ):
            raise RuntimeError(f"NEWSLETTER_{key} must be a JSON list of numbers, not {value!r}.")


def _refuse(key: str, value: object, why: str) -> None:
    raise RuntimeError(f"NEWSLETTER_{key} {why} (got {value!r}).")


def _check_one_line(key: str, value: str) -> None:
    try:
        check_characters(value, key)
    except InvalidInput:
        _refuse(key, value, "must be one line without control characters")
    if any(ch in value for ch in "\t\r\n"):
        _refuse(key, value, "must be one line without control characters")


def _check_header_settings(config: Config) -> None:
    """Settings that end up in mail headers, checked once at start rather than failing
    every message: one line of plain text, addresses that are addresses."""
    from email.utils import parseaddr

    for key in ("SITE_NAME", "ORGANISATION_NAME", "MAIL_DEFAULT_SENDER", "MAIL_REPLY_TO"):
        _check_one_line(key, str(config.get(key) or ""))
    if len(str(config["SITE_NAME"])) > _MAX_SITE_NAME:
        _refuse("SITE_NAME", config["SITE_NAME"], f"has at most {_MAX_SITE_NAME} characters")
    for key in ("MAIL_DEFAULT_SENDER", "MAIL_REPLY_TO", "UNSUBSCRIBE_MAILTO"):
        value = config.get(key)
        if not value:
            continue
        address = parseaddr(str(value))[1]
        local, _, domain = address.rpartition("@")
        bare = key != "UNSUBSCRIBE_MAILTO" or address == str(value).strip()
        if not (local and bare and address.isascii() and _HOST_RE.fullmatch(domain)):
            _refuse(key, value, "must be an email address (Name <name@example.org>)")
    if not _DOT_ATOM_RE.fullmatch(str(config["LIST_ID"])):
        _refuse("LIST_ID", config["LIST_ID"], "must be a dotted name like news.example.org")
    for key in ("BOUNCE_DOMAIN", "DKIM_DOMAIN", "MAIL_LOCAL_HOSTNAME", "DKIM_SELECTOR"):
        value = config.get(key)
        if value and not _HOST_RE.fullmatch(str(value)):
            _refuse(key, value, "must be a host name (letters, digits, dots and hyphens)")


def _derive(app: Flask) -> None:
    """Fill values that depend on others and refuse configurations that cannot work."""
    _derive_base_url(app.config)
    _derive_secrets(app)
    _derive_mail(app.config)
    _derive_workers(app.config, Path(app.instance_path))
    _derive_reports(app)


def _derive_base_url(config: Config) -> None:
    config["BASE_URL"] = str(config["BASE_URL"]).rstrip("/")
    base = urlsplit(config["BASE_URL"])
    if base.scheme not in ("http", "https") or not base.hostname:
        raise RuntimeError(
            f"NEWSLETTER_BASE_URL must be an absolute http(s) origin, got {config['BASE_URL']!r}"
        )
    if base.scheme == "https":
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True


def _derive_secrets(app: Flask) -> None:
    """The key: configured, else the one generated for this instance folder (by a debug
    run such as ``make run``, so that every command in that checkout uses it too)."""
    config = app.config
    generated = Path(app.instance_path) / "secret_key"
    if not config["SECRET_KEY"]:
        if not app.debug and not generated.exists():
            raise RuntimeError(
                "NEWSLETTER_SECRET_KEY is not set. Set it to a long random string "
                "(python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or run with --debug to use a key generated in the instance folder."
            )
        config["SECRET_KEY"] = _instance_secret(generated)
    if len(str(config["SECRET_KEY"]).encode()) < MIN_SECRET_KEY and not (app.debug or app.testing):
        raise RuntimeError(
            f"NEWSLETTER_SECRET_KEY is too short: it needs at least {MIN_SECRET_KEY} bytes "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if not config["SUPPRESSION_KEY"]:
        config["SUPPRESSION_KEY"] = "suppression:" + str(config["SECRET_KEY"])


def _derive_mail(config: Config) -> None:
    """The sender (from the site's host unless set) and what is named after its domain."""
    host = urlsplit(config["BASE_URL"]).hostname or ""
    sender_domain = host
    if not config["MAIL_DEFAULT_SENDER"]:
        domain = host if _is_domain(host) else "localhost.localdomain"
        config["MAIL_DEFAULT_SENDER"] = f"{config['SITE_NAME']} <newsletter@{domain}>"
    sender = str(config["MAIL_DEFAULT_SENDER"])
    if "@" in sender:
        sender_domain = sender.rsplit("@", 1)[1].strip(" >")
    config["SENDER_DOMAIN"] = sender_domain
    if not config["LIST_ID"]:
        config["LIST_ID"] = f"newsletter.{sender_domain}"
    if not config["UNSUBSCRIBE_MAILTO"]:
        config["UNSUBSCRIBE_MAILTO"] = f"unsubscribe@{sender_domain}"
    if config["FEEDBACK_ID"] and not _TOKEN_RE.match(str(config["FEEDBACK_ID"])):
        raise RuntimeError(
            "NEWSLETTER_FEEDBACK_ID must be a short identifier of letters, digits, '.', '_' "
            f"or '-' (it ends Feedback-ID: campaign:kind:ID), got {config['FEEDBACK_ID']!r}"
        )


_TOKEN_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _derive_workers(config: Config, instance: Path) -> None:
    """The database, the outbox, and where work runs."""
    if not config["SQLALCHEMY_DATABASE_URI"]:
        instance.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'newsletter.sqlite3'}"
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        config["SEND_CONCURRENCY"] = 1  # SQLite has one writer: one worker at a time
    if config["CELERY_BROKER_URL"]:
        config["SEND_BACKGROUND"] = False
        if config["MAIL_DISPATCH"] == "auto":
            config["MAIL_DISPATCH"] = "celery"
    if not config["OUTBOX_DIR"]:
        config["OUTBOX_DIR"] = str(instance / "outbox")


def _derive_reports(app: Flask) -> None:
    """Where report files live: outside anything served (a report is never public)."""
    config = app.config
    folder = Path(config["REPORTS_STORAGE_DIR"] or Path(app.instance_path) / "reports").resolve()
    static = Path(app.static_folder).resolve() if app.static_folder else None
    if static is not None and (folder == static or static in folder.parents):
        raise RuntimeError(
            f"NEWSLETTER_REPORTS_STORAGE_DIR ({folder}) is inside the static folder, which "
            "anyone can read: point it elsewhere (a report is never public)."
        )
    config["REPORTS_STORAGE_DIR"] = str(folder)
    for name in ("REPORT", "IMPORT"):  # the largest report file, the largest import
        config[f"{name}_MAX_BYTES"] = _megabytes(config, f"{name}_MAX_MB")
    if config["REPORT_NOTIFY"] not in ("staff", "admins"):
        from newsletter.reports.emails import notify_addresses
        from newsletter.validation import InvalidInput

        try:
            notify_addresses(config["REPORT_NOTIFY"])
        except InvalidInput as exc:
            raise RuntimeError(
                "NEWSLETTER_REPORT_NOTIFY must be staff, admins, none or email addresses "
                f"separated by commas: {exc}"
            ) from exc


def _megabytes(config: Config, key: str) -> int:
    """A size set in MB (of 2**20 bytes), in bytes; a startup error unless positive."""
    try:
        size = float(config[key])
    except (TypeError, ValueError):
        size = 0.0
    if size <= 0:
        raise RuntimeError(f"NEWSLETTER_{key} must be a positive number, got {config[key]!r}")
    return int(size * 1024 * 1024)


def _is_domain(host: str) -> bool:
    """A name with a dot that is not an IP address (mail needs a domain to come from)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return False


def _instance_secret(path: Path) -> str:
    """A key generated once for a debug instance and kept beside its database."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
