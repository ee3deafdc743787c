"""One send from several processes of this machine: ``digest send ID --processes N``.

The work of a send is claimed from the database, so the processes share it as workers
on several machines do (PostgreSQL's ``FOR UPDATE SKIP LOCKED``): each builds the
digest once and runs its own database and SMTP connections, with no Python lock in
common, so a send uses every core. The parent only follows: it reads the send's
figures, so the progress bar counts every process's messages.

Stopping keeps the bound of a crash, or does better:

- Ctrl-C reaches the parent, which sets a shared event; each process finishes the
  message it is sending, records it, gives its claims back and exits.
- If the parent dies (even SIGKILL), the kernel kills its children with it
  (``PR_SET_PDEATHSIG``): no orphan goes on sending while a resumed send takes their
  deliveries back. What they had in flight is, as for any crash, at most one message
  per open SMTP connection.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # prctl(2)
_POLL_SECONDS = 0.5


def default_processes(app: Flask) -> int:
    """Every core on PostgreSQL; one on SQLite (one writer at a time)."""
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def work_in_processes(
    app: Flask,
    digest_id: int,
    processes: int,
    threads: int,
    stop: threading.Event,
    tick: Callable[[], None],
) -> list[int]:
    """Run ``processes`` sending processes (``threads`` connections each) until the due
    work runs out or ``stop`` is set, calling ``tick`` twice a second meanwhile;
    return their exit codes. Call it from the main thread: children die with it."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no shared state
    shared_stop = context.Event()
    config = dict(app.config)
    children = [
        context.Process(
            target=_child,
            args=(config, digest_id, threads, shared_stop, os.getpid()),
            name=f"send-{digest_id}-{n}",
        )
        for n in range(processes)
    ]
    for child in children:
        child.start()
    try:
        while any(child.is_alive() for child in children):
            if stop.is_set():
                shared_stop.set()
            for child in children:
                child.join(_POLL_SECONDS / len(children))
            tick()
    except BaseException:  # Ctrl-C: every process finishes its message, then stops
        stop.set()
        shared_stop.set()
        for child in children:
            child.join()
        raise
    codes = [child.exitcode if child.exitcode is not None else -1 for child in children]
    for child, code in zip(children, codes, strict=True):
        if code != 0:
            log.error("sending process %s ended with exit code %s", child.name, code)
    return codes


def _child(
    config: Mapping[str, Any],
    digest_id: int,
    threads: int,
    shared_stop: Any,
    parent: int,
) -> None:
    """A sending process: the same application, its own connections."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _die_with(parent)
    from newsletter import create_app
    from newsletter.delivery import execution

    app = create_app(config)
    stop = threading.Event()

    def relay() -> None:
        shared_stop.wait()
        stop.set()

    threading.Thread(target=relay, name="stop-relay", daemon=True).start()
    execution.work_on(app, digest_id, concurrency=threads, stop=stop)


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when the parent dies (Linux), and stop at once
    if it already has."""
    library = ctypes.util.find_library("c")
    if library is not None:
        try:
            ctypes.CDLL(library, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # not Linux: the check below still holds
            log.debug("prctl(PR_SET_PDEATHSIG) is not available here")
    if os.getppid() != parent:
        os._exit(1)
