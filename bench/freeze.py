"""The audience freeze of a send: how long ``start_send`` takes (one delivery row per
active subscriber of the digest's lists, in one INSERT … SELECT) for N subscribers.

A fresh schema gets N active subscribers on the digest's list (and, as a real list has,
5 % who left and a second list overlapping half of them, so the freeze must skip and
de-duplicate), then a digest of the sample session to both lists; the freeze is timed
from the call to the commit.

    .venv/bin/python bench/freeze.py --database postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/freeze.py --subscribers 100000 1000000 --database …
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "newsletter" / "demo" / "has-track2-session-2020-06-08.txt"

_POPULATE = """
INSERT INTO subscribers (public_id, email, email_key, name, organisation, status,
                         created_at, status_changed_at, bounce_score)
SELECT gen_random_uuid(), 'reader' || g || '@example.org', 'reader' || g || '@example.org',
       'Reader ' || g, '', CASE WHEN g % 20 = 0 THEN 'unsubscribed' ELSE 'active' END,
       now(), now(), 0
FROM generate_series(1, :count) AS g;
INSERT INTO memberships (subscriber_id, list_id, created_at)
SELECT id, :first, now() FROM subscribers;
INSERT INTO memberships (subscriber_id, list_id, created_at)
SELECT id, :second, now() FROM subscribers WHERE id % 2 = 0;
ANALYZE subscribers;
ANALYZE memberships;
"""


def _config(database: str, instance: str) -> dict[str, str]:
    return {
        "SECRET_KEY": "bench " * 8,
        "SQLALCHEMY_DATABASE_URI": database,
        "INSTANCE_PATH": instance,
        "ORGANISATION_NAME": "Example Society",  # every send names who sends it and where
        "POSTAL_ADDRESS": "1 Example Street, 1000 Example City",
    }


def setup(database: str, count: int) -> int:
    """A fresh schema, ``count`` subscribers, a digest to two lists; its id."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from newsletter import create_app
    from newsletter.digests import services as digests
    from newsletter.extensions import db
    from newsletter.sessions import services as sessions
    from newsletter.sessions.importer import parse_summary
    from newsletter.subscriptions.lists import create_list

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_config(database, tmp))
        with app.app_context():
            downgrade(directory=str(ROOT / "migrations"), revision="base")
            upgrade(directory=str(ROOT / "migrations"))
            first = create_list("digest", "Dialogue digest", default=True)
            second = create_list("events", "Event invitations")
            parsed = parse_summary(SAMPLE.read_text(encoding="utf-8"))
            session = sessions.create_session(
                sessions.SessionData.from_parsed(parsed), parsed.points
            )
            digest = digests.create_from_session(session)
            digest.lists = [first, second]
            db.session.commit()
            values = {"count": count, "first": first.id, "second": second.id}
            for statement in _POPULATE.split(";"):
                if statement.strip():
                    db.session.execute(sa.text(statement), values)
                    db.session.commit()
            digest_id = digest.id
            db.session.remove()
            db.engine.dispose()
    return digest_id


def freeze(database: str, digest_id: int) -> tuple[float, int]:
    """(seconds, audience size) of ``start_send`` and its commit."""
    from newsletter import create_app
    from newsletter.delivery import sends
    from newsletter.digests.models import Digest
    from newsletter.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_config(database, tmp))
        with app.app_context():
            digest = db.session.get(Digest, digest_id)
            started = time.perf_counter()
            size = sends.start_send(digest)
            db.session.commit()
            seconds = time.perf_counter() - started
            db.engine.dispose()
    return seconds, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--database", required=True, help="a PostgreSQL SQLAlchemy URL")
    args = parser.parse_args()
    results = []
    load_before = os.getloadavg()
    for count in args.subscribers:
        digest_id = setup(args.database, count)
        seconds, size = freeze(args.database, digest_id)
        results.append((count, size, seconds))
    load = os.getloadavg()
    print(
        f"Audience freeze benchmark: {os.cpu_count()} cores, load {load_before[0]:.1f} before, "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} after"
    )
    print(f"{'subscribers':>11} {'audience':>9} {'seconds':>8} {'rows/s':>9}")
    for count, size, seconds in results:
        print(f"{count:>11} {size:>9} {seconds:>8.2f} {size / seconds:>9.0f}")
    print("reproduce: " + shlex.join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
