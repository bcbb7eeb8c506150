"""`archive`: the 分类档案 folder, its ZIP, the 目录, the 提交表 and the department archives, from a real inbox."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from docx import Document

from builders import YEAR, run
from evidence_files import gbk_zip, jpeg, jpeg_bytes, pdf, tree, word
from test_evidence import act, doc, ledger

ZIP_NAME = f"{YEAR}年天津市科学技术协会文明单位创建分类档案.zip"
STD_322 = "分类档案/Ⅲ 基础建设/Ⅲ-2 学雷锋志愿活动/Ⅲ-2-2) 常态化志愿服务和结对帮扶"


def build_inbox(inbox: Path) -> dict[str, Path]:
    """Two departments with photos (one big, one dated last year), a GBK-named ZIP, a PDF, a Word file,
    one name never sent and one file no row names."""
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[
        act(f"{YEAR}-03-05", "学雷锋志愿服务", "3.2.2", "学雷锋1.jpg、学雷锋2.jpg、照片3.jpg", place="和平社区"),
        act(f"{YEAR}-02-01", "结对帮扶", "3.2.2", "帮扶照片", place="结对村")], documents=[
        doc("志愿服务管理制度", "3.2.3", kind="制度"),
        doc("志愿服务计划", "3.2.3", kind="计划", evidence="计划.docx")])
    ledger(inbox / "工会-台账.xlsx", "工会", activities=[act(f"{YEAR}-05-01", "趣味运动会", "3.6.1", "运动会.jpg")])
    files = {
        "big": jpeg(inbox / "团委" / "学雷锋1.jpg", size=(2400, 1800)),
        "old": jpeg(inbox / "团委" / "学雷锋2.jpg", when=dt.date(YEAR - 1, 12, 30)),
        "zip": gbk_zip(inbox / "团委-活动照片.zip", {"帮扶照片/1.jpg": jpeg_bytes(color=(1, 1, 1)),
                                                     "帮扶照片/2.jpg": jpeg_bytes(color=(2, 2, 2))}),
        "pdf": pdf(inbox / "志愿服务管理制度.pdf", pages=3),
        "word": word(inbox / "团委" / "计划.docx"),
        "sport": jpeg(inbox / "工会" / "运动会.jpg"),
        "stray": jpeg(inbox / "团委" / "合影.jpg", color=(5, 5, 5)),
    }
    return files


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("arch")
    inbox = root / "inbox"
    files = build_inbox(inbox)
    before = tree(root)
    out = root / "out"
    result = run("archive", "--inbox", str(inbox), "--out", str(out))
    assert result.exit_code == 0, result.output
    return root, inbox, out, files, before, result.output


def _zip(out: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(out / ZIP_NAME)


def _docx_text(data: bytes) -> str:
    d = Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def test_zip_names_are_utf8_flagged_and_complete(built):
    _, _, out, _, _, output = built
    assert f"压缩包：{out / ZIP_NAME}" in output
    with _zip(out) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
        assert all(i.filename.startswith("分类档案/") for i in infos)
        assert all(i.flag_bits & 0x800 for i in infos if not i.filename.isascii())
        on_disk = sorted(p.relative_to(out).as_posix() for p in (out / "分类档案").rglob("*") if p.is_file())
        assert sorted(i.filename for i in infos) == on_disk


def test_folder_tree_one_folder_per_standard_with_its_submission_form(built):
    _, _, out, _, _, _ = built
    with _zip(out) as zf:
        names = zf.namelist()
    folders = {n.rsplit("/", 1)[0] for n in names if n.endswith("测评材料提交表.docx")}
    assert len(folders) == 35 and all(len(f.split("/")) == 4 for f in folders)
    assert "分类档案/Ⅰ 思想建设/Ⅰ-1 理想信念教育/Ⅰ-1-1) 党的理论教育和党性教育" in folders
    assert STD_322 in folders
    assert sum(n.endswith("测评材料提交表.docx") for n in names) == 35


def test_materials_numbered_in_date_order_and_files_renamed(built):
    _, _, out, _, _, _ = built
    with _zip(out) as zf:
        inside = sorted(n[len(STD_322) + 1:] for n in zf.namelist() if n.startswith(STD_322 + "/"))
    assert inside == sorted([
        "Ⅲ-2-2) 测评材料提交表.docx",
        "Ⅲ-2-2)-① 活动记录单 结对帮扶.docx", "Ⅲ-2-2)-①-1 1.jpg", "Ⅲ-2-2)-①-2 2.jpg",
        "Ⅲ-2-2)-② 活动记录单 学雷锋志愿服务.docx", "Ⅲ-2-2)-②-1 学雷锋1.jpg", "Ⅲ-2-2)-②-2 学雷锋2.jpg"])


def test_every_matched_file_is_present_and_byte_identical(built):
    _, _, out, files, _, _ = built
    expected = {
        f"{STD_322}/Ⅲ-2-2)-②-1 学雷锋1.jpg": files["big"].read_bytes(),
        f"{STD_322}/Ⅲ-2-2)-②-2 学雷锋2.jpg": files["old"].read_bytes(),
        f"{STD_322}/Ⅲ-2-2)-①-1 1.jpg": jpeg_bytes(color=(1, 1, 1)),
        f"{STD_322}/Ⅲ-2-2)-①-2 2.jpg": jpeg_bytes(color=(2, 2, 2)),
    }
    with _zip(out) as zf:
        names = zf.namelist()
        std323 = [n for n in names if "/Ⅲ-2-3) " in n]
        pdf_name = next(n for n in std323 if n.endswith("志愿服务管理制度.pdf"))
        word_name = next(n for n in std323 if n.endswith("计划.docx") and "登记单" not in n)
        expected[pdf_name] = files["pdf"].read_bytes()
        expected[word_name] = files["word"].read_bytes()
        sport = next(n for n in names if n.endswith("运动会.jpg"))
        expected[sport] = files["sport"].read_bytes()
        for name, data in expected.items():
            assert zf.read(name) == data, name
            assert (out / name).read_bytes() == data, name
    assert re.search(r"Ⅲ-2-3\)-①-1 志愿服务管理制度\.pdf$", pdf_name)   # a document matched by its 文件名称


def test_missing_and_unassigned_are_reported(built):
    _, _, out, files, _, output = built
    assert "台账列明但未找到的佐证材料 1 项" in output and "未被台账引用的文件 1 个" in output
    wb = openpyxl.load_workbook(out / "分类档案" / "档案目录.xlsx")
    rows = [tuple(c.value for c in r) for r in wb["缺少的材料"].iter_rows(min_row=2)]
    assert rows == [("团委", "团委-台账.xlsx", "活动记录", 3, "照片3.jpg")]
    stray = out / "分类档案" / "未归类材料" / "团委" / "未归类-1 合影.jpg"
    assert stray.read_bytes() == files["stray"].read_bytes()
    catalog = [tuple(c.value for c in r) for r in wb["档案目录"].iter_rows(min_row=2)]
    assert ("未归类-1", "合影.jpg", "团委") == catalog[-1][:3] and "未被台账引用" in catalog[-1][6]


def test_photo_dated_outside_the_year_is_a_warning_naming_file_and_date(built):
    _, _, out, _, _, output = built
    assert f"照片“学雷锋2.jpg”拍摄于{YEAR - 1}-12-30，不在{YEAR}年度内" in output
    wb = openpyxl.load_workbook(out / "分类档案" / "档案目录.xlsx")
    messages = [r[4] for r in wb["佐证材料问题"].iter_rows(min_row=2, values_only=True)]
    assert any(f"拍摄于{YEAR - 1}-12-30" in m for m in messages)


def test_catalog_rows_pages_and_notes(built):
    _, _, out, _, _, _ = built
    wb = openpyxl.load_workbook(out / "分类档案" / "档案目录.xlsx")
    ws = wb["档案目录"]
    assert [c.value for c in ws[1]] == ["编号", "题名", "责任部门", "日期", "文号", "页数", "备注", "文件位置", "台账来源"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    with _zip(out) as zf:
        files = [n for n in zf.namelist() if not n.startswith("分类档案/档案目录")]
    assert len(rows) == len(files)                      # one row per file of the archive
    assert rows["Ⅲ-2-2)-②"][1] == "活动记录单：学雷锋志愿服务" and "缺：照片3.jpg" in rows["Ⅲ-2-2)-②"][6]
    assert rows["Ⅲ-2-2)-②"][3].date() == dt.date(YEAR, 3, 5) and rows["Ⅲ-2-2)-②"][2] == "团委"
    assert rows["Ⅲ-2-2)-②-1"][5] == 1                  # a photo is one page
    pdf_row = next(r for r in rows.values() if r[1] == "志愿服务管理制度.pdf")
    assert pdf_row[5] == 3
    doc_row = next(r for r in rows.values() if r[1] == "文件登记单：志愿服务管理制度")
    assert doc_row[4] == "津科协〔2026〕1号"
    word_row = next(r for r in rows.values() if r[1] == "计划.docx")
    from pipeline.documents.pdf import soffice
    if soffice():
        assert word_row[5] == 1                             # counted through LibreOffice
    else:
        assert word_row[5] is None and "未安装LibreOffice，页数未计" in word_row[6]
    d = Document(out / "分类档案" / "档案目录.docx")
    table = d.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["编号", "题名", "责任部门", "日期", "文号", "页数", "备注"]
    assert len(table.rows) == len(rows) + 1
    with zipfile.ZipFile(out / "分类档案" / "档案目录.docx") as zf:
        assert b"TOC" not in zf.read("word/document.xml")   # a static table, no Word TOC field


def test_submission_forms_conclusion_and_list(built):
    _, _, out, _, _, _ = built
    with _zip(out) as zf:
        text = _docx_text(zf.read(f"{STD_322}/Ⅲ-2-2) 测评材料提交表.docx"))
        empty = _docx_text(zf.read(next(n for n in zf.namelist() if "/Ⅰ-1-2) " in n and n.endswith("提交表.docx"))))
    from pipeline.catalog import load_config
    title = load_config().standards["3.2.2"].title
    assert "测评材料提交表" in text and f"Ⅲ-2-2) {title}" in text and "团委" in text
    assert "开展相关活动2项" in text and "随台账报送佐证材料4份" in text
    assert "Ⅲ-2-2)-① 活动记录单：结对帮扶（2026年2月1日，团委，附件2份）" in text
    assert "Ⅲ-2-2)-② 活动记录单：学雷锋志愿服务（2026年3月5日，团委，附件2份）" in text   # gaps: 目录 备注
    assert "书面简要说明" in empty and "【待核实：请组人部" in empty and "未开展" not in empty


def test_activity_sheet_embeds_resized_photos_with_captions(built):
    _, _, out, files, _, _ = built
    with _zip(out) as zf:
        data = zf.read(f"{STD_322}/Ⅲ-2-2)-② 活动记录单 学雷锋志愿服务.docx")
    text = _docx_text(data)
    assert "学雷锋志愿服务" in text and "和平社区" in text and f"{YEAR}年3月5日" in text
    assert "Ⅲ-2-2)-②-1 学雷锋1.jpg" in text and "照片3.jpg" not in text and "台账" not in text
    assert f"Ⅲ-2-2)-②-1 {YEAR}年3月5日 和平社区 团委20人 学雷锋志愿服务" in text   # 时间、地点、人物、主题
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        media = [n for n in docx.namelist() if n.startswith("word/media/")]
        assert len(media) == 2
        big = docx.read(media[0])
    from PIL import Image
    assert max(Image.open(io.BytesIO(big)).size) <= 1600 < max(Image.open(files["big"]).size)


def test_department_archives_and_task_ledger(built):
    _, _, out, files, _, _ = built
    tw = out / "各部门工作档案" / "团委"
    assert (tw / "团委工作档案目录.xlsx").is_file() and (tw / "团委工作档案目录.docx").is_file()
    photo = tw / "Ⅲ-2-2) 常态化志愿服务和结对帮扶" / "Ⅲ-2-2)-②-1 学雷锋1.jpg"
    assert photo.read_bytes() == files["big"].read_bytes()
    assert (tw / "未归类材料" / "未归类-1 合影.jpg").is_file()
    assert not any("运动会" in p.name for p in tw.rglob("*"))           # 工会's material is in 工会's folder
    assert any("运动会" in p.name for p in (out / "各部门工作档案" / "工会").rglob("*"))
    wb = openpyxl.load_workbook(out / "部门单位任务台账.xlsx")
    rows = {(r[0], r[1]): r for r in wb["部门单位任务台账"].iter_rows(min_row=2, values_only=True)}
    r = rows[("团委", "3.2.2")]
    assert (r[5], r[6], r[7], r[8]) == (2, 0, 4, "照片3.jpg")
    assert "每项活动照片不少于2张" in r[4]
    assert rows[("工会", "3.6.1")][9] == "活动“趣味运动会”只有1张照片，要求不少于2张"
    assert rows[("反协办", "3.4.1")][5] == 0


def test_inbox_untouched_and_nothing_written_outside_the_output_folder(built):
    root, inbox, out, _, before, _ = built
    after = tree(root)
    assert {k: v for k, v in after.items() if not k.startswith("out/")} == before
    assert not [p for p in out.iterdir() if p.name.startswith((".archive-", ".tmp-"))]


def test_running_again_replaces_the_archive(built, tmp_path):
    root, inbox, out, _, _, _ = built
    first = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    result = run("archive", "--inbox", str(inbox), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == first


def test_missing_inbox_is_one_chinese_line(tmp_path):
    result = run("archive", "--inbox", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and "收件箱文件夹不存在" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_out_inside_the_inbox_or_naming_a_file_is_one_chinese_line(tmp_path):
    """The report's own check (pipeline.report.check_out_dir): an archive inside the inbox would be read back as
    evidence by the next run; nothing is written."""
    inbox = tmp_path / "inbox"
    build_inbox(inbox)
    before = tree(tmp_path)
    for out in (inbox / "分类档案输出", inbox):
        result = run("archive", "--inbox", str(inbox), "--out", str(out))
        assert result.exit_code == 1
        assert result.output.startswith(f"错误：输出文件夹 {out} 在收件箱 {inbox} 里面"), result.output
        assert len(result.output.strip().splitlines()) == 1
    target = tmp_path / "档案.zip"
    target.write_bytes(b"x")
    result = run("archive", "--inbox", str(inbox), "--out", str(target))
    assert result.exit_code == 1
    assert result.output.strip() == f"错误：输出位置 {target} 是一个文件，不是文件夹，请换一个文件夹名"
    assert len(result.output.strip().splitlines()) == 1
    from pipeline.catalog import load_config
    from pipeline.documents.archive import build_archive
    from pipeline.errors import PipelineError
    with pytest.raises(PipelineError, match="是一个文件，不是文件夹"):  # the library refuses it too
        build_archive(inbox, target, load_config(Path(__file__).resolve().parent.parent / "config"))
    assert target.read_bytes() == b"x"
    assert tree(tmp_path) == {**before, "档案.zip": b"x"}


def test_sample_inbox_builds_its_archive(tmp_path):
    from pipeline.catalog import load_config
    from pipeline.documents.archive import build_archive
    root = Path(__file__).resolve().parent.parent
    result = build_archive(root / "examples" / "inbox", tmp_path, load_config(root / "config"), count_pages=False)
    names = {m.title for m in result.materials if m.kind == "file"}
    assert {"现场1.jpg", "现场2.jpg"} <= names                       # from the GBK-named ZIP
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".docx") for n in names)
    assert [x[4] for x in result.missing if x[4] == "照片3.jpg"] == ["照片3.jpg"]
    assert [f.name for f in result.unassigned] == ["报送说明.docx", "活动照片-学雷锋.jpg"]
    assert os.path.getsize(result.zip_path) > 0


def test_worker_processes_write_the_same_archive(tmp_path, monkeypatch):
    from pipeline.catalog import load_config
    from pipeline.documents import archive
    build_inbox(tmp_path / "inbox")
    config = load_config()
    one = archive.build_archive(tmp_path / "inbox", tmp_path / "one", config, count_pages=False)
    monkeypatch.setattr(archive.parallel, "PARALLEL_ROWS", 1)
    two = archive.build_archive(tmp_path / "inbox", tmp_path / "two", config, count_pages=False)
    assert [(m.number, m.title, m.arcname, m.date) for m in one.materials] == \
        [(m.number, m.title, m.arcname, m.date) for m in two.materials]
    assert [i.message for i in one.issues] == [i.message for i in two.issues]
    assert one.missing == two.missing
    for m in one.materials:
        if m.kind in ("file", "unassigned"):
            assert (tmp_path / "one" / "分类档案" / m.arcname).read_bytes() == \
                (tmp_path / "two" / "分类档案" / m.arcname).read_bytes()
    with zipfile.ZipFile(one.zip_path) as a, zipfile.ZipFile(two.zip_path) as b:
        assert a.namelist() == b.namelist()
    assert sorted(p.relative_to(tmp_path / "one").as_posix() for p in (tmp_path / "one").rglob("*")) == \
        sorted(p.relative_to(tmp_path / "two").as_posix() for p in (tmp_path / "two").rglob("*"))


def test_console_lists_the_markers_left_to_fill(built):
    _, _, _, _, _, output = built
    line = next(l for l in output.splitlines() if l.startswith("【待核实】"))
    assert "Ⅰ-1-2) 测评材料提交表：学习教育常态化制度化" in line


def test_a_standard_judged_by_metrics_states_them_instead_of_a_marker(built):
    _, _, out, _, _, _ = built
    with _zip(out) as zf:
        text = _docx_text(zf.read(next(n for n in zf.namelist() if "/Ⅱ-2-4) " in n and n.endswith("提交表.docx"))))
    assert "本条标准以人员名单统计数据为依据：干部职工对创建工作的参与率为100.0%（要求大于90%）" in text
    assert "【待核实" not in text


# ------------------------------------------------------------------ speed without changing what is written


def _pillow_header(data: bytes) -> tuple:
    from PIL import Image
    with Image.open(io.BytesIO(data)) as im:
        exif = im.getexif()
        raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)
        return raw, im.width, im.height, im.format


def test_photo_header_parser_agrees_with_pillow():
    """The photo headers are parsed without Pillow for plain JPEGs: same size and date as Pillow reads, and
    anything unusual (PNG, MPO, truncated) is left to Pillow."""
    from PIL import Image
    from pipeline.documents.archive.photos import jpeg_header, read_photo as _read_photo
    cases = []
    for orig, plain in [("2026:05:06 01:02:03", None), (None, "2025:12:30 00:00:00"), (None, None),
                        ("坏日期", "2026:01:01 00:00:00"), ("", "2024:02:29 10:00:00"), ("2026:02:30 00:00:00", None)]:
        for big_endian in (False, True):
            exif = Image.Exif()
            exif.endian = ">" if big_endian else "<"
            if plain:
                exif[0x0132] = plain
            if orig is not None:
                exif.get_ifd(0x8769)[0x9003] = orig
            for progressive in (False, True):
                buf = io.BytesIO()
                Image.new("RGB", (321, 123), (9, 9, 9)).save(buf, "JPEG", exif=exif.tobytes(),
                                                             progressive=progressive)
                cases.append(buf.getvalue())
    cases.append(jpeg_bytes(dt.date(2026, 3, 5), size=(40, 2000)))
    fast = [c for c in cases if jpeg_header(c) is not None]
    assert len(fast) >= len(cases) - 4   # a malformed date string in EXIF may be left to Pillow
    for data in cases:
        raw, w, h, fmt = _pillow_header(data)
        taken, w2, h2, fmt2 = _read_photo(None, data)
        assert (w2, h2, fmt2) == (w, h, fmt)
        expected = re.match(r"(\d{4}):(\d{2}):(\d{2})", raw) if isinstance(raw, str) else None
        try:
            want = dt.datetime(int(expected[1]), int(expected[2]), int(expected[3])) if expected else None
        except ValueError:
            want = None
        assert taken == want, (raw, taken)
    buf = io.BytesIO()
    Image.new("RGB", (7, 5)).save(buf, "PNG")
    assert jpeg_header(buf.getvalue()) is None and _read_photo(None, buf.getvalue())[1:] == (7, 5, "PNG")
    assert jpeg_header(cases[0][:40]) is None           # truncated before the frame header
    assert _read_photo(None, b"not a photo") == (None, 0, 0, None)


def test_zip_writer_streams_large_files_and_switches_to_zip64_for_many_entries(tmp_path, monkeypatch):
    from pipeline.documents import archive
    folder = tmp_path / "分类档案"
    (folder / "子目录").mkdir(parents=True)
    big = os.urandom(3 * 1024 * 1024 + 17)
    (folder / "子目录" / "大文件.bin").write_bytes(big)
    (folder / "照片.jpg").write_bytes(b"\xff\xd8" + big[:1000])
    (folder / "a.txt").write_text("文字" * 1000, encoding="utf-8")
    monkeypatch.setattr(archive.photos, "READ_MAX", 1024 * 1024)   # the large file is streamed in pieces
    total = archive.zipper.write_zip(folder, tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["分类档案/a.txt", "分类档案/照片.jpg", "分类档案/子目录/大文件.bin"]
        assert zf.read("分类档案/子目录/大文件.bin") == big
        assert zf.getinfo("分类档案/照片.jpg").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("分类档案/a.txt").compress_type == zipfile.ZIP_DEFLATED
        assert all(i.flag_bits & 0x800 for i in zf.infolist())
    assert total == sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    one = tmp_path / "one.txt"
    one.write_bytes(b"x")
    with open(tmp_path / "many.zip", "wb") as out:   # more entries than a ZIP without Zip64 can count
        writer = archive.zipper.ZipWriter(out)
        for n in range(65_600):   # 0xFFFF entries is the most a ZIP without Zip64 can count
            writer.add(str(one), f"f{n}.txt", stored=True)
        writer.finish()
    with zipfile.ZipFile(tmp_path / "many.zip") as zf:
        infos = zf.infolist()
        assert len(infos) == 65_600 and infos[-1].filename == "f65599.txt" and zf.read("f65599.txt") == b"x"


def test_zip_writer_offsets_beyond_4_gb_use_zip64(tmp_path):
    """A city's archive ZIP passes 4 GB (4.2 GB at 1,000 units): entries after that point need Zip64 offsets.
    The first 4.5 GB here are a sparse hole (no disk space), the entries follow it."""
    from pipeline.documents import archive
    one = tmp_path / "照片.jpg"
    one.write_bytes(b"\xff\xd8" + os.urandom(5000))
    target = tmp_path / "big.zip"
    with open(target, "wb") as out:
        out.seek(4_500_000_000)
        writer = archive.zipper.ZipWriter(out)
        writer.offset = out.tell()
        for n in range(3):
            writer.add(str(one), f"分类档案/{n} 照片.jpg", stored=n != 1)
        writer.finish()
    with zipfile.ZipFile(target) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [f"分类档案/{n} 照片.jpg" for n in range(3)]
        assert all(i.header_offset > 0xFFFFFFFF for i in infos)
        assert all(zf.read(i) == one.read_bytes() for i in infos)


def _processes_mentioning(text: str) -> list[str]:
    """Command lines of running processes that mention text (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.mark.needs("soffice")
def test_archive_into_a_relative_folder_counts_word_pages_in_seconds_and_leaves_no_soffice(tmp_path):
    """`make archive` runs with a relative --out (output/示例): LibreOffice gets absolute file: URIs for its
    profile and inputs, the Word files' pages are counted, progress is shown, and no soffice(.bin) outlives it."""
    import shutil
    import subprocess
    import sys
    import time
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "examples" / "inbox", tmp_path / "inbox")
    scratch = tmp_path / "tmp"  # LibreOffice's profile lives here: how its processes are told from others'
    scratch.mkdir()
    env = dict(os.environ, PYTHONPATH=str(root), TMPDIR=str(scratch), PYTHONIOENCODING="utf-8")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pipeline", "archive", "--inbox", "inbox", "--out", "output/示例"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240, env=env)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 120, elapsed  # it waited 7 minutes on `file://output/…` before
    assert _processes_mentioning(str(scratch)) == []
    wb = openpyxl.load_workbook(tmp_path / "output" / "示例" / "分类档案" / "档案目录.xlsx", read_only=True)
    words = [r for r in wb["档案目录"].iter_rows(min_row=2, values_only=True) if str(r[1]).endswith(".docx")]
    assert words and all(isinstance(r[5], int) and r[5] >= 1 for r in words), words
    assert not any("页数" in str(r[6] or "") for r in words)


def test_a_hanging_office_is_killed_with_its_whole_process_group(tmp_path, monkeypatch):
    """A soffice that never ends (here a script standing in for it, starting a child of its own as soffice does
    soffice.bin) is stopped at the time limit together with everything it started."""
    import time
    from pipeline.documents import pdf
    marker = tmp_path / "child-pid"
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {marker}\necho \"$@\" > {tmp_path / 'args'}\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pdf, "soffice", lambda: str(fake))
    started = time.monotonic()
    assert pdf.run_soffice(["--convert-to", "pdf", pdf.file_uri(Path("relative") / "a.docx")], timeout=2) is False
    assert time.monotonic() - started < 20
    child = int(marker.read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
    args = (tmp_path / "args").read_text()
    assert "-env:UserInstallation=file:///" in args and f"{Path.cwd().as_uri()}/relative/a.docx" in args


@pytest.mark.needs("soffice")
def test_pdf_never_overwrites_a_pdf_the_tool_did_not_write(tmp_path):
    from builders import run as run_cli
    from evidence_files import word as word_file
    out = tmp_path / "out"
    docx = word_file(out / "说明.docx")
    mine = out / "说明.pdf"
    mine.write_bytes(b"%PDF-1.4 mine")
    res = run_cli("pdf", "--out", str(out))
    assert res.exit_code == 1 and "已有同名文件“说明.pdf”，不是本工具生成的" in res.output
    assert mine.read_bytes() == b"%PDF-1.4 mine"
    mine.unlink()
    assert run_cli("pdf", "--out", str(out)).exit_code == 0 and mine.read_bytes()[:4] == b"%PDF"
    assert run_cli("pdf", "--out", str(out)).exit_code == 0 and docx.exists()  # its own PDF, again


@pytest.mark.needs("soffice")
def test_page_counts_announce_each_word_file_as_progress(tmp_path, monkeypatch):
    from pipeline.catalog import load_config
    from pipeline.documents.archive import build_archive
    inbox = tmp_path / "inbox"
    build_inbox(inbox)
    steps: list[str] = []
    monkeypatch.chdir(tmp_path)  # a relative output folder, as `make archive` gives it
    build_archive(inbox, Path("out"), load_config(), YEAR, progress=steps.append)
    start = next(i for i, s in enumerate(steps) if s.startswith("用 LibreOffice 计算 ") and s.endswith(" 份 Word 文件的页数"))
    n = int(steps[start].split()[3])
    assert n >= 2 and steps[start + 1:start + 1 + n] == [f"用 LibreOffice 计算 Word 页数（{k}/{n}）" for k in range(1, n + 1)]


def test_the_archive_holds_no_bidi_or_control_characters_in_names_or_pages(tmp_path):
    """A photo named 合影<RLO>gpj.exe.jpg and an activity title with a right-to-left override: the archive's file
    names, ZIP member names and Word pages carry neither (the words around them stay)."""
    from test_workbooks import _unfit_in_package
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[
        act(f"{YEAR}-03-05", "学雷锋\u202e志愿\u2066服务", "3.2.2", "合影\u202egpj.exe.jpg")])
    jpeg(inbox / "团委" / "合影\u202egpj.exe.jpg")
    out = tmp_path / "out"
    assert run("archive", "--inbox", str(inbox), "--out", str(out)).exit_code == 0
    names = [p.name for p in out.rglob("*")]
    assert names and not [n for n in names if "\u202e" in n or "\u2066" in n]
    assert any("合影gpj.exe.jpg" in n for n in names)
    with _zip(out) as zf:
        members = zf.namelist()
        assert not [n for n in members if "\u202e" in n]
        record = next(n for n in members if "活动记录单" in n and n.endswith(".docx"))
        page = _docx_text(zf.read(record))
        (out / "page.docx").write_bytes(zf.read(record))
    assert "学雷锋志愿服务" in page and _unfit_in_package(out / "page.docx") == []


def test_office_uris_are_absolute_and_encoded_for_any_folder(tmp_path, monkeypatch):
    """What made `file://output/…` (a host named output): every path LibreOffice gets is an absolute file: URI."""
    from pathlib import PureWindowsPath
    from pipeline.documents.pdf import file_uri
    monkeypatch.chdir(tmp_path)
    uri = file_uri(Path("output") / "示例 1" / "a.docx")
    assert uri == f"{tmp_path.as_uri()}/output/%E7%A4%BA%E4%BE%8B%201/a.docx" and uri.startswith("file:///")
    # the same construction on Windows gives a drive-letter URI, not file://C:\…
    assert PureWindowsPath("C:\\Users\\张三\\lo-profile").as_uri() == "file:///C:/Users/%E5%BC%A0%E4%B8%89/lo-profile"
