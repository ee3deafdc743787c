"""What a new app per test would otherwise rebuild every time, built once per session.

Every test gets its own ``create_app`` and its own database (real commits, nothing
shared between tests); what stays the same from one test to the next is built once:

- the SQLite schema: ``create_all`` once into a file, which each test copies;
- on PostgreSQL, emptying only the tables a test wrote to (one query finds them);
- compiled templates: Jinja compiles each template once per app, so each test paid
  for compiling every page and email it rendered; a shared bytecode cache keyed by the
  template's source checksum compiles each once (an edited template compiles again);
- URL builders: werkzeug compiles two Python functions per route for every app (most
  of what ``create_app`` costs); the same route gets the same functions.

Measured with ``bench/fixture_setup.py`` (it prints the command that reproduces it).
"""

from __future__ import annotations

import functools
import inspect
import shutil
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

import sqlalchemy as sa
from flask import Flask
from jinja2.bccache import Bucket, BytecodeCache

from newsletter.extensions import db


class SharedTemplateCode(BytecodeCache):
    """Compiled template code shared by every app of the test session, by template and
    source checksum."""

    def __init__(self) -> None:
        self._code: dict[tuple[str, str], CodeType] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[(bucket.key, bucket.checksum)] = bucket.code


TEMPLATE_CODE = SharedTemplateCode()


def share_compiled_templates(app: Flask) -> None:
    app.jinja_env.bytecode_cache = TEMPLATE_CODE


def build_sqlite_schema(app: Flask, path: Path) -> None:
    """Create the schema in ``app``'s SQLite database (the file ``path``) and close every
    connection, so that the file holds the whole database (no write-ahead log beside
    it) and can be copied."""
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    assert path.exists()
    assert not path.with_name(path.name + "-wal").exists(), "the schema is not checkpointed"


def copy_sqlite_schema(schema: Path, target: Path) -> str:
    """A database of the test's own, with the schema already in it; its URL."""
    shutil.copyfile(schema, target)
    return f"sqlite:///{target}"


def empty_written_tables(connection: sa.Connection) -> None:
    """Delete the rows of every table that has some, children first: one query finds
    them (a DELETE per table, or one TRUNCATE of all, costs far more when most are
    empty; see bench/fixture_setup.py)."""
    tables, probe = _written_tables_probe()
    written = set(connection.scalars(probe))
    for table in tables:
        if table.name in written:
            connection.execute(table.delete())


@functools.cache
def _written_tables_probe() -> tuple[list[sa.Table], sa.CompoundSelect]:
    """The tables, children first, and one query naming those that hold a row."""
    tables = list(reversed(db.metadata.sorted_tables))
    probe = sa.union_all(
        *(
            sa.select(sa.literal_column(f"'{table.name}'")).where(
                sa.exists(sa.select(sa.literal_column("1")).select_from(table))
            )
            for table in tables
        )
    )
    return tables, probe


def share_url_builders() -> Callable[[], None]:
    """Make werkzeug compile each distinct route's URL builders once per session;
    returns the function that undoes it.

    ``Rule._compile_builder`` turns a rule into a function of the rule (bound to it
    afterwards) and of its parsed parts; the same parts give the same function. Rules
    whose defaults fill a part of the URL are left alone (the default is baked in).
    If werkzeug changes that method, nothing is shared and tests only run slower.
    """
    from werkzeug.routing.rules import Rule

    original = getattr(Rule, "_compile_builder", None)
    if original is None or list(inspect.signature(original).parameters) != [
        "self",
        "append_unknown",
    ]:
        return lambda: None
    builders: dict[tuple[Any, ...], Any] = {}

    def compile_builder(self: Rule, append_unknown: bool = True) -> Any:
        trace = tuple(self._trace)
        defaults = self.defaults or {}
        if any(dynamic and part in defaults for dynamic, part in trace):
            return original(self, append_unknown)
        key = (self.rule, append_unknown, trace, tuple(sorted(defaults)))
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = original(self, append_unknown)
        return builder

    Rule._compile_builder = compile_builder  # type: ignore[method-assign]

    def undo() -> None:
        Rule._compile_builder = original  # type: ignore[method-assign]

    return undo
