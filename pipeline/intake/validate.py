"""Normalise and check every cell of a recognised sheet; rows become used or rejected (contract section 3)."""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import unicodedata
from typing import Any, Callable

import numpy as np
import pandas as pd

from pipeline.catalog import Config
from pipeline.intake.ingest import FileRecord, RawSheet
from pipeline.issues import ERROR, Issue, make_issue, profile_hints
from pipeline.schema import CONTENT_KEYS, SHEET_BY_KIND, sheet_for
from pipeline.intake.values import (INVALID, clean_text, id_text, parse_date, parse_doctype, parse_in_service,
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


def columns_for(kind: str, config: Config | None = None) -> list[str]:
    """The columns of the validated frame of a sheet kind (with the catalog's own roster columns when given)."""
    extra = ["person_key"] if kind == "roster" else []
    spec = sheet_for(config, kind) if config is not None else SHEET_BY_KIND[kind]
    return META + [c.key for c in spec.columns if c.kind != "seq"] + extra


_EXCEL_ERRORS = {"#DIV/0!", "#REF!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#VALUE!", "#SPILL!", "#CALC!",
                 "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
FORMULA_ERROR = object()  # a cell holding an Excel error value (#REF! …)


def _parse_cell(func: Callable[[Any], Any], value: Any) -> Any:
    if isinstance(value, str):
        if value.lstrip()[:1] == "#" and value.strip().upper() in _EXCEL_ERRORS:
            return FORMULA_ERROR
        value = clean_text(value)  # control characters and _x000B_ escapes never reach a parser
        if func is clean_text:
            return value
    return func(value)


class Parsed:
    """A column parsed once per distinct value; masks are computed on the distinct values too."""

    def __init__(self, series: pd.Series | np.ndarray, func: Callable[[Any], Any]) -> None:
        self.plain = func in (clean_text, id_text) and _ordinary(series, ids=func is id_text)
        if self.plain:  # every cell ordinary text (names, titles: mostly distinct): parsed without factorizing
            n = len(series)
            parsed = map(str.strip, series) if func is clean_text else iter(series)
            self.results = np.fromiter(itertools.chain(parsed, [func(None)]), dtype=object, count=n + 1)
            self.codes = np.arange(n)
            self.values = self.results[:n].copy()
            return
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        if func is clean_text and _ordinary(uniques):
            parsed = map(str.strip, uniques)  # every distinct value ordinary text: stripped, tested at C speed
        elif func is id_text and _ordinary(uniques, ids=True):
            parsed = iter(uniques)
        elif func is clean_text:  # most distinct values are ordinary text (names, titles): strip only
            parsed = (u.strip() if type(u) is str and u.isprintable() and "_x" not in u and "#" not in u
                      else _parse_cell(func, u) for u in uniques)
        elif func is id_text:  # ordinary staff numbers are kept as they are
            parsed = (u if type(u) is str and u.isprintable() and " " not in u and "_x" not in u and "#" not in u
                      and unicodedata.is_normalized("NFKC", u) else _parse_cell(func, u) for u in uniques)
        else:
            parsed = (_parse_cell(func, u) for u in uniques)
        results = np.fromiter(itertools.chain(parsed, [func(None)]), dtype=object, count=len(uniques) + 1)
        # the last entry is code -1: blank
        self.codes, self.results = codes, results
        self.values = results[codes]

    def mask(self, predicate: Callable[[Any], bool]) -> np.ndarray:
        return np.fromiter((predicate(r) for r in self.results), bool, len(self.results))[self.codes]

    def is_(self, *objects: Any) -> np.ndarray:
        """Rows whose parsed value is one of these objects (the sentinels, None), compared by identity
        in numpy's loop: text columns have hundreds of thousands of distinct values at city scale."""
        found = np.zeros(len(self.results), dtype=bool)
        if self.plain:  # text only: none of the sentinels
            return found[self.codes]
        for obj in objects:
            found |= _IS(self.results, obj).astype(bool)
        return found[self.codes]

    def blank(self) -> np.ndarray:
        """Rows left empty: None, empty text, or an Excel error value."""
        if self.plain:
            return (self.results == "")[self.codes]
        empty = np.fromiter((type(r) is str and not r for r in self.results), bool, len(self.results))
        return empty[self.codes] | self.is_(None, FORMULA_ERROR)


_IS = np.frompyfunc(operator.is_, 2, 1)


def _ordinary(uniques: np.ndarray, ids: bool = False) -> bool:
    """Whether every value is text that clean_text would only strip (printable, no _x escape, no #), and for
    staff numbers (`ids`) that id_text keeps as it is (no space, NFKC). Tested on the values joined by "a",
    which can neither make nor hide a "_x", a "#", a space or an unprintable character."""
    if len(uniques) == 0 or set(map(type, uniques)) != {str}:
        return False
    joined = "a".join(uniques)
    if not joined.isprintable() or "_x" in joined or "#" in joined:
        return False
    return not ids or (" " not in joined and all(map(unicodedata.is_normalized, itertools.repeat("NFKC"), uniques)))


def map_values(series: pd.Series, func: Callable[[Any], Any]) -> np.ndarray:
    """Apply func once per distinct value (cells repeat a lot: 是, 否, dates)."""
    return Parsed(series, func).values


def validate_kind(kind: str, frame: pd.DataFrame | dict[str, np.ndarray], config: Config, year: int,
                  hints: dict[Any, dict[str, str]] | None = None) -> tuple[pd.DataFrame, list[Issue]]:
    """Parse every column of one sheet kind over all winning workbooks at once.

    `frame` holds the raw cells (one column per recognised field) plus file, department, sheet and _row, as a
    DataFrame or a dict of arrays (merge._combined); returns the validated frame (status used/rejected) and the
    issues, each with its place. `hints`: the departments' message hints (profile_hints) found so far, kept
    by the caller across batches."""
    spec = sheet_for(config, kind)
    files, depts, sheets = (np.asarray(frame[c]) for c in ("file", "department", "sheet"))
    rows = np.asarray(frame["_row"], dtype=int)
    n = len(rows)
    out: dict[str, np.ndarray] = {"file": files, "department": depts, "sheet": sheets, "row": rows}
    issues: list[Issue] = []
    errors = np.zeros(n, dtype=bool)

    hints = {} if hints is None else hints

    def issue(code: str, i: int, column: str, value: Any = None, **extra: Any) -> Issue:
        if depts[i] not in hints:
            hints[depts[i]] = profile_hints(config, year, depts[i])
        found = make_issue(code, file=files[i], sheet=sheets[i], row=int(rows[i]), column=column, value=value,
                           department=depts[i], **{**hints[depts[i]], **extra})
        issues.append(found)
        return found

    content_keys = CONTENT_KEYS.get(kind, ())
    known = config.standards
    for col in spec.columns:
        if col.kind == "seq":
            continue
        raw_values = np.asarray(frame[col.key]) if col.key in frame else np.full(n, None, dtype=object)
        column = Parsed(raw_values, _PARSERS[col.kind])
        parsed = column.values
        if kind == "negative" and col.key == "exists":
            unanswered = column.is_(None)  # blank (an invalid answer has its own warning)
        required = col.required or col.key in content_keys
        for i in np.flatnonzero(column.is_(FORMULA_ERROR)):
            issue("formula-error", i, col.name, clean_text(raw_values[i]))
            parsed[i] = "" if col.kind == "text" else (True if col.kind == "inservice" else None)
        invalid = column.is_(INVALID)
        if col.kind == "standard":
            invalid |= column.mask(lambda v: isinstance(v, tuple) and any(c not in known for c in v))
        for i in np.flatnonzero(invalid):
            if col.kind == "standard":
                code = "unknown-standard" if required else "invalid-optional-standard"
            elif col.kind == "date":
                code = "invalid-date" if required else "invalid-optional-date"
            else:
                code = _INVALID_CODE[col.kind]
            if issue(code, i, col.name, clean_text(raw_values[i])).level == ERROR:
                errors[i] = True
            parsed[i] = "其他" if col.kind == "doctype" else None
        if required:
            blank = column.blank()
            for i in np.flatnonzero(blank & ~invalid):
                issue("missing-required", i, col.name)
                errors[i] = True
        if col.kind == "date" and kind == "activities":
            for i in np.flatnonzero(column.mask(lambda v: isinstance(v, dt.date) and v.year != year)):
                if not errors[i]:
                    issue("date-out-of-year", i, col.name, parsed[i].isoformat(), year=year)
                    errors[i] = True
        if col.kind == "text" and not column.plain:
            parsed[_IS(parsed, None).astype(bool)] = ""
        out[col.key] = parsed

    if kind == "roster":
        _roster_fields(out, config)
    elif kind == "activities":
        host = out["host"]
        out["host"] = np.where(pd.Series(host) == "", pd.Series(depts).fillna(""), host)
    elif kind == "negative":
        for i in np.flatnonzero(_IS(out["exists"], True).astype(bool) & ~errors):
            issue("negative-exists", i, "是否存在", out["item"][i])
        for i in np.flatnonzero(unanswered & ~errors):
            issue("negative-unanswered", i, "是否存在", out["item"][i])
    status = out["status"] = np.full(n, USED, dtype=object)  # one object block with the other text columns
    status[errors] = REJECTED
    return _frame(out, columns_for(kind, config), n), issues


def _frame(out: dict[str, Any], columns: list[str], n: int) -> pd.DataFrame:
    """The validated frame: every column but `row` is of objects, laid into one block here (pandas would
    stack them column by column and merge the blocks it made)."""
    text = [c for c in columns if c != "row"]
    block = np.empty((len(text), n), dtype=object)
    for j, c in enumerate(text):
        block[j] = out[c]
    frame = pd.DataFrame(block.T, columns=text, copy=False)
    frame.insert(columns.index("row"), "row", out["row"])
    return frame


def _roster_fields(out: dict[str, np.ndarray], config: Config) -> None:
    """Fill 部门 (blank = the submitting department, aliases resolved) and the dedupe key."""
    stated, own = out["dept"], out["department"]
    n = len(stated)
    resolved = {d: config.resolve_department(d) or d for d in set(stated) if d}
    owned = {d: d or "" for d in set(own)}
    depts = np.where(np.fromiter(map(operator.not_, stated), bool, n), np.fromiter(map(owned.get, own), object, n),
                     np.fromiter(map(resolved.get, stated), object, n))
    out["dept"] = depts
    sids = out["staff_id"] = map_values(out["staff_id"], id_text)
    numbered = np.fromiter(map(bool, sids), bool, n)
    keys = np.empty(n, dtype=object)
    try:  # text throughout (the parsers give text): joined by numpy's loop
        keys[numbered] = "工号 " + sids[numbered]
        keys[~numbered] = out["name"][~numbered] + "（" + depts[~numbered] + "）"
    except TypeError:
        keys[:] = [f"工号 {sid}" if sid else f"{name}（{dept}）" for sid, name, dept in zip(sids, out["name"], depts)]
    out["person_key"] = keys


def empty_frame(kind: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns_for(kind)})


def unparsed_frame(raw: RawSheet, rec: FileRecord, status: str) -> pd.DataFrame:
    """Rows of a superseded (or unattributable) workbook: counted, not parsed."""
    out = empty_frame(raw.kind).reindex(range(len(raw)))
    out["file"], out["department"] = rec.name, rec.department
    out["sheet"], out["row"] = raw.name, np.asarray(raw.numbers, dtype=int)
    out["status"] = status
    return out[columns_for(raw.kind)]
