"""Large archives: one standard's folder or one department's archive per forked worker process."""

from __future__ import annotations

import os

PARALLEL_ROWS = 300   # from this many activities and documents the folders are written by worker processes
MAX_WORKERS = 4
_SHARED: dict = {}


def standard_job(i: int) -> tuple:
    return _SHARED["builder"].run_standard(i)


def department_job(i: int) -> None:
    _SHARED["builder"].run_department(i)


def in_processes(func, builder, n: int, parallel: bool):
    """func(i) for i in range(n), in order: in forked workers (sharing the builder) when parallel."""
    import multiprocessing as mp
    from pipeline.processes import forks
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if not parallel or workers < 2 or n < 2 or not forks():   # without fork (Windows): in this process
        return [func_result for func_result in (_call(func, builder, i) for i in range(n))]
    _SHARED["builder"] = builder
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            return pool.map(func, range(n), chunksize=1)
    finally:
        _SHARED.clear()


def _call(func, builder, i: int):
    _SHARED["builder"] = builder
    try:
        return func(i)
    finally:
        _SHARED.clear()
