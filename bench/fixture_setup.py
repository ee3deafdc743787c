"""What each test's fixed setup costs, with and without what ``tests/setup_cache.py``
shares between the apps of a test session.

Prints the median of ``--rounds`` runs of: ``create_app`` (werkzeug compiling every
route's URL builders, or sharing them), the SQLite schema (``create_all`` or a copy of
a file built once), compiling the pages and emails a typical test renders (per app, or
through the shared bytecode cache) and, with ``--database``, emptying PostgreSQL after
a test (a DELETE per table, one TRUNCATE of all, or only the tables that hold rows).

    .venv/bin/python bench/fixture_setup.py
    .venv/bin/python bench/fixture_setup.py --database \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test_bench   # a database it may empty
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402 - after the path to the checkout is set
from flask import Flask  # noqa: E402

from newsletter import create_app  # noqa: E402
from newsletter.extensions import db  # noqa: E402
from tests import setup_cache  # noqa: E402
from tests.conftest import _config  # noqa: E402

# What a typical page test renders: a public page, the staff login, a confirmation email.
TEMPLATES = ("public/subscribe.html", "staff/login.html", "email/confirm.html", "email/confirm.txt")


def _median_ms(run: Callable[[], float], rounds: int) -> float:
    """``run`` returns the seconds of the part it measures."""
    run()  # warm up imports and caches that every test session has anyway
    return 1000 * statistics.median(run() for _ in range(rounds))


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _app(folder: Path, name: str = "app.sqlite3") -> Flask:
    return create_app(_config(f"sqlite:///{folder / name}", None, folder))


def _create_all(folder: Path, name: str) -> float:
    app = _app(folder, name)
    with app.app_context():
        spent = _timed(db.create_all)
        db.engine.dispose()
    return spent


def _compile_templates(folder: Path, shared: bool) -> float:
    app = _app(folder)
    if shared:
        setup_cache.share_compiled_templates(app)
    return _timed(lambda: [app.jinja_env.get_template(name) for name in TEMPLATES])


def _sqlite(folder: Path, rounds: int) -> None:
    plain = _median_ms(lambda: _timed(lambda: _app(folder)), rounds)
    undo = setup_cache.share_url_builders()
    shared = _median_ms(lambda: _timed(lambda: _app(folder)), rounds)
    print(f"create_app:                 {plain:7.2f} ms;  URL builders shared {shared:7.2f} ms")

    schema = folder / "schema.sqlite3"
    setup_cache.build_sqlite_schema(_app(folder, schema.name), schema)
    counter = iter(range(10**6))
    create_all = _median_ms(lambda: _create_all(folder, f"c{next(counter)}.sqlite3"), rounds)
    copy = _median_ms(
        lambda: _timed(
            lambda: setup_cache.copy_sqlite_schema(schema, folder / f"k{next(counter)}.sqlite3")
        ),
        rounds,
    )
    print(f"SQLite schema, create_all:  {create_all:7.2f} ms;  file copy {copy:7.2f} ms")

    cold = _median_ms(lambda: _compile_templates(folder, shared=False), rounds)
    warm = _median_ms(lambda: _compile_templates(folder, shared=True), rounds)
    undo()
    print(f"{len(TEMPLATES)} templates, compiled:     {cold:7.2f} ms;  shared code {warm:7.2f} ms")


def _postgres(url: str, folder: Path, rounds: int) -> None:
    app = create_app(_config(url, None, folder))
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        db.create_all()
        tables = list(reversed(db.metadata.sorted_tables))
        names = ", ".join(f'"{table.name}"' for table in tables)

        def each_table() -> None:
            with db.engine.begin() as connection:
                for table in tables:
                    connection.execute(table.delete())

        def truncate() -> None:
            with db.engine.begin() as connection:
                connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))

        def written_only() -> None:
            with db.engine.begin() as connection:
                setup_cache.empty_written_tables(connection)

        figures = {name: _median_ms(lambda run=run: _timed(run), rounds) for name, run in (
            ("DELETE per table", each_table),
            ("one TRUNCATE", truncate),
            ("written tables only", written_only),
        )}  # fmt: skip
        db.engine.dispose()
    print(
        f"emptying {len(tables)} PostgreSQL tables (all empty; a test writes to a few): "
        + "; ".join(f"{name} {ms:.2f} ms" for name, ms in figures.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database", help="a PostgreSQL URL whose schema may be dropped")
    args = parser.parse_args()
    print("$ .venv/bin/python bench/fixture_setup.py " + shlex.join(sys.argv[1:]))
    with tempfile.TemporaryDirectory() as folder:
        _sqlite(Path(folder), args.rounds)
        if args.database:
            _postgres(args.database, Path(folder), args.rounds)


if __name__ == "__main__":
    main()
