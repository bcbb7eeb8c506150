"""Any unit, without a programmer (issue 25): the second example unit, a county hospital with a catalog of another
shape, runs the whole year from its own profile, and nothing the default unit is made of reaches its outputs."""

from __future__ import annotations

import email
import email.policy
import html
import io
import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from builders import run
from pipeline.catalog import load_config

ROOT = Path(__file__).resolve().parent.parent
HOSPITAL = ROOT / "examples" / "county_hospital"
HOSPITAL_INBOX = ROOT / "examples" / "county_hospital_inbox"
TIANJIN = load_config(ROOT / "config")


def _package_texts(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                yield name, html.unescape(re.sub(r"<[^>]+>", "", z.read(name).decode("utf-8", "replace")))


def _texts(path: Path):
    """Every text of an output: docx/xlsx XML parts (tags dropped), txt, json, and each mail decoded (its
    headers, its text and the workbooks it attaches)."""
    suffix = path.suffix.lower()
    if suffix in (".docx", ".xlsx"):
        yield from _package_texts(path.read_bytes())
    elif suffix in (".txt", ".json"):
        yield "", path.read_text(encoding="utf-8", errors="replace")
    elif suffix == ".eml":
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        yield "headers", "\n".join(f"{k}: {v}" for k, v in message.items())
        for part in message.walk():
            if part.is_multipart():
                continue
            name = part.get_filename() or ""
            payload = part.get_content()
            if isinstance(payload, str):
                yield name or "text", payload
            elif name.lower().endswith((".xlsx", ".docx")):
                yield name, name
                yield from ((f"{name}/{n}", t) for n, t in _package_texts(payload))


def _docx_text(path: Path) -> str:
    return "".join(t for _, t in _texts(path))


def _default_unit_pattern() -> re.Pattern:
    """The default unit's names, city, departments, leader and the codes this catalog does not have."""
    hospital = load_config(HOSPITAL)
    words = ["天津", "科协", "津科协", TIANJIN.short_name, "卢双盈", "党组(?!织)", "市文明办", "文明机关", "机关各部门",
             "部室", "2026-03-05"]
    depts = [d for d in TIANJIN.department_names if d not in hospital.department_names and d != "办公室"]
    codes = [re.escape(c) for c in TIANJIN.standards if c not in hospital.standards]
    return re.compile("|".join(words + depts) + r"|(?<![\d.])(?:" + "|".join(codes) + r")(?![\d.])")


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """The hospital's whole year, each command run once from its profile."""
    root = tmp_path_factory.mktemp("hospital")
    cfg = ["--config", str(HOSPITAL)]
    out = {name: root / name for name in ("templates", "report", "plan", "halfyear", "bulletin", "archive", "outbox")}
    results = {
        "templates": run("templates", *cfg, "--out", str(out["templates"])),
        "report": run("report", "--inbox", str(HOSPITAL_INBOX), "--out", str(out["report"]), *cfg, "--silent",
                      "--history", str(root / "history.sqlite")),
        "plan": run("plan", *cfg, "--out", str(out["plan"])),
        "halfyear": run("halfyear", "--inbox", str(HOSPITAL_INBOX), "--out", str(out["halfyear"]), *cfg),
        "bulletin": run("bulletin", "--inbox", str(HOSPITAL_INBOX), "--out", str(out["bulletin"]), *cfg,
                        "--date", "2025-09-15"),
        "archive": run("archive", "--inbox", str(HOSPITAL_INBOX), "--out", str(out["archive"]), *cfg),
        "check": run("check", *cfg),
    }
    results["notify"] = run("notify", "--scores", str(out["report"]), "--dry-run", "--outbox", str(out["outbox"]),
                            "--templates", str(out["templates"]), *cfg)
    results["export"] = run("export", "--scores", str(out["report"]), "--out", str(root / "packages" / "医院.zip"),
                            *cfg)
    return {"root": root, "out": out, "results": results,
            "scores": json.loads((out["report"] / "scores.json").read_text(encoding="utf-8"))}


def test_every_command_of_the_year_runs_on_the_second_unit(year):
    for name, result in year["results"].items():
        assert result.exit_code == 0, f"{name}: {result.output}"
    assert "检查通过" in year["results"]["check"].output
    assert len(list(year["out"]["templates"].glob("*.xlsx"))) == 7
    assert len(list(year["out"]["outbox"].glob("*.eml"))) == 7


def test_no_output_or_template_names_the_default_unit(year):
    pattern = _default_unit_pattern()
    found = []
    files = [p for p in year["root"].rglob("*") if p.is_file() and p.suffix.lower() in
             (".docx", ".xlsx", ".txt", ".eml", ".json")]
    assert len(files) > 40
    for path in files:
        for part, text in _texts(path):
            for m in pattern.finditer(text):
                found.append(f"{path.relative_to(year['root'])} {part}: …{text[max(0, m.start() - 20):m.end() + 20]}…")
    assert not found, "\n".join(found[:20])


def test_scores_record_the_profile_they_were_made_with(year):
    rec = year["scores"]["config"]
    hospital = load_config(HOSPITAL)
    assert rec["unit"] == "某县人民医院" and rec["catalog"] == "county-hospital-2025"
    assert rec["fingerprint"] == hospital.fingerprint and re.fullmatch(r"[0-9a-f]{16}", rec["fingerprint"])
    assert rec["fingerprint"] != TIANJIN.fingerprint


def test_notify_and_export_refuse_scores_of_another_profile_in_one_line(year, tmp_path):
    scores = str(year["out"]["report"])
    for args, what in ((("notify", "--scores", scores, "--dry-run", "--outbox", str(tmp_path / "ob")), "发邮件"),
                       (("export", "--scores", scores, "--out", str(tmp_path / "x.zip")), "导出数据包")):
        result = run(*args, "--config", str(ROOT / "config"))
        assert result.exit_code == 1
        assert result.output.count("\n") == 1 and result.output.startswith("错误：")
        assert "某县人民医院" in result.output and "天津市科学技术协会" in result.output and what in result.output
    assert not (tmp_path / "ob").exists() and not (tmp_path / "x.zip").exists()


def test_a_changed_catalog_after_report_is_refused(year, tmp_path):
    cdir = tmp_path / "cfg"
    shutil.copytree(HOSPITAL, cdir)
    text = (cdir / "catalog.yaml").read_text(encoding="utf-8")
    (cdir / "catalog.yaml").write_text(text.replace("threshold: 85%", "threshold: 80%"), encoding="utf-8")
    result = run("notify", "--scores", str(year["out"]["report"]), "--dry-run", "--outbox", str(tmp_path / "o"),
                 "--config", str(cdir))
    assert result.exit_code == 1 and "已改动" in result.output and "重新运行 report" in result.output


def test_the_catalogs_own_metric_is_judged_with_the_six(year):
    s = year["scores"]
    aware = s["metrics"]["awareness_rate"]
    assert aware["op"] == ">=" and aware["threshold"] == 0.9 and aware["passed"] is False
    assert 0 < aware["numerator"] < aware["denominator"] == s["metrics"]["participation_rate"]["denominator"]
    assert s["metrics"]["participation_rate"]["passed"] is True
    both = next(x for x in s["standards"] if x["metrics"] == ["awareness_rate", "participation_rate"])
    assert both["status"] == "未达标"  # 参与率 passes, 知晓率 does not: judged on both
    depts = {d["name"]: d for d in s["departments"]}
    assert sum(depts[d]["metrics"]["awareness_rate"]["numerator"] for d in depts if depts[d]["submitted"]) \
        == aware["numerator"]


def test_the_catalogs_own_metric_reaches_template_documents_history_and_rollup(year, tmp_path):
    book = load_workbook(next(year["out"]["templates"].glob("院务办-*.xlsx")))
    headers = [c.value for c in book["人员名单"][2]]
    assert headers[-1] == "知晓创建工作"
    assert "是否" in str(book["人员名单"].data_validations.dataValidation[-1].formula1) or any(
        "知晓" in str(r) for r in book["填表说明"].iter_rows(values_only=True))
    report_docx = next(year["out"]["report"].glob("*自查报告.docx"))
    text = _docx_text(report_docx)
    assert "职工对创建工作的知晓率为" in text and "职工对创建工作的知晓面还不够广" in text  # its catalog's heading
    assert "坚持以人民健康为中心" in text  # the unit's own wording.yaml over the bundled one
    score_book = next(year["out"]["report"].glob("*测评得分表.xlsx"))
    assert "知晓率" in _docx_text(score_book)
    with sqlite3.connect(year["root"] / "history.sqlite") as db:
        keys = {k for (k,) in db.execute("SELECT key FROM metrics WHERE year=2025")}
    assert "awareness_rate" in keys
    result = run("rollup", "--packages", str(year["root"] / "packages"), "--out", str(tmp_path / "r"),
                 "--config", str(HOSPITAL))
    assert result.exit_code == 0, result.output
    rolled = json.loads((tmp_path / "r" / "rollup.json").read_text(encoding="utf-8"))
    assert "awareness_rate" in rolled["units"][0]["metrics"]
    assert "知晓率" in _docx_text(next((tmp_path / "r").glob("*汇总表.xlsx")))


def test_messages_name_a_code_of_this_catalog(year):
    hospital = load_config(HOSPITAL)
    bad = next(i for i in year["scores"]["issues"] if i["code"] == "unknown-standard")
    assert bad["value"] == "Ⅱ-4-2"
    hint = re.search(r"（如 ([\d.]+)）", bad["message"]).group(1)
    assert hint in hospital.standards and "医务科" in hospital.standards[hint].responsible


def test_templates_are_made_from_the_profile(year):
    hospital = load_config(HOSPITAL)
    book = load_workbook(next(year["out"]["templates"].glob("医务科-*.xlsx")))
    guide = "\n".join(str(v) for row in book["填表说明"].iter_rows(values_only=True) for v in row if v is not None)
    own = hospital.standards_for("医务科")[0]
    assert f"（如 {own.code}）" in guide and "2025-03-05" in guide and "2026" not in guide
    assert "县人民医院发〔2025〕1号" in guide and own.label in guide and "发给牵头部门（党建办）" in guide
    listed = [r[3] for r in book["下拉列表"].iter_rows(min_row=2, values_only=True) if r[3]]
    assert listed == [s.label for s in hospital.standards_for("医务科")]


def test_unit_kind_words_come_from_unit_yaml(year):
    plan = _docx_text(next(year["out"]["plan"].glob("*.docx")))
    assert "在县人民医院党委统一领导下" in plan and "党委每年专题研究创建工作" in plan and "各科室主要负责同志" in plan
    assert "文明单位。" in plan and "职工文明素养" in plan
    report_text = _docx_text(next(year["out"]["report"].glob("*自查报告.docx")))
    assert "全院各科室" in report_text and "县文明办" in report_text
    tianjin_plan = run("plan", "--out", str(year["root"] / "tianjin-plan"))
    assert tianjin_plan.exit_code == 0
    text = _docx_text(next((year["root"] / "tianjin-plan").glob("*.docx")))
    assert "市科协党组统一领导下" in text and "各部室主要负责同志" in text and "文明机关" in text  # Tianjin's defaults


def test_the_example_inbox_is_what_its_generator_writes(tmp_path):
    import runpy
    script = runpy.run_path(str(ROOT / "examples" / "make_hospital_inbox.py"))
    paths = script["build_inbox"](tmp_path / "inbox")
    assert sorted(p.name for p in paths) == sorted(p.name for p in HOSPITAL_INBOX.glob("*.xlsx"))


def test_the_catalogs_own_column_is_validated_like_the_others(tmp_path):
    from pipeline.documents.sample_data import sample_plans, write_sample
    from pipeline.report import collect
    hospital = load_config(HOSPITAL)
    plans = {"医务科": sample_plans(hospital, seed=7, variety=False)["医务科"]}
    key = hospital.metrics["awareness_rate"].column_key
    plans["医务科"].roster[0][key] = "也许"
    plans["医务科"].roster[1][key] = "√"
    write_sample(hospital, plans, tmp_path / "inbox")
    result = collect(tmp_path / "inbox", hospital, hospital.year)
    found = [i for i in result.issues if i.code == "invalid-yesno"]
    assert [(i.row, i.column, i.level) for i in found] == [(3, "知晓创建工作", "warning")]
    assert "第3行知晓创建工作“也许”无法识别为是或否" in found[0].message
    m = result.metrics["awareness_rate"]
    yes = sum(1 for r in plans["医务科"].roster if r[key] in ("是", "√"))
    assert (m.numerator, m.denominator) == (yes, len(plans["医务科"].roster))


def test_every_document_states_the_catalogs_own_metric(year):
    out = year["out"]
    documents = [*out["report"].glob("*.docx"), *out["report"].glob("*.xlsx"), *out["halfyear"].glob("*.docx"),
                 *out["bulletin"].glob("*.docx"), *out["bulletin"].glob("*明细*.xlsx"),
                 *out["archive"].rglob("*知晓率和参与率*/*测评材料提交表.docx")]
    kinds = {"自查报告", "说明报告", "情况提示", "测评得分表", "任务分解", "总结", "进度通报（", "进度通报明细", "测评材料提交表"}
    assert {k for k in kinds for p in documents if k in p.name} == kinds
    silent = [p.name for p in documents if "知晓" not in _docx_text(p) and "校验报告" not in p.name]
    assert not silent, silent
