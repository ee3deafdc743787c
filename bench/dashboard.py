"""The staff home (the dashboard) at a million subscribers on PostgreSQL: p50 and p99 of
the whole page through the app, and of each figure's queries, with the plans of the
weekly ones.

A fresh schema gets N subscribers who joined over the last year (a consent event each),
5 % who unsubscribed and 1 % who bounced in that time, and ``--sends`` sent digests with
a delivery per subscriber (1 in 50 failed) and bounce reports for 1 in 200.

    .venv/bin/python bench/dashboard.py --database postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/dashboard.py --subscribers 1000000 --sends 2 --rounds 30 --database …
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "a long bench password"
_POPULATE = """
INSERT INTO subscribers (public_id, email, email_key, name, organisation, status,
                         created_at, status_changed_at, bounce_score)
SELECT gen_random_uuid(), 'reader' || g || '@example.org', 'reader' || g || '@example.org',
       'Reader ' || g, '',
       CASE WHEN g % 20 = 0 THEN 'unsubscribed' WHEN g % 100 = 1 THEN 'bounced'
            ELSE 'active' END,
       now() - (g % 365) * interval '1 day',
       now() - (g % 300) * interval '1 day', 0
FROM generate_series(1, :count) AS g;
INSERT INTO memberships (subscriber_id, list_id, created_at)
SELECT id, :list, now() FROM subscribers;
INSERT INTO consent_events (subscriber_id, action, at, lists, note)
SELECT id, 'confirmed', created_at, 'digest', '' FROM subscribers;
INSERT INTO consent_events (subscriber_id, action, at, lists, note)
SELECT id, 'unsubscribed', status_changed_at, 'digest', ''
FROM subscribers WHERE status = 'unsubscribed';
ANALYZE;
"""
_SEND = """
INSERT INTO deliveries (digest_id, subscriber_id, status, attempts, next_attempt_at, sent_at,
                        last_response)
SELECT :digest, id, CASE WHEN id % 50 = 0 THEN 'failed' ELSE 'sent' END, 1, now(), now(), ''
FROM subscribers;
INSERT INTO mail_events (subscriber_id, digest_id, kind, status_code, diagnostic, source, at)
SELECT id, :digest, 'soft_bounce', '4.2.2', 'mailbox full', 'bench', now()
FROM subscribers WHERE id % 200 = 0;
ANALYZE deliveries;
ANALYZE mail_events;
"""


def _timings(run: Callable[[], object], rounds: int) -> tuple[float, float]:
    run()  # warm
    spent = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        spent.append(1000 * (time.perf_counter() - start))
    spent.sort()
    return statistics.median(spent), spent[min(len(spent) - 1, int(len(spent) * 0.99))]


def _populate(app: Any, args: argparse.Namespace) -> None:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from newsletter.auth.models import Role
    from newsletter.auth.services import create_staff
    from newsletter.digests.models import Digest, DigestStatus
    from newsletter.extensions import db
    from newsletter.subscriptions.lists import create_list

    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        upgrade(directory=str(ROOT / "migrations"))
        started = time.perf_counter()
        digest_list = create_list("digest", "Dialogue digest", default=True)
        create_staff("bench@example.org", PASSWORD, role=Role.ADMIN)
        db.session.commit()
        connection = db.session.connection()
        for statement in filter(str.strip, _POPULATE.split(";")):
            connection.execute(
                sa.text(statement), {"count": args.subscribers, "list": digest_list.id}
            )
        for number in range(args.sends):
            digest = Digest(
                subject=f"Bench digest {number + 1}",
                status=DigestStatus.SENT,
                send_started_at=sa.func.now() - sa.text(f"interval '{number + 1} days'"),
            )
            db.session.add(digest)
            db.session.flush()
            for statement in filter(str.strip, _SEND.split(";")):
                connection.execute(sa.text(statement), {"digest": digest.id})
        db.session.commit()
        # As autovacuum leaves a table in production: statistics and visibility map.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as plain:
            plain.execute(sa.text("VACUUM ANALYZE"))
        print(
            f"populated {args.subscribers:,} subscribers, {args.sends} sends in "
            f"{time.perf_counter() - started:.0f} s"
        )


def _figures(app: Any, rounds: int) -> None:
    import sqlalchemy as sa

    from newsletter.delivery import health
    from newsletter.extensions import db
    from newsletter.subscriptions import stats

    with app.app_context():
        for name, run in (
            ("weekly figures (3 queries + counts)", stats.weekly),
            ("subscriber counts by status", stats.subscriber_counts),
            ("list sizes", stats.list_sizes),
            ("last sends' figures", health.recent_sends),
            ("attention list (sends given)", lambda: health.attention([])),
        ):
            p50, p99 = _timings(run, rounds)
            db.session.rollback()
            print(f"{name:38s} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms")
        query = stats.per_week_query(
            stats.ConsentEvent.at,
            stats.week_starts(12)[0],
            stats.ConsentEvent.action.in_(stats.JOINED),
        )
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        print("plan, joins per week:")
        for line in db.session.execute(sa.text(f"EXPLAIN ANALYZE {compiled}")).scalars():
            print("   ", line)
        db.session.rollback()


def _page(app: Any, rounds: int) -> None:
    client = app.test_client()
    client.post("/staff/login", data={"email": "bench@example.org", "password": PASSWORD})
    for seconds, label in ((0, "counted each time"), (300, "figures kept 300 s")):
        app.config["DASHBOARD_CACHE_SECONDS"] = seconds
        response = client.get("/staff/")
        if response.status_code != HTTPStatus.OK:
            raise SystemExit(f"GET /staff/ answered {response.status_code}")
        p50, p99 = _timings(lambda: client.get("/staff/"), rounds)
        print(f"GET /staff/, {label:23s} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL it may empty")
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    print("$ .venv/bin/python bench/dashboard.py " + shlex.join(sys.argv[1:]))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    from newsletter import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench secret key, long enough for the checks",
                "SQLALCHEMY_DATABASE_URI": args.database,
                "INSTANCE_PATH": tmp,
                "BASE_URL": "https://news.example.org",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "WTF_CSRF_ENABLED": False,
            }
        )
        _populate(app, args)
        _figures(app, args.rounds)
        _page(app, args.rounds)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
