"""Parsed and validated workbooks kept in memory by content hash, so a long-lived process (the 工作台)
re-reads and re-validates only the files that changed since its last run."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from pipeline.catalog import Config
from pipeline.intake.ingest import FileRecord, MAX_FILE_BYTES
from pipeline.intake.merge import Checked
from pipeline.issues import Issue

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
    """What reading a workbook depends on in the config: the departments, their aliases, the year, the catalog
    (its codes and its own roster columns)."""
    return (config.year, config.template_version, tuple((d.name, d.aliases) for d in config.departments),
            config.catalog_fingerprint)


class WorkbookCache:
    """FileRecords by (name in the inbox, content hash); a hit is a fresh copy, so a run may add its issues.
    Also each workbook's validated rows and issues (`checked`), by the same key and the department and year."""

    def __init__(self, limit: int = 20_000) -> None:
        self._records: dict[tuple[str, str], FileRecord] = {}
        self._validated: dict[tuple, tuple[dict[str, pd.DataFrame], list[Issue]]] = {}
        self._digests: dict[str, tuple[int, int, str]] = {}  # name -> (size, mtime_ns, sha256): hash on change only
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
                self._validated.clear()
                self._config = config_key(config)
        keys: list[tuple[str, str] | None] = []
        misses: list[Path] = []
        for path in paths:
            name = path.relative_to(inbox).as_posix()
            digest = self._digest(name, path)
            key = (name, digest) if digest else None
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
            while len(self._validated) > self.limit:
                self._validated.pop(next(iter(self._validated)))
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


    def _digest(self, name: str, path: Path) -> str | None:
        try:
            st = path.stat()
        except OSError:
            return None
        known = self._digests.get(name)
        if known and known[:2] == (st.st_size, st.st_mtime_ns):
            return known[2]
        digest = file_digest(path)
        if digest:
            self._digests[name] = (st.st_size, st.st_mtime_ns, digest)
        return digest

    def checked(self, config: Config, year: int) -> Checked:
        """A `Checked` for report.collect that reuses the validated rows and issues of workbooks seen before."""
        return _CachedChecked(config, year, self)


class _CachedChecked(Checked):
    """Checked whose workbooks validated in an earlier run are not validated again. Validation is row by row
    for one year and configuration, so a workbook's part of a batch is the same whichever batch it was in."""

    def __init__(self, config: Config, year: int, cache: WorkbookCache) -> None:
        super().__init__(config, year)
        self.cache = cache
        self._given: set[int] = set()   # ids of frames handed out of the cache: copied before merge gets them

    def _key(self, rec: FileRecord) -> tuple:
        return (rec.name, rec.sha256, rec.department, self.year)

    def add(self, rec: FileRecord) -> None:
        if not (rec.readable and rec.department and rec.sheets):
            return
        hit = self.cache._validated.get(self._key(rec))
        if hit is None:
            super().add(rec)
            return
        frames, issues = hit
        for kind, frame in frames.items():
            self.frames[kind].append(frame)
            self._given.add(id(frame))
        self.issues.extend(issues)

    def flush(self) -> None:
        batch = list(self.pending)
        if not batch:
            return
        start = {kind: len(frames) for kind, frames in self.frames.items()}
        first_issue = len(self.issues)
        super().flush()
        parts: dict[str, dict[str, pd.DataFrame]] = {rec.name: {} for rec in batch}
        for kind, frames in self.frames.items():
            for frame in frames[start[kind]:]:
                for name, part in frame.groupby("file", sort=False):
                    if name in parts:
                        parts[name][kind] = part.reset_index(drop=True)
        found: dict[str, list[Issue]] = {rec.name: [] for rec in batch}
        for issue in self.issues[first_issue:]:
            if issue.file in found:
                found[issue.file].append(issue)
        with self.cache._lock:
            for rec in batch:
                self.cache._validated[self._key(rec)] = (parts[rec.name], found[rec.name])

    def frame(self, kind: str, rank: dict[str, int]):
        frame = super().frame(kind, rank)
        if frame is not None and id(frame) in self._given:
            return frame.copy()  # merge may change what it is given; the cached frame stays as validated
        return frame


def _copy(rec: FileRecord) -> FileRecord:
    """A copy a run can change: merge appends to and rewrites a record's issues."""
    return dataclasses.replace(rec, issues=list(rec.issues))
