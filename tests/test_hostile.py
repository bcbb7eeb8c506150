"""Hostile and broken input: nothing crashes, nothing is lost, every document opens."""

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from conftest import in_ci
from builders import ACTIVITY_HEADERS, DOCUMENT_HEADERS, ROSTER_HEADERS, YEAR, balanced, report, sheet
from corpus import build
from pipeline.catalog import load_config
from pipeline.documents.pdf import soffice
from pipeline.report import collect, write_outputs

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "inbox"


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _opens(out: Path) -> None:
    for path in out.glob("[!.]*.docx"):
        assert Document(path).paragraphs
    for path in out.glob("[!.]*.xlsx"):
        assert openpyxl.load_workbook(path).sheetnames
    json.loads((out / "scores.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return folder, build(folder)


def test_corpus_has_at_least_30_bad_files(corpus):
    _, expect = corpus
    assert len(expect) >= 30


def test_every_bad_file_gets_its_specific_issue(corpus, tmp_path):
    folder, expect = corpus
    before = _snapshot(folder)
    scores = report(folder, tmp_path / "out")
    got: dict[str, set] = {}
    for issue in scores["issues"]:
        got.setdefault(issue["file"], set()).add(issue["code"])
        assert issue["message"] and "Traceback" not in issue["message"]
    missing = {f: sorted(codes - got.get(f, set())) for f, codes in expect.items() if not codes <= got.get(f, set())}
    assert missing == {}
    assert not any((f or "").startswith("~$") for f in got)
    encrypted = next(i for i in scores["issues"] if i["code"] == "file-encrypted")
    assert encrypted["message"] == "文件已加密，请取消密码后重新报送"
    balanced(scores)
    _opens(tmp_path / "out")
    assert _snapshot(folder) == before


def test_corpus_beside_a_normal_inbox_changes_no_normal_figure(corpus, tmp_path):
    folder, _ = corpus
    alone = report(SAMPLE, tmp_path / "alone")
    mixed_inbox = tmp_path / "mixed"
    shutil.copytree(SAMPLE, mixed_inbox)
    shutil.copytree(folder, mixed_inbox / "坏文件", copy_function=shutil.copy2)
    before = _snapshot(mixed_inbox)
    mixed = report(mixed_inbox, tmp_path / "out")
    normal = {d["name"]: d for d in alone["departments"] if d["submitted"]}
    for d in mixed["departments"]:
        if d["name"] in normal:
            ref = normal[d["name"]]
            assert (d["file"], d["metrics"]) == (ref["file"], ref["metrics"]), d["name"]
    balanced(mixed)
    _opens(tmp_path / "out")
    assert _snapshot(mixed_inbox) == before
    if soffice() or in_ci():
        from pipeline.documents.pdf import convert
        (docx,) = (tmp_path / "out").glob("*自查报告.docx")
        assert convert(docx).stat().st_size > 10_000


def test_same_inputs_give_the_same_figures_and_text(tmp_path):
    a = report(SAMPLE, tmp_path / "a")
    b = report(SAMPLE, tmp_path / "b")
    assert a == b
    (da,), (db,) = (tmp_path / "a").glob("*自查报告.docx"), (tmp_path / "b").glob("*自查报告.docx")
    assert [p.text for p in Document(da).paragraphs] == [p.text for p in Document(db).paragraphs]
    for name in ("测评得分表", "任务分解一览台账", "校验报告"):
        (xa,), (xb,) = (tmp_path / "a").glob(f"*{name}.xlsx"), (tmp_path / "b").glob(f"*{name}.xlsx")
        wa, wb = openpyxl.load_workbook(xa), openpyxl.load_workbook(xb)
        assert [[list(r) for r in ws.iter_rows(values_only=True)] for ws in wa] == \
               [[list(r) for r in ws.iter_rows(values_only=True)] for ws in wb]


def test_a_killed_run_leaves_the_previous_output_intact(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "pipeline", "report", "--inbox", str(SAMPLE), "--out", str(out), "--silent"]
    subprocess.run(cmd, check=True, cwd=ROOT, timeout=120)
    reference = (out / "scores.json").read_bytes()
    names = sorted(p.name for p in out.iterdir())
    for delay in (0.3, 0.9, 1.4, 2.0):
        proc = subprocess.Popen(cmd, cwd=ROOT)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        finals = sorted(p.name for p in out.iterdir() if not p.name.startswith(".tmp-"))
        assert finals == names
        assert (out / "scores.json").read_bytes() == reference
        _opens(out)
    subprocess.run(cmd, check=True, cwd=ROOT, timeout=120)
    assert not list(out.glob(".tmp-*"))


# ---------------------------------------------------------------- property tests

def _clean(value):
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value).replace("\ufffe", "").replace("\uffff", "")[:5000]  # lxml refuses these too
    return value


cell = st.one_of(
    st.none(), st.text(max_size=40), st.text(min_size=1000, max_size=5000), st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False), st.dates(), st.booleans(),
    st.sampled_from(["是", "否", "√", "×", "满意", "很好", "2026.3.5", "2026年13月40日", "3.2.2", "3.2.2 志愿服务",
                     "9.9.9", "=1+1", "@SUM(A1)", "_x000B_", "１２", "#REF!", "<b>&amp;</b>", "😀", "  "]),
)


def _row(width):
    return st.lists(cell, min_size=width, max_size=width)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(roster=st.lists(_row(len(ROSTER_HEADERS)), max_size=6), acts=st.lists(_row(len(ACTIVITY_HEADERS)), max_size=6),
       docs=st.lists(_row(len(DOCUMENT_HEADERS)), max_size=4), info=st.lists(cell, min_size=3, max_size=3))
def test_random_values_in_every_column_never_crash_or_break_a_document(tmp_path_factory, roster, acts, docs, info):
    inbox = tmp_path_factory.mktemp("inbox")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "填报信息"
    for r, (key, value) in enumerate(zip(("部门", "年度", "填报日期"), info), 1):
        ws.cell(r, 1, key)
        ws.cell(r, 2, _clean(value))
    for title, headers, rows in (("人员名单", ROSTER_HEADERS, roster), ("活动记录", ACTIVITY_HEADERS, acts),
                                 ("制度文件", DOCUMENT_HEADERS, docs)):
        sheet(wb.create_sheet(title), headers, [[_clean(v) for v in row] for row in rows])
    wb.save(inbox / "团委-随机.xlsx")
    config = load_config(ROOT / "config")
    result = collect(inbox, config, YEAR)
    out = tmp_path_factory.mktemp("out")
    write_outputs(result, out)
    _opens(out)
    scores = json.loads((out / "scores.json").read_text(encoding="utf-8"))
    balanced(scores)
    (docx,) = out.glob("*自查报告.docx")
    text = "\n".join(p.text for p in Document(docx).paragraphs)
    typed = sorted({str(v).strip() for row in roster + acts + docs for v in row if isinstance(v, str) and v.strip()},
                   key=len, reverse=True)
    for value in typed:  # what departments typed may say anything; what the pipeline adds may not
        text = text.replace(value, "")
    assert "None" not in text and "nan" not in text and "{{" not in text


def test_formulas_written_by_scripts_are_found(tmp_path):
    """openpyxl and similar tools save formulas with an empty <v></v>: calamine reads them as blank, so they
    must be reported; a formula Excel cached as empty text (t="str") is a real value and is not."""
    from builders import rewrite_zip
    from pipeline.intake.ingest import formula_problems
    path = tmp_path / "公式.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人员名单"
    ws.append(ROSTER_HEADERS)
    ws.append([1, '=CONCAT("张","三")', "8001"])
    ws.append([2, "李四", "8002"])
    wb.save(path)
    rewrite_zip(path, lambda name, d: d.replace(b'<c r="C3" t="inlineStr"><is><t>8002</t></is></c>',
                                                 b'<c r="C3" t="str"><f>IF(1,"","")</f><v></v></c>'))
    assert formula_problems(path.read_bytes()) == [("formula-uncached", "人员名单", ["B2"])]
