"""The migrations are the schema: one head, and exactly what the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from newsletter import ROOT, create_app
from newsletter.extensions import db
from newsletter.subscriptions.models import POSTGRESQL_ONLY_INDEXES
from tests.conftest import TEST_DATABASE_URL


def test_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config(str(ROOT / "migrations"))
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_migrations_build_what_the_models_describe(app_config, tmp_path):
    url = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if not TEST_DATABASE_URL:  # on PostgreSQL the session fixture has migrated already
            upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as connection:
            # The search indexes PostgreSQL alone has are checked by the plans that
            # use them (tests/subscriptions/test_directory_plans.py).
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    "include_name": lambda name, kind, _parent: (
                        not (kind == "index" and name in POSTGRESQL_ONLY_INDEXES)
                    ),
                },
            )
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []
