"""The formal forms: 活动记录单 / 文件登记单 of a row and the 测评材料提交表 of a standard, with its conclusion."""

from __future__ import annotations

from pathlib import Path

from pipeline.catalog import Config
from pipeline.documents import ooxml
from pipeline.documents.archive.layout import Material
from pipeline.documents.archive.photos import PHOTOS_PER_SHEET
from pipeline.intake.evidence import RowEvidence
from pipeline.score import MET


def record_sheet(b, r: RowEvidence, record: Material, cols: dict, at: int, placed: list, code: str,
                 embeds: dict) -> None:
    """The 活动记录单 (or 文件登记单) of one row, its first photos embedded, written into its place."""
    std = b.config.standards[code]
    marker = "【待核实：{}】".format
    day = cols["date"][at]
    day_text = cn_date(day) if day else marker("日期")
    if r.kind == "activities":
        place = cols["place"][at] or ""
        host = cols["host"][at] or r.department
        people = cols["participants"][at]
        fields = [("活动名称", r.title), ("活动日期", day_text), ("活动地点", place or marker("活动地点")),
                  ("主办部门", host), ("参加人员", f"{_num(people)}人" if people else marker("参加人数")),
                  ("活动时长", f"{_num(cols['hours'][at])}小时" if cols["hours"][at] else "—"),
                  ("活动内容", _cap(cols["content"][at] or marker("活动内容"), 160))]
    else:
        fields = [("文件名称", r.title), ("文　　号", cols["number"][at] or "—"), ("印发日期", day_text),
                  ("文件类型", cols["type"][at] or "—"), ("报送部门", r.department)]
    for label, value in fields:
        if "【待核实" in str(value):
            b.markers.append(f"{record.number} {record.title}：{label}")
    listing = [f"{num} {f.original}" for num, f, _ in placed]   # what is filed; gaps go to the 目录's 备注
    fields.append(("佐证材料", "\n".join(listing) if listing else "无"))
    body = [ooxml.title("活动记录单" if r.kind == "activities" else "文件登记单"),
            ooxml.para(f"编号：{record.number}　　测评标准：{std.code} {std.short}", size=24, line=None, after=120),
            ooxml.table(fields, [1700, ooxml.TEXT_W - 1700], size=24, label_col=True)]
    images: list[tuple[str, bytes]] = []
    photos = [(num, f, idx) for num, f, idx in placed if f.kind == "photo"]
    cells = []
    for num, f, idx in photos[:PHOTOS_PER_SHEET]:
        data = embeds.get(num)
        if data is None:
            continue
        ext, blob, (w, h) = data
        images.append((ext, blob))
        width = 7.4
        height = width * h / w if w else 5.0
        if height > 4.6:
            width, height = width * 4.6 / height, 4.6
        caption = _caption(day, cols, at, r) if r.kind == "activities" else r.title
        cells.append(ooxml.para([ooxml.image(f"rIdImg{len(images)}", len(images), width, height, f.original)],
                                align="center", line=None)
                     + ooxml.para(f"{num} {caption}", align="center", line=None, size=18))
    if cells:
        body.append(ooxml.para("照片", size=24, line=None, before=120, after=60, bold=True))
        if len(cells) % 2:
            cells.append(ooxml.para("", line=None))
        half = ooxml.TEXT_W // 2
        body.append(ooxml.table([cells[i:i + 2] for i in range(0, len(cells), 2)], [half, half]))
        if len(photos) > len(cells):
            body.append(ooxml.para(f"另有照片{len(photos) - len(images)}张，见本页后所附文件。", size=21, line=None))
    ooxml.write_docx(b.root / record.arcname, body, images, atomic=False)


def _num(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cap(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cn_date(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _caption(day, cols: dict, at: int, r: RowEvidence) -> str:
    """时间、地点、人物、主题, from the row."""
    parts = [cn_date(day) if day else "", cols["place"][at] or "", cols["host"][at] or r.department, r.title]
    people = cols["participants"][at]
    if people:
        parts[2] += f"{_num(people)}人"
    return " ".join(p for p in parts if p)


def conclusion(sres, entries: list[dict], w) -> str:
    """A short conclusion written from the data, in the `分类档案` frames of wording.yaml (a standard with
    nothing gets the 书面简要说明 with its 【待核实】 marker to fill)."""
    std = sres.standard
    who = std.responsible_text or "、".join(std.responsible)
    if not entries and sres.metrics:  # a standard judged by its metrics (参与率, 注册率 …)
        from pipeline.catalog import format_percent
        parts = [w.fill("分类档案.指标情况", {"指标": m.metric.label, "要求": m.metric.requirement,
                                           "实际": format_percent(m.value) if m.value is not None else None},
                        required=True) for m in sres.metrics]
        return w.fill("分类档案.指标结论", {"指标情况": "；".join(parts), "状态": sres.status}, required=True)
    if not entries:
        from pipeline.score import MISSING
        return w.fill("分类档案.书面说明", {"部门": who, "未报送": sres.status == MISSING}, required=True)
    acts = sum(e["label"] == "活动记录单" for e in entries)
    work = w.fill("分类档案.工作情况", {"活动数": acts, "文件数": len(entries) - acts}, required=True)
    files = sum(e["files"] for e in entries)
    did = "、".join(dict.fromkeys(e["department"] for e in entries))   # who sent the rows, not who answers for it
    text = w.fill("分类档案.提交表结论", {"部门": did, "工作情况": work, "材料数": files}, required=True)
    # a formal form: the conclusion only; what is missing and what to fix go to the 目录's 备注 and the internal
    # notice (contract §8), never "请补填" here
    from pipeline.score import MISSING
    status = w.text(f"自查报告.自查结果.{sres.status}") if w.has(f"自查报告.自查结果.{sres.status}") else sres.status
    text += w.fill("分类档案.自查结果", {"达标": sres.status == MET, "状态": status, "不足": "",
                                     "未报送": sres.status == MISSING, "责任部门": who}, required=True)
    return text


def submission_form(path: Path, sres, number: str, entries: list[dict], config: Config, year: int, w) -> str:
    """The 测评材料提交表 of one standard; returns its conclusion."""
    std = sres.standard
    listing = []
    for e in entries:
        extra = []
        if e["date"]:
            extra.append(cn_date(e["date"]))
        extra.append(e["department"])
        if e["files"]:
            extra.append(f"附件{e['files']}份")
        listing.append(w.fill("分类档案.清单条目", {"编号": e["number"], "类别": e["label"], "题名": e["title"],
                                                "说明": "，".join(extra)}, required=True))
    text = conclusion(sres, entries, w)
    fields = [("测评指标", std.indicator), ("测评项目", std.item), ("测评标准", f"{number} {std.title}"),
              ("责任部门", std.responsible_text or "、".join(std.responsible)),
              ("自查结论", text),
              ("材料清单", "\n".join(listing) if listing else w.text("分类档案.清单为空"))]
    body = [ooxml.title("测评材料提交表"),
            ooxml.para(f"单位：{config.unit}　　年度：{year}年　　编号：{number}", size=24, line=None, after=120),
            ooxml.table(fields, [1700, ooxml.TEXT_W - 1700], size=24, label_col=True),
            ooxml.para("填表人：　　　　　　审核人：　　　　　　日期：　　年　　月　　日", size=24, line=None, before=240)]
    ooxml.write_docx(path, body, atomic=False)
    return text
