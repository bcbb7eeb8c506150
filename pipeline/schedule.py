"""Dates of the creation year, taken for the document's year: a 2024 document never shows a 2026 date.

unit.yaml gives the deadline and the resubmission deadline as dates of the year it was last set for; a document of
another year takes the same month and day in its own year. The stage schedule of the 实施方案 depends on whether
the year is the unit's first creation year (``first_year``: ``first_year_stages``) or a continuing one
(``stages``). The 半年总结 is dated ``halfyear_date`` or early July of its year.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

HALFYEAR_DEFAULT = (7, 6)   # 7月6日: the first working days of July, after the half year's ledgers are in


def in_year(day: dt.date | None, year: int) -> dt.date | None:
    """The same month and day in `year` (29 February becomes the 28th in a common year)."""
    if not isinstance(day, dt.date):
        return None
    if isinstance(day, dt.datetime):
        day = day.date()
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _setting(config: Any, key: str) -> Any:
    return (getattr(config, "settings", None) or {}).get(key)


def deadline(config: Any, year: int) -> dt.date | None:
    """报送截止日期 of `year` (unit.yaml `deadline`, typed in pipeline.settings; month and day kept)."""
    from pipeline import settings
    return in_year(settings.of(config).deadline, year)


def resubmission_deadline(config: Any, year: int) -> dt.date | None:
    """重新报送截止日期 of `year` (unit.yaml `resubmission_deadline`, else the deadline)."""
    return in_year(_setting(config, "resubmission_deadline") or _setting(config, "deadline"), year)


def passed(day: dt.date | None, as_of: dt.date) -> bool:
    """True when `day` lies before `as_of` (a deadline that has passed on the document's date)."""
    return isinstance(day, dt.date) and day < as_of


def document_day(year: int, today: dt.date | None = None) -> dt.date:
    """The day a document of `year` speaks as of, when not told: today in the current year, the year's last day
    for a past year, its first for a future one (never a day of another year)."""
    today = today or dt.date.today()
    if today.year == year:
        return today
    return dt.date(year, 12, 31) if today.year > year else dt.date(year, 1, 1)


def first_year(config: Any) -> int | None:
    value = _setting(config, "first_year")
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def is_first_year(config: Any, year: int) -> bool:
    first = first_year(config)
    return first is not None and year <= first


def stages(config: Any, year: int) -> list[dict]:
    """The 实施方案's stage schedule for `year`: the first year's own, else the continuing one."""
    if is_first_year(config, year) and _setting(config, "first_year_stages"):
        chosen = _setting(config, "first_year_stages")
    else:
        chosen = _setting(config, "stages")
    return [s for s in chosen or [] if isinstance(s, dict) and s.get("period") and s.get("task")]


def month_of(period: str) -> int | None:
    """The last month a period names (`9月至10月` → 10, `11月份` → 11)."""
    months = [int(m) for m in re.findall(r"(\d{1,2})\s*月", str(period)) if 1 <= int(m) <= 12]
    return months[-1] if months else None


def second_half_work(config: Any, year: int) -> list[dict]:
    """The regular second-half work of the year (unit.yaml `second_half_work`) and the continuing stages from
    July on, in month order, without repeating a period."""
    items = [s for s in _setting(config, "second_half_work") or [] if isinstance(s, dict) and s.get("task")]
    if not items:
        items = [s for s in stages(config, year) if (month_of(s["period"]) or 0) >= 7]
    return sorted(items, key=lambda s: month_of(s.get("period", "")) or 13)


def halfyear_date(config: Any, year: int) -> dt.date:
    """The 半年总结's date: unit.yaml `halfyear_date` (month and day, taken for `year`), else early July."""
    configured = in_year(_setting(config, "halfyear_date"), year)
    return configured or dt.date(year, *HALFYEAR_DEFAULT)
