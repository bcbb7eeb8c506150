"""Parsers for values as people type them in Excel and WPS (contract section 2)."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

INVALID = object()  # a non-blank value that could not be understood

_YES = {"是", "√", "✓", "✔", "y", "yes", "有", "1", "true", "对", "t"}
_NO = {"否", "×", "✗", "✘", "n", "no", "无", "0", "false", "不是", "没有", "f"}
_IN_SERVICE_NO = {"退休", "离职", "调离", "离休", "已退休", "不在职"}
_IN_SERVICE_YES = {"在职", "在岗", "在编"}
_SATISFACTION = {"满意": "满意", "非常满意": "满意", "很满意": "满意", "基本满意": "基本满意", "比较满意": "基本满意",
                 "较满意": "基本满意", "不满意": "不满意", "很不满意": "不满意", "非常不满意": "不满意"}
_DOC_TYPES = {"计划", "方案", "制度", "总结", "记录", "其他"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CODE = re.compile(r"^\s*(\d{1,2}\.\d{1,2}\.\d{1,2})(?!\.?\d)")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EPOCH_1904 = dt.date(1904, 1, 1)
_MAX_SERIAL = 2958466  # 9999-12-31


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:  # pandas NaT / NA
        return bool(value != value)
    except (TypeError, ValueError):
        return False


def clean_text(value: Any) -> str:
    """Text for display and documents: no XML-invalid control characters, trimmed; '' for blank."""
    if isinstance(value, str) and value.isprintable() and "_x" not in value:
        return value.strip()  # the common case: ordinary text
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        value = value.strftime("%Y-%m-%d")
    text = _EXCEL_ESCAPE.sub(lambda m: _unescape(m.group(1)), str(value))
    return _CONTROL.sub("", text).strip()


def _unescape(hexcode: str) -> str:
    ch = chr(int(hexcode, 16))
    return "" if _CONTROL.match(ch) else ch


def _key(value: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).lower()


def parse_yesno(value: Any) -> Any:
    """True / False / None (blank) / INVALID."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return True if value == 1 else False if value == 0 else INVALID
    key = _key(value)
    if key in _YES:
        return True
    if key in _NO:
        return False
    return INVALID


def parse_in_service(value: Any) -> Any:
    """Like parse_yesno, but blank means yes and 退休/在职 are understood."""
    if is_blank(value):
        return True
    key = _key(value)
    if key in _IN_SERVICE_YES:
        return True
    if key in _IN_SERVICE_NO:
        return False
    return parse_yesno(value)


def parse_satisfaction(value: Any) -> Any:
    if is_blank(value):
        return None
    return _SATISFACTION.get(_key(value), INVALID)


def parse_doctype(value: Any) -> Any:
    if is_blank(value):
        return None
    key = _key(value)
    return key if key in _DOC_TYPES else INVALID


def parse_date(value: Any) -> Any:
    """A datetime.date from real dates, serials and the usual text forms; None or INVALID."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime().date()
    if isinstance(value, bool):
        return INVALID
    if isinstance(value, (int, float)):
        return _from_number(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"(T|\s)?\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", text)  # a time part
    m = re.fullmatch(r"(\d{4})[.\-/年](\d{1,2})[.\-/月](\d{1,2})[日号]?", text)
    if m:
        return _make_date(*map(int, m.groups()))
    if re.fullmatch(r"\d+(\.0+)?", text):
        return _from_number(float(text))
    return INVALID


def _from_number(num: float) -> Any:
    num = float(num)
    if math.isnan(num) or math.isinf(num):
        return INVALID
    if num.is_integer() and 19000101 <= num <= 29991231:
        s = str(int(num))
        return _make_date(int(s[:4]), int(s[4:6]), int(s[6:]))
    if 1 <= num < 2958466:  # Excel serial (1900 date system)
        return _EXCEL_EPOCH + dt.timedelta(days=int(num))
    return INVALID


def serial_date(value: Any, date1904: bool = False) -> dt.date | None:
    """The date of a bare serial (a number, or digits typed as text) in the workbook's date system;
    None for anything else, YYYYMMDD numbers included (parse_date reads those)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not re.fullmatch(r"\d+(\.0+)?", text):
            return None
        value = float(text)
    if not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
        return None
    if float(value).is_integer() and 19000101 <= value <= 29991231:
        return None
    if date1904:
        return _EPOCH_1904 + dt.timedelta(days=int(value)) if 0 <= value < _MAX_SERIAL - 1462 else None
    return _EXCEL_EPOCH + dt.timedelta(days=int(value)) if 1 <= value < _MAX_SERIAL else None


def date_serial(value: Any, date1904: bool = False) -> float:
    """The number under a date format: what Excel stores for a date, datetime or duration, as readers
    convert it (serials below 60 are shown one day later in the 1900 system: Excel's 1900-02-29)."""
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    day = value.date() if isinstance(value, dt.datetime) else value
    if date1904:
        days = (day - _EPOCH_1904).days
    elif day < dt.date(1900, 3, 1):
        days = (day - dt.date(1899, 12, 31)).days
    else:
        days = (day - _EXCEL_EPOCH).days
    if isinstance(value, dt.datetime):
        t = value.time()
        return days + (t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6) / 86400
    return float(days)


def _make_date(y: int, m: int, d: int) -> Any:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return INVALID


def parse_number(value: Any) -> Any:
    """A non-negative float from 12, 12.0, "12", "12人", "１２"; None or INVALID."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return INVALID
    if isinstance(value, (int, float)):
        num = float(value)
    else:
        text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).replace(",", "")
        m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)(人次|人|小时|个|次|份|名|h|H|天|场|期|余)?", text)
        if not m:
            return INVALID
        num = float(m.group(1))
    if math.isnan(num) or math.isinf(num) or num < 0 or num > 1e9:
        return INVALID
    return num


def parse_percent(value: Any) -> Any:
    """0.95 from "95%" or 0.95 (or 95, read as a percentage)."""
    if is_blank(value):
        return None
    if isinstance(value, str) and value.strip().endswith(("%", "％")):
        num = parse_number(value.strip()[:-1])
        return INVALID if num in (None, INVALID) else num / 100
    num = parse_number(value)
    if num in (None, INVALID):
        return num
    return num / 100 if num > 1 else num


def parse_standard_codes(value: Any) -> Any:
    """Codes from `3.2.2`, `3.2.2 开展…` or `3.2.2、3.2.3`; None or INVALID (no code at the start)."""
    if is_blank(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    parts = re.split(r"[,;、/|]", text)
    codes = []
    for part in parts:
        m = _CODE.match(part)
        if m:
            if m.group(1) not in codes:
                codes.append(m.group(1))
        elif not codes:
            return INVALID
    return tuple(codes)


def id_text(value: Any) -> str:
    """A staff number as text: 1001.0 -> '1001', ' A01 ' -> 'A01', '８４０１' -> '8401'."""
    if isinstance(value, str) and value.isprintable() and " " not in value and "_x" not in value \
            and unicodedata.is_normalized("NFKC", value):
        return value  # printable excludes every whitespace but the ASCII space
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", clean_text(value)))
