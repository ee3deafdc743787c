"""Processing returned mail: a Maildir of N messages (10,000 by default) read by
``flask inbound process``, in messages per second.

The messages are the real ones of ``tests/bounces/corpus`` (bounces of every kind,
complaints, auto-replies, replies), each copy made unique and addressed to the signed
VERP address of one of the benchmark's subscribers, as they come back from a send.
Every message is read, matched, acted on and committed on its own, as in production.

    .venv/bin/python bench/inbound.py                       # SQLite, 10,000 messages
    .venv/bin/python bench/inbound.py --messages 2000
    .venv/bin/python bench/inbound.py --database postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import mailbox
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "bounces" / "corpus"
SUBSCRIBERS = 1000


def settings(database: str, folder: Path) -> dict[str, str]:
    return {
        "NEWSLETTER_SECRET_KEY": "bench secret key, long enough for production",
        "NEWSLETTER_SQLALCHEMY_DATABASE_URI": database,
        "NEWSLETTER_INSTANCE_PATH": str(folder / "instance"),
        "NEWSLETTER_BASE_URL": "https://news.example.org",
        "NEWSLETTER_MAIL_DEFAULT_SENDER": "Digest <digest@news.example.org>",
        "NEWSLETTER_BOUNCE_DOMAIN": "bounces.news.example.org",
        # Replies are kept, not forwarded; mailto confirmations land in the outbox.
        "NEWSLETTER_MAIL_SERVER": "",
    }


def prepare(env: dict[str, str], folder: Path, count: int) -> Path:
    """Subscribers, and a Maildir of ``count`` returned messages about them."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from newsletter import create_app
    from newsletter.bounces import verp
    from newsletter.extensions import db
    from newsletter.subscriptions.models import Subscriber, SubscriberStatus
    from newsletter.timeutil import utcnow

    app = create_app()
    with app.app_context():
        if env["NEWSLETTER_SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            with db.engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade(directory=str(ROOT / "migrations"))
        now = utcnow()
        db.session.execute(
            sa.insert(Subscriber),
            [
                {
                    "public_id": uuid.uuid4(),
                    "email": f"reader{n}@example.org",
                    "email_key": f"reader{n}@example.org",
                    "name": "",
                    "organisation": "",
                    "status": SubscriberStatus.ACTIVE,
                    "created_at": now,
                    "status_changed_at": now,
                    "confirmation_sent_at": now,
                    "bounce_score": 0.0,
                }
                for n in range(SUBSCRIBERS)
            ],
        )
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Subscriber.id).order_by(Subscriber.id)))
        addresses = [verp.envelope_sender(subscriber_id, "") for subscriber_id in ids]
        db.engine.dispose()
    samples = [
        path.read_bytes()
        for path in sorted(CORPUS.glob("*/*"))
        if path.name not in ("LICENSE", "README.md", "manifest.tsv")
    ]
    box = mailbox.Maildir(str(folder / "Maildir"), create=True)
    for n in range(count):
        head = f"Delivered-To: {addresses[n % len(addresses)]}\nX-Bench-Copy: {n}\n".encode()
        box.add(head + samples[n % len(samples)].replace(b"\r\n", b"\n"))
    return folder / "Maildir"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-inbound-") as tmp:
        folder = Path(tmp)
        database = args.database or f"sqlite:///{folder / 'bench.sqlite3'}"
        env = settings(database, folder)
        maildir = prepare(env, folder, args.messages)
        command = [sys.executable, "-m", "flask", "--app", "newsletter", "inbound", "process"]
        started = time.perf_counter()
        result = subprocess.run(
            [*command, str(maildir)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(result.stderr[-3000:])
        print(result.stdout.strip())
        print()
        print(f"messages: {args.messages}, database: {database.split(':')[0]}")
        rate = args.messages / elapsed
        print(f"time: {elapsed:.1f} s (process start included), {rate:.0f} messages/s")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine)")
        cpu = platform.processor() or platform.machine()
        print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}")
        reproduce = ["python", "bench/inbound.py", "--messages", str(args.messages)]
        if args.database:
            reproduce += ["--database", args.database]
        print("reproduce:", shlex.join(reproduce))


if __name__ == "__main__":
    main()
