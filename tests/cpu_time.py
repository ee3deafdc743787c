"""CPU time of a call, for the tests that prove a pattern reads in linear time."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def least_cpu_seconds(run: Callable[[], object], clock=time.thread_time, tries=3) -> float:
    """The least CPU time of ``tries`` calls of ``run``, with the garbage collector paused.

    A backtracking pattern is slow on every try, for minutes; what varies between tries is
    not the pattern: a collection walking the whole suite's heap lands in one call, or a
    busy machine's caches are cold. The least of a few tries is the pattern's own cost."""
    spent = []
    for _ in range(tries):
        gc.disable()
        try:
            started = clock()
            run()
            spent.append(clock() - started)
        finally:
            gc.enable()
    return min(spent)
