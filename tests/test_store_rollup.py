"""Unit packages and the roll-up of many units: figures, ranking, and every kind of bad package."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from builders import activity, person, report, run, workbook
from pipeline.store.package import export_package, read_package, safe_name

ROOT = Path(__file__).resolve().parent.parent
COUNTY = ROOT / "examples" / "county_config"


def _config(root: Path, unit: str, base: Path = ROOT / "config") -> Path:
    cdir = root / f"config-{unit}"
    shutil.copytree(base, cdir)
    text = (cdir / "unit.yaml").read_text(encoding="utf-8")
    (cdir / "unit.yaml").write_text(re.sub(r"(?m)^unit:.*$", f"unit: {unit}", text, count=1), encoding="utf-8")
    return cdir


def _unit(root: Path, unit: str, registered: int, depts=("机关党委办",), acts: int = 0, base=ROOT / "config") -> Path:
    """Report an inbox under a unit's name; returns its output folder."""
    inbox = root / f"inbox-{unit}"
    for d in depts:
        roster = [person(f"{d}{i}", f"{d}{i}", volunteer="是" if i < registered else "否",
                         served="是" if i < registered else "否", party="是") for i in range(10)]
        activities = [activity(f"2026-03-{k + 1:02d}", f"活动{k}", code)
                      for k, code in enumerate(["1.1.1", "1.2.1", "2.1.2", "3.2.2"][:acts])]
        workbook(inbox / f"{d}.xlsx", d, roster=roster, activities=activities)
    out = root / f"out-{unit}"
    report(inbox, out, "--config", str(_config(root, unit, base)))
    return out


@pytest.fixture(scope="module")
def units(tmp_path_factory):
    """Four units' report folders: three on the default catalog, one on the county catalog."""
    root = tmp_path_factory.mktemp("units")
    os.environ["WENMING_HISTORY"] = str(root / "history.sqlite")
    try:
        return {
            "甲单位": _unit(root, "甲单位", 9, ("机关党委办", "团委", "办公室"), acts=4),
            "乙单位": _unit(root, "乙单位", 3, ("机关党委办", "团委"), acts=2),
            "丙单位": _unit(root, "丙单位", 6, ("机关党委办",), acts=0),
            "丁县协": _unit(root, "丁县协", 8, ("办公室",), acts=1, base=COUNTY),
        }
    finally:
        os.environ.pop("WENMING_HISTORY", None)


def _export(out: Path, target: Path) -> Path:
    """`export` with the unit's own profile (scores of another profile are refused)."""
    cfg = out.parent / f"config-{out.name.removeprefix('out-')}"
    res = run("export", "--scores", str(out), "--out", str(target), "--config", str(cfg))
    assert res.exit_code == 0, res.output
    return target


def _scores(out: Path) -> dict:
    return json.loads((out / "scores.json").read_text(encoding="utf-8"))


def _rollup(packages: Path, out: Path, *extra: str):
    res = run("rollup", "--packages", str(packages), "--out", str(out), *extra)
    assert res.exit_code == 0, res.output
    return res, json.loads((out / "rollup.json").read_text(encoding="utf-8"))


def _rewrite(src: Path, dst: Path, change) -> Path:
    """Copy a package, passing every member through change(name, data) -> data or None (dropped)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)
    return dst


def test_export_writes_a_zip_with_scores_documents_and_a_manifest_of_sha256(units, tmp_path):
    out = units["甲单位"]
    pkg = _export(out, tmp_path / "甲.zip")
    with zipfile.ZipFile(pkg) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["name"])).hexdigest() == entry["sha256"]
    docs = {p.name for p in out.iterdir() if p.suffix in (".docx", ".xlsx")}
    internal = {n for n in docs if "（内部）" in n or "校验报告" in n}
    assert len(internal) == 2  # the internal notice and the 校验报告 stay home unless asked (--internal)
    assert names == {"manifest.json", "scores.json", *(docs - internal)} and len(docs - internal) >= 4
    assert (manifest["unit"], manifest["year"], manifest["catalog"]) == ("甲单位", 2026, "tianjin-2018")
    assert manifest["tool_version"] and manifest["format"] == "wenming-unit-package"


def test_export_leaves_internal_documents_out_unless_asked_and_refuses_sample_data(units, tmp_path):
    out = units["乙单位"]
    res = run("export", "--scores", str(out), "--out", str(tmp_path / "all.zip"), "--internal",
              "--config", str(out.parent / "config-乙单位"))
    assert res.exit_code == 0, res.output
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        names = set(zf.namelist())
    assert any("（内部）" in n for n in names) and any("校验报告" in n for n in names)
    sample = tmp_path / "sample-out"
    report(ROOT / "examples" / "inbox", sample, "--sample")
    res = run("export", "--scores", str(sample), "--out", str(tmp_path / "sample.zip"))
    assert res.exit_code == 1 and res.output.strip() == (
        f"错误：{sample} 中是示例数据的结果（make report 演示），不能打包报送；请用本单位的收件箱运行 report 后再打包")
    assert not (tmp_path / "sample.zip").exists()


def test_export_never_overwrites_a_file_it_did_not_write(units, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# 说明\n", encoding="utf-8")
    cfg = ("--config", str(units["乙单位"].parent / "config-乙单位"))
    res = run("export", "--scores", str(units["乙单位"]), "--out", str(readme), *cfg)
    assert res.exit_code == 1 and res.output.strip() == (
        f"错误：“{readme}”已存在，且不是本工具生成的数据包；为免覆盖，请换一个文件名")
    assert readme.read_text(encoding="utf-8") == "# 说明\n"
    other_zip = tmp_path / "照片.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("a.txt", "x")
    assert run("export", "--scores", str(units["乙单位"]), "--out", str(other_zip), *cfg).exit_code == 1
    res = run("export", "--scores", str(units["乙单位"]), "--out", str(tmp_path), *cfg)
    assert res.exit_code == 1 and "是一个文件夹" in res.output
    # its own package is replaced by a new export
    pkg = tmp_path / "乙.zip"
    assert run("export", "--scores", str(units["乙单位"]), "--out", str(pkg), *cfg).exit_code == 0
    assert run("export", "--scores", str(units["乙单位"]), "--out", str(pkg), *cfg).exit_code == 0


def test_export_without_scores_is_one_chinese_line(tmp_path):
    res = run("export", "--scores", str(tmp_path), "--out", str(tmp_path / "x.zip"))
    assert res.exit_code == 1 and res.output.startswith("错误：") and "没有 scores.json" in res.output
    assert not (tmp_path / "x.zip").exists()


@pytest.fixture(scope="module")
def rolled(units, tmp_path_factory):
    """Every kind of package, good and bad, rolled up once."""
    root = tmp_path_factory.mktemp("rollup")
    packages = root / "packages"
    packages.mkdir()
    good = {name: _export(out, packages / f"{name}.zip") for name, out in units.items() if name != "丙单位"}
    # 丙单位 sends an unpacked folder (with its manifest) instead of a ZIP
    with zipfile.ZipFile(_export(units["丙单位"], root / "丙.zip")) as zf:
        zf.extractall(packages / "丙单位（已解压）")
    # bad packages
    (packages / "损坏.zip").write_bytes(b"PK\x03\x04 this is not really a zip file")
    data = good["甲单位"].read_bytes()
    (packages / "截断.zip").write_bytes(data[: len(data) // 2])
    _rewrite(good["甲单位"], packages / "缺少scores.zip", lambda n, d: None if n == "scores.json" else d)
    _rewrite(good["甲单位"], packages / "坏scores.zip", lambda n, d: b'{"unit": "x", ' if n == "scores.json" else d)

    def tamper(name, data):
        if name != "scores.json":
            return data
        s = json.loads(data)
        s["unit"] = "戊单位"
        for st in s["standards"]:
            st["status"] = "达标"
        return json.dumps(s, ensure_ascii=False).encode()
    _rewrite(good["甲单位"], packages / "被改动.zip", tamper)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../evil.txt", "x")
        zf.writestr("scores.json", (units["乙单位"] / "scores.json").read_bytes())
    (packages / "路径穿越.zip").write_bytes(buf.getvalue())
    # 乙单位 sends twice; the later export wins
    earlier = _export(units["乙单位"], root / "乙单位（初稿）.zip")
    _rewrite(earlier, packages / "乙单位（初稿）.zip",   # exported a year before (manifest time)
             lambda n, d: d.replace(b'"created_at": "2026', b'"created_at": "2025') if n == "manifest.json" else d)
    os.utime(packages / "乙单位（初稿）.zip", (2_000_000_000, 2_000_000_000))   # copied later: time of the file
    (packages / "说明.txt").write_text("各单位数据包", encoding="utf-8")
    config = _config(root, "汇总单位")
    (config / "rollup.yaml").write_text("organisation: 某区文明办\nunits: [甲单位, 乙单位, 丙单位, 丁县协, 己单位]\n",
                                        encoding="utf-8")
    out = root / "out"
    res, facts = _rollup(packages, out, "--config", str(config))
    return {"res": res, "facts": facts, "out": out, "units": units}


def _problems(rolled, kind):
    return [p for p in rolled["facts"]["problems"] if p["kind"] == kind]


def test_rollup_figures_match_each_units_scores(rolled):
    facts, units = rolled["facts"], rolled["units"]
    by_unit = {u["unit"]: u for u in facts["units"]}
    assert set(by_unit) == {"甲单位", "乙单位", "丙单位", "丁县协"}
    for name in ("甲单位", "乙单位", "丙单位"):
        scores = _scores(units[name])
        row = by_unit[name]
        assert row["met"] == sum(s["status"] == "达标" for s in scores["standards"])
        assert row["compared"] == len(scores["standards"]) == 35
        for status in ("达标", "未达标", "佐证不足", "未填报"):
            assert row["counts"][status] == sum(s["status"] == status for s in scores["standards"])
        assert row["metrics"]["volunteer_registration_rate"]["value"] == \
            scores["metrics"]["volunteer_registration_rate"]["value"]
    assert by_unit["乙单位"]["below"] == ["volunteer_registration_rate", "party_volunteer_registration_rate"]  # 30%: all are party members


def test_ranking_by_standards_met(rolled):
    rows = rolled["facts"]["units"]
    mets = [u["met"] for u in rows]
    assert mets == sorted(mets, reverse=True)
    assert rows[0]["unit"] == "甲单位" and rows[0]["rank"] == 1
    for prev, cur in zip(rows, rows[1:]):
        assert cur["rank"] == (prev["rank"] if cur["met"] == prev["met"] else rows.index(cur) + 1)


def test_every_kind_of_bad_package_is_one_line_and_a_problem_row(rolled):
    facts, res = rolled["facts"], rolled["res"]
    kinds = {p["package"]: p["kind"] for p in facts["problems"]}
    assert kinds["损坏.zip"] == "broken-zip" and kinds["截断.zip"] == "broken-zip"
    assert kinds["缺少scores.zip"] == "missing-scores"
    assert kinds["坏scores.zip"] == "bad-scores"
    assert kinds["被改动.zip"] == "hash-mismatch"
    assert kinds["路径穿越.zip"] == "unsafe"
    assert kinds["乙单位（初稿）.zip"] == "duplicate"
    assert kinds["丁县协.zip"] == "other-catalog"
    assert kinds["说明.txt"] == "not-package"
    # one line per problem on the console, each naming its package
    lines = [line for line in res.output.splitlines() if "：" in line and line.split("：")[0] in kinds]
    assert sorted(line.split("：")[0] for line in lines) == sorted(p["package"] for p in facts["problems"])
    # the tampered package did not get in under its forged name, the duplicate's winner is the later one
    assert "戊单位" not in {u["unit"] for u in facts["units"]}
    assert next(u for u in facts["units"] if u["unit"] == "乙单位")["package"] == "乙单位.zip"
    dup = _problems(rolled, "duplicate")[0]
    assert "以较晚导出的 乙单位.zip 为准" in dup["message"]


def test_a_different_catalog_is_compared_only_where_codes_agree_and_said_so(rolled):
    row = next(u for u in rolled["facts"]["units"] if u["unit"] == "丁县协")
    county = _scores(rolled["units"]["丁县协"])
    shared = {s["code"] for s in county["standards"]} & {s["code"] for s in _scores(rolled["units"]["甲单位"])["standards"]}
    assert row["other_catalog"] and set(row["statuses"]) == shared and row["compared"] == len(shared)
    (p,) = _problems(rolled, "other-catalog")
    assert f"只在编码相同的{len(shared)}条测评标准上比较" in p["message"] and not p["excluded"]
    text = "\n".join(par.text for par in _report(rolled).paragraphs)
    assert "丁县协采用的测评细则与本次汇总的《" in text and "只在编码相同的测评标准上进行比较" in text


def _report(rolled):
    return Document(str(next(rolled["out"].glob("*汇总报告.docx"))))


def _book(rolled):
    return load_workbook(next(rolled["out"].glob("*汇总表.xlsx")))


def test_the_summary_workbook(rolled):
    wb = _book(rolled)
    assert wb.sheetnames[:4] == ["汇总", "思想建设", "创建管理", "基础建设"]
    assert {"测评标准", "未报送单位", "问题"} <= set(wb.sheetnames)
    ws = wb["汇总"]
    header = [c.value for c in ws[2]]
    assert header[:7] == ["排名", "单位", "达标", "未达标", "佐证不足", "未填报", "比较条数"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert set(rows) == {"甲单位", "乙单位", "丙单位", "丁县协"}
    facts = {u["unit"]: u for u in rolled["facts"]["units"]}
    assert rows["甲单位"][2] == facts["甲单位"]["met"] and rows["甲单位"][0] == 1
    # a metric below its threshold is highlighted
    assert "volunteer_registration_rate" in facts["乙单位"]["below"]         # 30% against 大于50%
    assert "volunteer_registration_rate" not in facts["甲单位"]["below"]     # 90%
    col = header.index("志愿者注册率") + 1
    cells = {ws.cell(r, 2).value: ws.cell(r, col) for r in range(3, ws.max_row + 1)}
    assert cells["乙单位"].fill.fgColor.rgb.endswith("FFC7CE")
    assert cells["甲单位"].fill.fgColor.rgb in (None, "00000000")
    # a sheet per 测评指标: each standard's status across units
    ind = wb["基础建设"]
    assert ind.cell(2, 3).value.startswith("3.1.1")
    units_rows = {ind.cell(r, 2).value: [ind.cell(r, c).value for c in range(3, ind.max_column + 1)]
                  for r in range(3, ind.max_row + 1)}
    assert units_rows["甲单位"] == [facts["甲单位"]["statuses"][c.value.split()[0]] for c in ind[2][2:]]
    assert "达标单位数" in units_rows
    assert [r[1] for r in wb["未报送单位"].iter_rows(min_row=3, values_only=True)] == ["己单位"]
    problems = list(wb["问题"].iter_rows(min_row=3, values_only=True))
    assert len(problems) == len(rolled["facts"]["problems"])
    assert {r[1] for r in problems} >= {"损坏.zip", "被改动.zip", "乙单位（初稿）.zip"}
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$2:$2"


def test_the_summary_report_sections_and_facts(rolled):
    doc = _report(rolled)
    paras = [p for p in doc.paragraphs if p.text.strip()]
    assert paras[0].style.name == "公文标题" and paras[0].text == "2026年度某区文明办文明单位创建情况汇总报告"
    headings = [p.text for p in paras if p.style.name == "一级标题"]
    assert headings == ["一、总体情况", "二、创建工作走在前列的单位", "三、普遍存在的薄弱环节", "四、需要跟进的单位", "五、数据说明"]
    text = "\n".join(p.text for p in paras)
    assert "应报送单位5个，已汇总4个，己单位等1个单位尚未报送" in text
    assert "甲单位（" in text.split("二、")[1].split("三、")[0]
    weak = rolled["facts"]["weak_standards"]
    assert weak and "有" in text.split("三、")[1].split("四、")[0]
    follow = text.split("四、")[1].split("五、")[0]
    assert "乙单位：" in follow and "未达到要求" in follow
    assert "未计入汇总" in text.split("五、")[1]
    assert "{" not in text and "}" not in text
    assert re.search(r"\d\.\d\.\d", text) is None          # no catalog codes in the document
    assert doc.core_properties.author == "某区文明办"
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["排名", "单位", "达标条数", "未达到要求的指标"]
    assert table.rows[1].cells[1].text == "甲单位"


def test_rollup_json_has_the_same_facts(rolled):
    facts = rolled["facts"]
    assert facts["year"] == 2026 and facts["catalog"] == "tianjin-2018" and facts["n_units"] == 4
    assert facts["missing_units"] == ["己单位"]
    assert facts["leading"][0] == "甲单位"


def test_safe_names():
    assert safe_name("scores.json") and safe_name("附件/说明.docx")
    for bad in ("../x", "/etc/passwd", "a/../../b", "C:/x", "a\\b", ""):
        assert not safe_name(bad)


def test_a_bomb_is_refused_by_its_real_size(tmp_path, monkeypatch):
    from pipeline.store import package
    monkeypatch.setattr(package, "MAX_MEMBER_BYTES", 1000)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("scores.json", b" " * 100_000)
    pkg = read_package(path)
    assert not pkg.usable and pkg.problems[0].kind == "too-large"


def test_packages_folder_missing_is_one_line(tmp_path):
    res = run("rollup", "--packages", str(tmp_path / "none"), "--out", str(tmp_path / "out"))
    assert res.exit_code == 1 and res.output.startswith("错误：") and "数据包文件夹不存在" in res.output


def test_export_then_read_round_trip(units, tmp_path):
    pkg = read_package(export_package(units["丙单位"], tmp_path / "c.zip") and tmp_path / "c.zip")
    assert pkg.usable and pkg.scores["unit"] == "丙单位" and not pkg.problems


def test_many_units_write_the_summary_workbook_in_a_child_with_the_same_content(rolled, tmp_path, monkeypatch):
    from pipeline import jobs
    from pipeline.documents import rollup_docs
    monkeypatch.setattr(rollup_docs, "CHILD_MIN_UNITS", 1)
    packages = tmp_path / "p"
    packages.mkdir()
    for name, out in rolled["units"].items():
        _export(out, packages / f"{name}.zip")
    summary = jobs.rollup(packages, tmp_path / "out").detail
    book = load_workbook(next((tmp_path / "out").glob("*汇总表.xlsx")))
    assert summary.n_units == 4 and [r[1] for r in book["汇总"].iter_rows(min_row=3, values_only=True)][0] == "甲单位"
    assert book["思想建设"].conditional_formatting  # statuses coloured by rule
