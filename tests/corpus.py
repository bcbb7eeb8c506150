"""A generated corpus of hostile and broken department workbooks (no hand-made binaries).

`build(folder)` writes every file and returns {file name: expected issue codes (or set() for a clean read)}.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from pathlib import Path

import openpyxl

from builders import ROSTER_HEADERS, YEAR, activity, person, rewrite_zip, staff, workbook

EVIL = "&<>\"'😀\U0001F9E7 ＆"


def _sheet_xml(path: Path, sheet_index: int) -> str:
    return f"xl/worksheets/sheet{sheet_index}.xml"


def build(folder: Path, big: bool = True) -> dict[str, set[str]]:
    folder.mkdir(parents=True, exist_ok=True)
    expect: dict[str, set[str]] = {}

    def add(name: str, codes: set[str]) -> Path:
        expect[name] = codes
        return folder / name

    good = workbook(folder / "_tmp_good.xlsx", "宣传处", roster=staff(3, prefix="坏"))
    data = good.read_bytes()
    good.unlink()

    add("截断的文件.xlsx", {"file-unreadable"}).write_bytes(data[: len(data) // 2])
    add("不是表格.xlsx", {"file-unreadable"}).write_bytes("这是一段文字，不是 Excel 文件".encode("utf-8"))
    add("空文件.xlsx", {"file-unreadable"}).write_bytes(b"")
    buf = io.StringIO()
    csv.writer(buf).writerows([ROSTER_HEADERS, [1, "张三", "1", "工会"]])
    add("工会-CSV改名.xlsx", {"file-unreadable"}).write_bytes(buf.getvalue().encode("gbk"))

    # a zip bomb: a tiny file whose sheet unpacks to hundreds of megabytes
    bomb = add("压缩炸弹.xlsx", {"file-too-large"})
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        with zipfile.ZipFile(io.BytesIO(data)) as base:
            for info in base.infolist():
                if info.filename != "xl/worksheets/sheet2.xml":
                    zf.writestr(info.filename, base.read(info.filename))
        with zf.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as f:
            chunk = b" " * (1 << 20)
            for _ in range(160 if big else 120):
                f.write(chunk)

    # a password-protected workbook (real Office encryption)
    from msoffcrypto.format.ooxml import OOXMLFile
    enc = io.BytesIO()
    office = OOXMLFile(io.BytesIO(data))
    office.encrypt("123456", enc)
    add("工会-加密.xlsx", {"file-encrypted"}).write_bytes(enc.getvalue())

    # an .xlsm with a (fake) macro project: read as usual
    xlsm = add("普及部-宏.xlsm", set())
    workbook(xlsm, "普及部", roster=staff(2, prefix="宏", start=7000))
    rewrite_zip(xlsm, lambda n, d: d)
    with zipfile.ZipFile(xlsm, "a") as zf:
        zf.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + bytes(512))

    # an empty workbook, and one without any recognised sheet
    wb = openpyxl.Workbook()
    wb.save(add("空白工作簿.xlsx", {"no-data"}))
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.active["A1"] = "随便写点"
    wb.save(add("团委-随手表.xlsx", {"no-data"}))

    if big:
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("人员名单")
        ws.append(ROSTER_HEADERS)
        for i in range(100_000):
            ws.append([i, f"人{i}", f"B{i}"])
        wb.save(add("十万行.xlsx", {"sheet-too-large"}))

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("人员名单")
    ws.append(ROSTER_HEADERS + [f"多余列{i}" for i in range(1000)])
    ws.append([1, "千列", "Q1"] + [None] * 9 + ["x"] * 1000)
    wb.save(add("千列.xlsx", {"department-missing"}))

    # formulas without cached values, and formulas whose cached value is an error
    f1 = add("机关纪委-公式.xlsx", {"formula-uncached"})
    workbook(f1, "机关纪委", roster=[person("=CONCAT(\"张\",\"三\")", "8001"), person("李四", "8002")])
    def uncache(name, d):
        if name.startswith("xl/worksheets/"):
            return re.sub(rb'<c r="B3" t="inlineStr"><is><t>[^<]*</t></is></c>', b'<c r="B3"><f>CONCAT("a","b")</f></c>', d)
        return d
    rewrite_zip(f1, uncache)
    f2 = add("机关纪委-错误值.xlsx", {"formula-error-cells", "missing-required"})
    workbook(f2, "机关纪委", roster=[person("错误值人", "8101", hours="X"), person("王五", "8102")],
             info={"填报日期": f"{YEAR}-11-01"})
    def error_value(name, d):
        if name.startswith("xl/worksheets/"):
            d = re.sub(rb'<c r="B3" t="inlineStr"><is><t>[^<]*</t></is></c>', b'<c r="B3" t="e"><f>#REF!</f><v>#REF!</v></c>', d)
            d = re.sub(rb'<c r="I3" t="inlineStr"><is><t>[^<]*</t></is></c>', b'<c r="I3" t="e"><f>1/0</f><v>#DIV/0!</v></c>', d)
        return d
    rewrite_zip(f2, error_value)

    # merged cells across the data area (the merged name counts on both rows); hidden rows and sheets
    merged = add("妇联-合并单元格.xlsx", {"merged-cells"})
    workbook(merged, "妇联", roster=staff(4, prefix="合", start=8200))
    wb = openpyxl.load_workbook(merged)
    wb["人员名单"].merge_cells("B3:B4")
    wb["人员名单"].row_dimensions[5].hidden = True
    wb["活动记录"].sheet_state = "hidden"
    wb.save(merged)

    # control characters as Excel writes them, markup, emoji, huge cells, formula-looking text
    hostile = add("调宣部-特殊字符.xlsx", set())
    workbook(hostile, "调宣部", submitted=f"{YEAR}-11-01",
             roster=[person(f"赵_x000B_六{EVIL}", "8301", satisfaction="满意_x0001_"), person("=cmd|' /C calc'!A0", "8302"),
                     person("@SUM(A1)", "8303"), person("+1", "8304"), person("-1", "8305")],
             activities=[activity(f"{YEAR}-05-01", f"活动{EVIL}" + "长" * 5000, "3.6.1"),
                         activity(f"{YEAR}-05-02", "=HYPERLINK(\"http://x\")", "3.6.1", participants="１２")],
             highlights=[["3.6.1", f"亮点{EVIL}_x000C_" + "文" * 5000]])

    # numbers stored as text with full-width digits; dates before 1900 and in 2099
    dates = add("工会-日期.xlsx", {"date-out-of-year"})
    workbook(dates, "工会", roster=[person("全角", "８４０１", hours="１２")],
             activities=[activity("1899-12-01", "古老活动", "3.6.1"), activity("2099-01-01", "未来活动", "3.6.1"),
                         activity(f"{YEAR}-06-01", "正常活动", "3.6.1", participants="１２人")])

    # the header row repeated mid-table
    rep = add("团委-重复表头.xlsx", {"note-row"})
    workbook(rep, "团委", roster=staff(2, prefix="团", start=8500) + [ROSTER_HEADERS] + staff(2, prefix="团二", start=8510))

    # two sheets both named like 人员名单
    two = add("组人部-两张名单.xlsx", set())
    workbook(two, "组人部", roster=staff(2, prefix="组", start=8600))
    wb = openpyxl.load_workbook(two)
    ws = wb.create_sheet("人员名单(2)")
    for r in ([None], ROSTER_HEADERS, person("组外", "8699")):
        ws.append(r)
    wb.save(two)

    # the same file twice under different names
    same = workbook(add("机关党委办-台账.xlsx", set()), "机关党委办", roster=staff(2, prefix="党", start=8700),
                    info={"填报日期": f"{YEAR}-11-02"})
    copy = add("机关党委办-台账(1).xlsx", {"file-duplicate"})
    copy.write_bytes(same.read_bytes())
    os.utime(copy, (1_700_000_000, 1_700_000_000))  # the copy is older: the original wins

    # two departments' data in one file (a roster listing people of another department)
    workbook(add("办公室-含他部门.xlsx", set()), "办公室",
             roster=[person("办一", "8801"), person("借调人员", "8802", dept="反协办")],
             negative=[["发生重大安全生产责任事故", "否", None]])

    # headers renamed beyond recognition
    bad_head = add("反协办-改了表头.xlsx", {"header-not-found"})
    workbook(bad_head, "反协办", roster=staff(1), roster_headers=["No", "Name", "ID"])

    # department names: unknown, and absent everywhere
    workbook(add("外单位-台账.xlsx", {"department-unknown"}), "市科技局", roster=staff(1, start=8900))
    workbook(add("无名台账.xlsx", {"department-missing"}), None, roster=staff(1, start=8950))

    # wrong year in 填报信息, old template version; not a workbook at all
    workbook(add("反协办-旧模板.xlsx", {"year-mismatch", "template-version"}), "反协办",
             info={"年度": YEAR - 1, "模板版本": "2019.1", "填报日期": f"{YEAR - 1}-11-01"}, roster=staff(1, start=9000))
    add("附件-照片.png", {"evidence-unassigned"}).write_bytes(b"\x89PNG\r\n\x1a\n")
    add("说明.txt", {"evidence-unassigned"}).write_text("见附件", encoding="utf-8")
    (folder / "~$锁文件.xlsx").write_bytes(b"\x00lock")
    wb = openpyxl.Workbook()
    wb.active.title = "填报信息"
    wb.active.append(["部门", "工会"])
    wb.save(add("工会-只有填报信息.xlsx", {"no-data"}))
    add("妇联-损坏的旧表.xls", {"file-unreadable"}).write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    add("活动记录-无效数字.xlsx", {"invalid-number", "invalid-yesno"})
    workbook(folder / "活动记录-无效数字.xlsx", "普及部", info={"填报日期": f"{YEAR}-11-05"},
             roster=[person("数字", "9100", hours="很多", party="也许")],
             activities=[activity(f"{YEAR}-07-07", "科普日", "2.2.2", participants="许多")])
    return expect
