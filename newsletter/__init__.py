"""newsletter: a self-hosted newsletter and mailing-list manager."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, CLI."""
    from newsletter import celery_app, cli, config, database, i18n, logs, mailing, web
    from newsletter.extensions import csrf, db, limiter, migrate

    # The instance folder (SQLite file, outbox, generated key): NEWSLETTER_INSTANCE_PATH,
    # or ``instance/`` in the checkout.
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get(
        "NEWSLETTER_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    config.load_config(app, test_config)
    logs.init_app(app)
    i18n.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    mailing.init_app(app)
    celery_app.init_app(app)
    web.init_app(app)
    limiter.init_app(app)  # after the blueprints: it wraps their views with their limits
    cli.init_app(app)
    return app
