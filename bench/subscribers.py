"""The staff list of subscribers at a million: p50 and p99 of its pages, and the CSV
export's rows per second and peak memory, on PostgreSQL.

A fresh schema gets N generated subscribers in a few set-based statements (names,
organisations, the five statuses and four sources in realistic shares, joined over
three years; everyone on the default list, a third on a second, a tenth on a third),
the indexes rebuilt after the load as a restore would. Each page is then asked
``--requests`` times through the whole application (routing, login check, the query,
the template) as a logged-in admin, and its query's ``EXPLAIN ANALYZE`` is printed.
The export streams every subscriber; its peak memory is the process's own high-water
mark (reset just before), so the rows must not be held.

    .venv/bin/python bench/subscribers.py --database postgresql+psycopg://postgres@127.0.0.1/bench
    .venv/bin/python bench/subscribers.py --subscribers 100000 --requests 50 --database …

The database is emptied and rebuilt: give it one of its own.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402 - after the path to the checkout is set

FIRST = "Amina Ben Carla Dmitri Elena Farid Grace Hamid Ines Jamal Karin Leila Mateo Nadia Omar"
LAST = "Noor Lo Diaz Ivanov Rossi Haddad Kim Rahimi Silva Khan Berg Aziz Cruz Petrova Tahir"
ORGS = [
    "Harbour Institute",
    "Policy Forum",
    "Annex Lab",
    "Ministry of Foreign Affairs",
    "University of Kabul",
    "Peace Research Centre",
    "",
]

_POPULATE = """
INSERT INTO subscribers (public_id, email, email_key, name, organisation, status, source,
                         created_at, status_changed_at, bounce_score)
SELECT gen_random_uuid(), 'reader' || g || '@example.org', 'reader' || g || '@example.org',
       (string_to_array(:first, ' '))[1 + g % 15] || ' '
         || (string_to_array(:last, ' '))[1 + (g / 15) % 15],
       (string_to_array(:orgs, '|'))[1 + g % 7],
       CASE WHEN g % 100 < 85 THEN 'active' WHEN g % 100 < 90 THEN 'pending'
            WHEN g % 100 < 97 THEN 'unsubscribed' WHEN g % 100 < 99 THEN 'bounced'
            ELSE 'complained' END,
       CASE WHEN g % 10 < 6 THEN 'form' WHEN g % 10 < 9 THEN 'import'
            WHEN g % 20 = 9 THEN 'cli' ELSE 'report' END,
       now() - (:count - g) * interval '95 seconds', now(), 0
FROM generate_series(1, :count) AS g;
INSERT INTO memberships (subscriber_id, list_id, created_at)
SELECT id, :first_list, created_at FROM subscribers;
INSERT INTO memberships (subscriber_id, list_id, created_at)
SELECT id, :second_list, created_at FROM subscribers WHERE id % 3 = 0;
INSERT INTO memberships (subscriber_id, list_id, created_at)
SELECT id, :third_list, created_at FROM subscribers WHERE id % 10 = 0
"""


def _app(database: str, instance: str) -> Any:
    from newsletter import create_app

    return create_app(
        {
            "SECRET_KEY": "bench-" + "x" * 32,
            "SQLALCHEMY_DATABASE_URI": database,
            "INSTANCE_PATH": instance,
            "WTF_CSRF_ENABLED": False,
            "MAIL_SERVER": None,
            "SEND_BACKGROUND": False,
        }
    )


def setup(app: Any, count: int) -> dict[str, int]:
    """A fresh schema with ``count`` subscribers; the lists' ids."""
    from flask_migrate import downgrade, upgrade

    from newsletter.auth.models import Role
    from newsletter.auth.services import create_staff
    from newsletter.extensions import db
    from newsletter.subscriptions.lists import create_list

    with app.app_context():
        downgrade(directory=str(ROOT / "migrations"), revision="base")
        upgrade(directory=str(ROOT / "migrations"))
        lists = {
            "first_list": create_list("digest", "Dialogue digest", default=True).id,
            "second_list": create_list("briefings", "Briefings").id,
            "third_list": create_list("events", "Event invitations").id,
        }
        create_staff("bench@example.org", "a long bench password", role=Role.ADMIN)
        db.session.commit()
        # Load first, index after (as a restore does): the same indexes, built in bulk.
        indexes = db.session.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'subscribers'"
                " AND indexname NOT IN ('pk_subscribers', 'uq_subscribers_email_key',"
                " 'uq_subscribers_public_id', 'subscribers_pkey')"
            )
        ).all()
        for name, _ in indexes:
            db.session.execute(sa.text(f'DROP INDEX "{name}"'))
        values = {
            "count": count,
            "first": FIRST,
            "last": LAST,
            "orgs": "|".join(ORGS),
            **lists,
        }
        for statement in _POPULATE.split(";"):
            db.session.execute(sa.text(statement), values)
        db.session.commit()
        db.session.execute(sa.text("SET maintenance_work_mem = '256MB'"))
        for _, definition in indexes:
            db.session.execute(sa.text(definition))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return lists


def _deep_cursor(app: Any, args: dict[str, str], depth: int) -> str:
    """The ``after`` of the page ``depth`` rows into this filter (found once, untimed)."""
    from newsletter.extensions import db
    from newsletter.subscriptions import directory

    with app.app_context():
        wanted = directory.parse_filter(args)
        query = directory.statement(wanted, size=1).offset(depth)
        row = db.session.execute(query).one()
        return directory._cursor(wanted, row)


def _explain(app: Any, args: dict[str, str], after: str | None) -> str:
    from newsletter.extensions import db
    from newsletter.subscriptions import directory

    with app.app_context():
        statement = directory.statement(directory.parse_filter(args), after)
        compiled = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
        rows = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + compiled)
        return "\n".join("    " + line for line in rows.scalars())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    return 0


def main() -> None:  # noqa: C901, PLR0915 - one run, read top to bottom
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--database", required=True, help="a PostgreSQL URL it may empty")
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    args = parser.parse_args()

    from urllib.parse import urlencode

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as instance:
        app = _app(args.database, instance)
        started = time.perf_counter()
        if args.reuse:
            from newsletter.extensions import db
            from newsletter.subscriptions.models import MailingList

            with app.app_context():
                ids = db.session.scalars(sa.select(MailingList.id).order_by(MailingList.id))
                first, second, third = list(ids)
            lists = {"first_list": first, "second_list": second, "third_list": third}
        else:
            lists = setup(app, args.subscribers)
        generated = time.perf_counter() - started

        second = str(lists["second_list"])
        filtered = {"status": "active", "list": second, "source": "import"}
        pages: list[tuple[str, dict[str, str], str | None]] = [
            ("list page (newest first)", {}, None),
            ("prefix search, a common name", {"q": "amina"}, None),
            ("prefix search, an address", {"q": "reader77777"}, None),
            ("substring search, common", {"q": "noor", "match": "contains"}, None),
            ("substring search, rare", {"q": "77777@", "match": "contains"}, None),
            ("page 900,000 rows deep", {}, _deep_cursor(app, {}, args.subscribers * 9 // 10)),
            (
                "filtered (active, list, import), deep",
                filtered,
                _deep_cursor(app, filtered, args.subscribers // 20),
            ),
            (
                "by address, active, deep",
                {"sort": "email", "status": "active"},
                _deep_cursor(app, {"sort": "email", "status": "active"}, args.subscribers // 2),
            ),
        ]
        client = app.test_client()
        login = client.post(
            "/staff/login",
            data={"email": "bench@example.org", "password": "a long bench password"},
        )
        if login.status_code != 302:
            raise SystemExit("could not log in: " + login.get_data(as_text=True))

        results = []
        plans = []
        for label, query, after in pages:
            cursor = {"after": after} if after else {}
            url = "/staff/subscribers?" + urlencode({**query, **cursor})
            for _ in range(5):  # warm up the connection pool, templates, caches
                client.get(url)
            times = []
            for _ in range(args.requests):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
            rows = response.get_data(as_text=True).count('href="/staff/subscribers/')
            results.append((label, url, rows, statistics.median(times), _percentile(times, 0.99)))
            plans.append((label, _explain(app, query, after)))

        # The export: every subscriber, streamed; peak memory from a reset high-water mark.
        rss_before = _vm("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")
        start = time.perf_counter()
        response = client.get("/staff/subscribers.csv")
        lines = 0
        size = 0
        for chunk in response.response:
            lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
            size += len(chunk)
        export_seconds = time.perf_counter() - start
        peak = _vm("VmHWM")
        exported = lines - 1  # the header

    load = os.getloadavg()
    print(
        f"Subscriber list benchmark: {args.subscribers:,} subscribers on PostgreSQL, "
        f"{args.requests} requests a page through the app; {os.cpu_count()} cores, "
        f"load {load_before[0]:.1f} before, {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} after"
    )
    if not args.reuse:
        print(f"generated and indexed in {generated:.0f} s")
    print(f"{'page':<40} {'rows':>4} {'p50 ms':>7} {'p99 ms':>7}")
    for label, _url, rows, p50, p99 in results:
        print(f"{label:<40} {rows:>4} {p50:>7.1f} {p99:>7.1f}")
    print(
        f"CSV export: {exported:,} rows, {size / 2**20:.0f} MiB in {export_seconds:.1f} s: "
        f"{exported / export_seconds:,.0f} rows/s; peak RSS {peak / 1024:.0f} MiB "
        f"(was {rss_before / 1024:.0f} MiB before the export)"
    )
    print("\nURLs:")
    for label, url, *_ in results:
        print(f"  {label}: {url}")
    print("\nPlans (EXPLAIN ANALYZE of each page's query):")
    for label, plan in plans:
        print(f"  {label}:\n{plan}")
    print("reproduce: " + shlex.join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
