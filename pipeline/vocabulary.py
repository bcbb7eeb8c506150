"""The words every stage shares: the status of a standard (contract §5) and the state of a department's
submission (`state` in scores.json), each with its one Chinese spelling. Declared here only; every module
that names a status or a state imports it from here."""

from __future__ import annotations

# ------------------------------------------------------------------ status of a standard (contract §5)
MET, FAILED, WEAK, MISSING = "达标", "未达标", "佐证不足", "未填报"
#: the order the documents and tables list them in
STATUSES = (MET, FAILED, WEAK, MISSING)

# ------------------------------------------------------------------ state of a department's submission
#: what a department's files amount to, in this order: a usable workbook; files that could not be read (or held
#: no ledger sheet); only an untouched template; nothing at all. These codes are scores.json's `state`.
SUBMITTED, UNREADABLE, EMPTY, NOT_SENT = "submitted", "unreadable", "empty", "missing"
STATES = (SUBMITTED, UNREADABLE, EMPTY, NOT_SENT)
#: the one Chinese label of each state (pages, documents, messages)
STATE_LABELS = {SUBMITTED: "已报送", UNREADABLE: "文件无法读取", EMPTY: "空模板", NOT_SENT: "未报送"}
STATE_CODES = {label: code for code, label in STATE_LABELS.items()}


def state_code(state: str | None) -> str | None:
    """A state as scores.json writes it (a code), also when given as a label or an older spelling of one."""
    if state is None:
        return None
    text = str(state)
    if text in STATE_LABELS:
        return text
    if text in STATE_CODES:
        return STATE_CODES[text]
    if text in ("无法读取", "报送文件无法读取"):  # earlier spellings of 文件无法读取
        return UNREADABLE
    return None
