"""When a department submitted, and whether that was late: the one rule the 报送情况 board and the 进度通报 share.

A submission's date is its workbook's 填报日期; a workbook without one takes the date of the mail that brought it
(recorded by `collect` in the inbox's manifest.json). The time a file was uploaded or last modified is never used:
a coordinator who uploads nine ledgers after the deadline has not made nine departments late."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.intake.ingest import FileRecord

FILLED_IN, MAIL_DATE = "填报日期", "邮件日期"   # where a submission's date comes from


@dataclass(frozen=True)
class Submitted:
    day: dt.date | None
    source: str | None       # FILLED_IN, MAIL_DATE, or None (no date known)

    def late(self, deadline: dt.date | None) -> bool:
        """After the deadline (a submission on the deadline day is on time; no date or no deadline: not late)."""
        return deadline is not None and self.day is not None and self.day > deadline


def inbox_of(rec: FileRecord) -> Path:
    """The inbox a record was read from (its path less its name relative to the inbox)."""
    path = Path(rec.path)
    depth = len(Path(rec.name).parts)
    return path.parents[depth - 1] if depth else path.parent


def mail_dates(inbox: Path) -> dict[str, dt.date]:
    """The date of the mail each collected file came in, by its saved name (manifest.json); uploads have none."""
    try:
        data = json.loads((Path(inbox) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    out: dict[str, dt.date] = {}
    for entry in data.get("files", []) if isinstance(data, dict) else []:
        if not isinstance(entry, dict) or not entry.get("saved") or not entry.get("date"):
            continue
        try:
            out[str(entry["saved"])] = dt.datetime.fromisoformat(str(entry["date"])).date()
        except ValueError:
            continue
    return out


def submitted(rec: FileRecord, dates: dict[str, dt.date] | None = None) -> Submitted:
    """A workbook's submission date: its 填报日期, else its mail's date, else unknown."""
    if rec.submitted_on is not None:
        return Submitted(rec.submitted_on, FILLED_IN)
    if dates is None:
        dates = mail_dates(inbox_of(rec))
    day = dates.get(rec.name)
    return Submitted(day, MAIL_DATE) if day is not None else Submitted(None, None)


def late_departments(winners: dict[str, FileRecord], deadline: dt.date | None,
                     order: list[str] | None = None) -> list[str]:
    """The departments whose used workbook was submitted after the deadline, in `order` (the configured one)."""
    if deadline is None or not winners:
        return []
    cache: dict[Path, dict[str, dt.date]] = {}
    late = set()
    for dept, rec in winners.items():
        inbox = inbox_of(rec)
        if inbox not in cache:
            cache[inbox] = mail_dates(inbox)
        if submitted(rec, cache[inbox]).late(deadline):
            late.add(dept)
    return [d for d in (order or sorted(late)) if d in late]
