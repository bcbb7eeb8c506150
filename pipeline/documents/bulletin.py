"""创建工作进度通报 (`bulletin`, issue 16): an internal one-to-two-page 简报 for the leadership group meeting.

As of a date (default today): 报送情况 (reported, not yet reported, late: 填报日期 after the configured deadline,
unreadable files, empty templates), 进展 (standards with evidence dated up to that date against all standards,
metrics against thresholds, per department what it has done and which of its standards still have no evidence),
下一步 (who must do what by when). The 期号 increments with every bulletin written into an output folder; it is
kept there in `.bulletin.json` (per year). Sentences: `config/wording.yaml`, section 进度通报; template
`config/templates/进度通报.docx`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.catalog import format_percent
from pipeline.documents.halfyear import dated_until, stage_month
from pipeline.documents.self_report import chinese_date
from pipeline.score import score_standards

if TYPE_CHECKING:
    from pipeline.result import Result

TEMPLATE = "进度通报.docx"
NUMBERS = ".bulletin.json"


@dataclass
class Progress:
    """The facts of one bulletin."""

    date: dt.date
    deadline: dt.date | None
    reported: list[str]
    missing: list[str]
    late: list[str]
    unreadable: list[str]
    empty: list[str]
    standards: list
    with_evidence: list[str]
    metrics: list
    departments: list[tuple[str, int, int, list]]  # name, activities, documents, its own standards still owed
    shared: list  # standards every department answers for that have no evidence yet (listed once)
    next_stage: str = ""
    lines: list[str] = field(default_factory=list)  # the console summary


def _dept_of_name(name: str, config) -> str | None:
    hits = []
    for d in config.departments:
        for alias in (d.name, *d.aliases):
            if alias and alias in name:
                hits.append((len(alias), d.name))
    return max(hits)[1] if hits else None


def progress(result: "Result", as_of: dt.date) -> Progress:
    cfg = result.config
    merged = result.merged
    used_by_dept: dict[str, int] = {}
    for kind in ("roster", "activities", "documents", "highlights", "honours"):
        frame = merged.used(kind)
        if not frame.empty:
            for dept, n in frame["department"].value_counts().items():
                used_by_dept[dept] = used_by_dept.get(dept, 0) + int(n)
    winners = merged.winners
    readable = {r.department for r in merged.records if r.readable and r.department}
    empty = [d for d in cfg.department_names if d in readable and not used_by_dept.get(d)]
    reported = [d for d in cfg.department_names if d in winners and d not in empty]
    unreadable_depts = {_dept_of_name(r.name, cfg) for r in merged.records if not r.readable}
    unreadable = [d for d in cfg.department_names if d in unreadable_depts and d not in winners and d not in empty]
    missing = [d for d in cfg.department_names if d not in winners and d not in unreadable and d not in empty]
    deadline = cfg.settings.get("deadline")
    deadline = deadline if isinstance(deadline, dt.date) else None
    late = [d for d in reported if deadline and (winners[d].submitted_on or dt.date.min) > deadline]
    start = dt.date(result.year, 1, 1)
    acts = dated_until(merged.used("activities"), start, as_of)
    docs_all = merged.used("documents")
    docs = docs_all[[not isinstance(x, dt.date) or x <= as_of for x in docs_all["date"]]] if len(docs_all) \
        else docs_all
    standards = score_standards(cfg, result.metrics, acts, docs, set(winners))
    with_evidence = [s.standard.code for s in standards if s.evidence > 0]
    a_counts = acts["department"].value_counts() if len(acts) else {}
    d_counts = docs["department"].value_counts() if len(docs) else {}
    everyone = set(cfg.department_names)
    shared = [s.standard for s in standards if s.evidence == 0 and set(s.standard.responsible) >= everyone]
    owed = {d: [s.standard for s in standards if d in s.standard.responsible and s.evidence == 0
                and not set(s.standard.responsible) >= everyone] for d in cfg.department_names}
    departments = [(d, int(a_counts.get(d, 0)), int(d_counts.get(d, 0)), owed[d]) for d in cfg.department_names]
    later = [s for s in (cfg.settings.get("stages") or []) if (stage_month(s.get("period", "")) or 0) > as_of.month]
    p = Progress(as_of, deadline, reported, missing, late, unreadable, empty, standards, with_evidence,
                 list(result.metrics.values()), departments, shared,
                 next_stage=(f"{stage_month(later[0]['period'])}月底前" if later else "年底前"))
    p.lines = [f"截至{chinese_date(as_of)}：已报送 {len(reported)}/{len(cfg.department_names)} 个部门"
               + (f"，未报送：{'、'.join(missing)}" if missing else "")
               + (f"，逾期：{'、'.join(late)}" if late else "")
               + (f"，无法读取：{'、'.join(unreadable)}" if unreadable else "")
               + (f"，空模板：{'、'.join(empty)}" if empty else ""),
               f"有佐证的测评标准 {len(with_evidence)}/{len(standards)} 条"]
    return p


def next_number(out: Path, year: int) -> int:
    data = _numbers(out)
    return int(data.get(str(year), 0)) + 1


def _numbers(out: Path) -> dict:
    try:
        return json.loads((out / NUMBERS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_number(out: Path, year: int, number: int) -> None:
    from pipeline.atomic import atomic_write_json
    data = _numbers(out)
    data[str(year)] = number
    atomic_write_json(out / NUMBERS, data)


def bulletin_name(year: int, number: int) -> str:
    return f"{year}年创建文明单位工作进度通报（第{number}期）.docx"


def issuer(config) -> str:
    group = config.settings.get("leadership_group") or {}
    name = str(group.get("name") or "")
    return f"{name}办公室" if name else str(config.settings.get("coordinator") or config.unit)


def write_bulletin(result: "Result", out: Path, as_of: dt.date, number: int) -> tuple[Path, Progress]:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    from pipeline.documents.compose import render_template
    from pipeline.documents.wording import load_wording

    cfg, w = result.config, load_wording(result.config.dir)
    p = progress(result, as_of)
    date_text = chinese_date(as_of)
    deadline = chinese_date(p.deadline) if p.deadline else w.fill("通用.待核实", {"事项": "报送截止日期"}, required=True)
    total = len(cfg.department_names)

    def header(bw):
        t = bw.para(w.text("进度通报.报头"), "公文标题", align=WD_ALIGN_PARAGRAPH.CENTER)
        for r in t.runs:
            r.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
            r.font.size = Pt(26)
        bw.para(w.fill("进度通报.期号", {"年度": str(result.year), "期号": str(number)}, required=True),
                align=WD_ALIGN_PARAGRAPH.CENTER, first_indent_chars=0)
        line = bw.para(w.fill("进度通报.发文", {"发文单位": issuer(cfg), "日期": date_text}, required=True),
                       align=WD_ALIGN_PARAGRAPH.CENTER, first_indent_chars=0)
        for r in line.runs:
            r.font.size = Pt(14)
        ppr = line._p.get_or_add_pPr()  # the red line under the header
        border = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for k, v in (("val", "single"), ("sz", "18"), ("space", "4"), ("color", "C00000")):
            bottom.set(qn(f"w:{k}"), v)
        border.append(bottom)
        ppr.append(border)

    def reports(bw):
        bw.para(w.fill("进度通报.报送概况", {"日期": date_text, "应报": total, "已报": len(p.reported),
                                         "已报部门": p.reported, "未报": len(p.missing), "未报部门": p.missing},
                       required=True))
        if p.late:
            bw.para(w.fill("进度通报.逾期", {"截止": deadline, "部门": p.late, "个数": len(p.late)}, required=True))
        if p.unreadable:
            bw.para(w.fill("进度通报.无法读取", {"部门": p.unreadable, "个数": len(p.unreadable)}, required=True))
        if p.empty:
            bw.para(w.fill("进度通报.空模板", {"部门": p.empty, "个数": len(p.empty)}, required=True))

    def progress_block(bw):
        bw.para(w.fill("进度通报.标准进展", {"日期": date_text, "总数": str(len(p.standards)),
                                         "有": str(len(p.with_evidence)),
                                         "无": str(len(p.standards) - len(p.with_evidence))}, required=True))
        parts = []
        for m in p.metrics:
            if m.value is None:
                parts.append(w.fill("进度通报.指标无数据", {"指标": m.metric.label}, required=True))
            else:
                key = "进度通报.指标达到" if m.passed else "进度通报.指标未达到"
                parts.append(w.fill(key, {"指标": m.metric.label, "实际": format_percent(m.value),
                                          "要求": m.metric.requirement}, required=True))
        if parts:
            bw.para(w.text("进度通报.指标引言") + "；".join(s.rstrip("。；") for s in parts) + "。")
        if p.shared:
            bw.para(w.fill("进度通报.共同欠", {"欠": [f"{s.short}（{s.code}）" for s in p.shared]}, required=True))
        rows = [(dept, str(a), str(d), "、".join(s.code for s in owed) or "—")
                for dept, a, d, owed in p.departments if dept in p.reported]
        if rows:
            bw.para(w.text("进度通报.部门表引言"), keep_next=True)
            bw.table(["部门", "活动", "文件", "牵头的测评标准中尚无佐证的（编码）"], rows, [30, 18, 18, 90],
                     center_columns=(1, 2))

    def next_steps(bw):
        k = 0

        def item(text):
            nonlocal k
            k += 1
            bw.para(f"{k}.{text}")
        if p.missing:
            item(w.fill("进度通报.催报", {"部门": p.missing, "截止": deadline}, required=True))
        if p.unreadable:
            item(w.fill("进度通报.重报", {"部门": p.unreadable}, required=True))
        if p.empty:
            item(w.fill("进度通报.补填", {"部门": p.empty}, required=True))
        if p.shared:
            item(w.fill("进度通报.共同补充", {"欠": [f"{s.short}（{s.code}）" for s in p.shared],
                                          "时间": p.next_stage}, required=True))
        groups: dict[tuple[str, ...], list[str]] = {}  # departments that owe the same standards: one line
        for dept, _a, _d, owed in p.departments:
            if owed and dept in p.reported:
                groups.setdefault(tuple(s.code for s in owed), []).append(dept)
        for codes, depts in groups.items():
            item(w.fill("进度通报.补充", {"部门": depts, "欠": list(codes), "时间": p.next_stage}, required=True))
        if not k:
            bw.para(w.text("进度通报.无事项"))

    def signature(bw):
        bw.para(w.fill("进度通报.抄送", {"发文单位": issuer(cfg)}, required=True), first_indent_chars=0)

    title = w.fill("进度通报.标题", {"年度": str(result.year), "期号": str(number)}, required=True)
    path = out / bulletin_name(result.year, number)
    render_template(cfg.template_file(TEMPLATE), {"报头": header, "报送": reports, "进展": progress_block,
                                                  "下一步": next_steps, "落款": signature}, path,
                    title=title, author=cfg.unit)
    return path, p


def run_bulletin(inbox, out, config, as_of: dt.date | None = None, year: int | None = None, *,
                 sample: bool = False):
    """The `bulletin` command: read the inbox, write the next numbered bulletin into `out` (locked, staged)."""
    from pipeline.atomic import folder_lock, output_set
    from pipeline.errors import OutputError, os_error_message
    from pipeline.report import check_out_dir, collect
    as_of = as_of or dt.date.today()
    year = year or as_of.year
    out = Path(out)
    check_out_dir(inbox, out)
    try:
        result = collect(inbox, config, year)
        with folder_lock(out, "生成进度通报"):
            number = next_number(out, year)
            with output_set(out, f"bulletin-{year}-{number}", "生成进度通报") as stage:
                path, p = write_bulletin(result, stage, as_of, number)
                if sample:
                    from pipeline.documents.sample import mark_sample
                    mark_sample(stage)
            save_number(out, year, number)
    except OSError as exc:
        raise OutputError(os_error_message(exc, "；输出文件夹中上次生成的文件保持不变", out)) from None
    return out / path.name, number, p
