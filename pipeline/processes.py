"""How the pipeline starts other processes, in one place.

Windows has no `fork`: there every worker is started with `spawn` (a fresh interpreter that imports what it
needs and receives its arguments pickled). WENMING_START_METHOD=spawn makes this machine do the same, so the
code Windows runs is the code CI runs (`.ci/run` runs the whole suite a second time with it)."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading

START_ENV = "WENMING_START_METHOD"


def start_method() -> str:
    """WENMING_START_METHOD when the platform has it; else 'fork' where there is fork and this process runs
    one thread (forking a process with threads can deadlock on a lock another thread held); else
    'forkserver' (POSIX) or 'spawn' (Windows)."""
    methods = mp.get_all_start_methods()
    chosen = os.environ.get(START_ENV, "").strip().lower()
    if chosen in methods:
        return chosen
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


def forks() -> bool:
    """True where a child may be forked to share work that is already in memory (a Result, a plan)."""
    return start_method() == "fork"


def context():
    """The multiprocessing context of start_method()."""
    return mp.get_context(start_method())
