"""Helpers that write real department workbooks with openpyxl and run the real command; a free loopback port."""

from __future__ import annotations

import io
import json
import socket
import zipfile
from pathlib import Path
from typing import Any, Sequence

from click.testing import CliRunner
from openpyxl import Workbook

from pipeline.cli import main

ROSTER_HEADERS = ["序号", "姓名", "工号", "部门", "在职", "党员", "注册志愿者", "参加志愿服务", "志愿服务时长(小时)",
                  "参与创建工作", "满意度", "参加普法教育"]
ACTIVITY_HEADERS = ["序号", "日期", "活动名称", "测评标准", "主办部门", "参加人数", "时长(小时)", "地点", "活动内容", "佐证材料"]
DOCUMENT_HEADERS = ["序号", "文件名称", "文号", "日期", "类型", "测评标准"]
YEAR = 2026


def person(name: str, staff_id: Any = None, *, in_service: Any = None, party: Any = "否", volunteer: Any = "否",
           served: Any = "否", hours: Any = None, participates: Any = "是", satisfaction: Any = "满意",
           legal: Any = "是", dept: Any = None) -> list:
    return [None, name, staff_id, dept, in_service, party, volunteer, served, hours, participates, satisfaction, legal]


def activity(date: Any, title: str, standard: Any, participants: Any = 10) -> list:
    return [None, date, title, standard, None, participants, 2, "机关", "内容", "照片"]


def document(title: str, standard: Any, date: Any = None, kind: Any = "制度") -> list:
    return [None, title, None, date, kind, standard]


def sheet(ws, headers: Sequence[str], rows: Sequence[Sequence[Any]], title_rows: int = 1) -> None:
    """Title rows (merged, like the template) above the header, then the data rows."""
    for r in range(1, title_rows + 1):
        ws.cell(r, 1, f"{ws.title}（标题）")
    if title_rows:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    h = title_rows + 1
    for c, name in enumerate(headers, 1):
        ws.cell(h, c, name)
    for r, values in enumerate(rows, h + 1):
        for c, v in enumerate(values, 1):
            if v is not None:
                cell = ws.cell(r, c, v)
                if isinstance(v, str) and v.startswith("="):
                    cell.data_type = "s"  # typed as text, as Excel keeps '=… entered with a leading quote


def workbook(path: Path, dept: str | None = "调宣部", *, roster: Sequence[list] = (), activities: Sequence[list] = (),
             documents: Sequence[list] = (), info: dict | None = None, submitted: Any = None,
             highlights: Sequence[list] = (), negative: Sequence[list] | None = None,
             roster_headers: Sequence[str] = ROSTER_HEADERS) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "填报信息"
    fields = {"单位": "天津市科学技术协会", "部门": dept, "年度": YEAR, "填报人": "测试", "填报日期": submitted}
    fields.update(info or {})
    for r, (k, v) in enumerate(fields.items(), 1):
        ws.cell(r, 1, k)
        if v is not None:
            ws.cell(r, 2, v)
    sheet(wb.create_sheet("人员名单"), roster_headers, roster)
    sheet(wb.create_sheet("活动记录"), ACTIVITY_HEADERS, activities)
    sheet(wb.create_sheet("制度文件"), DOCUMENT_HEADERS, documents)
    if highlights:
        sheet(wb.create_sheet("工作亮点"), ["测评标准", "亮点"], highlights)
    if negative is not None:
        sheet(wb.create_sheet("负面清单自查"), ["项目", "是否存在", "说明"], negative)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def rewrite_zip(path: Path, edit) -> None:
    """Rewrite a zip (an xlsx) in place, passing each member's bytes through edit(name, data)."""
    src = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, edit(info.filename, zin.read(info.filename)))
    path.write_bytes(out.getvalue())


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def report(inbox: Path, out: Path, *extra: str) -> dict:
    result = run("report", "--inbox", str(inbox), "--out", str(out), "--silent", *extra)
    assert result.exit_code == 0, result.output
    return json.loads((out / "scores.json").read_text(encoding="utf-8"))


def issues(scores: dict, code: str) -> list[dict]:
    return [i for i in scores["issues"] if i["code"] == code]


def section(paras: Sequence[str], start: str, end: str | None) -> list[str]:
    """The paragraphs between the heading `start` and the heading `end` (None: to the end)."""
    i = paras.index(start)
    j = paras.index(end) if end else len(paras)
    return list(paras[i + 1:j])


def balanced(scores: dict) -> None:
    """Every row read is accounted for: used, rejected, a duplicate, or superseded, for each kind of row."""
    for kind in ("roster", "activities", "documents", "highlights", "honours", "negative"):
        r = scores["rows"][kind]
        assert r["read"] == r["used"] + r["rejected"] + r["duplicate"] + r["superseded"], kind


def staff(n: int, prefix: str = "人员", start: int = 1, **kw: Any) -> list[list]:
    return [person(f"{prefix}{i}", str(start + i), **kw) for i in range(n)]


def free_port() -> int:
    """A loopback port nobody listens on (for a test server, or for a server that is not there)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
