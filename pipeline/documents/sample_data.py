"""Sample department workbooks made for a profile: its catalog, departments, metrics and year, nothing else.

``check`` renders every document from them (a unit's own catalog is checked on its own data, never on the
Tianjin sample), and ``examples/make_hospital_inbox.py`` builds the second example unit's inbox with them.

API
---
``sample_plans(config, seed=…) -> dict[str, DepartmentSample]``  rows per department, as a department fills
    its template (roster with the catalog's own yes/no columns, activities and documents tagged with the
    department's standards, a highlight, the negative list answered); edit them before writing.
``write_sample(config, plans, out, names=None) -> list[Path]``  the workbooks, built from the real templates.
``write_sample_inbox(config, out, seed=…) -> list[Path]``  both at once.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.catalog import Config
from pipeline.schema import ACTIVITIES, DOCUMENTS, HIGHLIGHTS, HONOURS, NEGATIVE, roster_for

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁颖琳晨欣悦瑶婷雪慧佳然博文"
FORMS = ("专题学习", "主题活动", "工作推进会", "志愿服务", "宣传教育", "座谈交流")


@dataclass
class DepartmentSample:
    department: str
    info: dict[str, Any]                              # 填报人, 联系电话, 填报日期
    roster: list[dict[str, Any]] = field(default_factory=list)       # column key -> value
    activities: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    highlights: list[dict[str, Any]] = field(default_factory=list)
    honours: list[dict[str, Any]] = field(default_factory=list)


def _person(rng: random.Random, used: set[str]) -> str:
    while True:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if name not in used:
            used.add(name)
            return name


def _yes(rng: random.Random, p: float) -> str:
    return "是" if rng.random() < p else "否"


def sample_plans(config: Config, seed: int | None = None, staff: tuple[int, int] = (6, 14),
                 variety: bool = True) -> dict[str, DepartmentSample]:
    """What every department of the profile would send, made from its catalog alone (deterministic per seed);
    with `variety`, one metric falls short and two standards lack evidence, as in a real year."""
    year = config.year
    rng = random.Random(year if seed is None else seed)
    used: set[str] = set()
    plans: dict[str, DepartmentSample] = {}
    staff_id = 1001
    for d_index, dept in enumerate(config.department_names):
        info = {"填报人": _person(rng, used), "联系电话": f"0000-{rng.randint(1000000, 9999999)}",
                "填报日期": dt.date(year, 11, 10 + d_index % 8)}
        plan = DepartmentSample(dept, info)
        for _ in range(rng.randint(*staff)):
            party = rng.random() < 0.55
            volunteer = rng.random() < (0.97 if party else 0.6)  # party members register: their rate is high
            row = {"name": _person(rng, used), "staff_id": str(staff_id), "dept": None, "in_service": "是",
                   "party": "是" if party else "否", "volunteer": "是" if volunteer else "否",
                   "served": _yes(rng, 0.96) if volunteer else None,
                   "service_hours": rng.choice((4, 6, 8, 12)) if volunteer else None,
                   "participates": _yes(rng, 0.98), "satisfaction": rng.choice(("满意", "满意", "满意", "基本满意")),
                   "legal_edu": _yes(rng, 0.99)}
            for m in config.custom_metrics:
                row[m.column_key] = _yes(rng, 0.97)
            plan.roster.append(row)
            staff_id += 1
        standards = config.standards_for(dept)
        for s_index, std in enumerate(standards):
            share = max(1, len(std.responsible))
            count = math.ceil(std.min_evidence / share) if std.min_evidence else (0 if std.metrics else 1)
            for k in range(count):
                month = 1 + (s_index * 3 + k * 5 + d_index) % 11
                plan.activities.append({
                    "date": dt.date(year, month, 1 + (k * 7 + s_index) % 27),
                    "title": _title(std.short, k + s_index),
                    "standard": std.label if k % 2 == 0 else std.code, "host": dept,
                    "participants": rng.choice((12, 18, 25, 30)), "hours": rng.choice((1, 2, 3)),
                    "place": f"{config.short_name}会议室", "content": f"围绕{std.short}组织开展{FORMS[k % len(FORMS)]}",
                    "evidence": "签到表、照片"})
        plain = [s for s in standards if not s.metrics]
        if plain:
            std = plain[0]
            plan.documents.append({"title": f"{year}年{std.short}工作方案", "number": f"{config.short_name}发〔{year}〕{d_index + 1}号",
                                   "date": dt.date(year, 2 + d_index % 4, 15), "type": "方案", "standard": std.label})
            plan.highlights.append({"standard": std.label, "text": (
                f"{dept}围绕{std.short}建立月度推进机制，全年组织专题活动{len(plan.activities) + 2}次，"
                f"累计{rng.randint(80, 300)}人次参加，形成了可复制的工作做法。")})
        plans[dept] = plan
    if variety:
        _vary(config, plans, rng)
    return plans


#: the roster column whose "否" makes each of the six metrics fall (a catalog's own: its column)
_FALLS = {"participation_rate": ("participates", "否"), "satisfaction_rate": ("satisfaction", "不满意"),
          "volunteer_registration_rate": ("volunteer", "否"), "party_volunteer_registration_rate": ("volunteer", "否"),
          "volunteer_service_rate": ("served", "否"), "legal_education_rate": ("legal_edu", "否")}


def _vary(config: Config, plans: dict[str, DepartmentSample], rng: random.Random) -> None:
    """The shapes a real year has, so every kind of sentence is rendered: the last metric short of its line,
    two standards without evidence, an honour."""
    if config.metrics:
        m = list(config.metrics.values())[-1]
        column, value = (m.column_key, "否") if m.custom else _FALLS.get(m.key, ("participates", "否"))
        for plan in plans.values():
            for i, row in enumerate(plan.roster):
                if i % 2 == 0:
                    row[column] = value
    plain = [s for s in config.standards.values() if not s.metrics and s.min_evidence]
    for std in plain[-2:]:
        for plan in plans.values():
            plan.activities = [a for a in plan.activities if std.code not in (a["standard"], a["standard"].split(" ")[0])]
            plan.documents = [d for d in plan.documents if not str(d["standard"]).startswith(std.code + " ")]
            plan.highlights = [h for h in plan.highlights if not str(h["standard"]).startswith(std.code + " ")]
    first = next(iter(plans.values()), None)
    if first is not None:
        first.honours.append({"title": f"{config.year - 1}年度先进集体", "grantor": "上级主管部门",
                              "date": dt.date(config.year, 4, 28), "winner": first.department})


def _title(short: str, n: int) -> str:
    """An activity named after its standard, in a form its name does not already end with."""
    forms = [f for f in FORMS if not short.endswith(f[:2]) and f[:2] not in short] or list(FORMS)
    return f"{short}{forms[n % len(forms)]}"


def _fill(ws, spec, rows: list[dict[str, Any]]) -> None:
    from pipeline.templates import HEADER_ROW
    keys = [c.key for c in spec.columns]
    for r, row in enumerate(rows, HEADER_ROW + 1):
        for c, key in enumerate(keys, 1):
            value = r - HEADER_ROW if key == "seq" else row.get(key)
            if value is not None:
                ws.cell(r, c, value)


def write_sample(config: Config, plans: dict[str, DepartmentSample], out: str | Path,
                 names: dict[str, str] | None = None) -> list[Path]:
    """Each department's workbook, built from its real template and filled with its rows."""
    from pipeline.templates import HEADER_ROW, build_template, template_filename
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for dept, plan in plans.items():
        wb = build_template(config, dept)
        info = wb["填报信息"]
        for r in range(2, info.max_row + 1):
            key = info.cell(r, 1).value
            if key in plan.info:
                info.cell(r, 2, plan.info[key])
        _fill(wb[roster_for(config).name], roster_for(config), plan.roster)
        _fill(wb[ACTIVITIES.name], ACTIVITIES, plan.activities)
        _fill(wb[DOCUMENTS.name], DOCUMENTS, plan.documents)
        _fill(wb[HIGHLIGHTS.name], HIGHLIGHTS, plan.highlights)
        _fill(wb[HONOURS.name], HONOURS, plan.honours)
        if NEGATIVE.name in wb.sheetnames:
            ws = wb[NEGATIVE.name]
            for r in range(HEADER_ROW + 1, HEADER_ROW + 1 + len(config.negative_items)):
                ws.cell(r, 2, "否")
        path = folder / ((names or {}).get(dept) or template_filename(config, dept))
        wb.save(path)
        paths.append(path)
    return paths


def write_sample_inbox(config: Config, out: str | Path, seed: int | None = None) -> list[Path]:
    """A complete sample inbox for the profile: every department reports."""
    return write_sample(config, sample_plans(config, seed), out)
