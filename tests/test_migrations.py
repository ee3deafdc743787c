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


def test_existing_subscribers_get_the_source_their_first_evidence_shows(app_config, tmp_path):
    """The migration that adds ``subscribers.source`` reads how each existing person came
    from their first consent event: an import, a command, or else the form."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="7e23c873371a")
        people = {
            "formed@example.org": ("requested", ""),
            "imported@example.org": ("imported", "signed up at the conference"),
            "asked@example.org": ("requested", "imported by staff; confirmation asked"),
            "added@example.org": ("added", "added by an operator from the command line"),
            "nothing@example.org": None,
        }
        with db.engine.begin() as connection:
            for number, (email, first) in enumerate(people.items(), start=1):
                connection.execute(
                    sa.text(
                        "INSERT INTO subscribers (id, public_id, email, email_key, name,"
                        " organisation, status, created_at, status_changed_at, bounce_score)"
                        " VALUES (:id, :uuid, :email, :email, '', '', 'active',"
                        " '2026-01-01', '2026-01-01', 0)"
                    ),
                    {"id": number, "uuid": f"{number:032x}", "email": email},
                )
                if first:
                    for at, (action, note) in (
                        ("2026-01-01", first),
                        ("2026-02-01", ("added", "")),
                    ):
                        connection.execute(
                            sa.text(
                                "INSERT INTO consent_events (subscriber_id, action, at, lists,"
                                " note) VALUES (:id, :action, :at, '', :note)"
                            ),
                            {"id": number, "action": action, "at": at, "note": note},
                        )
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as connection:
            sources = dict(
                connection.execute(sa.text("SELECT email, source FROM subscribers")).all()
            )
        db.engine.dispose()
    assert sources == {
        "formed@example.org": "form",
        "imported@example.org": "import",
        "asked@example.org": "import",
        "added@example.org": "cli",
        "nothing@example.org": "form",
    }
