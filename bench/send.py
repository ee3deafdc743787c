"""Sending a real digest to N subscribers, against a local SMTP sink in another process.

Prints, for each size, N and number of processes: messages per second, our CPU time
per recipient (render, build, bookkeeping: everything but the sink), the senders' peak
memory, and, in the same run against the same sink, the rates of Postfix's
``smtp-source`` (C, pre-built messages of the same size over as many connections: the
machine's limit) and of a plain smtplib loop, with our ratio to each.

The sink is Postfix's ``smtp-sink`` (Debian package ``postfix``, which brings
``smtp-source`` too), far faster than any Python server. Sending uses ``--processes``
worker processes of ``--threads`` SMTP connections each, as ``flask digest send
--processes P --workers T`` runs; SQLite allows one, PostgreSQL shares the send
between them with ``FOR UPDATE SKIP LOCKED``.

    .venv/bin/python bench/send.py                                   # SQLite, 10,000
    .venv/bin/python bench/send.py --subscribers 10000 100000 --size-kb 16 40
    .venv/bin/python bench/send.py --database postgresql+psycopg://postgres@127.0.0.1/test \
        --processes 1 2 4 --threads 2
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shlex
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "newsletter" / "demo" / "has-track2-session-2020-06-08.txt"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_sink(port: int) -> subprocess.Popen:
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        sys.exit("smtp-sink not found: apt-get install postfix (it brings smtp-sink)")
    sink = subprocess.Popen([binary, "-u", "nobody", f"127.0.0.1:{port}", "1024"])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return sink
        except OSError:
            time.sleep(0.05)
    sys.exit("smtp-sink did not start")


def config(database: str, port: int, instance: str) -> dict[str, object]:
    return {
        "SECRET_KEY": "bench secret key, long enough for production",
        "SQLALCHEMY_DATABASE_URI": database,
        "INSTANCE_PATH": instance,
        "BASE_URL": "https://news.example.org",
        "SITE_NAME": "Dialogue Digest",
        "ORGANISATION_NAME": "Example Society",  # every send names who sends it and where
        "POSTAL_ADDRESS": "1 Example Street, 1000 Example City",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_DEFAULT_SENDER": "Dialogue Digest <digest@news.example.org>",
        "MAIL_LOCAL_HOSTNAME": "bench.local",
        "SEND_BACKGROUND": False,
        "SEND_BATCH_SIZE": 500,
    }


def prepare(settings: dict[str, object], count: int, size_kb: int) -> tuple[int, int]:
    """A fresh schema, ``count`` active subscribers, a digest of the sample session (its
    points quoted again, as from further sessions, until a copy weighs ``size_kb``);
    returns (digest id, size of one message)."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from newsletter import create_app
    from newsletter.delivery.copies import DigestMailer, Recipient
    from newsletter.digests import services as digests
    from newsletter.extensions import db
    from newsletter.sessions import services as sessions
    from newsletter.sessions.importer import parse_summary
    from newsletter.subscriptions.lists import create_list
    from newsletter.subscriptions.models import Membership, Subscriber, SubscriberStatus
    from newsletter.timeutil import utcnow

    app = create_app(settings)
    with app.app_context():
        if str(settings["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
            downgrade(directory=str(ROOT / "migrations"), revision="base")
        upgrade(directory=str(ROOT / "migrations"))
        mailing_list = create_list("digest", "Dialogue digest", default=True)
        parsed = parse_summary(SAMPLE.read_text(encoding="utf-8"))
        session = sessions.create_session(sessions.SessionData.from_parsed(parsed), parsed.points)
        digest = digests.create_from_session(session)
        digest.intro = "Dear readers,\n\nThe main points of our latest sessions."
        db.session.flush()
        number = 2
        while _copy_size(digest) < size_kb * 1024:
            number += 1
            data = sessions.SessionData.from_parsed(parsed)
            data.number = number
            data.title = f"{parsed.title} (session {number})"
            more = sessions.create_session(data, parsed.points)
            digests.add_points(digest, [point.id for point in more.points])
        db.session.commit()
        now = utcnow()
        step = 20_000
        for first in range(0, count, step):
            rows = [
                {"public_id": uuid.uuid4(), "email": f"reader{n}@example.org",
                 "email_key": f"reader{n}@example.org", "name": f"Reader {n}",
                 "organisation": "", "status": SubscriberStatus.ACTIVE, "created_at": now,
                 "status_changed_at": now, "bounce_score": 0.0}
                for n in range(first, min(first + step, count))
            ]  # fmt: skip
            db.session.execute(sa.insert(Subscriber), rows)
            db.session.commit()
        db.session.execute(
            sa.insert(Membership).from_select(
                ["subscriber_id", "list_id", "created_at"],
                sa.select(
                    Subscriber.id,
                    sa.literal(mailing_list.id),
                    sa.literal(now, Membership.created_at.type),
                ),
            )
        )
        db.session.commit()
        subscriber = db.session.scalar(sa.select(Subscriber).limit(1))
        _, sample = DigestMailer(digest).build(
            Recipient(1, subscriber.email, subscriber.name, subscriber.public_id)
        )
        digest_id = digest.id
        db.session.remove()
        db.engine.dispose()
    return digest_id, len(sample)


def _copy_size(digest: object) -> int:
    from newsletter.delivery.copies import DigestMailer, Recipient

    return len(
        DigestMailer(digest).build(Recipient(1, "reader@example.org", "Reader", uuid.uuid4()))[1]
    )


def start_send(settings: dict[str, object], digest_id: int) -> None:
    from newsletter import create_app
    from newsletter.delivery import sends
    from newsletter.digests.models import Digest
    from newsletter.extensions import db

    app = create_app(settings)
    with app.app_context():
        sends.start_send(db.session.get(Digest, digest_id))
        db.session.commit()
        db.engine.dispose()


def _own_usage() -> tuple[float, int]:
    """(CPU seconds, peak resident KiB) of this process. The peak is read from
    /proc (VmHWM): Linux carries ``ru_maxrss`` over a fork+exec, which would report
    the parent's set-up instead of the sender."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    return usage.ru_utime + usage.ru_stime, peak


def sender_process(settings, digest_id, threads, ready, go, results) -> None:
    """One sending process: app and message built first, then the send, measured."""
    from newsletter import create_app
    from newsletter.delivery import execution

    app = create_app(settings)
    execution.prepared_for(app, digest_id)  # render and inline once, before the clock
    ready.put(True)
    go.wait()
    cpu, _ = _own_usage()
    execution.work_on(app, digest_id, concurrency=threads)
    cpu_after, peak = _own_usage()
    results.put((cpu_after - cpu, peak))


def plain_process(port, message, count, ready, go, results) -> None:
    """The ceiling: smtplib pushing one pre-built message again and again."""
    smtp = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.local")
    ready.put(True)
    go.wait()
    cpu, _ = _own_usage()
    for n in range(count):
        smtp.sendmail("digest@news.example.org", [f"reader{n}@example.org"], message)
    smtp.quit()
    cpu_after, peak = _own_usage()
    results.put((cpu_after - cpu, peak))


def run_processes(target, arguments: list[tuple]) -> tuple[float, float, int]:
    """(seconds, CPU seconds, peak KiB) of the processes' measured part. They are
    spawned, not forked (their memory is their own), and start together once all are
    set up, so start-up costs stay out of the figures."""
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(target=target, args=(*args, ready, go, results)) for args in arguments
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=300)
    started = time.perf_counter()
    go.set()
    measured = [results.get() for _ in processes]
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
        if process.exitcode != 0:
            sys.exit(f"a worker failed with exit code {process.exitcode}")
    return seconds, sum(cpu for cpu, _ in measured), max(peak for _, peak in measured)


def smtp_source(port: int, sessions: int, count: int, size: int) -> float:
    """Seconds Postfix's smtp-source takes to push ``count`` messages of ``size`` bytes
    over ``sessions`` connections (each kept open) into the sink."""
    binary = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    command = [
        binary, "-d", "-s", str(sessions), "-m", str(count), "-l", str(size),
        "-f", "digest@news.example.org", "-t", "reader@example.org", "-M", "bench.local",
        f"127.0.0.1:{port}",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def plain_message(size: int) -> bytes:
    """A pre-built message of ``size`` bytes: the same load on the wire, no building."""
    head = (
        b"From: Dialogue Digest <digest@news.example.org>\r\nTo: reader@example.org\r\n"
        b"Subject: plain\r\nMessage-ID: <plain@news.example.org>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    )
    line = b"x" * 74 + b"\r\n"
    body = line * ((size - len(head)) // len(line) + 1)
    return (head + body)[:size]


def measure(
    database: str | None, port: int, count: int, size_kb: int, processes: int, threads: int
) -> dict[str, float]:
    """One run: a fresh database and digest, our send, then smtp-source and the plain
    loop with as many connections into the same sink."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = config(database or f"sqlite:///{tmp}/bench.sqlite3", port, tmp)
        settings["SEND_CONCURRENCY"] = processes * threads
        digest_id, size = prepare(settings, count, size_kb)
        start_send(settings, digest_id)
        seconds, cpu, peak_kib = run_processes(
            sender_process, [(settings, digest_id, threads)] * processes
        )
    connections = processes * threads
    source_seconds = smtp_source(port, connections, count, size)
    share = [count // connections + (n < count % connections) for n in range(connections)]
    message = plain_message(size)
    plain_seconds, _, _ = run_processes(plain_process, [(port, message, n) for n in share])
    return {
        "rate": count / seconds,
        "cpu_us": cpu / count * 1e6,
        "peak_mib": peak_kib / 1024,
        "source": count / source_seconds,
        "plain": count / plain_seconds,
        "size_kb": size / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[10_000])
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite file)")
    parser.add_argument(
        "--size-kb",
        type=int,
        nargs="+",
        default=[40],
        help="grow the digest until one copy weighs this much (default 40)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        nargs="+",
        default=None,
        help="sending processes, one run each (default: the cores on PostgreSQL; SQLite: 1)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="workers (SMTP connections) per process, as 'flask digest send --workers' runs",
    )
    args = parser.parse_args()
    postgres = bool(args.database and args.database.startswith("postgresql"))
    cores = len(os.sched_getaffinity(0))
    axis = args.processes or [cores if postgres else 1]
    threads = args.threads if postgres else 1  # SQLite: one worker at a time
    if not postgres:
        axis = [1]

    load_before = os.getloadavg()
    port = free_port()
    sink = start_sink(port)
    results = []
    try:
        for size_kb in args.size_kb:
            for count in args.subscribers:
                for processes in axis:
                    figures = measure(args.database, port, count, size_kb, processes, threads)
                    results.append((size_kb, count, processes, figures))
    finally:
        sink.terminate()
        sink.wait(10)

    kind = "PostgreSQL" if postgres else "SQLite"
    load = os.getloadavg()
    print(
        f"Digest send benchmark: {kind}, {threads} connection(s) per sending process; "
        f"smtp-source and the plain loop with as many connections; smtp-sink; {cores} cores; "
        f"load {load_before[0]:.1f} before, {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} after"
    )
    print(
        f"{'msg KB':>6} {'recipients':>10} {'procs':>5} {'msg/s':>7} {'CPU µs/msg':>10} "
        f"{'peak MiB':>8} {'smtp-source/s':>13} {'ratio':>5} {'plain/s':>7} {'ratio':>5}"
    )
    for _, count, processes, f in results:
        print(
            f"{f['size_kb']:>6.1f} {count:>10} {processes:>5} {f['rate']:>7.0f} "
            f"{f['cpu_us']:>10.0f} {f['peak_mib']:>8.1f} {f['source']:>13.0f} "
            f"{f['rate'] / f['source']:>5.2f} {f['plain']:>7.0f} {f['rate'] / f['plain']:>5.2f}"
        )
    print("CPU µs/msg: user+system time of the sending processes during the send, per recipient;")
    print("peak MiB: the largest sending process's peak resident memory;")
    print("ratio: our rate over smtp-source's (C) and over the plain smtplib loop's.")
    print("reproduce: " + shlex.join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
