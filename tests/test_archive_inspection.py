"""The 分类档案 fit for inspectors (issue 22 item 7): evidence matched per contract §8, formal forms without
internal reminders, photos filed for several activities or dated far from them noted in the 目录, a standard
without materials explained with a 【待核实】 cause; numbering that follows the catalog's own numbers."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from docx import Document

from builders import YEAR
from evidence_files import jpeg
from test_evidence import act, doc, ledger

from pipeline.catalog import load_config

REMINDERS = ("请补填", "台账来源", "台账列明", "未报送）", "第2行", "第3行", "未开展")


def _text(data: bytes) -> str:
    d = Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from pipeline.documents.archive import build_archive
    root = tmp_path_factory.mktemp("inspect")
    inbox = root / "inbox"
    ledger(inbox / "机关党委办-台账.xlsx", "机关党委办", activities=[
        act(f"{YEAR}-03-10", "主题党日活动", "1.3.1", "照片3.jpg、集体照.jpg"),           # 工会's 照片3: not ours
        act(f"{YEAR}-04-10", "联合志愿服务", "3.2.2", "照片3.jpg", host="工会"),           # the 主办部门's file
        act(f"{YEAR}-05-20", "廉政教育", "1.3.2", "集体照.jpg"),                          # one photo, two activities
        act(f"{YEAR}-09-01", "秋季读书会", "1.1.1", "读书会.jpg")],                       # taken 3 months before
        documents=[doc("党建工作制度", "1.3.1", number=None, kind="制度", evidence="制度文本.pdf")])
    ledger(inbox / "工会-台账.xlsx", "工会", activities=[act(f"{YEAR}-05-01", "运动会", "3.6.1", "照片3.jpg")])
    jpeg(inbox / "工会" / "照片3.jpg", when=dt.date(YEAR, 4, 10), color=(9, 1, 1))
    jpeg(inbox / "机关党委办" / "集体照.jpg", when=dt.date(YEAR, 3, 10), color=(1, 9, 1))
    jpeg(inbox / "机关党委办" / "读书会.jpg", when=dt.date(YEAR, 6, 1), color=(1, 1, 9))
    result = build_archive(inbox, root / "out", load_config(), count_pages=False)
    rows = {}
    wb = openpyxl.load_workbook(root / "out" / "分类档案" / "档案目录.xlsx")
    for r in wb["档案目录"].iter_rows(min_row=2, values_only=True):
        rows[r[0]] = r
    return root / "out", result, rows


def _forms(out: Path) -> dict[str, str]:
    texts = {}
    for path in (out / "分类档案").rglob("*.docx"):
        if path.name.startswith("档案目录"):
            continue
        texts[path.name] = _text(path.read_bytes())
    return texts


def test_evidence_never_matches_another_departments_file_by_equal_name(built):
    out, result, rows = built
    party = next(r for r in rows.values() if r[1] == "活动记录单：主题党日活动")
    assert "缺：照片3.jpg" in party[6]                    # 工会's 照片3.jpg is not 机关党委办's
    joint = next(r for r in rows.values() if r[1] == "活动记录单：联合志愿服务")
    assert not joint[6] or "照片3" not in joint[6]       # its 主办部门 工会 sent it: matched
    filed = [m for m in result.materials if m.title == "照片3.jpg"]
    assert {m.department for m in filed} == {"工会"} and len(filed) == 2   # 联合志愿服务 and 运动会


def test_formal_forms_carry_no_internal_reminders(built):
    out, _, rows = built
    forms = _forms(out)
    assert any(name.endswith("测评材料提交表.docx") for name in forms)
    assert any("活动记录单" in name for name in forms) and any("文件登记单" in name for name in forms)
    for name, text in forms.items():
        for word in REMINDERS:
            assert word not in text, (name, word)
    # the reminders are in the 目录 instead: its 备注 and the ledger row
    doc_row = next(r for r in rows.values() if r[1] == "文件登记单：党建工作制度")
    assert "缺：制度文本.pdf" in doc_row[6] and "请补填" in doc_row[6]
    assert doc_row[8].endswith("制度文件 第3行")


def test_a_photo_for_several_activities_or_far_from_its_date_is_noted_in_the_catalog(built):
    _, _, rows = built
    group = [r for r in rows.values() if r[1] == "集体照.jpg"]
    assert len(group) == 2
    assert any("同一照片另用于1项活动：廉政教育" in (r[6] or "") for r in group)
    assert any("同一照片另用于1项活动：主题党日活动" in (r[6] or "") for r in group)
    (reading,) = [r for r in rows.values() if r[1] == "读书会.jpg"]
    assert "与活动日期相差92天" in reading[6]


def test_a_photo_taken_in_another_year_is_noted(tmp_path):
    from pipeline.documents.archive import build_archive
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[act(f"{YEAR}-03-05", "学雷锋", "3.2.2", "老照片.jpg")])
    jpeg(inbox / "团委" / "老照片.jpg", when=dt.date(2019, 5, 1))
    result = build_archive(inbox, tmp_path / "out", load_config(), count_pages=False)
    (photo,) = [m for m in result.materials if m.title == "老照片.jpg"]
    assert f"拍摄于2019年5月1日，不在{YEAR}年度内" in photo.note


def test_a_standard_without_materials_gets_a_written_note_with_a_cause_to_verify(built):
    out, _, _ = built
    forms = _forms(out)
    silent = forms["Ⅰ-1-2) 测评材料提交表.docx"]           # 组人部: sent nothing at all
    assert "书面简要说明" in silent and "尚未报送本年度创建台账" in silent and "【待核实：请组人部" in silent
    quiet = forms["Ⅰ-2-3) 测评材料提交表.docx"]            # 调宣部、机关党委办: 机关党委办 reported, nothing for it
    assert "书面简要说明" in quiet and "暂无与本条标准对应的材料" in quiet and "【待核实" in quiet
    assert "未开展" not in silent + quiet


def test_archive_numbering_can_follow_the_catalogs_own_numbers(tmp_path):
    from pipeline.documents.archive import build_archive
    cfg = tmp_path / "config"
    src = Path(__file__).resolve().parent.parent / "config"
    cfg.mkdir()
    for name in ("unit.yaml", "negative_list.yaml"):
        (cfg / name).write_text((src / name).read_text(encoding="utf-8"), encoding="utf-8")
    catalog = yaml.safe_load((src / "catalog.yaml").read_text(encoding="utf-8"))
    catalog["evidence_rules"]["numbering"] = "catalog"
    (cfg / "catalog.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    inbox = tmp_path / "inbox"
    ledger(inbox / "团委-台账.xlsx", "团委", activities=[act(f"{YEAR}-03-05", "学雷锋", "3.2.2", "学雷锋.jpg")])
    jpeg(inbox / "团委" / "学雷锋.jpg")
    result = build_archive(inbox, tmp_path / "out", load_config(cfg), count_pages=False)
    numbers = [m.number for m in result.materials]
    assert "3.2.2" in numbers and "3.2.2-①" in numbers and "3.2.2-①-1" in numbers
    assert (tmp_path / "out" / "分类档案" / "3 基础建设" / "3.2 学雷锋志愿活动").is_dir()
    with zipfile.ZipFile(result.zip_path) as zf:
        assert any("/3.2.2 常态化志愿服务和结对帮扶/" in n for n in zf.namelist())


def test_a_name_found_only_among_another_departments_files_says_so(built):
    _, result, _ = built
    (issue,) = [i for i in result.issues if i.code == "evidence-other-department"]
    assert issue.department == "机关党委办" and issue.value == "照片3.jpg"
    assert "只在工会报送的文件中有同名文件，不能作为本部门的佐证" in issue.message


def test_the_form_names_who_sent_the_rows_and_marks_a_silent_responsible_department(tmp_path):
    """3.3.1 is 组人部's, which sent nothing; 普及部 filed an activity for it: the 提交表 says 普及部 did it and
    that the result waits for 组人部's ledger."""
    from pipeline.documents.archive import build_archive
    inbox = tmp_path / "inbox"
    ledger(inbox / "普及部-台账.xlsx", "普及部", activities=[act(f"{YEAR}-10-10", "诚信主题教育", "3.3.1", "诚信.jpg")])
    jpeg(inbox / "普及部" / "诚信.jpg")
    build_archive(inbox, tmp_path / "out", load_config(), count_pages=False)
    (form,) = (tmp_path / "out" / "分类档案").rglob("Ⅲ-3-1) 测评材料提交表.docx")
    text = _text(form.read_bytes())
    assert "本年度普及部围绕本条标准开展相关活动1项" in text and "组人部围绕" not in text
    assert "责任部门组人部尚未报送本年度创建台账，本条标准的自查结果【待核实：请组人部报送台账】" in text
    assert "“【待核实】”" not in text
