"""The streaming writer used for the large ledger sheets."""

import datetime as dt
import subprocess
import zipfile

import openpyxl
import pytest

from pipeline.documents import xlsx_stream
from pipeline.documents.xlsx_stream import Table, write_tables


def _write(tmp_path):
    path = tmp_path / "t.xlsx"
    rows = [(dt.date(2026, 3, 5), "=cmd|' /C calc'!A0", 12.5, 3, True, None, "a&b<c>\"d\"", "3.2.2", "达标"),
            (None, "@SUM(A1)", 0.5, -1, False, "x", "换行\n第二行", "控制\x0b字符", "未达标"),
            (dt.datetime(2026, 1, 2, 0, 0), "+1", float("nan"), 10**12, None, "长" * 40000, "😀", "", "佐证不足")]
    write_tables(path, [Table("明细", [f"列{i}" for i in range(1, 10)], rows, (10,) * 9, status_col=9,
                              fills={"达标": "C6EFCE", "未达标": "FFC7CE"}),
                        Table("第二'张", ["编码"], [("1.1.1",)], boxed=True)])
    return path


def test_values_types_and_formula_looking_text(tmp_path):
    wb = openpyxl.load_workbook(_write(tmp_path))
    assert wb.sheetnames == ["明细", "第二'张"]
    ws = wb["明细"]
    assert [c.value for c in ws[1]] == [f"列{i}" for i in range(1, 10)]
    assert ws["A2"].value == dt.datetime(2026, 3, 5) and ws["A2"].number_format == "yyyy\\-mm\\-dd"
    assert ws["B2"].value == "=cmd|' /C calc'!A0" and ws["B2"].data_type == "s"
    assert ws["B3"].value == "@SUM(A1)" and ws["B4"].value == "+1"
    assert (ws["C2"].value, ws["D2"].value, ws["E2"].value, ws["F2"].value) == (12.5, 3, True, None)
    assert ws["G2"].value == 'a&b<c>"d"' and ws["G3"].value == "换行\n第二行" and ws["H3"].value == "控制字符"
    assert ws["C4"].value is None and ws["D4"].value == 10**12 and len(ws["F4"].value) == 32001
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:I4"
    assert len(ws.conditional_formatting) == 1
    with zipfile.ZipFile(tmp_path / "t.xlsx") as zf:
        assert not any("<f>" in zf.read(n).decode() for n in zf.namelist() if "worksheets" in n)


@pytest.mark.needs("soffice", "calc")
def test_libreoffice_calc_opens_it(tmp_path):
    path = _write(tmp_path)
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                    "--outdir", str(tmp_path / "csv"), str(path)], check=True, capture_output=True, timeout=300)
    text = (tmp_path / "csv" / "t.csv").read_text(encoding="utf-8", errors="replace")
    assert text.splitlines()[0].startswith("列1,列2") and "=cmd|' /C calc'!A0" in text


def test_columns_mixed_types_and_spaces(tmp_path):
    """A table given column by column: booleans stay apart from 1 and 0, unhashable values are written as
    text, and spaces at the ends of a text survive (xml:space="preserve" where needed)."""
    import numpy as np
    from pipeline.documents.xlsx_stream import Columns
    path = tmp_path / "c.xlsx"
    mixed = np.array([True, 1, 0, False, 1.0, None], dtype=object)
    texts = ["  缩进", "尾空格 ", "中间  两格", "普通", "", float("nan")]
    lists = [["a"], ["a"], None, ["b", "c"], "x", 3]
    write_tables(path, [Table("列", ["混合", "文字", "列表"], Columns([mixed, texts, lists]), boxed=True)])
    ws = openpyxl.load_workbook(path)["列"]
    assert [ws.cell(r, 1).value for r in range(2, 8)] == [True, 1, 0, False, 1, None]
    assert [type(ws.cell(r, 1).value) for r in range(2, 6)] == [bool, int, int, bool]
    assert [ws.cell(r, 2).value for r in range(2, 8)] == ["  缩进", "尾空格 ", "中间  两格", "普通", None, None]
    assert [ws.cell(r, 3).value for r in range(2, 8)] == ["['a']", "['a']", None, "['b', 'c']", "x", 3]
    assert ws.max_row == 7 and ws.auto_filter.ref == "A1:C7"
    assert ws["B6"].border.left.style == "thin"  # blank cells of a boxed table keep their border


def test_large_sheets_make_a_sound_zip(tmp_path):
    """Sheets larger than one rendering chunk are streamed into their members (zipfile with ISA-L's deflate):
    the archive tests clean (CRC included), every reader gets every row in order, and no scratch file is left
    beside the output."""
    from python_calamine import CalamineWorkbook
    assert 5000 > xlsx_stream._CHUNK_ROWS
    path = tmp_path / "big.xlsx"
    rows = [(i, f"名字{i}", dt.date(2026, 1, 1) + dt.timedelta(days=i % 300), "是" if i % 3 else "否")
            for i in range(5000)]
    write_tables(path, [Table("小", ["编码"], [("1.1.1",)]), Table("大", ["序号", "姓名", "日期", "党员"], rows),
                        Table("又大", ["序号"], [(i,) for i in range(3000)])])
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.xlsx"]
    wb = openpyxl.load_workbook(path, read_only=True)
    got = list(wb["大"].iter_rows(values_only=True))
    assert got[0] == ("序号", "姓名", "日期", "党员") and len(got) == 5001
    assert [r[0] for r in got[1:]] == list(range(5000))  # pieces joined in order, no row lost or doubled
    assert got[4999] == (4998, "名字4998", dt.datetime(2026, 1, 1) + dt.timedelta(days=4998 % 300), "否")
    cal = CalamineWorkbook.from_path(str(path))
    assert cal.sheet_names == ["小", "大", "又大"]
    assert len(cal.get_sheet_by_name("又大").to_python()) == 3001


def test_a_table_longer_than_an_excel_sheet_continues_on_more_sheets(tmp_path, monkeypatch):
    from pipeline.documents.xlsx_stream import Columns
    monkeypatch.setattr(xlsx_stream, "EXCEL_MAX_ROWS", 4)  # 3 data rows per sheet
    path = tmp_path / "long.xlsx"
    write_tables(path, [Table("人员名单汇总", ["序号"], Columns([list(range(8))])),
                        Table("活动明细", ["序号"], [(i,) for i in range(3)])])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["人员名单汇总", "人员名单汇总（续1）", "人员名单汇总（续2）", "活动明细"]
    got = [c.value for ws in wb.worksheets[:3] for c in ws["A"][1:]]
    assert got == list(range(8)) and wb["人员名单汇总（续2）"]["A1"].value == "序号"


def test_zipfile_members_are_deflated_by_isal_and_read_by_any_zip_reader(tmp_path):
    """pipeline.deflate.ZipFile is the standard zipfile with ISA-L's deflate: writestr and open('w') both use it,
    and zipfile (CRC checked), calamine and openpyxl read what it writes."""
    from isal import isal_zlib

    from pipeline.deflate import ZipFile
    path = tmp_path / "z.zip"
    text = "".join(f"<r>{i} 名字{i}</r>" for i in range(50_000)).encode()
    with ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("a.xml", "w") as member:
            assert type(member._compressor).__module__.startswith("isal")
            member.write(text[:1000])
            member.write(text[1000:])
        zf.writestr("b.xml", text)
        zf.writestr("c.txt", b"stored", compress_type=zipfile.ZIP_STORED)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert zf.read("a.xml") == text == zf.read("b.xml") and zf.read("c.txt") == b"stored"
        assert zf.getinfo("b.xml").compress_size < len(text) // 3
    assert isal_zlib.crc32(text) == zipfile.ZipFile(path).getinfo("a.xml").CRC


# Texts for the batch paths: plain ones (a batch of them skips the checks text by text), spaces at the ends and
# doubled, newlines, tabs, control and bidi characters, markup, a text too long for a cell, outdated wording.
_TRICKY = ["张三", "A1024", " 前导", "尾随 ", "中间  两格", "单 格", "换行\n第二行", "制表\t符", "控制\x0b字符",
           "\u202e反向", "\u3000全角空格", "甲&乙", "甲<乙", "甲>乙", "长" * 40000, "学习党的十九大精神",
           "完成三年行动计划任务", "同以习近平为核心的党中央", "=SUM(A1)", "😀"]


@pytest.mark.parametrize("alone", [False, True])
def test_batches_render_each_text_as_inline_does(alone):
    """`_inline_all` (batches of distinct texts, encoded at once) gives exactly what `_inline` gives text by
    text, whether a batch is all plain, has plain spaces, or holds one text that needs the checks."""
    from pipeline.catalog import load_config
    from pipeline.documents import official
    official.activate(load_config(), 2024)
    plain = [f"姓名{i}" for i in range(xlsx_stream._BATCH * (len(_TRICKY) + 1))]
    texts = plain[:]
    for k, t in enumerate(_TRICKY):   # all in the first batch, or each alone in a batch of plain texts
        texts.insert(k * xlsx_stream._BATCH + 7 if alone else k, t)
    for style, end in (("", b""), (' s="3"', b'<c r="B'), ("", b"</row>")):
        for case in (texts, plain):
            assert xlsx_stream._inline_all(case, style, end) == [
                ('"' + xlsx_stream._inline(t, style)).encode() + end for t in case]


def test_official_wording_of_many_texts_is_that_of_each_text():
    """`official.apply_all` searches a batch as a whole: the same texts as `apply` one by one (also where two
    texts side by side hold a formulation), with no active run too."""
    from pipeline.catalog import load_config
    from pipeline.documents import official
    texts = [f"姓名{i}" for i in range(5000)] + _TRICKY + ["党的十", "九大精神", "三年行动", "计划"]
    for year in (None, 2024):
        if year:
            official.activate(load_config(), year)
        else:
            official._ACTIVE.set(None)
        got = official.apply_all(texts)
        assert got == [official.apply(t) for t in texts]
        assert got[texts.index("党的十")] == "党的十" and "二十大" in got[texts.index("学习党的十九大精神")]


def test_a_distinct_text_column_renders_as_through_its_distinct_values():
    """A long column of distinct non-empty texts is rendered value by value, without finding the distinct
    values first: the same cells as the factorized path gives, and any other column still goes that way."""
    import numpy as np
    from pipeline.catalog import load_config
    from pipeline.documents import official
    official.activate(load_config(), 2024)
    styles = ("", ' s="2"', "", "/>")
    names = np.array([f"张{i}" for i in range(6000)] + _TRICKY, dtype=object)
    again = np.array([f"张{i % 50}" for i in range(6000)], dtype=object)
    blanks = np.array([f"张{i}" for i in range(6000)] + ["", None], dtype=object)
    runs = np.array([f"文件{i // 200}.xlsx" for i in range(200_000)], dtype=object)  # sorted by file
    assert xlsx_stream._distinct_texts(names)
    assert not any(xlsx_stream._distinct_texts(c) for c in (again, blanks, runs))
    for column in (names, again, blanks, runs[:20_000]):
        got = xlsx_stream._column_cells(column, styles, b"</row>")
        limit = xlsx_stream._DISTINCT_MIN
        try:
            xlsx_stream._DISTINCT_MIN = 10**9
            factorized = xlsx_stream._column_cells(column, styles, b"</row>")
        finally:
            xlsx_stream._DISTINCT_MIN = limit
        assert list(got) == list(factorized)


def test_a_finished_sheet_is_kept_deflated_and_takes_no_more_rows():
    """A StreamBook packs a sheet once the next one is begun: its XML is the same, and a row added to it
    afterwards is refused (it would be lost)."""
    from pipeline.documents.xlsx_stream import StreamBook
    book = StreamBook()
    first = book.sheet("汇总", (12, 30))
    first.heading("标题")
    first.table(("部门", "说明"), [("团委", "a & <b>"), ("工会", None), ("办公室", 3.5)])
    text = "".join(first.xml())
    book.table("全部问题", ("级别", "说明"), [("错误", "x")])
    assert first._packed is not None and "".join(first.xml()) == text
    with pytest.raises(RuntimeError):
        first.note("迟到的一行")
    with pytest.raises(RuntimeError):
        first.table(("部门",), [("团委",)])
