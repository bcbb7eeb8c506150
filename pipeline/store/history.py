"""The history database: each year's results of a unit, kept in SQLite (standard library only).

A year's record holds what scores.json holds that later years compare against: each metric's numerator,
denominator and threshold, each standard's status and evidence counts, and per-department counts. Nothing is
replaced quietly: a re-run of a year becomes that year's current record only when it is not smaller (as many
departments that submitted and as many used rows) and not sample data, unless the caller confirms
(`replace=True`: `report --replace`, or the 工作台 after asking). Every version is kept in `versions` (its facts as
JSON, which one is current); every run is kept in a run log. The schema carries a version
(``PRAGMA user_version``) and migrates forward; a newer or damaged database is a StoreError and is never written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from pipeline.errors import StoreError
from pipeline.vocabulary import MET

if TYPE_CHECKING:
    from pipeline.result import Result

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_PATH = ROOT / "history" / "history.sqlite"
ENV_PATH = "WENMING_HISTORY"  # overrides the default (tests give each run its own)


def _v1(db: sqlite3.Connection) -> None:
    db.executescript("""
        CREATE TABLE IF NOT EXISTS records (
            unit TEXT NOT NULL, year INTEGER NOT NULL, catalog TEXT NOT NULL, catalog_version TEXT NOT NULL,
            ran_at TEXT NOT NULL, fingerprint TEXT NOT NULL, source TEXT NOT NULL,
            PRIMARY KEY (unit, year));
        CREATE TABLE IF NOT EXISTS metrics (
            unit TEXT NOT NULL, year INTEGER NOT NULL, key TEXT NOT NULL,
            numerator INTEGER NOT NULL, denominator INTEGER NOT NULL, threshold REAL, op TEXT,
            PRIMARY KEY (unit, year, key));
        CREATE TABLE IF NOT EXISTS standards (
            unit TEXT NOT NULL, year INTEGER NOT NULL, code TEXT NOT NULL, title TEXT, status TEXT NOT NULL,
            activities INTEGER NOT NULL, documents INTEGER NOT NULL,
            PRIMARY KEY (unit, year, code));
        CREATE TABLE IF NOT EXISTS departments (
            unit TEXT NOT NULL, year INTEGER NOT NULL, name TEXT NOT NULL, submitted INTEGER NOT NULL,
            errors INTEGER NOT NULL, warnings INTEGER NOT NULL, counts TEXT NOT NULL,
            PRIMARY KEY (unit, year, name));
        CREATE TABLE IF NOT EXISTS run_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, year INTEGER NOT NULL, catalog TEXT NOT NULL,
            ran_at TEXT NOT NULL, fingerprint TEXT NOT NULL, source TEXT NOT NULL, replaced INTEGER NOT NULL);
    """)


def _v2(db: sqlite3.Connection) -> None:
    """Version 2: the run log says which tool version ran and where its documents went."""
    db.execute("ALTER TABLE run_log ADD COLUMN tool_version TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE run_log ADD COLUMN out_dir TEXT NOT NULL DEFAULT ''")


def _v3(db: sqlite3.Connection) -> None:
    """Version 3: every recorded version of a year is kept, with its size and which one is current."""
    db.executescript("""
        CREATE TABLE IF NOT EXISTS versions (
            id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, year INTEGER NOT NULL,
            ran_at TEXT NOT NULL, source TEXT NOT NULL, fingerprint TEXT NOT NULL,
            departments INTEGER NOT NULL, rows INTEGER, sample INTEGER NOT NULL, current INTEGER NOT NULL,
            facts TEXT NOT NULL);
    """)
    heads = db.execute("SELECT unit, year, catalog, ran_at, fingerprint, source FROM records").fetchall()
    for unit, year, catalog, ran_at, fp, source in heads:
        facts = {"unit": unit, "year": year, "catalog": catalog,
                 "metrics": {k: {"numerator": n, "denominator": d, "threshold": t, "op": op}
                             for k, n, d, t, op in db.execute("SELECT key, numerator, denominator, threshold, op "
                                                              "FROM metrics WHERE unit=? AND year=?", (unit, year))},
                 "standards": [{"code": c, "title": t, "status": st, "activities": a, "documents": dd}
                               for c, t, st, a, dd in db.execute("SELECT code, title, status, activities, documents "
                                                                 "FROM standards WHERE unit=? AND year=?", (unit, year))],
                 "departments": [{"name": n, "submitted": bool(sub), "errors": e, "warnings": w,
                                  "metrics": {k: {"numerator": v[0], "denominator": v[1]}
                                              for k, v in json.loads(c).items()}}
                                 for n, sub, e, w, c in db.execute("SELECT name, submitted, errors, warnings, counts "
                                                                   "FROM departments WHERE unit=? AND year=?",
                                                                   (unit, year))]}
        submitted = sum(1 for d in facts["departments"] if d["submitted"])
        db.execute("INSERT INTO versions (unit, year, ran_at, source, fingerprint, departments, rows, sample, current, "
                   "facts) VALUES (?,?,?,?,?,?,NULL,0,1,?)",
                   (unit, year, ran_at, source, fp, submitted, json.dumps(facts, ensure_ascii=False)))


#: MIGRATIONS[i] takes a database from schema version i to i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)


def default_path() -> Path:
    return Path(os.environ.get(ENV_PATH) or DEFAULT_PATH)


def tool_version() -> str:
    try:
        from importlib.metadata import version
        return version("wenming-pipeline")
    except Exception:  # noqa: BLE001 - running from a checkout without an install
        return "unknown"


@dataclass(frozen=True)
class YearRecord:
    """One recorded year of a unit, as later years compare against it."""

    unit: str
    year: int
    catalog: str
    catalog_version: str
    ran_at: str
    source: str
    metrics: dict[str, dict[str, Any]]          # key -> numerator, denominator, value, threshold, op
    standards: dict[str, dict[str, Any]]        # code -> title, status, activities, documents
    departments: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def met(self) -> int:
        return sum(s["status"] == MET for s in self.standards.values())

    def status_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.standards.values():
            out[s["status"]] = out.get(s["status"], 0) + 1
        return out


def catalog_version(scores: dict) -> str:
    """A short hash of what makes two years comparable: the standard codes and every metric's threshold."""
    parts = sorted(s["code"] for s in scores.get("standards") or [])
    parts += sorted(f"{k}{m.get('op')}{m.get('threshold')}" for k, m in (scores.get("metrics") or {}).items())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def _value(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class Recorded:
    """What `History.record` did: `new` (the year's first record), `replaced` (it is now the current record) or
    `kept` (kept as a version only; `reason` says why, in one Chinese line)."""

    state: str
    version: int
    reason: str | None = None


def run_size(scores: dict) -> tuple[int, int | None]:
    """(departments that submitted, used rows of every kind) of a run: what "smaller" compares."""
    departments = sum(1 for d in scores.get("departments") or [] if isinstance(d, dict) and d.get("submitted"))
    rows = scores.get("rows")
    if not isinstance(rows, dict):
        return departments, None
    return departments, sum(int(r.get("used") or 0) for r in rows.values() if isinstance(r, dict))


def _refusal(size: tuple[int, int | None], sample: bool, current: tuple | None, had: bool) -> str | None:
    """Why a new version must not replace the current record quietly, or None."""
    if sample:
        return "本次是示例数据，不作为本单位的记录"
    if size[0] == 0:
        return "本次没有任何部门报送可用的台账"
    if current is None:
        return None
    _id, departments, rows, ran_at, was_sample = current
    if was_sample:
        return None
    when = str(ran_at).replace("T", " ")
    if size[0] < departments:
        return f"本次报送部门{size[0]}个，少于已记录的{departments}个（{when}）"
    if rows is not None and size[1] is not None and size[1] < rows:
        return f"本次有效数据{size[1]}行，少于已记录的{rows}行（{when}）"
    return None


class History:
    """An open history database (use as a context manager)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise StoreError(f"历史数据库不存在：{self.path}")
        if self.path.is_dir():
            raise StoreError(f"历史数据库路径是文件夹：{self.path}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=10)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"无法打开历史数据库 {self.path}（{exc}）") from None
        try:
            self._migrate()
        except StoreError:
            self.db.close()
            raise
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"历史数据库 {self.path} 已损坏（{exc}），本次不作历年对比，文件未改动；"
                             "可将其改名备份后重新运行以新建") from None

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"历史数据库 {self.path} 来自更新版本的本工具（数据库版本 {version}，本工具支持到 "
                             f"{SCHEMA_VERSION}），本次不作历年对比，文件未改动；请升级本工具")
        if version == 0:
            tables = self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise StoreError(f"{self.path} 不是本工具的历史数据库（其中已有其他数据表），本次不作历年对比，"
                                 "文件未改动；请用 --history 指定另一个文件")
        for step in range(version, SCHEMA_VERSION):
            with self.db:
                MIGRATIONS[step](self.db)
                self.db.execute(f"PRAGMA user_version = {step + 1}")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------------------
    def record(self, scores: dict, *, fingerprint: str, source: str, out_dir: str = "",
               ran_at: str | None = None, replace: bool = False) -> "Recorded":
        """Keep a year's results (scores.json shape) as a new version, and make it the year's current record
        unless that would replace a larger or real record with a smaller one or with sample data
        (`replace=True`: confirmed by the user)."""
        unit, year, catalog = str(scores["unit"]), int(scores["year"]), str(scores.get("catalog") or "")
        ran_at = ran_at or dt.datetime.now().isoformat(timespec="seconds")
        size = run_size(scores)
        sample = bool(scores.get("sample"))
        try:
            with self.db:
                current = self.db.execute("SELECT id, departments, rows, ran_at, sample FROM versions "
                                          "WHERE unit=? AND year=? AND current=1", (unit, year)).fetchone()
                had = self.db.execute("SELECT 1 FROM records WHERE unit=? AND year=?", (unit, year)).fetchone()
                reason = None if replace else _refusal(size, sample, current, bool(had))
                facts = {k: scores.get(k) for k in ("unit", "year", "catalog", "metrics", "standards", "departments",
                                                    "rows", "sample") if k in scores}
                if reason is None:
                    self.db.execute("UPDATE versions SET current=0 WHERE unit=? AND year=?", (unit, year))
                cur = self.db.execute(
                    "INSERT INTO versions (unit, year, ran_at, source, fingerprint, departments, rows, sample, current, "
                    "facts) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (unit, year, ran_at, source, fingerprint, size[0], size[1], int(sample), int(reason is None),
                     json.dumps(facts, ensure_ascii=False, default=str)))
                version = cur.lastrowid
                if reason is None:
                    self._write_current(scores, unit, year, catalog, ran_at, fingerprint, source)
                self.db.execute("INSERT INTO run_log (unit, year, catalog, ran_at, fingerprint, source, replaced, "
                                "tool_version, out_dir) VALUES (?,?,?,?,?,?,?,?,?)",
                                (unit, year, catalog, ran_at, fingerprint, source,
                                 int(bool(had) and reason is None), tool_version(), out_dir))
        except (sqlite3.Error, KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"无法写入历史数据库 {self.path}（{exc.__class__.__name__}: {exc}）") from None
        state = "kept" if reason else ("replaced" if had else "new")
        return Recorded(state, version, reason)

    def _write_current(self, scores: dict, unit: str, year: int, catalog: str, ran_at: str, fingerprint: str,
                       source: str) -> None:
        for table in ("records", "metrics", "standards", "departments"):
            self.db.execute(f"DELETE FROM {table} WHERE unit=? AND year=?", (unit, year))
        self.db.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?)",
                        (unit, year, catalog, catalog_version(scores), ran_at, fingerprint, source))
        self.db.executemany("INSERT INTO metrics VALUES (?,?,?,?,?,?,?)", [
            (unit, year, k, int(m.get("numerator") or 0), int(m.get("denominator") or 0),
             m.get("threshold"), m.get("op")) for k, m in (scores.get("metrics") or {}).items()])
        self.db.executemany("INSERT INTO standards VALUES (?,?,?,?,?,?,?)", [
            (unit, year, str(s["code"]), s.get("title"), str(s["status"]), int(s.get("activities") or 0),
             int(s.get("documents") or 0)) for s in scores.get("standards") or []])
        self.db.executemany("INSERT INTO departments VALUES (?,?,?,?,?,?,?)", [
            (unit, year, str(d["name"]), int(bool(d.get("submitted"))), int(d.get("errors") or 0),
             int(d.get("warnings") or 0),
             json.dumps({k: [int(v.get("numerator") or 0), int(v.get("denominator") or 0)]
                         for k, v in (d.get("metrics") or {}).items()}, ensure_ascii=False))
            for d in scores.get("departments") or []])

    def make_current(self, version: int) -> dict:
        """Make a kept version its year's current record (the user confirmed it); returns its facts."""
        try:
            with self.db:
                row = self.db.execute("SELECT unit, year, ran_at, source, fingerprint, facts FROM versions WHERE id=?",
                                      (version,)).fetchone()
                if row is None:
                    raise StoreError(f"历史数据库中没有第 {version} 版记录，请用 history 查看各版编号")
                unit, year, ran_at, source, fp, facts = row
                scores = json.loads(facts)
                self.db.execute("UPDATE versions SET current=(id=?) WHERE unit=? AND year=?", (version, unit, year))
                self._write_current(scores, unit, year, str(scores.get("catalog") or ""), ran_at, fp, source)
        except (sqlite3.Error, KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"无法写入历史数据库 {self.path}（{exc.__class__.__name__}: {exc}）") from None
        return scores

    def versions(self, unit: str | None = None) -> list[dict]:
        """Every kept version (oldest first): id, unit, year, ran_at, source, departments, rows, sample, current."""
        where, args = ("WHERE unit=?", (unit,)) if unit is not None else ("", ())
        try:
            cur = self.db.execute(f"SELECT id, unit, year, ran_at, source, departments, rows, sample, current "
                                  f"FROM versions {where} ORDER BY unit, year, id", args)
            names = [c[0] for c in cur.description]
            return [dict(zip(names, row)) for row in cur]
        except sqlite3.Error as exc:
            raise StoreError(f"历史数据库 {self.path} 无法读取（{exc}）") from None

    # --- reading -------------------------------------------------------------------------------------
    def records(self, unit: str | None = None) -> list[YearRecord]:
        """Every recorded year (of one unit when given), oldest first."""
        try:
            where, args = ("WHERE unit=?", (unit,)) if unit is not None else ("", ())
            heads = self.db.execute(f"SELECT unit, year, catalog, catalog_version, ran_at, source FROM records "
                                    f"{where} ORDER BY unit, year", args).fetchall()
            out = []
            for u, y, cat, ver, ran_at, source in heads:
                metrics = {k: {"numerator": n, "denominator": d, "value": _value(n, d), "threshold": t, "op": op}
                           for k, n, d, t, op in self.db.execute(
                               "SELECT key, numerator, denominator, threshold, op FROM metrics WHERE unit=? AND year=?",
                               (u, y))}
                standards = {c: {"title": t, "status": s, "activities": a, "documents": d}
                             for c, t, s, a, d in self.db.execute(
                                 "SELECT code, title, status, activities, documents FROM standards "
                                 "WHERE unit=? AND year=?", (u, y))}
                depts = {n: {"submitted": bool(s), "errors": e, "warnings": w, "metrics": json.loads(c)}
                         for n, s, e, w, c in self.db.execute(
                             "SELECT name, submitted, errors, warnings, counts FROM departments WHERE unit=? AND year=?",
                             (u, y))}
                out.append(YearRecord(u, y, cat, ver, ran_at, source, metrics, standards, depts))
            return out
        except (sqlite3.Error, ValueError) as exc:
            raise StoreError(f"历史数据库 {self.path} 无法读取（{exc}），本次不作历年对比") from None

    def run_log(self, unit: str | None = None) -> list[dict]:
        where, args = ("WHERE unit=?", (unit,)) if unit is not None else ("", ())
        cur = self.db.execute(f"SELECT unit, year, catalog, ran_at, fingerprint, source, replaced, tool_version, "
                              f"out_dir FROM run_log {where} ORDER BY id", args)
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur]


# --- year-over-year facts for the documents ---------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """A metric against the previous year, when both years measured it against the same threshold."""

    key: str
    previous_year: int
    previous: float
    current: float
    points: float          # percentage points, rounded to one decimal

    @property
    def direction(self) -> str:
        """up, down or same (the wording picks the sentence by it)."""
        return "up" if self.points > 0 else "down" if self.points < 0 else "same"


@dataclass
class HistoryFacts:
    """What the documents know about earlier years (plain data). Empty when there is no history."""

    unit: str
    year: int
    catalog: str
    years: list[YearRecord] = field(default_factory=list)   # same unit, oldest first, this year last
    problem: str | None = None                               # one Chinese line when the database is unusable
    messages: list[tuple[str, str]] = field(default_factory=list)  # ("problem" | "note", line) for the console
    recorded: "Recorded | None" = None   # what recording this run did (the 工作台 asks when it was only kept)

    @property
    def comparable(self) -> list[YearRecord]:
        """The years measured with this year's catalog (different catalogs are never compared)."""
        return [r for r in self.years if r.catalog == self.catalog]

    @property
    def previous(self) -> YearRecord | None:
        return next((r for r in self.comparable if r.year == self.year - 1), None)

    @property
    def current(self) -> YearRecord | None:
        return next((r for r in self.years if r.year == self.year), None)

    def changes(self) -> dict[str, Change]:
        """Each metric against the previous year: only the same catalog, the same threshold and operator."""
        prev, cur = self.previous, self.current
        if prev is None or cur is None:
            return {}
        out = {}
        for key, m in cur.metrics.items():
            p = prev.metrics.get(key)
            if not p or m["value"] is None or p["value"] is None:
                continue
            if p["op"] != m["op"] or p["threshold"] is None or m["threshold"] is None \
                    or abs(p["threshold"] - m["threshold"]) > 1e-9:
                continue
            points = round(m["value"] * 100 - p["value"] * 100, 1) + 0.0  # +0.0: no "-0.0"
            out[key] = Change(key, prev.year, p["value"], m["value"], points)
        return out

    def term(self, length: int = 3) -> dict:
        """The 届期 table: this year and the length-1 before it (same catalog), averages, standards weak
        (not 达标) in two consecutive recorded years."""
        years = [r for r in self.comparable if self.year - length < r.year <= self.year]
        keys = list(dict.fromkeys(k for r in years for k in r.metrics))
        rows = []
        for key in keys:
            values = {r.year: r.metrics[key]["value"] for r in years if key in r.metrics}
            known = [v for v in values.values() if v is not None]
            thresholds = {(r.metrics[key]["op"], r.metrics[key]["threshold"]) for r in years if key in r.metrics}
            rows.append({"key": key, "values": values,
                         "average": sum(known) / len(known) if known else None,
                         "same_threshold": len(thresholds) == 1})
        met = {r.year: r.met for r in years}
        weak = []
        by_year = {r.year: r for r in years}
        codes = list(dict.fromkeys(c for r in years for c in r.standards))
        for code in codes:
            runs = [y for y in sorted(by_year) if by_year[y].standards.get(code, {}).get("status", MET) != MET]
            pairs = [(a, b) for a, b in zip(runs, runs[1:]) if b == a + 1]
            if pairs:
                last = by_year[pairs[-1][1]].standards[code]
                weak.append({"code": code, "title": last.get("title") or "", "years": runs,
                             "statuses": {y: by_year[y].standards[code]["status"] for y in runs}})
        return {"years": sorted(by_year), "metrics": rows, "met": met,
                "met_average": sum(met.values()) / len(met) if met else None,
                "n_standards": {y: len(r.standards) for y, r in by_year.items()}, "weak_two_years": weak}


def previous_year_facts(result: "Result") -> dict[str, Change]:
    """The metric changes against last year that the documents may state (empty without history)."""
    facts = getattr(result, "history", None)
    return facts.changes() if isinstance(facts, HistoryFacts) else {}


# --- the report run ----------------------------------------------------------------------------------------

def fingerprint(files: Iterable[tuple[str, str]]) -> str:
    """A fingerprint of the winning input files: sha256 over their sorted (name, sha256) pairs."""
    h = hashlib.sha256()
    for name, digest in sorted(files):
        h.update(f"{name}\0{digest}\n".encode())
    return h.hexdigest()


def _from_scores(scores: dict, source: str) -> YearRecord:
    metrics = {k: {"numerator": int(m.get("numerator") or 0), "denominator": int(m.get("denominator") or 0),
                   "value": _value(int(m.get("numerator") or 0), int(m.get("denominator") or 0)),
                   "threshold": m.get("threshold"), "op": m.get("op")}
               for k, m in (scores.get("metrics") or {}).items()}
    standards = {str(s["code"]): {"title": s.get("title"), "status": s["status"],
                                  "activities": int(s.get("activities") or 0), "documents": int(s.get("documents") or 0)}
                 for s in scores.get("standards") or []}
    return YearRecord(str(scores["unit"]), int(scores["year"]), str(scores.get("catalog") or ""),
                      catalog_version(scores), dt.datetime.now().isoformat(timespec="seconds"), source, metrics,
                      standards)


class HistoryRun:
    """The history side of one `report` run: earlier years read before the documents are written
    (into ``result.history``), this year recorded after. Never raises: a problem becomes one Chinese line
    in ``problems`` and the documents are written without comparisons; ``notes`` say what was recorded."""

    def __init__(self, result: "Result", path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.result = result
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.outcome: Recorded | None = None
        self.scores = result.scores_dict()
        facts = HistoryFacts(result.config.unit, result.year, result.config.catalog_id)
        try:
            with History(self.path) as store:
                earlier = [r for r in store.records(result.config.unit) if r.year != result.year]
            facts.years = sorted([*earlier, _from_scores(self.scores, "report")], key=lambda r: r.year)
        except StoreError as exc:
            facts.problem = str(exc)
            self.problems.append(str(exc))
            facts.messages.append(("problem", str(exc)))
        result.history = facts

    def record(self, out_dir: str | Path = "", replace: bool = False) -> None:
        """Record this year's results (after the documents are written). A run smaller than the year's record
        (or sample data) is kept as a version only, and said so, unless `replace` (the user confirmed)."""
        self.outcome: Recorded | None = None
        if self.result.history.problem:
            return
        winners = self.result.merged.winners.values()
        fp = fingerprint((w.name, w.sha256 or _sha256(w.path)) for w in winners)
        try:
            with History(self.path) as store:
                self.outcome = store.record(self.scores, fingerprint=fp, source="report", out_dir=str(out_dir),
                                            replace=replace)
        except StoreError as exc:
            self.problems.append(str(exc))
            self.result.history.messages.append(("problem", str(exc)))
            return
        year, outcome = self.result.year, self.outcome
        self.result.history.recorded = outcome
        if outcome.state == "kept":
            line = kept_line(year, outcome)
            self.problems.append(line)
            self.result.history.messages.append(("problem", line))
            return
        verb = "已替换" if outcome.state == "replaced" else "已记入"
        kept = "（原记录保留为旧版本）" if outcome.state == "replaced" else ""
        self.notes.append(f"{verb}历史数据库中{year}年的记录{kept}：{self.path}")
        self.result.history.messages.append(("note", self.notes[-1]))


def kept_line(year: int, outcome: Recorded) -> str:
    """One Chinese line: this run was kept as a version and did not replace the year's record."""
    return (f"未替换历史数据库中{year}年的记录：{outcome.reason}；本次结果另存为第{outcome.version}版。"
            f"如确需以本次为准，请确认后替换（命令行：report 加 --replace，或 history --use {outcome.version}）")


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


# --- the history command -------------------------------------------------------------------------------------

def import_scores(folder: str | Path, path: str | Path | None = None,
                  replace: bool = False) -> tuple[dict, "Recorded"]:
    """Record a past year from an earlier run's output folder (its scores.json); returns (scores, what was done).
    As for a run: it replaces the year's record only when not smaller and not sample data, unless `replace`."""
    src = Path(folder)
    file = src / "scores.json" if src.is_dir() else src
    if not file.is_file():
        raise StoreError(f"{folder} 中没有 scores.json，请指定往年 report 的输出文件夹")
    try:
        raw = file.read_bytes()
        scores = json.loads(raw.decode("utf-8"))
        check_scores(scores)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"{file} 格式有误，无法导入（{exc}）") from None
    with History(path or default_path()) as store:
        outcome = store.record(scores, fingerprint=hashlib.sha256(raw).hexdigest(), source=f"import:{file}",
                               replace=replace)
    return scores, outcome


def use_version(version: int, path: str | Path | None = None) -> dict:
    """Make a kept version its year's current record (`history --use N`, or the 工作台 after asking)."""
    with closing(History(path or default_path(), create=False)) as store:
        return store.make_current(version)


def check_scores(scores: Any) -> None:
    """Raise ValueError (with a Chinese reason) unless scores has the fields history and roll-up need."""
    if not isinstance(scores, dict):
        raise ValueError("内容不是 JSON 对象")
    for key in ("unit", "year", "metrics", "standards"):
        if key not in scores:
            raise ValueError(f"缺少“{key}”")
    if not isinstance(scores["unit"], str) or not scores["unit"].strip():
        raise ValueError("单位名称为空")
    if isinstance(scores["year"], bool) or not isinstance(scores["year"], int):
        raise ValueError(f"年度“{scores['year']}”不是整数")
    if not isinstance(scores["metrics"], dict) or not isinstance(scores["standards"], list):
        raise ValueError("metrics 或 standards 的格式不对")
    for key, m in scores["metrics"].items():
        if not isinstance(m, dict):
            raise ValueError(f"指标 {key} 的格式不对")
        for part in ("numerator", "denominator"):
            v = m.get(part)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"指标 {key} 的 {part} 不是非负整数")
    for s in scores["standards"]:
        if not isinstance(s, dict) or not isinstance(s.get("code"), str) or not isinstance(s.get("status"), str):
            raise ValueError("测评标准缺少编码或状态")


def list_years(path: str | Path | None = None) -> tuple[list[YearRecord], list[dict]]:
    """Every recorded year, and the run log (for `history`)."""
    with closing(History(path or default_path(), create=False)) as store:
        return store.records(), store.run_log()


def list_versions(path: str | Path | None = None) -> list[dict]:
    """Every kept version of every year, which one is current (for `history`)."""
    with closing(History(path or default_path(), create=False)) as store:
        return store.versions()
