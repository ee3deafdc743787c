"""Real processes: a sender killed with SIGKILL mid-send, then resumed; several senders
sharing one send on PostgreSQL; a Celery worker on Redis delivering a digest."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from newsletter.delivery.models import Delivery, DeliveryStatus
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from tests.conftest import TEST_DATABASE_URL
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = bool(TEST_DATABASE_URL)
CONCURRENCY = 2 if ON_POSTGRES else 1  # SQLite: one worker at a time


def _env(app, **extra: str) -> dict[str, str]:
    """The same configuration as the test's app, for another process."""
    config = app.config
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSLETTER_")}
    env.update(
        {
            "NEWSLETTER_SECRET_KEY": config["SECRET_KEY"],
            "NEWSLETTER_SQLALCHEMY_DATABASE_URI": config["SQLALCHEMY_DATABASE_URI"],
            "NEWSLETTER_BASE_URL": config["BASE_URL"],
            "NEWSLETTER_SITE_NAME": config["SITE_NAME"],
            "NEWSLETTER_ORGANISATION_NAME": config["ORGANISATION_NAME"],
            "NEWSLETTER_POSTAL_ADDRESS": config["POSTAL_ADDRESS"],
            "NEWSLETTER_MAIL_SERVER": config["MAIL_SERVER"],
            "NEWSLETTER_MAIL_PORT": str(config["MAIL_PORT"]),
            "NEWSLETTER_MAIL_DEFAULT_SENDER": config["MAIL_DEFAULT_SENDER"],
            "NEWSLETTER_MAIL_LOCAL_HOSTNAME": "test.local",
            "NEWSLETTER_INSTANCE_PATH": app.instance_path,
            "NEWSLETTER_SEND_CONCURRENCY": str(CONCURRENCY),
            "NEWSLETTER_SEND_BATCH_SIZE": "20",
            "NEWSLETTER_SEND_CLAIM_SECONDS": "2",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def _flask(app, *args: str, **popen: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "newsletter", *args],
        env=_env(app),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **popen,
    )  # type: ignore[call-overload]


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL: no cleanup of any kind in the sender."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _finished(app, digest_id: int) -> tuple[DigestStatus, set[str]]:
    with app.app_context():
        status = db.session.get(Digest, digest_id).status
        open_ = db.session.scalars(
            sa.select(Delivery.status).where(
                Delivery.digest_id == digest_id, Delivery.status != DeliveryStatus.SENT
            )
        ).all()
        db.session.remove()
        return status, set(open_)


def _recorded(app, digest_id: int) -> int:
    """How many deliveries the sender has recorded as sent."""
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count(Delivery.id)).where(
                Delivery.digest_id == digest_id, Delivery.status == DeliveryStatus.SENT
            )
        )
        db.session.remove()
        return int(count or 0)


def _kill_after(app, digest_id: int, sender: subprocess.Popen, outbox, count: int) -> int | None:
    """Kill ``sender`` once the SMTP server has ``count`` messages, the sender has recorded
    each of them, and it waits for the server's answer to the next one; return how many
    messages were in flight then (the server has them, the sender never heard so).

    The server holds every message after the ``count``-th, so the sender cannot run
    past the kill point however the machine schedules it. None if the sender stopped on
    its own first (it failed: the caller shows its output)."""
    with outbox.holding(after=count, limit=60):
        wait_until(
            lambda: (
                sender.poll() is not None
                or (outbox.waiting_in_data() and _recorded(app, digest_id) >= count)
            ),
            timeout=60,
            message=lambda: f"{len(outbox.received)} stored, {_recorded(app, digest_id)} recorded",
        )
        if sender.poll() is not None:
            return None
        _kill(sender)
        # The server notices the lost connections and keeps what they were sending.
        wait_until(lambda: not outbox.waiting_in_data(), message="held messages never settled")
    assert _recorded(app, digest_id) == count
    return len(outbox.received) - count


@pytest.mark.parametrize("kill_at", [0.1, 0.5, 0.9])
def test_killed_sender_resumes_and_misses_no_one(
    app, add_subscribers, digest_id, start, outbox, kill_at
):
    readers = add_subscribers(150)
    start(digest_id)
    sender = _flask(app, "digest", "send", str(digest_id))
    in_flight = _kill_after(app, digest_id, sender, outbox, int(len(readers) * kill_at))
    assert in_flight is not None, sender.communicate()[0].decode()
    assert 1 <= in_flight <= CONCURRENCY  # each worker was sending one message

    resumed = _flask(app, "digest", "send", str(digest_id), "--reclaim")
    output = resumed.communicate(timeout=120)[0].decode()
    assert resumed.returncode == 0, output
    assert "Done: 150 sent" in output

    counts = Counter(received.to for received in outbox.received)
    assert set(counts) == set(readers)  # no one skipped
    repeated = sum(count - 1 for count in counts.values())
    assert repeated == in_flight  # sent again: only the messages in flight at the crash
    assert _finished(app, digest_id) == (DigestStatus.SENT, set())


def test_killed_sender_with_variants_resumes_each_reader_in_their_language(
    app, add_subscribers, digest_id, start, outbox
):
    """Exactly once with variants: killed mid-send and resumed, every reader gets their
    language's copy, and only the messages in flight at the crash are sent twice."""
    from tests.delivery.test_variants import DARI_SUBJECT, give_dari_variant, set_languages

    english = add_subscribers(60, prefix="en")
    dari = add_subscribers(60, prefix="fa")
    set_languages(app, dict.fromkeys(dari, "fa-AF"))
    give_dari_variant(app, digest_id)
    start(digest_id)
    sender = _flask(app, "digest", "send", str(digest_id))
    in_flight = _kill_after(app, digest_id, sender, outbox, 50)
    assert in_flight is not None, sender.communicate()[0].decode()

    resumed = _flask(app, "digest", "send", str(digest_id), "--reclaim")
    output = resumed.communicate(timeout=120)[0].decode()
    assert resumed.returncode == 0, output

    counts = Counter(received.to for received in outbox.received)
    assert set(counts) == set(english) | set(dari)
    assert sum(count - 1 for count in counts.values()) == in_flight
    for received in outbox.received:
        wanted = DARI_SUBJECT if received.to in dari else None
        if wanted:
            assert received.message["Subject"] == wanted
            assert received.message["Content-Language"] == "fa-AF"
        else:
            assert received.message["Content-Language"] == "en"
    assert _finished(app, digest_id) == (DigestStatus.SENT, set())


def test_resume_without_reclaim_waits_for_stale_claims(
    app, add_subscribers, digest_id, start, outbox
):
    readers = add_subscribers(60)
    start(digest_id)
    sender = _flask(app, "digest", "send", str(digest_id))
    in_flight = _kill_after(app, digest_id, sender, outbox, 20)
    assert in_flight is not None, sender.communicate()[0].decode()
    resumed = _flask(app, "digest", "send", str(digest_id))
    output = resumed.communicate(timeout=120)[0].decode()
    assert resumed.returncode == 0, output
    assert "Done: 60 sent" in output
    counts = Counter(received.to for received in outbox.received)
    assert set(counts) == set(readers)
    assert sum(count - 1 for count in counts.values()) == in_flight


@pytest.mark.skipif(not ON_POSTGRES, reason="several workers share a send on PostgreSQL only")
def test_several_senders_share_one_send_without_duplicates(
    app, add_subscribers, digest_id, start, outbox
):
    readers = add_subscribers(300)
    outbox.slow_down(0.002)
    start(digest_id)
    senders = [_flask(app, "digest", "send", str(digest_id)) for _ in range(3)]
    outputs = [sender.communicate(timeout=180)[0].decode() for sender in senders]
    assert all(sender.returncode == 0 for sender in senders), outputs
    counts = Counter(received.to for received in outbox.received)
    assert set(counts) == set(readers)
    assert set(counts.values()) == {1}
    assert _finished(app, digest_id) == (DigestStatus.SENT, set())


PROCESSES, WORKERS = 2, 2  # digest send --processes 2 --workers 2: four connections


_SPREAD = ("--processes", str(PROCESSES), "--workers", str(WORKERS))


def _senders(pid: int) -> list[int]:
    """The sending processes ``pid`` has spawned (multiprocessing's spawn_main)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (proc / "cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        if parent == pid and b"spawn_main" in command:
            found.append(int(proc.name))
    return found


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(not ON_POSTGRES, reason="several sending processes need PostgreSQL")
def test_killed_multi_process_send_takes_its_children_along_and_resumes(
    app, add_subscribers, digest_id, start, outbox
):
    readers = add_subscribers(300)
    start(digest_id)
    sender = _flask(app, "digest", "send", str(digest_id), *_SPREAD)
    children = wait_until(
        lambda: len(found := _senders(sender.pid)) == PROCESSES and found,
        timeout=60,
        message="the sending processes never started",
    )
    in_flight = _kill_after(app, digest_id, sender, outbox, 120)
    assert in_flight is not None, sender.communicate()[0].decode()
    assert 1 <= in_flight <= PROCESSES * WORKERS  # one message per connection at most
    # The sending processes died with their parent: no orphan goes on sending.
    wait_until(lambda: all(_gone(pid) for pid in children), message="a child outlived its parent")

    resumed = _flask(app, "digest", "send", str(digest_id), "--reclaim", *_SPREAD)
    output = resumed.communicate(timeout=180)[0].decode()
    assert resumed.returncode == 0, output
    assert "Done: 300 sent" in output
    counts = Counter(received.to for received in outbox.received)
    assert set(counts) == set(readers)
    assert sum(count - 1 for count in counts.values()) == in_flight
    assert _finished(app, digest_id) == (DigestStatus.SENT, set())


@pytest.mark.skipif(not ON_POSTGRES, reason="several sending processes need PostgreSQL")
def test_interrupted_multi_process_send_stops_cleanly_and_resumes_without_repeats(
    app, add_subscribers, digest_id, start, outbox
):
    readers = add_subscribers(300)
    outbox.slow_down(0.004)
    start(digest_id)
    sender = _flask(app, "digest", "send", str(digest_id), *_SPREAD)
    wait_until(lambda: len(outbox.received) >= 100 or sender.poll() is not None, timeout=90)
    assert sender.poll() is None, sender.communicate()[0].decode()
    sender.send_signal(signal.SIGINT)  # Ctrl-C
    output = sender.communicate(timeout=60)[0].decode()
    assert sender.returncode == 130, output
    assert "Interrupted. Deliveries not sent yet stay queued" in output
    # The command waited for its processes: what they sent is all there is.
    assert _recorded(app, digest_id) == len(outbox.received) < len(readers)
    with app.app_context():
        in_flight = db.session.scalar(
            sa.select(sa.func.count(Delivery.id)).where(
                Delivery.digest_id == digest_id, Delivery.status == DeliveryStatus.SENDING
            )
        )
        db.session.remove()
    assert in_flight == 0  # every process gave its claims back

    resumed = _flask(app, "digest", "send", str(digest_id), *_SPREAD)
    output = resumed.communicate(timeout=180)[0].decode()
    assert resumed.returncode == 0, output
    counts = Counter(received.to for received in outbox.received)
    assert set(counts) == set(readers)
    assert set(counts.values()) == {1}  # a clean stop repeats nobody


# A database of its own on the local Redis (NEWSLETTER_TEST_REDIS_URL picks another one,
# so that two checkouts can run the suite at once).
REDIS_URL = os.environ.get("NEWSLETTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis() -> redis.Redis | None:
    try:
        client = redis.Redis.from_url(REDIS_URL)
        client.ping()
        return client
    except redis.RedisError:
        return None


@pytest.mark.skipif(
    shutil.which("celery") is None and not (Path(sys.executable).parent / "celery").exists(),
    reason="celery is not installed",
)
def test_celery_worker_delivers_a_digest_end_to_end(app_config, add_subscribers, digest_id, outbox):
    broker = _redis()
    if broker is None:
        pytest.skip(f"no Redis at {REDIS_URL}")
    broker.flushdb()
    from newsletter import create_app
    from newsletter.delivery import execution, sends

    url = REDIS_URL
    readers = add_subscribers(40)
    producer = create_app({**app_config, "CELERY_BROKER_URL": url})
    env = _env(producer, NEWSLETTER_CELERY_BROKER_URL=url)
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "newsletter.tasks",
            "worker",
            "--concurrency",
            str(CONCURRENCY),
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            "newsletter",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with producer.app_context():
            sends.start_send(db.session.get(Digest, digest_id))
            db.session.commit()
        execution.dispatch(producer, digest_id)
        outbox.wait_for(40, timeout=60)
        wait_until(
            lambda: _finished(producer, digest_id)[0] == DigestStatus.SENT,
            timeout=30,
            message="the worker never finished the send",
        )
        assert _finished(producer, digest_id) == (DigestStatus.SENT, set())
        counts = Counter(received.to for received in outbox.received)
        assert set(counts) == set(readers)
        assert set(counts.values()) == {1}

        # Transactional mail goes through the worker too.
        with producer.test_request_context():
            from newsletter import mailing

            mailing.send_email("test", subject="Via the worker", to_address="ops@example.org")
            db.session.commit()
        outbox.wait_for(41, timeout=30)
        assert outbox.received[-1].message["Subject"] == "Via the worker"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            _kill(worker)
        with producer.app_context():
            db.session.remove()
            db.engine.dispose()
