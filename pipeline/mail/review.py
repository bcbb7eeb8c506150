"""The coordinator's review of a submission: 退回 (with a reason) or 已审核, kept in the output folder
and carried into the department's next receipt."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pipeline.atomic import atomic_write_json
from pipeline.errors import PipelineError

REVIEWS = "审核记录.json"
RETURNED, APPROVED = "退回", "已审核"


def load_reviews(out_dir: Path) -> dict[str, dict]:
    """Department -> its latest mark {status, reason, file, at}."""
    path = Path(out_dir) / REVIEWS
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise PipelineError(f"{path} 已损坏，请改名备份后重试") from None
    return {k: v for k, v in data.items() if isinstance(v, dict)} if isinstance(data, dict) else {}


def mark(out_dir: Path, department: str, status: str, file: str | None, reason: str = "") -> dict:
    """Record 退回 (a reason is required) or 已审核 for the department's current file."""
    reason = " ".join(str(reason or "").split())[:500]
    if status not in (RETURNED, APPROVED):
        raise PipelineError(f"审核结果“{status}”无效，应为“{RETURNED}”或“{APPROVED}”")
    if status == RETURNED and not reason:
        raise PipelineError("退回时请填写退回原因")
    if not file:
        raise PipelineError(f"{department}尚未报送，无法审核")
    reviews = load_reviews(out_dir)
    entry = {"status": status, "reason": reason, "file": file, "at": dt.datetime.now().isoformat(timespec="seconds")}
    reviews[department] = entry
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(out_dir) / REVIEWS, reviews)
    return entry


def receipt_note(out_dir: Path, department: str, file: str | None) -> str:
    """The lines a receipt adds for a mark on the file it acknowledges (none when the file changed since)."""
    entry = load_reviews(out_dir).get(department)
    if not entry or not file or entry.get("file") != file:
        return ""
    if entry.get("status") == RETURNED:
        return (f"审核意见：退回。您部门报送的 {file} 经审核退回，原因：{entry.get('reason')}。"
                "请修改后重新报送。")
    return f"审核意见：您部门报送的 {file} 已审核通过。"
