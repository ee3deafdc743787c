"""The per-copy cost of a digest with variants: ``DigestMailer.build`` for readers of
the default language and of a Dari variant, and what preparing each language costs
once per process. Variants are one prepared message per language, so a Dari copy
should cost what an English one does (its base64 body is encoded once, up to the
first personal link).

    .venv/bin/python bench/copies.py                       # 20,000 copies a language
    .venv/bin/python bench/copies.py --copies 50000
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "newsletter/demo/has-track2-session-2020-06-08.txt"
DARI_POINT = (
    "در افغانستان با وجود دیدگاه‌های گوناگون در مسائل دیگر، اجماع گسترده‌ای بر صلح وجود "
    "دارد. شورای عالی مصالحهٔ ملی و کابینه بر گام‌های بعدی به‌سوی مذاکرات توافق دارند."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20_000)
    args = parser.parse_args()

    from newsletter import create_app
    from newsletter.delivery.copies import DigestMailer, Recipient
    from newsletter.digests import services as digests
    from newsletter.digests import variants
    from newsletter.extensions import db
    from newsletter.sessions import services as sessions
    from newsletter.sessions.importer import parse_summary
    from newsletter.subscriptions.lists import create_list

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench-" + "k" * 40,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                "INSTANCE_PATH": folder,
                "BASE_URL": "https://news.example.org",
                "MAIL_DEFAULT_SENDER": "Digest <digest@news.example.org>",
                "SEND_BACKGROUND": False,
            }
        )
        with app.app_context():
            db.create_all()
            create_list("digest", "Dialogue digest", default=True)
            parsed = parse_summary(SAMPLE.read_text(encoding="utf-8"))
            session = sessions.create_session(
                sessions.SessionData.from_parsed(parsed), parsed.points
            )
            digest = digests.create_from_session(session)
            variants.save(
                digest,
                "fa-AF",
                {"subject": "خلاصهٔ نشست دوم گفت‌وگوی ترک ۲"},
                {item.id: DARI_POINT for item in digest.items},
            )
            db.session.commit()
            started = time.perf_counter()
            mailer = DigestMailer(digest)
            prepared_ms = (time.perf_counter() - started) * 1000
            print(
                f"prepared {len(mailer.templates)} languages ({', '.join(mailer.languages)}) "
                f"in {prepared_ms:.0f} ms, once per process"
            )
            for language in ("en", "fa-AF"):
                recipients = [
                    Recipient(
                        n + 1, f"reader{n}@example.org", f"Reader {n}", uuid.uuid4(), language
                    )
                    for n in range(args.copies)
                ]
                size = len(mailer.build(recipients[0])[1])
                runs = []
                for _ in range(3):
                    started = time.perf_counter()
                    for recipient in recipients:
                        mailer.build(recipient)
                    runs.append((time.perf_counter() - started) / len(recipients) * 1e6)
                print(
                    f"{language:6} {args.copies:,} copies: {statistics.median(runs):.1f} µs a copy "
                    f"(median of 3), {size:,} bytes a message"
                )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("reproduce: .venv/bin/python " + shlex.join(["bench/copies.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
