"""Whether the subscribe answer's time tells an address's state.

Posts the subscribe form for addresses that are new, pending, active, unsubscribed and
complained, interleaved, through the WSGI app in this process (no network: only the
app's own time), each answer timed alone (the work after the previous one done), and
prints the median and p90 answer time of each state. Mail goes to
a local outbox; the address-dependent work runs after the answer.

    .venv/bin/python bench/subscribe_timing.py
    .venv/bin/python bench/subscribe_timing.py --rounds 300 --database postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import re
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATES = ("new", "pending", "active", "unsubscribed", "complained")


def _drain(app: object) -> None:
    """Wait until the work after the last answer is done, so that each answer is timed
    alone (a single-worker executor runs its jobs in order)."""
    for key in ("newsletter.afterwards", "newsletter.mail_thread"):
        executor = app.extensions.get(key)  # type: ignore[attr-defined]
        if executor is not None:
            executor.submit(lambda: None).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a SQLite file)")
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))

    from newsletter import create_app
    from newsletter.extensions import db
    from newsletter.subscriptions.lists import create_list
    from newsletter.subscriptions.models import Subscriber, SubscriberStatus

    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {
                "SECRET_KEY": "bench " * 8,
                "INSTANCE_PATH": instance,
                "SQLALCHEMY_DATABASE_URI": args.database or f"sqlite:///{instance}/b.sqlite3",
                "SUBSCRIBE_LIMIT_PER_IP": "1000000 per minute",
                "SUBSCRIBE_LIMIT_PER_ADDRESS": "1000000 per minute",
                "SEND_BACKGROUND": False,
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            db.drop_all()
            db.create_all()
            create_list("digest", "Digest", default=True)
            for state in STATES[1:]:
                for n in range(args.rounds):
                    email = f"{state}{n}@example.org"
                    db.session.add(
                        Subscriber(email=email, email_key=email, status=SubscriberStatus(state))
                    )
            db.session.commit()
        client = app.test_client()
        page = client.get("/subscribe").get_data(as_text=True)
        version = re.search(r'name="consent_version" type="hidden" value="([^"]+)"', page)
        consent = version.group(1) if version else ""
        times: dict[str, list[float]] = {state: [] for state in STATES}
        client.post("/subscribe", data={"email": "warm@example.org", "consent_version": consent})
        for n in range(args.rounds):
            for state in STATES:
                data = {"email": f"{state}{n}@example.org", "consent_version": consent}
                started = time.perf_counter()
                response = client.post("/subscribe", data=data)
                times[state].append(time.perf_counter() - started)
                if response.status_code != 302:
                    sys.exit(response.get_data(as_text=True)[:300])
                _drain(app)
        for key in ("newsletter.afterwards", "newsletter.mail_thread"):
            if key in app.extensions:  # the work after the answers, before the database goes
                app.extensions[key].shutdown(wait=True)
        print(f"POST /subscribe answer time, {args.rounds} rounds, interleaved:")
        for state in STATES:
            ordered = sorted(times[state])
            median = statistics.median(ordered) * 1000
            p90 = ordered[int(len(ordered) * 0.9)] * 1000
            print(f"  {state:<13} median {median:6.2f} ms   p90 {p90:6.2f} ms")
        with app.app_context():
            db.drop_all()


if __name__ == "__main__":
    main()
