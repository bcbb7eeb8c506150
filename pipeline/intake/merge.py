"""Resolve resubmissions, validate the winning workbooks, concatenate with pandas and dedupe people."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.catalog import Config, normalize_name
from pipeline.intake.ingest import FileRecord, RawSheet
from pipeline.issues import Issue, make_issue
from pipeline.schema import DATA_SHEETS, INFO_SHEET, SHEET_BY_KIND, sheet_for
from pipeline.intake.validate import DUPLICATE, REJECTED, SUPERSEDED, USED, empty_frame, unparsed_frame, validate_kind
from pipeline.intake.values import clean_text, is_blank
from pipeline.vocabulary import EMPTY, NOT_SENT, SUBMITTED, UNREADABLE


#: file-level findings that make a department's file unusable (its department is then UNREADABLE)
UNREADABLE_CODES = frozenset({"file-unreadable", "file-encrypted", "file-too-large", "file-format-unsupported",
                              "file-special", "sheet-too-large", "no-data", "header-not-found"})


@dataclass
class Merged:
    """All rows of every sheet kind, each with its status, and what happened to each file."""

    frames: dict[str, pd.DataFrame]
    winners: dict[str, FileRecord]
    superseded: dict[str, list[FileRecord]]
    records: list[FileRecord]
    issues: list[Issue] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)            # department -> SUBMITTED … (NOT_SENT if absent)
    state_files: dict[str, list[str]] = field(default_factory=dict)  # the unusable or empty files behind a state
    _used: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def state(self, department: str) -> str:
        return self.states.get(department, NOT_SENT)

    def used(self, kind: str) -> pd.DataFrame:
        """The used rows of a sheet kind, filtered once (scoring and every document ask for them).
        Callers derive new frames from it and never change it in place."""
        if kind not in self._used:
            f = self.frames[kind]
            used = (f["status"] == USED).to_numpy()
            self._used[kind] = f if used.all() else f[used]
        return self._used[kind]


def _winner_key(rec: FileRecord) -> tuple:
    return (rec.submitted_on or dt.date.min, rec.mtime, rec.name)


class Checked:
    """Validated sheets of workbooks, validated in batches as they are read, before the winners are known.

    Each kind of sheet is validated over a whole batch at once; merge then keeps the rows and issues of the
    winning workbooks, in its own order (the result is the same as validating the winners together)."""

    BATCH = 64

    def __init__(self, config: Config, year: int) -> None:
        self.config, self.year = config, year
        self.pending: list[FileRecord] = []
        self.frames: dict[str, list[pd.DataFrame]] = {s.kind: [] for s in DATA_SHEETS}
        self.issues: list[Issue] = []
        self.hints: dict = {}  # department -> its message hints (validate_kind), the same for every batch

    def add(self, rec: FileRecord) -> None:
        if rec.readable and rec.department and rec.sheets:
            self.pending.append(rec)
            if len(self.pending) >= self.BATCH:
                self.flush()

    def flush(self) -> None:
        for spec in DATA_SHEETS:
            raws = [(rec, raw) for rec in self.pending for raw in rec.sheets.get(spec.kind, ())]
            if raws:
                frame, found = validate_kind(spec.kind, _combined(spec.kind, raws, self.config), self.config, self.year,
                                             self.hints)
                self.frames[spec.kind].append(frame)
                self.issues.extend(found)
        for rec in self.pending:  # validated: merge needs each sheet's kind, name and row numbers, not its cells
            rec.sheets = {kind: [RawSheet(raw.kind, raw.name, raw.columns, [], raw.numbers) for raw in raws]
                          for kind, raws in rec.sheets.items()}   # (a new dict: a cached copy keeps its cells)
        self.pending = []

    def frame(self, kind: str, rank: dict[str, int]) -> pd.DataFrame | None:
        """The validated rows of these workbooks, ordered by their rank (rows of a file keep their order)."""
        self.flush()
        if not self.frames[kind]:
            return None
        frame = pd.concat(self.frames[kind], ignore_index=True) if len(self.frames[kind]) > 1 else self.frames[kind][0]
        order = _ranks(frame["file"].to_numpy(), rank)  # NaN: not a winner
        keep = np.flatnonzero(~np.isnan(order))
        if len(keep) == 0:
            return None
        if len(keep) < len(frame) or np.any(np.diff(order) < 0):  # else every row is kept, already in order
            frame = frame.take(keep[np.argsort(order[keep], kind="stable")])
            frame.index = pd.RangeIndex(len(frame))
        return frame

    def issues_of(self, rank: dict[str, int]) -> list[Issue]:
        self.flush()
        return [i for i in self.issues if i.file in rank]


def _ranks(files: np.ndarray, rank: dict[str, int]) -> np.ndarray:
    """Each row's rank by its file (NaN for a file not ranked), looked up once per run of rows of one file
    (a file's rows are together)."""
    if len(files) == 0:
        return np.empty(0, dtype=float)
    starts = np.flatnonzero(np.concatenate(([True], files[1:] != files[:-1])))
    found = np.array([rank.get(files[i], np.nan) for i in starts], dtype=float)
    return np.repeat(found, np.diff(np.append(starts, len(files))))


def merge(records: list[FileRecord], config: Config, year: int, checked: Checked | None = None) -> Merged:
    """Decide each department's winning workbook, keep the validated rows of the winners (validated here,
    or already as they were read: `checked`), count every other row, and dedupe people."""
    order = {d: i for i, d in enumerate(config.department_names)}
    records = sorted(records, key=lambda r: (order.get(r.department, len(order)), r.name))
    issues: list[Issue] = []
    winners: dict[str, FileRecord] = {}
    superseded: dict[str, list[FileRecord]] = {}
    usable = [r for r in records if r.readable and r.department and r.sheets]
    for rec in usable:
        best = winners.get(rec.department)
        if best is None or _winner_key(rec) > _winner_key(best):
            winners[rec.department] = rec
    for rec in usable:
        win = winners[rec.department]
        if win is not rec:
            superseded.setdefault(rec.department, []).append(rec)
            if rec.sha256 == win.sha256:
                rec.issues.append(make_issue("file-duplicate", file=rec.name, other=win.name))
            else:
                rec.issues.append(make_issue("superseded", file=rec.name, winner=win.name))

    parts: dict[str, list[pd.DataFrame]] = {s.kind: [] for s in DATA_SHEETS}
    for rec in records:
        rec.issues[:] = [dataclasses.replace(i, department=rec.department) for i in rec.issues]
        issues.extend(rec.issues)
        if not rec.readable:
            continue
        if winners.get(rec.department) is not rec:
            for kind, raws in rec.sheets.items():
                for raw in raws:
                    parts[kind].append(unparsed_frame(raw, rec, SUPERSEDED if rec.department else REJECTED))
        else:
            issues.extend(_info_checks(rec, config, year))
            for spec in DATA_SHEETS[:3]:
                if spec.kind not in rec.sheets and not any(i.code == "header-not-found" and spec.name in (i.sheet or "")
                                                           for i in rec.issues):
                    issues.append(make_issue("sheet-missing", file=rec.name, sheet=spec.name,
                                             department=rec.department))
    if checked is None:  # validate the winners now
        checked = Checked(config, year)
        for rec in winners.values():
            checked.add(rec)
    rank = {rec.name: i for i, rec in enumerate(r for r in records if winners.get(r.department) is r)}
    for kind in parts:
        frame = checked.frame(kind, rank)
        if frame is not None:
            parts[kind].insert(0, frame)
    issues.extend(checked.issues_of(rank))

    frames = {k: pd.concat(v, ignore_index=True) if v else empty_frame(k) for k, v in parts.items()}
    issues.extend(_dedupe_people(frames["roster"]))
    states, state_files = department_states(records, winners)
    return Merged(frames, winners, superseded, records, issues, states, state_files)


def department_states(records: list[FileRecord], winners: dict[str, FileRecord]) -> tuple[dict, dict]:
    """Each department that sent anything: SUBMITTED (a usable workbook won), else UNREADABLE (a spreadsheet
    that could not be read or held no ledger sheet), else EMPTY (only untouched templates); with those files."""
    states: dict[str, str] = {d: SUBMITTED for d in winners}
    files: dict[str, list[str]] = {}
    for state, test in ((UNREADABLE, lambda r: any(i.code in UNREADABLE_CODES for i in r.issues)),
                        (EMPTY, lambda r: any(i.code == "template-empty" for i in r.issues))):
        for rec in records:
            if rec.department and rec.department not in winners and states.get(rec.department, state) == state \
                    and test(rec):
                states[rec.department] = state
                files.setdefault(rec.department, []).append(rec.name)
    return states, files


@dataclass(frozen=True)
class NegativeAnswer:
    """One negative-list item as the responsible department answered it: True 存在, False 不存在, None 未填写
    (blank, unrecognised, or the item missing from its sheet)."""

    item: str
    answer: bool | None
    file: str | None = None
    row: int | None = None


@dataclass(frozen=True)
class NegativeCheck:
    department: str
    submitted: bool                  # the responsible department's workbook won
    answers: tuple[NegativeAnswer, ...]

    @property
    def complete(self) -> bool:
        """Every configured item answered 是 or 否 by the responsible department: only then may a document
        state that no negative-list item occurred."""
        return self.submitted and bool(self.answers) and all(a.answer is not None for a in self.answers)

    @property
    def unanswered(self) -> list[str]:
        return [a.item for a in self.answers if a.answer is None]


def negative_check(merged: Merged, config: Config) -> NegativeCheck:
    """The facts the report needs about the 负面清单自查: item by item, the responsible department's answer
    (config `negative_list_department`, default 办公室). Items it lists beyond the configured ones follow."""
    dept = str(config.settings.get("negative_list_department") or "办公室")
    rows = merged.used("negative")
    rows = rows[rows["department"] == dept] if len(rows) else rows
    found: dict[str, NegativeAnswer] = {}
    for item, exists, file, row in zip(rows.get("item", []), rows.get("exists", []), rows.get("file", []),
                                       rows.get("row", [])):
        key = normalize_name(item)
        answer = exists if isinstance(exists, bool) else None
        old = found.get(key)
        if old is None or (old.answer is not True and answer is not None):  # 是 wins over 否, either over blank
            found[key] = NegativeAnswer(str(item), answer, file, int(row))
    answers = [found.pop(normalize_name(item), NegativeAnswer(item, None)) for item in config.negative_items]
    answers += [a for a in found.values() if a.item]
    return NegativeCheck(dept, dept in merged.winners, tuple(answers))


def _combined(kind: str, raws: list[tuple[FileRecord, RawSheet]], config: Config | None = None) -> dict[str, np.ndarray]:
    """The raw cells of a sheet kind over these workbooks, column by column, each row with its place (arrays,
    not a DataFrame: validate_kind reads them column by column and builds its own frame)."""
    sizes = [len(raw) for _, raw in raws]
    total = sum(sizes)
    data: dict[str, np.ndarray] = {}
    for col in (sheet_for(config, kind) if config is not None else SHEET_BY_KIND[kind]).columns:
        if col.kind == "seq":
            continue  # the row numbers people typed: not validated, not kept
        cells = itertools.chain.from_iterable(raw.column(col.key) for _, raw in raws)
        data[col.key] = np.fromiter(cells, dtype=object, count=total)  # no per-cell shape discovery
    data["file"] = np.repeat(np.array([rec.name for rec, _ in raws], dtype=object), sizes)
    data["department"] = np.repeat(np.array([rec.department for rec, _ in raws], dtype=object), sizes)
    data["sheet"] = np.repeat(np.array([raw.name for _, raw in raws], dtype=object), sizes)
    data["_row"] = np.fromiter(itertools.chain.from_iterable(raw.numbers for _, raw in raws), dtype=int, count=total)
    return data


def _info_checks(rec: FileRecord, config: Config, year: int) -> list[Issue]:
    found = []
    stated = rec.info.get("年度")
    if not is_blank(stated):
        text = clean_text(stated).replace("年", "")
        if text != str(year):
            found.append(make_issue("year-mismatch", file=rec.name, sheet=INFO_SHEET, column="年度",
                                    value=clean_text(stated), year=year, department=rec.department))
    version = rec.info.get("模板版本")
    if not is_blank(version) and not same_template(clean_text(version), config.template_version, year):
        found.append(make_issue("template-version", file=rec.name, sheet=INFO_SHEET, column="模板版本",
                                value=clean_text(version), expected=config.template_version,
                                department=rec.department))
    return found


def same_template(found: str, current: str, year: int) -> bool:
    """Whether a workbook's 模板版本 is the current template's: equal, or equal but for its leading year when
    that year is the report's (a report for another year reads that year's templates, 2025.2 against 2026.2).
    The one place that decides the template-version notice (at most one per file)."""
    if found == current:
        return True
    lead = current[:4]
    return lead.isdigit() and found.startswith(str(year)) and found[4:] == current[4:]


def _dedupe_people(roster: pd.DataFrame) -> list[Issue]:
    """The same person twice (same 工号, or same 姓名+部门 without 工号) is counted once: the first stays used."""
    used = roster["status"] == USED
    keys = roster["person_key"].to_numpy()
    dup = np.zeros(len(roster), dtype=bool)
    dup[used.to_numpy()] = pd.Series(keys[used.to_numpy()]).duplicated(keep="first").to_numpy()
    dup = pd.Series(dup, index=roster.index)
    if not dup.any():
        return []
    first = roster[used & ~dup].drop_duplicates("person_key").set_index("person_key")
    issues = []
    for i in np.flatnonzero(dup.to_numpy()):
        row = roster.iloc[i]
        src = first.loc[row["person_key"]]
        issues.append(make_issue("duplicate-person", file=row["file"], sheet=row["sheet"], row=int(row["row"]),
                                 column="姓名", value=row["name"], department=row["department"],
                                 other=f"{src['file']} 第{int(src['row'])}行", key=row["person_key"]))
    roster.loc[dup, "status"] = DUPLICATE
    return issues
