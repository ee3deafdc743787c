"""``flask subscribers import`` of a generated file: rows per second and peak memory,
beside PostgreSQL's own ``COPY`` of the same file into a plain table (the limit).

The file has N rows (email, name, organisation) with 2 % invalid addresses and 3 %
duplicates differing in case; the import runs as an operator runs it, in a process
of its own, on a fresh schema, with ``--consent-note``. Peak memory is that
process's peak resident set (VmHWM).

    .venv/bin/python bench/import.py                                  # SQLite, 100,000
    .venv/bin/python bench/import.py --rows 100000 1000000 \\
        --database postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
INVALID_SHARE = 0.02
DUPLICATE_SHARE = 0.03


def generate(path: Path, rows: int, seed: int = 13) -> None:
    """``rows`` data rows: mostly new people, 2 % bad addresses, 3 % earlier addresses
    again in another case."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("email,name,organisation\n")
        for n in range(rows):
            draw = rng.random()
            if draw < INVALID_SHARE:
                email = rng.choice(
                    [f"person{n}.example.org", f"person{n}@", f"per son{n}@example.org",
                     f"person{n}@example..org", f"person{n}@-example.org"]
                )  # fmt: skip
            elif draw < INVALID_SHARE + DUPLICATE_SHARE and n:
                email = f"Person{rng.randrange(n)}@Example.ORG"
            else:
                email = f"person{n}@example.org"
            name = f"Person {n}" if rng.random() < 0.9 else ""
            organisation = f'"Institute {n % 977}, Geneva"' if rng.random() < 0.5 else ""
            handle.write(f"{email},{name},{organisation}\n")


def environment(database: str, instance: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSLETTER_")}
    env.update(
        {
            "NEWSLETTER_SECRET_KEY": "bench secret key, long enough for production",
            "NEWSLETTER_SQLALCHEMY_DATABASE_URI": database,
            "NEWSLETTER_INSTANCE_PATH": instance,
            "NEWSLETTER_BASE_URL": "https://news.example.org",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def fresh_schema(env: dict[str, str], postgres: bool) -> None:
    flask = [str(VENV_BIN / "flask"), "--app", "newsletter"]
    steps = [["db", "upgrade"], ["lists", "create", "digest", "Dialogue digest", "--default"]]
    if postgres:
        steps.insert(0, ["db", "downgrade", "base"])
    for step in steps:
        subprocess.run([*flask, *step], env=env, check=True, capture_output=True)


# Runs the real command (``flask subscribers import``) and reports, on stderr, how long
# the import itself took (app start-up aside) and the process's peak memory.
_WRAPPER = """
import atexit, sys, time
from pathlib import Path
from flask.cli import main
from newsletter.cli import subscribers
timed = []
real = subscribers.import_subscribers
def import_subscribers(*args, **kwargs):
    started, cpu = time.perf_counter(), time.process_time()
    try:
        return real(*args, **kwargs)
    finally:
        timed.append((time.perf_counter() - started, time.process_time() - cpu))
subscribers.import_subscribers = import_subscribers
def report():
    status = Path("/proc/self/status").read_text()
    peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    seconds, cpu = timed[0] if timed else (0, 0)
    print(f"MEASURED {seconds} {cpu} {peak}", file=sys.stderr)
atexit.register(report)
sys.argv = ["flask", "--app", "newsletter", *sys.argv[1:]]
main()
"""


def run_import(env: dict[str, str], source: Path) -> tuple[float, float, float, float, str]:
    """(seconds importing, CPU seconds of the importing process meanwhile, seconds of the
    whole command, peak MiB, the command's summary line) of one ``flask subscribers
    import`` in its own process."""
    command = ["subscribers", "import", str(source), "--consent-note", "bench import"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    whole = time.perf_counter() - started
    measured = next(line for line in done.stderr.splitlines() if line.startswith("MEASURED"))
    _, seconds, cpu, peak = measured.split()
    return float(seconds), float(cpu), whole, int(peak) / 1024, done.stdout.splitlines()[0]


def postgres_copy(database: str, source: Path) -> float:
    """Seconds PostgreSQL takes to COPY the same file into an unindexed temporary table."""
    import psycopg

    url = database.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copied (email text, name text, organisation text)")
        started = time.perf_counter()
        copying = cursor.copy("COPY copied FROM STDIN (FORMAT csv, HEADER true)")
        with copying as copy, source.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        connection.rollback()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: SQLite file)")
    args = parser.parse_args()
    postgres = bool(args.database and args.database.startswith("postgresql"))

    results = []
    load_before = os.getloadavg()
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "people.csv"
            generate(source, rows)
            database = args.database or f"sqlite:///{tmp}/bench.sqlite3"
            env = environment(database, tmp)
            fresh_schema(env, postgres)
            seconds, cpu, whole, peak, summary = run_import(env, source)
            copy_rate = rows / postgres_copy(args.database, source) if postgres else None
            results.append(
                (rows, rows / seconds, seconds, cpu * 1e6 / rows, whole, peak, copy_rate, summary)
            )

    kind = "PostgreSQL" if postgres else "SQLite"
    load = os.getloadavg()
    print(f"load before: {load_before[0]:.1f}")
    print(
        f"Subscriber import benchmark: {kind}, {os.cpu_count()} cores, load "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}; {INVALID_SHARE:.0%} invalid addresses, "
        f"{DUPLICATE_SHARE:.0%} duplicates in another case"
    )
    print(
        f"{'rows':>9} {'rows/s':>9} {'import s':>9} {'CPU µs/row':>10} {'command s':>10} "
        f"{'peak MiB':>9} {'COPY rows/s':>12} {'ratio':>6}"
    )
    for rows, rate, seconds, cpu_row, whole, peak, copy_rate, _ in results:
        copy_text = f"{copy_rate:>12.0f} {rate / copy_rate:>6.2f}" if copy_rate else ""
        print(
            f"{rows:>9} {rate:>9.0f} {seconds:>9.1f} {cpu_row:>10.1f} {whole:>10.1f} "
            f"{peak:>9.1f} {copy_text}"
        )
    for rows, *_, summary in results:
        print(f"{rows}: {summary}")
    print("rows/s: rows of the file over the import's own time (command s adds start-up);")
    print("CPU µs/row: the importing process's own CPU time (SQLite's work included, not")
    print("  PostgreSQL's server), less distorted by a loaded machine than rows/s;")
    print("peak MiB: the importing process's peak resident memory (VmHWM);")
    print("COPY rows/s: PostgreSQL's COPY of the same file into an unindexed table.")
    print("reproduce: " + shlex.join([sys.executable, *sys.argv]))


if __name__ == "__main__":
    main()
