"""各部门工作档案 (hard links into 分类档案, one 目录 each) and the 部门单位任务台账."""

from __future__ import annotations

from pathlib import Path

import pipeline.documents.archive.parallel as parallel
from pipeline.documents.archive.layout import Material, safe_name
from pipeline.intake.evidence import RowEvidence
from pipeline.issues import Issue


def department_archives(b, root: Path) -> None:
    """Per department: its own materials (the same files as in 分类档案, hard-linked) and its own 目录."""
    by_dept: dict[str, list[Material]] = {}
    for m in b.materials:
        if m.kind != "form":
            by_dept.setdefault(m.department or "部门未确定", []).append(m)
    missing_by: dict[str, list] = {}
    for x in b.missing:
        missing_by.setdefault(x[0], []).append(x)
    issues_by: dict[str | None, list[Issue]] = {}
    for i in b.issues:
        issues_by.setdefault(i.department, []).append(i)
    depts = [*b.config.department_names, *sorted(set(by_dept) - set(b.config.department_names))]
    b.dept_jobs = [(root / safe_name(d), d, by_dept.get(d, []), missing_by.get(d, []), issues_by.get(d, []))
                   for d in depts]
    parallel.in_processes(parallel.department_job, b, len(b.dept_jobs), len(b.materials) >= parallel.PARALLEL_ROWS)


def write_task_ledger(b, path: Path) -> None:
    """部门单位任务台账: per department, its standards, what each needs, what it submitted, what is missing."""
    from pipeline.documents.render_xlsx import STATUS_FILLS
    from pipeline.documents.workbook import Book, Print
    by_code = {s.standard.code: s for s in b.result.standards}
    submitted: dict[tuple[str, str], list[RowEvidence]] = {}
    for kind in ("activities", "documents"):
        for r in b.check.rows.get(kind, []):
            for code in r.codes:
                submitted.setdefault((r.department, code), []).append(r)
    rows = []
    for dept in b.config.department_names:
        for std in b.config.standards_for(dept):
            rules = b.config.evidence_rules(std.code)
            need = f"活动或文件不少于{std.min_evidence}项；每项活动照片不少于{rules.min_photos}张"
            if rules.number_types:
                need += f"；{'、'.join(rules.number_types)}类文件须有文号"
            got = submitted.get((dept, std.code), [])
            acts = [r for r in got if r.kind == "activities"]
            docs = [r for r in got if r.kind == "documents"]
            files = len({i for r in got for i in r.files})
            missing = "、".join(n for r in got for n in r.missing) or None
            problems = "；".join(dict.fromkeys(p for r in got for p in r.problems.get(std.code, ()))) or None
            rows.append((dept, std.code, std.short, std.evidence, need, len(acts), len(docs), files, missing,
                         problems, by_code[std.code].status))
    title = f"{b.year}年{b.config.unit}部门单位任务台账"
    book = Book()
    book.table("部门单位任务台账", ("部门", "编码", "测评标准", "应报材料", "要求", "已报活动", "已报文件", "佐证文件",
                                  "缺少的材料", "未满足的要求", "标准状态"), rows,
               (10, 8, 20, 36, 36, 8, 8, 8, 30, 40, 9), Print(title, landscape=True), status_col=11,
               fills=STATUS_FILLS, text_cols=(2,))
    book.table("未归类材料", ("部门", "文件", "原文件名"),
               [(b.check.files[i].department or "部门未确定", b.check.files[i].name, b.check.files[i].original)
                for i in b.check.unassigned], (12, 50, 30), Print(f"{title} · 未归类材料"))
    book.save(path)
