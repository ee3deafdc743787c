"""The session importer under hostile input, and saving sessions with many points.

Prints how long ``parse_summary`` takes on pastes of the largest size the form allows
(200,000 characters) built to make regular expressions backtrack, and how long saving a
session with N points takes (one multi-row INSERT), on SQLite or PostgreSQL.

    .venv/bin/python bench/importer.py
    .venv/bin/python bench/importer.py --points 200 1000 4000 --database postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _parse_times(repeat: int) -> None:
    from newsletter.sessions.importer import parse_summary
    from tests.sessions.test_importer_hostile import HOSTILE

    print(
        f"parse_summary, {len(HOSTILE)} hostile pastes of ~200,000 characters (median of {repeat}):"
    )
    for name, text in sorted(HOSTILE.items()):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            parse_summary(text)
            times.append(time.perf_counter() - started)
        print(f"  {name:<24} {statistics.median(times) * 1000:8.1f} ms")


def _save_times(counts: list[int], database: str | None) -> None:
    from newsletter import create_app
    from newsletter.extensions import db
    from newsletter.sessions import services

    with tempfile.TemporaryDirectory() as instance:
        config = {
            "SECRET_KEY": "bench " * 8,
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": database or f"sqlite:///{instance}/bench.sqlite3",
            "MAX_POINTS_PER_SESSION": max(counts),
        }
        app = create_app(config)
        with app.app_context():
            db.drop_all()
            db.create_all()
            print(f"saving a session with N points ({db.engine.dialect.name}):")
            for count in counts:
                points = [
                    f"Point {n}: {'a summary point of typical length ' * 4}" for n in range(count)
                ]
                data = services.SessionData(series_name="Bench", title=f"Bench {count}")
                started = time.perf_counter()
                services.create_session(data, points)
                db.session.commit()
                elapsed = time.perf_counter() - started
                print(f"  {count:>6} points {elapsed * 1000:8.1f} ms")
            db.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, nargs="+", default=[200, 1000, 4000])
    parser.add_argument("--database", help="a PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    _parse_times(args.repeat)
    _save_times(args.points, args.database)


if __name__ == "__main__":
    main()
