"""Parsed workbooks kept in memory by content hash, so a long-lived process (the 工作台) re-reads only
the files that changed since its last run."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from pathlib import Path
from typing import Callable, Iterator

from pipeline.catalog import Config
from pipeline.intake.ingest import FileRecord, MAX_FILE_BYTES

Reader = Callable[..., Iterator[FileRecord]]


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes, streamed; None when it cannot be read or is over the size limit
    (the reader reports those; they are never cached)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    except OSError:
        return None


def config_key(config: Config) -> tuple:
    """What reading a workbook depends on in the config: the departments, their aliases, the year."""
    return (config.year, config.template_version, tuple((d.name, d.aliases) for d in config.departments))


class WorkbookCache:
    """FileRecords by (name in the inbox, content hash); a hit is a fresh copy, so a run may add its issues."""

    def __init__(self, limit: int = 20_000) -> None:
        self._records: dict[tuple[str, str], FileRecord] = {}
        self._config: tuple | None = None
        self._lock = threading.Lock()
        self.limit = limit
        self.hits = self.misses = 0

    def read_all(self, paths: list[Path], inbox: Path, config: Config, progress: Callable[[str], None] | None,
                 reader: Reader) -> Iterator[FileRecord]:
        """Every record in path order: hits from memory, misses read by `reader` (report.read_all)."""
        with self._lock:
            if self._config != config_key(config):
                self._records.clear()
                self._config = config_key(config)
        keys: list[tuple[str, str] | None] = []
        misses: list[Path] = []
        for path in paths:
            digest = file_digest(path)
            key = (path.relative_to(inbox).as_posix(), digest) if digest else None
            keys.append(key)
            if key is None or key not in self._records:
                misses.append(path)
        fresh = {rec.path: rec for rec in reader(misses, inbox, config, progress)} if misses else {}
        with self._lock:
            for path, key in zip(paths, keys):
                if key is not None and path in fresh and fresh[path].sha256 == key[1]:
                    self._records[key] = _copy(fresh[path])
            while len(self._records) > self.limit:
                self._records.pop(next(iter(self._records)))
            self.hits += len(paths) - len(misses)
            self.misses += len(misses)
        for path, key in zip(paths, keys):
            if path in fresh:
                yield fresh[path]
                continue
            rec = _copy(self._records[key])  # type: ignore[index]
            rec.path = path
            try:
                rec.mtime = path.stat().st_mtime
            except OSError:
                pass
            if progress:
                progress(rec.name)
            yield rec


def _copy(rec: FileRecord) -> FileRecord:
    """A copy a run can change: merge appends to and rewrites a record's issues."""
    return dataclasses.replace(rec, issues=list(rec.issues))
