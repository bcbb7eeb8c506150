"""Synthetic city-scale inbox for the benchmark, written through the real department template.

N units (departments) each send one workbook with about 200 roster rows, 100 activities and 20 documents,
with the usual mess: text dates in several forms, yes/no variants, labels instead of codes, numbers with units.
A handful of distinct base workbooks are filled with openpyxl from the real template; every unit's file is a
copy of one of them with the unit's name written into its XML (so staff numbers stay unique per unit).

`distinct=True` (`--distinct`) gives every unit titles, dates and 工作亮点 of its own, as real units send them:
activity and document titles carry the unit's name inside, dates come from 200 bases instead of 8, and each
unit writes three highlights. The usual inbox repeats titles across units, which hides any stage that compares
every title with every other; this one shows it.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.catalog import load_config  # noqa: E402
from pipeline.schema import ACTIVITIES, DOCUMENTS, HIGHLIGHTS, ROSTER  # noqa: E402
from pipeline.templates import HEADER_ROW, build_template  # noqa: E402

TOKEN = "基层单位XXXX"
BASES = 8
DISTINCT_BASES = 200
TOPICS = ["读书分享会", "志愿服务", "道德讲堂", "文明交通劝导", "理论学习", "健康讲座", "红色观影", "环境整治"]
ROSTER_ROWS, ACTIVITY_ROWS, DOCUMENT_ROWS = 200, 100, 20


def unit_name(i: int) -> str:
    return TOKEN.replace("XXXX", f"{i:04d}")


def write_config(target: Path, n: int) -> Path:
    """The bundled config with N units added as departments."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "config", target, ignore=shutil.ignore_patterns("templates"))
    unit = yaml.safe_load((target / "unit.yaml").read_text(encoding="utf-8"))
    unit["departments"] = unit["departments"][:10] + [{"name": unit_name(i)} for i in range(1, n + 1)]
    (target / "unit.yaml").write_text(yaml.safe_dump(unit, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _base(config, seed: int, distinct: bool = False) -> bytes:
    rng = random.Random(seed)
    year = config.year
    wb = build_template(config, "办公室")
    wb["填报信息"]["B3"] = TOKEN
    wb["填报信息"]["B7"] = f"{year}.11.{rng.randint(1, 20)}"
    labels = [s.label for s in config.standards.values()]
    codes = list(config.standards)
    yes = ["是", "√", "Y", "有", "是", "是"]
    no = ["否", "×", "N", "无"]
    ws = wb[ROSTER.name]
    for r in range(ROSTER_ROWS):
        vol = rng.random() < 0.6
        row = [r + 1, f"{TOKEN}职工{r:03d}", f"{TOKEN}-{r:03d}", None, None if rng.random() < 0.97 else "退休",
               rng.choice(yes if rng.random() < 0.5 else no), rng.choice(yes if vol else no),
               rng.choice(yes if vol and rng.random() < 0.9 else no), rng.choice([None, 4, "6小时", "8"]),
               rng.choice(yes if rng.random() < 0.95 else no), rng.choice(["满意", "满意", "基本满意", "不满意", None]),
               rng.choice(yes if rng.random() < 0.97 else no)]
        for c, v in enumerate(row, 1):
            if v is not None:
                ws.cell(HEADER_ROW + 1 + r, c, v)
    ws = wb[ACTIVITIES.name]
    for r in range(ACTIVITY_ROWS):
        m, d = rng.randint(1, 11), rng.randint(1, 28)
        date = rng.choice([f"{year}.{m}.{d}", f"{year}年{m}月{d}日", f"{year}-{m:02d}-{d:02d}", f"{year}{m:02d}{d:02d}"])
        row = [r + 1, date, f"活动{r}", rng.choice(labels + codes), None, rng.choice([10, "20人", "30"]), 2,
               "会议室", "活动内容", "照片"]
        for c, v in enumerate(row, 1):
            ws.cell(HEADER_ROW + 1 + r, c, v)
    ws = wb[DOCUMENTS.name]
    for r in range(DOCUMENT_ROWS):
        row = [r + 1, f"{TOKEN}文件{r}", f"文号{r}", f"{year}/3/{r + 1}", rng.choice(["制度", "计划", "方案"]),
               rng.choice(labels)]
        for c, v in enumerate(row, 1):
            ws.cell(HEADER_ROW + 1 + r, c, v)
    if distinct:
        _own_titles(wb, config, seed)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _own_titles(wb, config, seed: int) -> None:
    """Titles, dates and highlights of this base's own (the unit's name goes in when it is personalised)."""
    rng = random.Random(seed * 7 + 1)
    year, codes = config.year, list(config.standards)
    ws = wb[ACTIVITIES.name]
    for r in range(ACTIVITY_ROWS):
        ws.cell(HEADER_ROW + 1 + r, 2, f"{year}-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}")
        ws.cell(HEADER_ROW + 1 + r, 3, f"{TOKEN}第{seed}-{r}期{rng.choice(TOPICS)}")
    ws = wb[DOCUMENTS.name]
    for r in range(DOCUMENT_ROWS):
        ws.cell(HEADER_ROW + 1 + r, 2, f"关于印发{TOKEN}{rng.choice(TOPICS)}第{seed}-{r}号办法的通知")
        ws.cell(HEADER_ROW + 1 + r, 4, f"{year}-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}")
    ws = wb[HIGHLIGHTS.name]
    for r in range(3):
        ws.cell(HEADER_ROW + 1 + r, 1, rng.choice(codes))
        ws.cell(HEADER_ROW + 1 + r, 2, f"{TOKEN}组建志愿服务队，全年开展{rng.choice(TOPICS)}{rng.randint(3, 40)}次，"
                                       f"服务群众{rng.randint(100, 900)}余人次。")


def _xml_text(text: str) -> bytes:
    """Text as openpyxl writes it into sheet XML (non-ASCII as numeric character references)."""
    return "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in text).encode()


def _personalise(base: bytes, name: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    token, name_xml = _xml_text(TOKEN), _xml_text(name)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/") or info.filename == "xl/sharedStrings.xml":
                data = data.replace(token, name_xml)
            zout.writestr(info, data)
    return out.getvalue()


def generate(n: int, folder: Path, distinct: bool = False) -> tuple[Path, Path]:
    """Write bench inbox and config for n units under folder; reuse them when already there."""
    inbox, cfg_dir = folder / "inbox", folder / "config"
    stamp = folder / f".complete-{n}"
    if stamp.exists():
        return inbox, cfg_dir
    if folder.exists():
        shutil.rmtree(folder)
    inbox.mkdir(parents=True)
    write_config(cfg_dir, n)
    config = load_config(ROOT / "config")
    bases = [_base(config, seed, distinct) for seed in range(min(DISTINCT_BASES if distinct else BASES, n))]
    for i in range(1, n + 1):
        name = unit_name(i)
        (inbox / f"{name}-文明单位创建台账.xlsx").write_bytes(_personalise(bases[i % len(bases)], name))
    stamp.write_text("ok")
    return inbox, cfg_dir


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="生成基准测试用的收件箱")
    ap.add_argument("--workbooks", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "work")
    ap.add_argument("--distinct", action="store_true", help="每个单位的活动、文件名称和日期各不相同，并填写工作亮点")
    args = ap.parse_args()
    folder = args.out / (f"{args.workbooks}-distinct" if args.distinct else str(args.workbooks))
    inbox, cfg = generate(args.workbooks, folder, args.distinct)
    print(f"{args.workbooks} 份工作簿：{inbox}")
