"""Outputs are written to a temporary file beside the target and renamed into place."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it over the target on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_save_workbook(wb: Any, target: str | Path) -> None:
    with atomic_path(target) as tmp:
        wb.save(tmp)


def atomic_write_text(target: str | Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(target: str | Path, data: Any) -> None:
    from pipeline.jsontext import dumps  # json.dumps(data, ensure_ascii=False, indent=2), faster
    atomic_write_text(target, dumps(data) + "\n")


# ------------------------------------------------------------------ a run's outputs as one set (issue 12, item 14)
#
# A run writes its whole set into a staging folder inside the output folder (.tmp-staging-…). When every file is
# written, a journal naming the new set and the previous one is put beside them and the folder is renamed to
# .tmp-commit-… in one step: that rename is the commit point. The files are then renamed into place one by one and
# the previous set's leftovers moved away. A kill or a full disk before the commit point leaves the previous set as
# it was (the staging folder is removed by the next run); a kill after it is finished by `settle`, which every run
# and every reader of the folder (report, notify) calls first under the folder's lock, so what they see is always
# one run's complete set. A lock file (.lock) keeps two runs out of one folder at a time.

import errno  # noqa: E402
import shutil  # noqa: E402
import stat  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from pipeline.errors import OutputError  # noqa: E402

STAGE_PREFIX = ".tmp-staging-"
COMMIT_PREFIX = ".tmp-commit-"
JOURNAL = ".journal.json"
MANIFEST = ".outputs.json"
LOCK = ".lock"
LOCK_WAIT = float(os.environ.get("WENMING_LOCK_WAIT", "15"))  # seconds a second run waits before giving up

_held: dict[str, list] = {}  # lock path -> [file object, depth]: a lock is re-entrant within one process
_held_guard = threading.Lock()


def _try_lock(fh) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt
        try:
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
        return f"（进程 {info.get('pid')}，{info.get('what', '')}，开始于 {info.get('since', '')}）"
    except (OSError, ValueError):
        return ""


@contextmanager
def folder_lock(folder: str | Path, what: str = "生成报告", wait: float | None = None) -> Iterator[None]:
    """Hold the folder's lock; a second holder waits up to `wait` seconds, then gets OutputError (one Chinese
    line). The operating system releases the lock when the process ends, however it ends."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK
    key = str(path.resolve())
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            reentrant = True
        else:
            reentrant = False
    if reentrant:
        try:
            yield
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    fh = open(path, "a+", encoding="utf-8")
    deadline = time.monotonic() + (LOCK_WAIT if wait is None else wait)
    try:
        while not _try_lock(fh):
            if time.monotonic() >= deadline:
                raise OutputError(f"文件夹 {folder} 正被另一次运行使用{_holder(path)}，请等它结束后再运行")
            time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "what": what, "since": time.strftime("%H:%M:%S")},
                            ensure_ascii=False))
        fh.flush()
        with _held_guard:
            _held[key] = [fh, 1]
        try:
            yield
        finally:
            with _held_guard:
                del _held[key]
    finally:
        fh.close()  # closing the file releases the lock


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _apply(out: Path, commit: Path) -> None:
    """Move a committed set into place (idempotent: a run killed half-way is finished by running it again)."""
    journal = _read_json(commit / JOURNAL)
    new, old, kind = journal.get("new", []), journal.get("old", []), journal.get("kind", "report")
    trash = commit / ".old"
    trash.mkdir(exist_ok=True)
    for name in old:
        if name not in new and _exists(out / name) and not _exists(trash / name):
            os.replace(out / name, trash / name)
    for name in new:
        src, dst = commit / name, out / name
        if not _exists(src):
            continue  # moved before the kill
        if dst.is_dir() and not dst.is_symlink():
            if _exists(trash / name):
                shutil.rmtree(trash / name, ignore_errors=True)
            os.replace(dst, trash / name)  # a folder of the previous set cannot be replaced in one step
        os.replace(src, dst)
    manifest = _read_json(out / MANIFEST)
    manifest[kind] = new
    _record_stamps(out, manifest, new)
    atomic_write_json(out / MANIFEST, manifest)
    shutil.rmtree(commit, ignore_errors=True)


def settle(out: str | Path) -> None:
    """Finish a set whose commit was interrupted and remove staging folders of runs that never committed.
    Call with the folder's lock held (`output_set` and `settled` do)."""
    out = Path(out)
    if not out.is_dir():
        return
    for entry in sorted(out.iterdir()):
        if entry.name.startswith(COMMIT_PREFIX) and entry.is_dir():
            _apply(out, entry)
    for entry in out.iterdir():
        if entry.name.startswith(STAGE_PREFIX):
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
        elif entry.name.startswith(".tmp-") and entry.is_file():  # a single file's temporary (atomic_path)
            entry.unlink(missing_ok=True)


@contextmanager
def settled(out: str | Path, what: str = "读取输出") -> Iterator[Path]:
    """For a reader of an output folder: hold the lock and see one complete set."""
    out = Path(out)
    with folder_lock(out, what):
        settle(out)
        yield out


STAMPS = "stamps"   # in .outputs.json: file name -> [size, mtime_ns] as the tool left it
_KEPT: dict[str, list[str]] = {}   # output folder -> lines about edited files moved aside (see keep_edits)
_KEPT_GUARD = threading.Lock()


def _stamp(path: Path) -> list[int] | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns] if stat.S_ISREG(st.st_mode) else None


def _record_stamps(out: Path, manifest: dict, names: Any) -> None:
    stamps = manifest.get(STAMPS) if isinstance(manifest.get(STAMPS), dict) else {}
    for name in names:
        stamp = _stamp(out / name)
        if stamp:
            stamps[name] = stamp
    manifest[STAMPS] = stamps


def _aside(out: Path, name: str) -> Path:
    path = Path(name)
    for n in range(1, 1000):
        target = out / f"{path.stem}（修改稿{'' if n == 1 else n}）{path.suffix}"
        if not _exists(target):
            return target
    raise OutputError(f"输出文件夹 {out} 中“{path.stem}（修改稿）”太多，请整理后再运行")


def keep_edits(out: str | Path, names: Any) -> list[str]:
    """Files among `names` that the tool wrote and someone changed since (size or modification time differ from
    what it recorded, e.g. a 自查报告 polished in WPS) are moved aside as “名称（修改稿）.docx”, so the new run
    does not write over the edits; one Chinese line each (also kept for `pop_kept`). Call under the folder's lock."""
    out = Path(out)
    stamps = _read_json(out / MANIFEST).get(STAMPS) or {}
    lines = []
    for name in names:
        recorded, path = stamps.get(name), out / name
        if not recorded or _stamp(path) in (None, recorded):
            continue
        target = _aside(out, name)
        os.replace(path, target)
        lines.append(f"“{name}”在上次生成后被修改过，已另存为“{target.name}”，新生成的文件不会覆盖这些修改")
    if lines:
        with _KEPT_GUARD:
            _KEPT.setdefault(str(out.resolve()), []).extend(lines)
    return lines


def pop_kept(out: str | Path | None = None) -> list[str]:
    """The lines of keep_edits since the last call, for one output folder or (None) for all (the console)."""
    with _KEPT_GUARD:
        if out is not None:
            return _KEPT.pop(str(Path(out).resolve()), [])
        lines = [line for folder in _KEPT.values() for line in folder]
        _KEPT.clear()
        return lines


def foreign_files(out: str | Path, names: Any) -> list[str]:
    """The names among `names` that exist in `out` but that this tool did not write there (no set of any kind in
    the folder's .outputs.json lists them): a user's own file that happens to bear an output's name."""
    out = Path(out)
    known = {n for v in _read_json(out / MANIFEST).values() if isinstance(v, list) for n in v}
    return [n for n in names if n not in known and _exists(out / n)]


def refuse_foreign(out: str | Path, names: Any) -> None:
    """OutputError (one Chinese line) when writing `names` into `out` would overwrite a file the tool did not write."""
    found = foreign_files(out, names)
    if found:
        raise OutputError(f"输出文件夹 {out} 中已有同名文件“{found[0]}”，不是本工具生成的；为免覆盖，"
                          "请先把它移到别处或改名，或换一个输出文件夹")


@contextmanager
def claimed(out: str | Path, kind: str, names: Any, what: str = "生成文件") -> Iterator[Path]:
    """For a command that writes files (or folders) of known names into `out` without an output set (plan,
    templates, rollup, archive): under the folder's lock, refuse (OutputError) when one of them exists but the
    tool did not write it; after the block, list them in .outputs.json under `kind` as the tool's own."""
    out = Path(out)
    names = list(names)
    if _exists(out) and not out.is_dir():
        raise OutputError(f"输出位置 {out} 是一个文件，不是文件夹，请换一个文件夹名")
    with folder_lock(out, what):
        refuse_foreign(out, names)
        keep_edits(out, names)
        yield out
        note_outputs(out, kind, names)


def note_outputs(out: str | Path, kind: str, names: Any) -> None:
    """List `names` in out/.outputs.json under `kind`: files this tool wrote (and may write again); the names an
    earlier run of the kind wrote stay listed while they are there."""
    out = Path(out)
    manifest = _read_json(out / MANIFEST)
    earlier = [n for n in manifest.get(kind, []) if isinstance(n, str) and _exists(out / n)]
    manifest[kind] = sorted(set(names) | set(earlier))
    _record_stamps(out, manifest, names)
    atomic_write_json(out / MANIFEST, manifest)


@contextmanager
def output_set(out: str | Path, kind: str = "report", what: str = "生成报告") -> Iterator[Path]:
    """Yield a staging folder; everything written there replaces the previous `kind` set in `out` at once.
    On any exception the staging folder is removed and the previous set stays as it was. A file in `out` that bears
    an output's name but that the tool did not write is never overwritten: OutputError, nothing changed."""
    out = Path(out)
    if _exists(out) and not out.is_dir():
        raise OutputError(f"输出位置 {out} 是一个文件，不是文件夹，请换一个文件夹名")
    with folder_lock(out, what):
        settle(out)
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out))
        try:
            yield stage
            previous = _read_json(out / MANIFEST).get(kind, [])
            new = sorted(p.name for p in stage.iterdir() if not p.name.startswith(".tmp-"))
            for leftover in stage.glob(".tmp-*"):
                leftover.unlink(missing_ok=True)
            refuse_foreign(out, new)  # nothing is overwritten that this tool did not write
            keep_edits(out, new)      # nor what someone changed in a file it wrote
            (stage / JOURNAL).write_text(json.dumps({"kind": kind, "new": new, "old": previous},
                                                    ensure_ascii=False), encoding="utf-8")
            commit = out / (COMMIT_PREFIX + stage.name[len(STAGE_PREFIX):])
            os.replace(stage, commit)  # the commit point
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        _apply(out, commit)
