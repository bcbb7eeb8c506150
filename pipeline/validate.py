"""Normalise and check every cell of a recognised sheet; rows become used or rejected (contract section 3)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from pipeline.catalog import Config
from pipeline.ingest import FileRecord, RawSheet
from pipeline.issues import ERROR, Issue, make_issue
from pipeline.schema import CONTENT_KEYS, SHEET_BY_KIND, Column
from pipeline.values import (INVALID, clean_text, id_text, parse_date, parse_doctype, parse_in_service,
                             parse_number, parse_satisfaction, parse_standard_codes, parse_yesno)

USED, REJECTED, DUPLICATE, SUPERSEDED = "used", "rejected", "duplicate", "superseded"
META = ["file", "department", "sheet", "row", "status"]

_PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": clean_text, "seq": clean_text, "yesno": parse_yesno, "inservice": parse_in_service,
    "date": parse_date, "number": parse_number, "satisfaction": parse_satisfaction, "doctype": parse_doctype,
    "standard": parse_standard_codes,
}
_INVALID_CODE = {"yesno": "invalid-yesno", "inservice": "invalid-yesno", "number": "invalid-number",
                 "satisfaction": "invalid-satisfaction", "doctype": "invalid-doctype"}


def columns_for(kind: str) -> list[str]:
    """The fixed columns of the validated frame of a sheet kind."""
    extra = {"roster": ["person_key"], "activities": [], "documents": []}.get(kind, [])
    return META + [c.key for c in SHEET_BY_KIND[kind].columns if c.kind != "seq"] + extra


_EXCEL_ERRORS = {"#DIV/0!", "#REF!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#VALUE!", "#SPILL!", "#CALC!",
                 "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
FORMULA_ERROR = object()  # a cell holding an Excel error value (#REF! …)


def _parse_cell(func: Callable[[Any], Any], value: Any) -> Any:
    if isinstance(value, str):
        if value.strip().upper() in _EXCEL_ERRORS:
            return FORMULA_ERROR
        value = clean_text(value)  # control characters and _x000B_ escapes never reach a parser
    return func(value)


def map_values(series: pd.Series, func: Callable[[Any], Any]) -> np.ndarray:
    """Apply func once per distinct value (cells repeat a lot: 是, 否, dates)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    for i, u in enumerate(uniques):
        results[i] = _parse_cell(func, u)
    results[-1] = func(None)
    return results[codes]


def validate_sheet(raw: RawSheet, rec: FileRecord, config: Config, year: int) -> tuple[pd.DataFrame, list[Issue]]:
    """Parse every column of one sheet; returns the validated frame (status used/rejected) and the issues."""
    spec = SHEET_BY_KIND[raw.kind]
    frame = raw.frame
    n = len(frame)
    out = pd.DataFrame({"file": [rec.name] * n, "department": [rec.department] * n, "sheet": [raw.name] * n,
                        "row": frame["_row"].to_numpy(dtype=int)})
    issues: list[Issue] = []
    errors = np.zeros(n, dtype=bool)
    rows = out["row"].to_numpy()
    place = dict(file=rec.name, sheet=raw.name, department=rec.department)
    content_keys = CONTENT_KEYS.get(raw.kind, ())
    known = config.standards

    for col in spec.columns:
        if col.kind == "seq":
            continue
        raw_values = frame[col.key] if col.key in frame else pd.Series([None] * n, dtype=object)
        parsed = map_values(raw_values, _PARSERS[col.kind])
        required = col.required or col.key in content_keys
        blank = np.array([v is None or v == "" for v in parsed], dtype=bool) if col.kind == "text" else \
            np.array([v is None for v in parsed], dtype=bool)
        if col.kind == "inservice":
            blank[:] = False
        for i in np.flatnonzero(np.array([v is FORMULA_ERROR for v in parsed], dtype=bool)):
            issue = make_issue("formula-error", row=int(rows[i]), column=col.name, value=clean_text(raw_values.iat[i]),
                               **place)
            issues.append(issue)
            parsed[i] = "" if col.kind == "text" else (True if col.kind == "inservice" else None)
        invalid = np.array([v is INVALID for v in parsed], dtype=bool)

        if col.kind == "standard":
            bad_code = np.array([isinstance(v, tuple) and any(c not in known for c in v) for v in parsed], dtype=bool)
            invalid |= bad_code
        for i in np.flatnonzero(invalid):
            value = clean_text(raw_values.iat[i])
            if col.kind == "standard":
                code = "unknown-standard" if required else "invalid-optional-standard"
            elif col.kind == "date":
                code = "invalid-date" if required else "invalid-optional-date"
            else:
                code = _INVALID_CODE[col.kind]
            issue = make_issue(code, row=int(rows[i]), column=col.name, value=value, **place)
            issues.append(issue)
            if issue.level == ERROR:
                errors[i] = True
            parsed[i] = "其他" if col.kind == "doctype" else None
        if required:
            for i in np.flatnonzero(blank & ~invalid):
                issues.append(make_issue("missing-required", row=int(rows[i]), column=col.name, **place))
                errors[i] = True
        if col.kind == "date" and raw.kind == "activities":
            for i, v in enumerate(parsed):
                if v is not None and v is not INVALID and v.year != year and not errors[i]:
                    issues.append(make_issue("date-out-of-year", row=int(rows[i]), column=col.name,
                                             value=v.isoformat(), year=year, **place))
                    errors[i] = True
        if col.kind == "text":
            parsed = np.array(["" if v is None else v for v in parsed], dtype=object)
        out[col.key] = parsed

    if raw.kind == "roster":
        _roster_fields(out, rec, config)
    elif raw.kind == "activities":
        out["host"] = np.where(out["host"] == "", rec.department or "", out["host"])
    elif raw.kind == "negative":
        for i in np.flatnonzero(np.array([v is True for v in out["exists"]]) & ~errors):
            issues.append(make_issue("negative-exists", row=int(rows[i]), column="是否存在",
                                     value=out["item"].iat[i], **place))
    out["status"] = np.where(errors, REJECTED, USED)
    return out[columns_for(raw.kind)], issues


def _roster_fields(out: pd.DataFrame, rec: FileRecord, config: Config) -> None:
    """Fill 部门 (blank = the submitting department, aliases resolved) and the dedupe key."""
    depts = [config.resolve_department(d) or d if d else (rec.department or "") for d in out["dept"]]
    out["dept"] = depts
    out["staff_id"] = [id_text(v) for v in out["staff_id"]]
    out["person_key"] = [f"工号 {sid}" if sid else f"{name}（{dept}）"
                         for sid, name, dept in zip(out["staff_id"], out["name"], depts)]


def empty_frame(kind: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns_for(kind)})


def superseded_frame(raw: RawSheet, rec: FileRecord) -> pd.DataFrame:
    """Rows of a superseded (or unattributable) workbook, counted but not parsed."""
    kind_cols = columns_for(raw.kind)
    out = empty_frame(raw.kind).reindex(range(len(raw.frame)))
    out["file"], out["department"] = rec.name, rec.department
    out["sheet"], out["row"] = raw.name, raw.frame["_row"].to_numpy(dtype=int)
    return out[kind_cols]


def column_of(kind: str, key: str) -> Column:
    return next(c for c in SHEET_BY_KIND[kind].columns if c.key == key)
