"""报送情况: the state of every configured department and of every file, from a run's Result (plain data)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.intake.ingest import FileRecord
from pipeline.intake.lateness import late_departments, mail_dates, submitted
from pipeline.issues import ERROR, WARNING, Issue
from pipeline.result import Result
from pipeline import vocabulary
from pipeline.vocabulary import STATE_CODES, STATE_LABELS

# department states, by their Chinese labels (pipeline.vocabulary)
SUBMITTED, MISSING, UNREADABLE, EMPTY = (STATE_LABELS[c] for c in (vocabulary.SUBMITTED, vocabulary.NOT_SENT,
                                                                   vocabulary.UNREADABLE, vocabulary.EMPTY))
# file states (a department's older files are SUPERSEDED)
USED_FILE, SUPERSEDED, NO_DEPARTMENT = "已采用", "已作废的旧版本", "部门不明"
UNASSIGNED = "未被引用的佐证材料"   # an evidence file no activity or document row names
STATES = (SUBMITTED, MISSING, UNREADABLE, EMPTY)
#: the machine codes of the states (as scores.json's `state` once intake writes it)
CODES = STATE_CODES
LABELS = STATE_LABELS


@dataclass
class FileState:
    name: str
    state: str
    department: str | None
    arrived: dt.datetime | None
    issues: list[Issue] = field(default_factory=list)
    submitted_on: dt.date | None = None   # its 填报日期, else its mail's date (intake.lateness), never the upload time
    date_source: str | None = None        # 填报日期 / 邮件日期 / None

    @property
    def needs_attention(self) -> bool:
        """Unreadable, an empty template, or no department: listed on the board with 撤回."""
        return self.state in (UNREADABLE, EMPTY, NO_DEPARTMENT)

    @property
    def errors(self) -> int:
        return sum(i.level == ERROR for i in self.issues)

    @property
    def warnings(self) -> int:
        return sum(i.level == WARNING for i in self.issues)


@dataclass
class DepartmentState:
    name: str
    state: str
    file: str | None
    arrived: dt.datetime | None
    errors: int
    warnings: int
    late: bool
    files: list[FileState] = field(default_factory=list)
    submitted_on: dt.date | None = None
    date_source: str | None = None

    @property
    def code(self) -> str:
        return CODES[self.state]


@dataclass
class Board:
    unit: str
    year: int
    deadline: dt.date | None
    today: dt.date
    departments: list[DepartmentState]
    files: list[FileState]
    unassigned: list[FileState] = field(default_factory=list)  # evidence files no row names (section 8)

    @property
    def days_left(self) -> int | None:
        """Days to the deadline (negative once it has passed)."""
        return None if self.deadline is None else (self.deadline - self.today).days

    def counts(self) -> dict[str, int]:
        return {s: sum(d.state == s for d in self.departments) for s in STATES}

    def department(self, name: str) -> DepartmentState | None:
        return next((d for d in self.departments if d.name == name), None)

    @property
    def problem_files(self) -> list[FileState]:
        """The workbooks that cannot count as they are (unreadable, empty, no department), whoever sent them:
        each is listed on the board, a file with no department name too."""
        return [f for f in self.files if f.needs_attention]


def arrival_times(inbox: Path) -> dict[str, dt.datetime]:
    """When each file arrived: the mail date recorded in the inbox's manifest.json, else none."""
    try:
        data = json.loads((inbox / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for f in data.get("files", []) if isinstance(data, dict) else []:
        try:
            out[str(f["saved"])] = dt.datetime.fromisoformat(str(f.get("date") or ""))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _file_state(rec: FileRecord, result: Result) -> str:
    dept = rec.department
    if not rec.readable:
        return UNREADABLE
    if not rec.sheets:
        return EMPTY if dept else NO_DEPARTMENT
    if not dept:
        return NO_DEPARTMENT
    return USED_FILE if result.merged.winners.get(dept) is rec else SUPERSEDED


def build_board(result: Result, inbox: Path, today: dt.date | None = None) -> Board:
    """Each configured department's state (已报送 / 未报送 / 文件无法读取 / 空模板), its file and when it arrived,
    its errors and warnings and whether it is late; and each workbook read with its own state and issues."""
    cfg = result.config
    today = today or dt.date.today()
    deadline = cfg.settings.get("deadline")
    deadline = deadline if isinstance(deadline, dt.date) else None
    arrived = arrival_times(inbox)
    by_file: dict[str, list[Issue]] = {}
    for issue in result.issues:
        if issue.file:
            by_file.setdefault(issue.file, []).append(issue)
    dates = mail_dates(inbox)
    files = []
    for rec in sorted(result.merged.records, key=lambda r: r.name):
        when = arrived.get(rec.name)
        if when is None and rec.mtime:
            when = dt.datetime.fromtimestamp(rec.mtime)  # shown as when it arrived; never used for 逾期
        # an unreadable file is its department's by the file name (section 2: it sent something unreadable)
        dept = rec.department or cfg.department_in_text(Path(rec.name).stem)
        sent = submitted(rec, dates)
        files.append(FileState(rec.name, _file_state(rec, result), dept, when, by_file.get(rec.name, []),
                               sent.day, sent.source))
    late = set(late_departments(result.merged.winners, deadline, cfg.department_names))  # as the 进度通报 finds
    departments = []
    for name in cfg.department_names:
        mine = [f for f in files if f.department == name]
        win = result.merged.winners.get(name)
        errors, warnings = result.department_issue_counts(name)
        if win is not None:
            state, used = SUBMITTED, next(f for f in mine if f.name == win.name)
        elif any(f.state == EMPTY for f in mine):
            state, used = EMPTY, next(f for f in mine if f.state == EMPTY)
        elif any(f.state == UNREADABLE for f in mine):
            state, used = UNREADABLE, next(f for f in mine if f.state == UNREADABLE)
        else:
            state, used = MISSING, None
        decided = getattr(result, "department_state", None)  # intake's own decision, where it makes one
        if callable(decided) and LABELS.get(decided(name), state) != state:
            state = LABELS.get(decided(name), state)
            used = used if state != MISSING else None
        if used is not None and win is None:
            errors, warnings = used.errors, used.warnings
        when = used.arrived if used else None
        departments.append(DepartmentState(name, state, used.name if used else None, when, errors, warnings,
                                           state == SUBMITTED and name in late, mine,
                                           used.submitted_on if used else None, used.date_source if used else None))
    unassigned = []
    facts = result.evidence.facts() if getattr(result, "evidence", None) is not None else {}
    for item in facts.get("unassigned") or []:
        name = str(item.get("file") or "")
        if name and (inbox / name).is_file():  # a file of its own (not a member of a ZIP): it can be withdrawn
            unassigned.append(FileState(name, UNASSIGNED, item.get("department"), arrived.get(name)))
    return Board(cfg.unit, result.year, deadline, today, departments, files, unassigned)


@dataclass
class Evidence:
    kind: str          # 活动 or 文件
    title: str
    date: str
    department: str
    file: str
    sheet: str
    row: int


def evidence_by_standard(result: Result) -> dict[str, list[Evidence]]:
    """Every used activity and document row under each standard code it is tagged with, with its source."""
    from pipeline.score import standard_index
    out: dict[str, list[Evidence]] = {}
    for kind, label in (("activities", "活动"), ("documents", "文件")):
        frame = result.merged.used(kind)
        if not len(frame):
            continue
        cols = {c: frame[c].to_numpy(dtype=object) for c in ("title", "date", "department", "file", "sheet", "row")}
        for code, positions in standard_index(frame).items():
            for p in positions:
                day = cols["date"][p]
                out.setdefault(code, []).append(Evidence(
                    label, str(cols["title"][p] or ""), day.isoformat()[:10] if hasattr(day, "isoformat") else "",
                    str(cols["department"][p] or ""), str(cols["file"][p] or ""), str(cols["sheet"][p] or ""),
                    int(cols["row"][p])))
    return out
