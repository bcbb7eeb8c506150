"""Isolated reading (contract section 11): every untrusted spreadsheet is read in a worker process.

A reader library can do worse than raise: calamine aborts the whole process when an allocation fails, a Rust
panic arrives as pyo3's `PanicException` (a BaseException), a crafted file can ask for gigabytes or spin. So
the scan and the parse of each file run in persistent worker processes, each under a memory ceiling
(RLIMIT_AS on POSIX) and a per-file time limit kept by the parent. Whatever happens while reading one file
ends only that file: it becomes `file-unreadable` (its department counts as having sent something
unreadable), the worker is replaced, and every other file is read as usual.

Protocol: the parent hands each worker one file at a time and waits on all of them at once; a worker sends
back its FileRecord pickled by itself (bytes), so no exception object and nothing unpicklable ever crosses the
process boundary. When a worker dies or overruns, the one file it held is reported; the files not yet handed
out stay queued for the others, so nothing is lost. Records come back in path order, each as soon as it and
the ones before it are read.

Workers are started with 'fork' where the platform has it and the process has one thread (cheap: the parent
has imported the readers already), otherwise 'forkserver' (POSIX) or 'spawn' (Windows, the only method
there). `WENMING_START_METHOD` chooses one explicitly (the tests run both 'fork' and 'spawn')."""

from __future__ import annotations

import collections
import gc
import hashlib
import multiprocessing as mp
import os
import pickle
import queue
import signal
import stat
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Callable, Iterator

from pipeline.errors import PipelineError
from pipeline.processes import START_ENV
from pipeline.intake.ingest import FileRecord, MAX_FILE_BYTES, _department_hint, _rel, read_workbook
from pipeline.issues import make_issue

DEFAULT_MEMORY_MB = 2048      # what one worker may allocate beyond what it starts with
DEFAULT_SECONDS = 120.0       # per file, scan and parse together
POOL_MIN_FILES = 24           # below this many files one worker reads them all
MAX_WORKERS = 4
QUEUED = 2                    # files handed to a worker at a time: the one it reads and the next
MAX_FAILED_STARTS = 3         # workers in a row that die before they are up: reading cannot work here
GC_EVERY = 100                # files between full collections in a worker (its cyclic collector is off)

MEMORY_ENV = "WENMING_READ_MEMORY_MB"
SECONDS_ENV = "WENMING_READ_SECONDS"
#: tests only: "<abort|panic|hang|alloc>:<part of a file name>" makes the worker fail that way on that file, as a
#: reader library can (an abort, a Rust panic, a loop, a runaway allocation); never set in normal use
FAULT_ENV = "WENMING_TEST_READER_FAULT"


class ReaderStartError(PipelineError):
    """No reading worker can be started on this machine."""


@dataclass(frozen=True)
class ReadLimits:
    """The ceiling of one reading worker: memory in MB (beyond its size at start) and seconds per file.
    From unit.yaml's optional `reading:` section (`max_memory_mb`, `max_seconds`), the environment
    variables WENMING_READ_MEMORY_MB / WENMING_READ_SECONDS overriding it."""

    memory_mb: int = DEFAULT_MEMORY_MB
    seconds: float = DEFAULT_SECONDS

    @classmethod
    def from_config(cls, config: Any = None) -> "ReadLimits":
        section = (getattr(config, "settings", None) or {}).get("reading") or {}
        if not isinstance(section, dict):
            section = {}

        def number(env: str, key: str, default: float) -> float:
            for value in (os.environ.get(env), section.get(key)):
                try:
                    if value is not None and float(value) > 0:
                        return float(value)
                except (TypeError, ValueError):
                    continue
            return default
        return cls(int(number(MEMORY_ENV, "max_memory_mb", DEFAULT_MEMORY_MB)),
                   number(SECONDS_ENV, "max_seconds", DEFAULT_SECONDS))


def start_method() -> str:
    """How reading workers start: WENMING_START_METHOD when set (pipeline.processes, `.ci/run`'s spawn pass);
    else, unlike pipeline.processes.start_method, fork also when other threads run, provided reading starts on
    the main thread (see below)."""
    methods = mp.get_all_start_methods()
    chosen = os.environ.get(START_ENV, "").strip().lower()
    if chosen in methods:
        return chosen
    # fork from the main thread (the command line, whose only other thread is the console's spinner: the worker
    # replaces the stdio objects whose locks it might hold and touches nothing else of the parent's); from
    # another thread (a 工作台 request, while other requests run anything) a forkserver's clean fork
    if "fork" in methods and threading.current_thread() is threading.main_thread():
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


# ---------------------------------------------------------------- the worker side

def _limit_memory(megabytes: int) -> None:
    """Cap this process's address space at its present size plus `megabytes`. A runaway allocation then fails
    (MemoryError in Python, an abort in Rust) inside this worker instead of exhausting the machine.
    On Windows the `resource` module does not exist: the worker runs without a memory ceiling there (the time
    limit still holds, and a failed allocation still ends only this worker)."""
    try:
        import resource
    except ImportError:
        return
    size = 0
    try:
        with open("/proc/self/statm") as fh:
            size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    limit = size + megabytes * 1024 * 1024
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def quiet_child(stderr_path: str) -> None:
    """Nothing a forked child prints reaches the console: stdout goes nowhere (xlrd's `WARNING *** file
    size …`), stderr into `stderr_path` (a reading worker's: a file the parent reads when it dies, a Rust panic
    or an allocation failure)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
        err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(err, 2)
        os.close(err)
    except OSError:
        pass
    # fresh stdio objects: the parent's may have been locked by another of its threads at the moment of the fork
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
    import faulthandler
    import warnings
    faulthandler.disable()  # a fault handler inherited from the parent would write to the parent's console
    warnings.simplefilter("ignore")


def detach_child(conn, die_with_parent: bool) -> None:
    """Hold nothing of the parent's: a forked child closes every descriptor it inherited but its pipe (the
    inbox's lock, the 工作台's listening socket, the other workers' pipes), so a lock is freed and a pipe closes
    when the parent ends; on Linux it is also killed when its parent dies (a killed `collect` or `report`
    leaves no worker behind)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle
    except (ValueError, OSError):
        pass
    if sys.platform == "win32":
        return  # spawn: nothing is inherited there
    keep = conn.fileno()
    try:
        inherited = [int(fd) for fd in os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd")]
    except (OSError, ValueError):
        inherited = list(range(3, 1024))
    for fd in inherited:
        if fd <= 2 or fd == keep:
            continue
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                continue  # multiprocessing's own: the parent learns of this worker's end through it
            os.close(fd)
        except OSError:
            pass
    if die_with_parent and sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            if os.getppid() == 1:
                os._exit(0)  # the parent died before the line above
        except (OSError, AttributeError):
            pass


def _worker(conn, memory_mb: int, stderr_path: str, die_with_parent: bool = False) -> None:
    """A reading worker: reads the files it is handed, one at a time, until told to stop or the pipe closes."""
    detach_child(conn, die_with_parent)
    quiet_child(stderr_path)
    import numpy  # noqa: F401 - the pre-scan's, loaded before the ceiling, which counts from the size with it
    _limit_memory(memory_mb)
    gc.disable()
    try:
        conn.send_bytes(b"H")  # up: from here on a death is the file's doing, not the start's
    except (OSError, ValueError):
        return
    inbox = config = None
    done = 0
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        if message[0] == "setup":
            inbox, config = message[1], message[2]
            continue
        path, fault = Path(message[1]), message[2]
        try:
            os.ftruncate(2, 0)
            os.lseek(2, 0, os.SEEK_SET)
        except OSError:
            pass
        try:
            _test_fault(path, fault)
            payload = b"R" + pickle.dumps(read_workbook(path, inbox, config), pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = b"M"
        except BaseException as exc:  # noqa: BLE001 - a PanicException, anything: this file's problem only
            payload = b"E" + exc.__class__.__name__.encode("ascii", "replace")[:80]
        try:
            conn.send_bytes(payload)
        except (OSError, ValueError):
            return
        done += 1
        if done % GC_EVERY == 0:
            gc.collect()


class _TestPanic(BaseException):
    """What pyo3 raises for a Rust panic (PanicException derives from BaseException, not Exception)."""


def _test_fault(path: Path, fault: str) -> None:
    kind, _, part = fault.partition(":")
    if not part or part not in path.name:
        return
    if kind == "abort":
        os.abort()
    if kind == "panic":
        raise _TestPanic("called `Option::unwrap()` on a `None` value")
    if kind == "hang":
        while True:
            time.sleep(1)
    if kind == "alloc":
        hoard = []
        while True:
            hoard.append(bytearray(64 << 20))


# ---------------------------------------------------------------- the parent side

class _Handle:
    """One worker as the parent sees it, with the file it holds."""

    def __init__(self, ctx, limits: ReadLimits) -> None:
        # the worker's stderr: a file the parent keeps open and removes once the worker has opened it too, so
        # nothing is left behind whatever ends either process
        self.stderr_fd, self.stderr_path = tempfile.mkstemp(prefix="wenming-reader-", suffix=".log")
        self.conn, child = ctx.Pipe()
        self.limits = limits
        # the death signal follows the thread that started the worker: only the main thread lives as long as
        # the process (a 工作台 request thread ends with its request)
        on_main = threading.current_thread() is threading.main_thread()
        self.proc = ctx.Process(target=_worker, args=(child, limits.memory_mb, self.stderr_path, on_main),
                                name="pipeline-reader", daemon=True)
        self.proc.start()
        child.close()
        self.up = False                       # it said hello: it started and can read
        self.setup: tuple | None = None      # (inbox, config) it was given
        # the files handed to it, in order: the first is the one it is reading, the next is queued so that it
        # never waits for the parent between two files
        self.tasks: collections.deque[tuple[int, Path]] = collections.deque()
        self.deadline = 0.0

    @property
    def task(self) -> tuple[int, Path] | None:
        return self.tasks[0] if self.tasks else None

    def give(self, index: int, path: Path, inbox: Path, config: Any) -> None:
        if self.setup is None or self.setup[0] != inbox or self.setup[1] is not config:
            self.conn.send(("setup", inbox, config))
            self.setup = (inbox, config)
        # the test hook travels with the file: a forkserver started earlier has the environment of then
        self.conn.send(("read", str(path), os.environ.get(FAULT_ENV, "")))
        if not self.tasks:
            self.deadline = time.monotonic() + self.limits.seconds
        self.tasks.append((index, path))

    def done(self) -> None:
        """The file it was reading came back: the queued one is being read from now."""
        self.tasks.popleft()
        self.deadline = time.monotonic() + self.limits.seconds

    def stderr_head(self) -> str:
        try:
            os.lseek(self.stderr_fd, 0, os.SEEK_SET)
            return os.read(self.stderr_fd, 4096).decode("utf-8", "replace")  # the message first, a backtrace after
        except OSError:
            return ""

    def opened(self) -> None:
        """The worker is up and holds its stderr file: the name can go."""
        self.up = True
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass  # Windows keeps an open file's name: removed in close()

    def close(self, kill: bool = False) -> None:
        if self.proc.is_alive() and not kill:
            try:
                self.conn.send(("stop",))
            except (OSError, ValueError):
                kill = True
            self.proc.join(timeout=2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        try:
            self.conn.close()
        except OSError:
            pass
        try:
            os.close(self.stderr_fd)
        except OSError:
            pass
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass


def crash_detail(kind: str, limits: ReadLimits, stderr: str = "") -> str:
    """The Chinese reason of a reading that ended badly (it fills file-unreadable's {detail})."""
    if kind == "timeout":
        return f"读取超过 {limits.seconds:g} 秒仍未完成，已停止读取此文件"
    if kind == "memory" or "memory allocation" in stderr or "MemoryError" in stderr:
        return f"读取所需内存超过上限 {limits.memory_mb} MB，已停止读取此文件"
    return "读取此文件时读取程序异常退出，文件可能已损坏或含有异常内容"


def failed_record(path: Path, inbox: Path, config: Any, detail: str, digest: str = "") -> FileRecord:
    """The record of a file whose reading ended badly: file-unreadable, its department from its name, folder or
    the manifest (never from its content), its hash so it is known again."""
    rec = FileRecord(path=path, name=_rel(path, inbox), mtime=0.0, crashed=detail, sha256=digest)
    try:  # opened as intake opens files: never blocks on a FIFO put in the file's place meanwhile
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            st = os.fstat(fd)
            rec.mtime = st.st_mtime
            if not digest and stat.S_ISREG(st.st_mode) and st.st_size <= MAX_FILE_BYTES:
                hasher = hashlib.sha256()
                while block := os.read(fd, 1 << 20):
                    hasher.update(block)
                rec.sha256 = hasher.hexdigest()
        finally:
            os.close(fd)
    except OSError:
        pass
    rec.issues.append(make_issue("file-unreadable", file=rec.name, detail=detail))
    rec.department = _department_hint(rec, inbox, config)
    return rec


class ReaderPool:
    """Persistent reading workers. `read` yields a FileRecord for every path, in path order; the pool stays
    up between calls (the 工作台 keeps one) until `close`. One `read` at a time (a lock)."""

    def __init__(self, limits: ReadLimits | None = None, method: str | None = None) -> None:
        self.limits = limits
        self.method = method
        self._workers: list[_Handle] = []
        self._lock = threading.Lock()
        self.files_read = 0        # files handed to a worker (a remembered crash is not handed out again)
        self.crashes = 0
        self._failed_starts = 0

    def __enter__(self) -> "ReaderPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            for w in self._workers:
                w.close()
            self._workers = []

    def _spawn(self, limits: ReadLimits, method: str | None = None) -> _Handle:
        method = method or self.method or start_method()
        ctx = mp.get_context(method)
        if method == "forkserver":  # the server imports the readers once; each worker forked from it has them
            ctx.set_forkserver_preload(["pipeline.intake.isolate"])
        try:
            return _Handle(ctx, limits)
        except OSError as exc:  # no process can be started (out of processes or memory)
            raise ReaderStartError(f"无法启动读取报送文件的工作进程（{exc.strerror or exc.__class__.__name__}），"
                                   "请关闭其他程序后重试") from None

    def read(self, paths: list[Path], inbox: Path, config: Any,
             progress: Callable[[str], None] | None = None, workers: int | None = None) -> Iterator[FileRecord]:
        with self._lock:
            yield from self._read(list(paths), Path(inbox), config, progress, workers)

    def _read(self, paths: list[Path], inbox: Path, config: Any, progress, workers: int | None):
        """Workers are fed and their results received by a thread of their own (as ProcessPoolExecutor's
        feeder does), so they keep reading while the caller validates what came back; the caller gets the
        records in path order."""
        if not paths:
            return
        limits = self.limits or ReadLimits.from_config(config)
        method = self.method or start_method()  # chosen here, in the caller's thread, for replacements too
        wanted = workers or (1 if len(paths) < POOL_MIN_FILES else min(os.cpu_count() or 1, MAX_WORKERS))
        wanted = max(1, min(wanted, len(paths)))
        for w in [w for w in self._workers if w.limits != limits or not w.proc.is_alive()]:
            w.close()
            self._workers.remove(w)
        if method == "fork" and len(self._workers) < wanted:
            import numpy  # noqa: F401 - the pre-scan's: forked workers get it loaded (0.07 s of each one's start)
        while len(self._workers) < wanted:
            self._workers.append(self._spawn(limits, method))
        results: queue.Queue = queue.Queue()
        stop = threading.Event()

        def pump() -> None:
            try:
                self._pump(paths, inbox, config, self._workers[:wanted], limits, method, results, stop)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                results.put((-1, exc))
        thread = threading.Thread(target=pump, name="pipeline-reading", daemon=True)
        thread.start()
        ready: dict[int, FileRecord] = {}
        try:
            for upto in range(len(paths)):
                while upto not in ready:
                    index, item = results.get()
                    if index < 0:
                        raise item
                    ready[index] = item
                rec = ready.pop(upto)
                if progress:
                    progress(rec.name)
                yield rec
        finally:
            stop.set()
            thread.join()

    def _pump(self, paths: list[Path], inbox: Path, config: Any, active: list[_Handle], limits: ReadLimits,
              method: str, results: queue.Queue, stop: threading.Event) -> None:
        todo = collections.deque(enumerate(paths))
        left = len(paths)
        try:
            while left and not stop.is_set():
                for i, w in enumerate(active):
                    while len(w.tasks) < QUEUED and todo:
                        index, path = todo.popleft()
                        try:
                            w.give(index, path, inbox, config)
                        except (OSError, ValueError):  # it died meanwhile: a new one takes its files
                            todo.appendleft((index, path))
                            todo.extendleft(reversed(w.tasks))
                            self.files_read -= len(w.tasks)
                            active[i] = w = self._replace(w, limits, method)
                            continue
                        self.files_read += 1
                busy = [w for w in active if w.tasks]
                timeout = min(0.5, max(0.0, min(w.deadline for w in busy) - time.monotonic()))
                wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout)
                for i, w in enumerate(active):
                    while w.tasks:
                        index, path = w.tasks[0]
                        outcome = self._outcome(w)
                        if outcome is None:
                            break
                        if isinstance(outcome, FileRecord):
                            w.done()
                            results.put((index, outcome))
                            left -= 1
                            self._failed_starts = 0
                            continue
                        queued = list(w.tasks)[1:]  # handed out but not begun: read again by a fresh worker
                        if outcome == "start":  # it died before it could read anything: no file is to blame
                            self._failed_starts += 1
                            if self._failed_starts >= MAX_FAILED_STARTS:
                                raise ReaderStartError("读取报送文件的工作进程无法启动，请重新安装本工具后重试")
                            queued.insert(0, (index, path))
                        else:
                            self._failed_starts = 0
                            self.crashes += 1
                            results.put((index, failed_record(path, inbox, config,
                                                              crash_detail(outcome, limits, w.stderr_head()))))
                            left -= 1
                        todo.extendleft(reversed(queued))
                        self.files_read -= len(queued)
                        w.tasks.clear()
                        active[i] = self._replace(w, limits, method)
                        break
        finally:
            for w in active:
                if w.tasks:  # the caller stopped early: a worker mid-file is stopped, not reused
                    w.close(kill=True)
                    if w in self._workers:
                        self._workers.remove(w)

    def _replace(self, w: _Handle, limits: ReadLimits, method: str | None = None) -> _Handle:
        w.close(kill=True)
        fresh = self._spawn(limits, method)
        self._workers[self._workers.index(w)] = fresh
        return fresh

    @staticmethod
    def _outcome(w: _Handle):
        """What became of the file a worker holds: a FileRecord, "memory"/"crash"/"timeout", or None (still
        reading)."""
        try:
            while w.conn.poll():
                data = w.conn.recv_bytes()
                if data == b"H":
                    w.opened()
                    continue
                if data[:1] == b"R":
                    return pickle.loads(memoryview(data)[1:])  # no copy of the payload
                return "memory" if data[:1] == b"M" else "crash"
        except (EOFError, OSError):
            return "crash" if w.up else "start"
        except (pickle.UnpicklingError, ValueError, AttributeError, ImportError):
            return "crash"
        if not w.proc.is_alive():
            return "crash" if w.up else "start"
        if time.monotonic() > w.deadline:
            return "timeout"
        return None


_SHARED: ReaderPool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool() -> ReaderPool:
    """The process's pool for reads that come one file at a time (collect's check of a saved workbook, the
    工作台's cache), kept up until the process ends."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = ReaderPool()
            import atexit
            atexit.register(_SHARED.close)
        return _SHARED


_ACTIVE = threading.local()


@contextmanager
def using(pool: ReaderPool) -> Iterator[None]:
    """Reads in this thread go through `pool` meanwhile (the 工作台's cache lends its persistent pool to
    report.read_all, whichever function the run calls)."""
    previous = getattr(_ACTIVE, "pool", None)
    _ACTIVE.pool = pool
    try:
        yield
    finally:
        _ACTIVE.pool = previous


def read_all(paths: list[Path], inbox: Path, config: Any, progress: Callable[[str], None] | None = None,
             pool: ReaderPool | None = None) -> Iterator[FileRecord]:
    """Every workbook read in worker processes, each record in path order as soon as it is read. Without a
    `pool` (given, or lent by `using`), one is started for these files and stopped afterwards."""
    pool = pool or getattr(_ACTIVE, "pool", None)
    if pool is not None:
        yield from pool.read(paths, inbox, config, progress)
        return
    with ReaderPool() as own:
        yield from own.read(paths, inbox, config, progress)


def read_one(path: Path, inbox: Path, config: Any) -> FileRecord:
    """One workbook, read in the shared pool's worker."""
    return next(iter(shared_pool().read([Path(path)], Path(inbox), config)))


__all__ = ["ReadLimits", "ReaderPool", "crash_detail", "failed_record", "read_all", "read_one", "shared_pool",
           "start_method", "using"]
