"""Throughput and latency of POST /subscribe under concurrent load, beside the same
server's rate on a trivial endpoint (/healthz), so the ratio shows our own cost.

The app runs under gunicorn (sync workers) on a fresh database; mail goes to the
local outbox (a file per message). Each client process opens a session once (GET
/subscribe for the cookie and CSRF token) and then sends the form for new addresses
as fast as the server answers. Rate limits are switched off for the run.

    .venv/bin/python bench/subscribe.py                      # SQLite
    .venv/bin/python bench/subscribe.py --database postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _client(
    port: int, path: str, seconds: float, worker: int, results: multiprocessing.Queue
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers: dict[str, str] = {}
    body_template = ""
    if path == "/subscribe":
        connection.request("GET", "/subscribe")
        response = connection.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        version = re.search(r'name="consent_version" type="hidden" value="([^"]+)"', page).group(1)
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        body_template = urllib.parse.urlencode(
            {"csrf_token": token, "consent_version": version, "name": "Bench Reader"}
        )
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        n += 1
        start = time.perf_counter()
        try:
            if path == "/subscribe":
                email = urllib.parse.quote(f"bench-{worker}-{n}@example.org")
                connection.request(
                    "POST", path, body=f"{body_template}&email={email}", headers=headers
                )
                expected = 302
            else:
                connection.request("GET", path)
                expected = 200
            response = connection.getresponse()
            response.read()
            if response.status != expected:
                errors += 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
        latencies.append(time.perf_counter() - start)
    results.put((latencies, errors))


def measure(port: int, path: str, clients: int, seconds: float) -> dict[str, float]:
    results: multiprocessing.Queue = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=_client, args=(port, path, seconds, worker, results))
        for worker in range(clients)
    ]
    for process in processes:
        process.start()
    latencies: list[float] = []
    errors = 0
    for _ in processes:
        got, failed = results.get()
        latencies.extend(got)
        errors += failed
    for process in processes:
        process.join()
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rate": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default=None, help="SQLAlchemy URL (default: SQLite in a temp dir)"
    )
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "NEWSLETTER_SECRET_KEY": secrets.token_urlsafe(32),
            "NEWSLETTER_INSTANCE_PATH": tmp,
            "NEWSLETTER_RATELIMIT_ENABLED": "false",
            "NEWSLETTER_BASE_URL": "http://127.0.0.1",
        }
        env.pop("NEWSLETTER_MAIL_SERVER", None)
        if args.database:
            env["NEWSLETTER_SQLALCHEMY_DATABASE_URI"] = args.database
        flask = [str(VENV_BIN / "flask"), "--app", "newsletter"]
        if args.database and args.database.startswith("postgresql"):
            subprocess.run(
                [*flask, "db", "downgrade", "base"], env=env, check=True, capture_output=True
            )
        subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*flask, "demo"], env=env, check=True, capture_output=True)

        port = free_port()
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "newsletter:create_app()",
            ],
            env=env,
            cwd=ROOT,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            measure(port, "/healthz", args.clients, 1.0)  # warm up every worker
            baseline = measure(port, "/healthz", args.clients, args.seconds)
            subscribe = measure(port, "/subscribe", args.clients, args.seconds)
        finally:
            server.terminate()
            try:
                server.wait(60)  # workers finish sending the mail they queued
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    database = "PostgreSQL" if args.database and "postgresql" in args.database else "SQLite"
    print(
        f"POST /subscribe under load: gunicorn, {args.workers} sync workers, {args.clients} "
        f"client processes, {args.seconds:.0f} s each, {database}, {os.cpu_count()} cores"
    )
    print(f"{'endpoint':<18}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, figures in (("GET /healthz", baseline), ("POST /subscribe", subscribe)):
        print(
            f"{name:<18}{figures['rate']:>10.0f}{figures['p50_ms']:>10.2f}"
            f"{figures['p99_ms']:>10.2f}{figures['errors']:>8.0f}"
        )
    print(f"subscribe / trivial rate: {subscribe['rate'] / baseline['rate']:.2f}")
    load = os.getloadavg()
    print(f"load average after the run: {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}")
    print("reproduce: " + shlex.join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
