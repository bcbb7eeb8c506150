"""Word outputs rendered with docxtpl from the editable templates in config/templates/.

Python builds plain context dictionaries of facts; every sentence lives in the Word templates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
from docxtpl import DocxTemplate

from pipeline.atomic import atomic_path
from pipeline.catalog import Config, format_percent
from pipeline.score import MET, WEAK, rows_where, standard_index, tagged
from pipeline.intake.values import clean_text

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.result import Result

REPORT_TEMPLATE, PLAN_TEMPLATE = "自查报告.docx", "实施方案.docx"
CN_NUMBERS = list("一二三四五六七八九十") + [f"十{c}" for c in "一二三四五六七八九"] + ["二十"]
EXAMPLES_PER_ITEM = 3


def template_path(config: Config, name: str) -> Path:
    """The unit's own Word template if its config folder has one, else the bundled one."""
    return config.template_file(name)


def jinja_env() -> jinja2.Environment:
    """Autoescaped, and strict: a variable the context lacks is an error, never an empty sentence."""
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)


def sanitize(value: Any) -> Any:
    """Strip XML-invalid control characters from every string of a context."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {k: sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    return value


def render(template: Path, context: dict, target: Path) -> None:
    tpl = DocxTemplate(template)
    tpl.render(sanitize(context), jinja_env=jinja_env(), autoescape=True)
    with atomic_path(target) as tmp:
        tpl.save(tmp)


def inner_quotes(text: str) -> str:
    """Quotes inside a quoted phrase become single quotes: “七一” -> ‘七一’."""
    return text.replace("“", "‘").replace("”", "’")


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _metric(m) -> dict:
    return {"label": m.metric.label, "pct": format_percent(m.value) if m.value is not None else "",
            "threshold": format_percent(m.metric.threshold, decimals=None), "strict": m.metric.op == ">",
            "passed": bool(m.passed), "numerator": m.numerator, "denominator": m.denominator}


def _records(frame: pd.DataFrame, *columns: str) -> list[dict]:
    """Rows as dicts of the named columns (iterrows builds a Series per row: seconds at city scale)."""
    return frame[list(columns)].to_dict("records")


def _total(values: pd.Series) -> int:
    """The sum of a parsed number column (floats, None where blank or invalid)."""
    try:
        return int(np.nansum(values.to_numpy(dtype=float, na_value=np.nan)))
    except (TypeError, ValueError):  # not only numbers: add up those that are
        return int(sum(v for v in values if isinstance(v, float)))


def report_context(result: "Result") -> dict:
    """The facts the 自查报告 template writes from."""
    cfg = result.config
    merged = result.merged
    acts, docs = merged.used("activities"), merged.used("documents")
    highlights, honours = merged.used("highlights"), merged.used("honours")
    roster = merged.used("roster")
    staff = rows_where(roster, "in_service", lambda v: v is True)
    by_code = {s.standard.code: s for s in result.standards}

    acts = acts.sort_values(["date", "file", "row"], na_position="first")
    docs = docs.sort_values(["file", "row"])
    index = {"a": standard_index(acts), "d": standard_index(docs), "h": standard_index(highlights)}
    indicators = []
    for ind in cfg.indicators:
        items = []
        for item in ind.items:
            codes = {s.code for s in item.standards}
            a = tagged(acts, codes, index["a"])
            d = tagged(docs, codes, index["d"])
            h = tagged(highlights, codes, index["h"])
            metrics = [_metric(m) for s in item.standards for m in by_code[s.code].metrics if m.value is not None]
            texts = [line for t in h["text"] for line in str(t).splitlines() if line.strip()]
            if a.empty and d.empty and not metrics and not texts:
                continue
            items.append({
                "name": item.name, "activities": len(a), "participants": _total(a["participants"]),
                "examples": [inner_quotes(t) for t in dict.fromkeys(a["title"])][:EXAMPLES_PER_ITEM],
                "documents": len(d),
                "document_titles": [t.strip("《》") for t in dict.fromkeys(d["title"])][:EXAMPLES_PER_ITEM],
                "metrics": metrics, "highlights": texts,
            })
        if items:
            indicators.append({"name": ind.name, "parts": items})
    general = rows_where(highlights, "standard", lambda tags: not tags)
    if not general.empty:
        texts = [line for t in general["text"] for line in str(t).splitlines() if line.strip()]
        indicators.append({"name": "其他工作亮点", "parts": [{"name": "工作亮点", "activities": 0, "participants": 0,
                                                           "examples": [], "documents": 0, "document_titles": [],
                                                           "metrics": [], "highlights": texts}]})

    failed, weak = [], []
    for s in result.standards:
        base = {"code": s.standard.code, "short": s.standard.short}
        if s.status == "未达标":
            failed.append({**base, "metrics": [_metric(m) for m in s.metrics if m.passed is False]})
        elif s.status == WEAK:
            weak.append({**base, "evidence": s.evidence, "min_evidence": s.standard.min_evidence,
                         "short_of_evidence": s.evidence < s.standard.min_evidence,
                         "no_data": [m.metric.label for m in s.metrics if m.passed is None],
                         "reasons": s.evidence_reasons[:3], "reasons_more": max(0, len(s.evidence_reasons) - 3)})
    missing_standards = [{"code": s.standard.code, "short": s.standard.short}
                         for s in result.standards if s.status == "未填报"]

    directions = []
    for ind in cfg.indicators:
        for item in ind.items:
            weak_std = [by_code[s.code] for s in item.standards if by_code[s.code].status != MET]
            text = "".join(dict.fromkeys(s.standard.improvement for s in weak_std if s.standard.improvement))
            if text:
                directions.append({"title": f"{item.name}", "text": text})
    for g in cfg.settings.get("general_directions") or []:
        if isinstance(g, dict) and g.get("title") and g.get("text"):
            directions.append({"title": str(g["title"]), "text": str(g["text"])})

    neg_dept = str(cfg.settings.get("negative_list_department") or "办公室")
    negatives = merged.used("negative")
    found = [{"item": r["item"], "note": r["note"]} for r in _records(negatives, "item", "note", "exists")
             if r["exists"] is True]
    report_date = cfg.settings.get("report_date")
    report_date = report_date if isinstance(report_date, dt.date) else dt.date.today()
    n_items = sum(len(i.items) for i in cfg.indicators)
    return {
        "unit": cfg.unit, "short_name": cfg.short_name, "year": result.year,
        "leadership_phrase": str(cfg.settings.get("leadership_phrase") or ""),
        "guidance_phrase": str(cfg.settings.get("guidance_phrase") or ""),
        "catalog_name": cfg.catalog_name or "文明单位测评细则", "n_indicators": len(cfg.indicators),
        "n_items": n_items, "n_standards": len(result.standards), "n_departments": len(cfg.departments),
        "n_submitted": len(result.submitted), "n_met": sum(s.status == MET for s in result.standards),
        "total_activities": len(acts), "total_participants": _total(acts["participants"]),
        "total_documents": len(docs), "staff": len(staff),
        "party": int(sum(v is True for v in staff["party"])),
        "volunteers": int(sum(v is True for v in staff["volunteer"])),
        "cn": CN_NUMBERS, "indicators": indicators,
        "honours": [{"title": inner_quotes(r["title"]), "grantor": r["grantor"], "winner": r["winner"],
                     "date": chinese_date(r["date"]) if r["date"] else ""}
                    for r in _records(honours, "title", "grantor", "winner", "date")],
        "failed": failed, "weak": weak, "missing_departments": result.missing,
        "missing_standards": missing_standards,
        "data_errors": sum(i.level == "error" for i in result.issues),
        "directions": directions,
        "negative_title": cfg.negative_title, "negative_department": neg_dept,
        "negative_submitted": neg_dept in merged.winners and not negatives.empty, "negative_found": found,
        "report_date": chinese_date(report_date),
        "standards": [{"code": s.standard.code, "short": s.standard.short,
                       "responsible": s.standard.responsible_text, "activities": s.activities,
                       "documents": s.documents, "status": s.status} for s in result.standards],
    }


def write_self_report(result: "Result", path: Path) -> None:
    render(template_path(result.config, REPORT_TEMPLATE), report_context(result), path)


def plan_context(config: Config) -> dict:
    """The facts the 实施方案 template writes from, including the task-division rows."""
    group = config.settings.get("leadership_group") or {}
    rows = []
    for ind in config.indicators:
        for i, item in enumerate(ind.items):
            for j, std in enumerate(item.standards):
                rows.append({"indicator": ind.name, "item": item.name, "task": f"{j + 1}.{std.title}",
                             "responsible": std.responsible_text, "ind_first": i == 0 and j == 0,
                             "item_first": j == 0})
    return {
        "unit": config.unit, "short_name": config.short_name, "year": config.year,
        "catalog_name": config.catalog_name or "文明单位测评细则",
        "coordinator": str(config.settings.get("coordinator") or "牵头部门"),
        "group": {"name": str(group.get("name") or f"{config.short_name}创建文明单位工作领导小组"),
                  "leader": str(group.get("leader") or ""),
                  "members": "、".join(map(str, group.get("members") or [])),
                  "office": str(group.get("office") or "")},
        "indicators": [{"cn_index": CN_NUMBERS[k], "name": ind.name, "n_items": len(ind.items),
                        "item_names": "、".join(i.name for i in ind.items),
                        "n_standards": sum(len(i.standards) for i in ind.items)}
                       for k, ind in enumerate(config.indicators)],
        "n_indicators": len(config.indicators), "n_items": sum(len(i.items) for i in config.indicators),
        "n_standards": len(config.standards),
        "stages": [{"period": str(s.get("period", "")), "task": str(s.get("task", ""))}
                   for s in config.settings.get("stages") or [] if isinstance(s, dict)],
        "rows": rows,
    }


def write_plan(config: Config, out_dir: Path) -> Path:
    path = Path(out_dir) / f"{config.year}年{config.unit}创建文明单位工作实施方案.docx"
    render(template_path(config, PLAN_TEMPLATE), plan_context(config), path)
    return path
