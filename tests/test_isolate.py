"""Untrusted files cannot stop the tool (contract section 11, issue 23 item 1): every spreadsheet is read in a
worker process under a memory ceiling and a time limit; a crash, abort, panic, runaway allocation or hang while
reading one file makes only that file unreadable, and report, collect and the 工作台 go on. The pre-scan finds
sheets with an XML parser, as the reader does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builders import issues
from handmade import ROSTER_SPELLINGS, handmade_xlsx
from pipeline.catalog import load_config
from pipeline.intake import isolate, scan
from pipeline.intake.ingest import _sheet_kind, list_inbox, read_workbook
from pipeline.result import scores_dict
from webkit import Client, running

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config")
EXAMPLES = ROOT / "examples" / "inbox"
POSIX = sys.platform != "win32"


def _report(inbox: Path, out: Path, **env: str) -> tuple[dict, subprocess.CompletedProcess]:
    """`report` as a user runs it, in its own process; scores.json and what it printed."""
    done = subprocess.run([sys.executable, "-m", "pipeline", "report", "--inbox", str(inbox), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, **env})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads((out / "scores.json").read_text(encoding="utf-8")), done


def _state(scores: dict, department: str) -> str:
    return next(d for d in scores["departments"] if d["name"] == department)["state"]


def _examples(inbox: Path, count: int | None = None) -> list[Path]:
    inbox.mkdir(parents=True, exist_ok=True)
    for src in sorted(EXAMPLES.glob("*.xlsx"))[:count]:
        shutil.copy2(src, inbox / src.name)
    return list_inbox(inbox)[0]


# ---------------------------------------------------------------- the pre-scan reads XML as the reader does

@pytest.mark.parametrize("spelling", sorted(ROSTER_SPELLINGS))
def test_the_roster_is_measured_whatever_the_spelling_of_its_sheet_element(tmp_path, spelling):
    data = handmade_xlsx(tmp_path / "工会.xlsx", "工会", spelling=spelling, far=True).read_bytes()
    layout = scan.inspect(data, lambda name: _sheet_kind(name) is not None)
    assert layout.oversized is not None
    assert (layout.oversized.sheet, layout.oversized.ref) == ("人员名单", "XFD1048576")
    clean = handmade_xlsx(tmp_path / "团委.xlsx", "团委", spelling=spelling).read_bytes()
    assert scan.inspect(clean, lambda name: _sheet_kind(name) is not None).oversized is None
    rec = read_workbook(tmp_path / "团委.xlsx", tmp_path, CONFIG)  # and the reader sees that very sheet
    assert rec.readable and len(rec.sheets["roster"][0]) == 3


@pytest.mark.parametrize("xml", [
    b'<sheetData><row r="1"><c note="a>b" r="XFD1048576"><v>1</v></c></row></sheetData>',      # > before r
    b'<sheetData><row r="1"><c r="&#x58;FD1048576"><v>1</v></c></row></sheetData>',           # a reference
    b'<sheetData><row r="1"><c r="A1" x="1" r="XFD1048576"><v>1</v></c></row></sheetData>',   # r twice
    b'<sheetData><row r="1"><c r="A1" s="1" r="XFD1048576"><v>1</v></c></row></sheetData>',   # (calamine takes
    b'<sheetData><row r="1" r="1048576"><c r="XFD1"><v>1</v></c></row></sheetData>',          # the last)
    b'<s:sheetData xmlns:s="urn:x"><s:row><s:c r="XFD1048576"><s:v>1</s:v></s:c></s:row></s:sheetData>',
])
def test_a_far_cell_is_found_however_its_tag_is_written(xml):
    rows, cols = scan.sheet_extent(scan.strip_markup(xml))
    assert rows * cols > scan.MAX_CELLS


_USUAL = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="urn:x"><cols><col min="1"/>'
          b'</cols><sheetData><row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" s="2"/>'
          b'<c r="AX1" s="1" t="str"><v></v></c></row><row r="99999"><c r="C99999"><v>1</v></c></row></sheetData>'
          b'<rowBreaks count="0"/><conditionalFormatting><cfRule type="x"/></conditionalFormatting></worksheet>')


@pytest.mark.parametrize("old, new", [
    (b'<c r="A1" t="s">', b'<c r="A1" t="e">'),                            # an error value
    (b'<c r="A1" t="s">', b'<c r="A1" s="1" t="e">'),
    (b'<v>1</v></c></row></sheetData>', b'<f>1/0</f><v>1</v></c></row></sheetData>'),   # a formula
    (b'<v>1</v></c></row></sheetData>', b'<f t="shared" si="0"/></c></row></sheetData>'),
    (b'<v>1</v></c></row></sheetData>', b'<x:f xmlns:x="urn:x">A1</x:f></c></row></sheetData>'),
    (b'<sheetData>', b'<!-- --><sheetData>'),                               # markup the scans strip
    (b'<sheetData>', b'<![CDATA[ ]]><sheetData>'),
    (b'<sheetData>', b'<?pi ?><sheetData>'),
    (b'<c r="C99999">', b'<c r="C100000">'),                                # out of the box
    (b'<c r="C99999">', b'<c r="AY99999">'),
    (b'<c r="C99999">', b'<c s="1" r="C99999">'),                           # another attribute order
    (b'<c r="C99999">', b'<c r="C99999" r="XFD1048576">'),                  # r twice
    (b'<c r="C99999">', b'<c r=\'C99999\'>'),
    (b'<c r="C99999">', b'<c>'),                                            # no r
    (b'<c r="C99999">', b'<c.x r="C99999">'),
    (b'<row r="99999">', b'<row r="99999" r="1048576">'),
    (b'<row r="99999">', b'<row>'),
    (b'<c r="C99999"><v>1</v></c>', b'<x:c r="XFD1048576"><v>1</v></x:c>'),  # a prefix
])
def test_only_a_sheet_written_as_excel_writes_it_skips_the_full_scans(old, new):
    """plain_sheet (two searches) lets a sheet skip stripping, measuring and the formula scan; it must find every
    spelling those scans would act on, and when it passes they must find nothing."""
    assert scan.plain_sheet(_USUAL) and scan.plain_sheet(_USUAL.split(b"\n", 1)[1])
    assert scan.sheet_extent(scan.strip_markup(_USUAL)) == (0, 0) and scan.formula_cells(_USUAL) == []
    assert _USUAL.count(old) == 1
    assert not scan.plain_sheet(_USUAL.replace(old, new))


def test_formula_and_error_cells_are_found_through_the_fast_path(tmp_path):
    """The first sheet plain, the roster with an error value and a formula without a cached value."""
    path = handmade_xlsx(tmp_path / "工会.xlsx", "工会")
    parts = _parts(path)
    sheet = dict(parts)["xl/worksheets/sheet2.xml"]
    at = sheet.index(b"<c ", sheet.index(b"<row", sheet.index(b"<row") + 1))
    end = sheet.index(b"</row>", at)
    crafted = sheet[:at] + b'<c r="F2" t="e"><v>#REF!</v></c><c r="G2"><x:f xmlns:x="urn:x">1+1</x:f></c>' + \
        sheet[end:]
    data = _rezip(path, [(n, crafted if n == "xl/worksheets/sheet2.xml" else d) for n, d in parts])
    layout = scan.inspect(data, lambda name: _sheet_kind(name) is not None)
    assert ("formula-error-cells", "人员名单", ["F2"]) in layout.formulas
    assert ("formula-uncached", "人员名单", ["G2"]) in layout.formulas
    alone = crafted.replace(b'<c r="F2" t="e"><v>#REF!</v></c>', b"")  # a prefixed formula is a formula too
    assert scan.formula_cells(alone) == [("formula-uncached", ["G2"])]


def _every_cell_formulas(xml: bytes) -> list[tuple[str, list[str]]]:
    """The formula scan as it was written first: every cell of the sheet looked at (the reference)."""
    uncached, errors = [], []
    for attrs, body in scan._CELL.findall(xml):
        ref = scan._REF.search(attrs)
        if ref is None:
            continue
        if scan._ERROR_TYPE.search(attrs):
            errors.append(ref.group(1).decode())
        elif body and scan._FORMULA_CELL.search(body) and scan._uncached(attrs, body):
            uncached.append(ref.group(1).decode())
    return [(code, cells) for code, cells in (("formula-uncached", uncached), ("formula-error-cells", errors)) if cells]


_FORMULA_SHEETS = [
    b'<row r="1"><c r="A1"><f>1</f></c><c r="B1" t="e"><v>#N/A</v></c><c r="C1"><f>2</f><v>2</v></c></row>',
    b'<c r="A1" t = \'e\'><v>#REF!</v></c><c r="B1" t="str"><f>""</f><v></v></c><c r="C1"><f/><v></v></c>',
    b'<x:c r="A2"><x:f>1</x:f></x:c><c r="B2"><v>t="e"</v></c><c r="C2"><f t="shared" si="0"/></c><c r="D2"/>',
    b'<c r="A3"><f>1</f><c r="B3"><f>1</f></c></c><c r="C3" t="e"/><c.x r="D3" t="e"></c.x><c><f>1</f></c>',
    b't="e" <f> <c r="A4"></c><f>1</f><c r="B4" xt="e"><is><t>a</t></is><f>1</f></c>',
    b'<c r="A5" t="e"><c r="B5"><f>1</f></c >',
]


@pytest.mark.parametrize("xml", _FORMULA_SHEETS + [a + b for a in _FORMULA_SHEETS for b in _FORMULA_SHEETS[::2]])
def test_the_formula_scan_reads_only_near_its_markers_and_finds_what_reading_every_cell_finds(xml):
    assert scan.formula_cells(xml) == _every_cell_formulas(xml)


def test_the_formula_scan_agrees_with_reading_every_cell_on_the_corpus_and_examples(tmp_path):
    import zipfile

    from corpus import build
    build(tmp_path, big=False)
    seen = 0
    for path in sorted([*tmp_path.rglob("*.xlsx"), *EXAMPLES.glob("*.xlsx")]):
        if not zipfile.is_zipfile(path):
            continue  # the corpus's broken files
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    xml = zf.read(name)
                    assert scan.formula_cells(xml) == _every_cell_formulas(xml), (path.name, name)
                    seen += bool(_every_cell_formulas(xml))
    assert seen >= 2  # the corpus holds formula and error cells


_PIECES = [b'<c r="XFD1048576"><v>1</v></c>', b'<c r="A1" t="e"><v>#N/A</v></c>', b'<f>', b'<f/>', b'</f>', b'<x:f>',
           b't="e"', b"t='e'", b'<!--', b'-->', b'<?p?>', b'<![CDATA[', b']]>', b'<row r="1048576">', b'</row>', b'<c>',
           b'</c>', b'<c r="A5">', b'<v>', b'</v>', b'<x:c r="B9">', b'<row>', b'<c r="AY1"><v>2</v></c>', b'"', b"'",
           b'<c r="C3" t="e"/>', b' r="XFD9"', b'<', b'>', b'<c s="1" r="ZZ1"><v>1</v></c>', b'<cols>',
           b'<c.x r="A1" t="e">', b'<f t="shared"/>', b'<c r="A3"><f>1</f></c>']


@pytest.mark.parametrize("formula", [b"<f>1</f>", b""])
def test_the_shortcuts_give_what_the_full_scans_give_on_mangled_sheets(formula):
    """Pieces of hostile spellings dropped at random into a usual sheet: whatever prescan decides, the extent and
    the formula cells are those of stripping, measuring and reading every cell."""
    import random
    usual = (b'<?xml version="1.0"?>\n<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"/>'
             b'</row><row r="2" spans="1:2"><c r="A2">' + formula + b'<v>1</v></c><c r="B2" t="inlineStr"><is><t>x</t>'
             b'</is></c></row></sheetData></worksheet>')
    rng, kinds = random.Random(26), set()
    for _ in range(3000):
        xml = bytearray(usual)
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(xml))
            xml[at:at] = rng.choice(_PIECES)
        xml = bytes(xml)
        kind = scan.prescan(xml)
        kinds.add(kind)
        full = scan.strip_markup(xml)
        expected = (scan.sheet_extent(full), _every_cell_formulas(full))
        found = ((0, 0), []) if kind == "plain" else ((0, 0), scan.formula_cells(xml)) if kind == "formulas" else \
            (scan.sheet_extent(full), scan.formula_cells(full))
        assert found == expected, xml
    assert kinds == {"plain", "formulas", ""}


def _rezip(path: Path, parts: list[tuple[str, bytes]]) -> bytes:
    import zipfile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            zf.writestr(name, data)
    return path.read_bytes()


def _parts(path: Path) -> list[tuple[str, bytes]]:
    import zipfile
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def test_the_workbook_is_found_where_the_package_relationships_put_it(tmp_path):
    """calamine reads the workbook part from the folder _rels/.rels names, not only from xl/."""
    path = handmade_xlsx(tmp_path / "工会.xlsx", "工会", far=True)
    moved = [(n.replace("xl/", "book/", 1) if n.startswith("xl/") else n,
              d.replace(b"Target=\"xl/workbook.xml\"", b"Target=\"book/workbook.xml\"") if n == "_rels/.rels" else d)
             for n, d in _parts(path)]
    data = _rezip(path, moved)
    layout = scan.inspect(data, lambda name: _sheet_kind(name) is not None)
    assert layout.oversized is not None and layout.oversized.sheet == "人员名单"


def test_every_member_of_a_duplicated_name_is_measured(tmp_path):
    """A zip may hold two members of one name; whichever the reader takes, the far one is measured."""
    path = handmade_xlsx(tmp_path / "工会.xlsx", "工会", far=True)
    parts = _parts(path)
    far = dict(parts)["xl/worksheets/sheet2.xml"]
    near = handmade_xlsx(tmp_path / "n.xlsx", "工会")
    near_sheet = dict(_parts(near))["xl/worksheets/sheet2.xml"]
    for order in ((far, near_sheet), (near_sheet, far)):
        doubled = [p for p in parts if p[0] != "xl/worksheets/sheet2.xml"] + \
            [("xl/worksheets/sheet2.xml", order[0]), ("xl/worksheets/sheet2.xml", order[1])]
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile: "Duplicate name"
            data = _rezip(tmp_path / "d.xlsx", doubled)
        assert scan.inspect(data, lambda name: _sheet_kind(name) is not None).oversized is not None


def test_a_dtd_in_a_workbook_part_refuses_the_file(tmp_path):
    path = handmade_xlsx(tmp_path / "工会.xlsx", "工会")
    from builders import rewrite_zip
    rewrite_zip(path, lambda name, data: data.replace(b"<workbook ", b'<!DOCTYPE w [<!ENTITY a "aaaaaaaa">]><workbook ')
                if name == "xl/workbook.xml" else data)
    rec = read_workbook(path, tmp_path, CONFIG)
    assert not rec.readable and [i.code for i in rec.issues] == ["file-unreadable"]


def test_crafted_dense_ranges_are_errors_for_their_files_and_the_run_goes_on(tmp_path):
    """The 78 KB workbook that aborted report, collect and the 工作台: the dense range behind each of the three
    spellings is an error for its own file; the other departments are scored."""
    inbox = tmp_path / "inbox"
    crafted = {"工会": "charref", "团委": "prefix", "妇联": "gt"}
    for dept, spelling in crafted.items():
        handmade_xlsx(inbox / f"{dept}-台账.xlsx", dept, spelling=spelling, far=True)
    handmade_xlsx(inbox / "办公室-台账.xlsx", "办公室", people=4)
    scores, done = _report(inbox, tmp_path / "out")
    found = {i["file"]: i for i in issues(scores, "sheet-too-large")}
    assert sorted(found) == sorted(f"{d}-台账.xlsx" for d in crafted)
    assert all(i["sheet"] == "人员名单" and i["value"] == "XFD1048576" for i in found.values())
    assert all(_state(scores, d) == "unreadable" for d in crafted)
    assert _state(scores, "办公室") == "submitted"
    assert scores["metrics"]["participation_rate"]["denominator"] == 4  # 办公室's roster is scored
    assert "Traceback" not in done.stdout + done.stderr


# ---------------------------------------------------------------- a reader that fails ends only its file

FAULTS = [("abort", "fork"), ("abort", "spawn"), ("panic", "fork"), ("panic", "spawn"), ("hang", "fork"),
          ("alloc", "spawn")]


@pytest.mark.parametrize("fault, method", FAULTS)
def test_a_failing_reader_makes_only_its_file_unreadable(tmp_path, monkeypatch, fault, method):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {method} start method on this platform")
    if fault == "alloc" and not POSIX:
        pytest.skip("no memory ceiling without the resource module (Windows)")
    paths = _examples(tmp_path / "inbox", 5)
    victim = paths[2]
    monkeypatch.setenv(isolate.FAULT_ENV, f"{fault}:{victim.name}")
    limits = isolate.ReadLimits(memory_mb=256, seconds=3)
    with isolate.ReaderPool(limits, method=method) as pool:
        records = list(pool.read(paths, tmp_path / "inbox", CONFIG))
        assert pool.crashes == 1
        again = list(pool.read(paths[:2], tmp_path / "inbox", CONFIG))  # the replaced worker reads on
    assert [r.path for r in records] == paths and all(r.readable for r in again)
    bad = records[2]
    assert not bad.readable and [i.code for i in bad.issues] == ["file-unreadable"] and bad.crashed
    assert bad.department == "妇联" and len(bad.sha256) == 64  # from its name; its hash, to know it again
    expected = {"hang": "超过 3 秒", "alloc": "内存超过上限 256 MB"}.get(fault, "异常退出")
    assert expected in bad.issues[0].message
    monkeypatch.delenv(isolate.FAULT_ENV)
    clean = [read_workbook(p, tmp_path / "inbox", CONFIG) for p in paths]
    for got, want in zip(records, clean):
        if got is not bad:
            assert (got.department, got.info, got.issues, got.sheets.keys()) == \
                   (want.department, want.info, want.issues, want.sheets.keys())


@pytest.mark.skipif(not POSIX, reason="no memory ceiling without the resource module (Windows)")
def test_a_real_runaway_allocation_meets_the_memory_ceiling(tmp_path):
    """calamine allocates a 50 x 99,999 grid (within the scan's limits) for a value in AX99999: under a
    64 MB ceiling that allocation fails in the worker (Rust aborts), not on the machine."""
    inbox = tmp_path / "inbox"
    big = handmade_xlsx(inbox / "工会-台账.xlsx", "工会", roster_extra='<row r="99999"><c r="AX99999"><v>1</v></c></row>')
    handmade_xlsx(inbox / "团委-台账.xlsx", "团委")
    with isolate.ReaderPool(isolate.ReadLimits(memory_mb=64, seconds=60)) as pool:
        first, second = pool.read([big, inbox / "团委-台账.xlsx"], inbox, CONFIG)
    assert not first.readable and "内存超过上限 64 MB" in first.issues[0].message
    assert second.readable and second.department == "团委"


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_files_of_a_dead_worker_are_read_again_never_lost(tmp_path, monkeypatch, method):
    """Two workers, thirty files, one of them aborts its worker: every other file is read, in path order."""
    inbox = tmp_path / "inbox"
    _examples(inbox)
    for i, src in enumerate(sorted(EXAMPLES.glob("*.xlsx"))[:2]):
        for k in range(11):
            shutil.copy2(src, inbox / f"copy{i}-{k:02d}-{src.name}")
    paths = list_inbox(inbox)[0]
    assert len(paths) >= 30
    monkeypatch.setenv(isolate.FAULT_ENV, "abort:copy0-03")
    with isolate.ReaderPool(isolate.ReadLimits(seconds=60), method=method) as pool:
        records = list(pool.read(paths, inbox, CONFIG, workers=2))
    assert [r.path for r in records] == paths
    bad = [r.name for r in records if r.crashed]
    assert len(bad) == 1 and bad[0].startswith("copy0-03")
    assert sum(r.readable for r in records) == len(paths) - 1


def test_report_goes_on_after_a_panic_and_prints_no_traceback(tmp_path):
    inbox = tmp_path / "inbox"
    _examples(inbox)
    name = next(p.name for p in inbox.iterdir() if p.name.startswith("工会") and "初稿" not in p.name)
    scores, done = _report(inbox, tmp_path / "out", **{isolate.FAULT_ENV: f"panic:{name}"})
    (bad,) = [i for i in issues(scores, "file-unreadable") if i["file"] == name]
    assert bad["department"] == "工会" and bad["level"] == "error"
    assert _state(scores, "办公室") == "submitted"
    shown = done.stdout + done.stderr
    assert "Traceback" not in shown and "Panic" not in shown and "PicklingError" not in shown


def test_the_isolated_read_equals_the_direct_read(tmp_path):
    paths = _examples(tmp_path / "inbox")
    with isolate.ReaderPool() as pool:
        records = list(pool.read(paths, tmp_path / "inbox", CONFIG))
    for got, path in zip(records, paths):
        want = read_workbook(path, tmp_path / "inbox", CONFIG)
        assert (got.name, got.sha256, got.department, got.info, got.issues, got.date1904) == \
               (want.name, want.sha256, want.department, want.info, want.issues, want.date1904)
        assert {k: [(s.columns, s.values, s.numbers) for s in v] for k, v in got.sheets.items()} == \
               {k: [(s.columns, s.values, s.numbers) for s in v] for k, v in want.sheets.items()}


def test_limits_come_from_unit_yaml_and_the_environment(monkeypatch):
    class Cfg:
        settings = {"reading": {"max_memory_mb": 512, "max_seconds": 30}}
    assert isolate.ReadLimits.from_config(Cfg()) == isolate.ReadLimits(512, 30.0)
    monkeypatch.setenv(isolate.MEMORY_ENV, "300")
    assert isolate.ReadLimits.from_config(Cfg()).memory_mb == 300
    assert isolate.ReadLimits.from_config(None) == isolate.ReadLimits(300, isolate.DEFAULT_SECONDS)


# ---------------------------------------------------------------- the 工作台

def test_the_workbench_survives_a_crashing_upload_and_never_reads_it_twice(tmp_path, monkeypatch):
    data = (EXAMPLES / "团委-2026年文明单位创建台账.xlsx").read_bytes() + b"\0"  # other bytes, still readable
    monkeypatch.setenv(isolate.FAULT_ENV, "abort:团委")
    with running(tmp_path) as srv:
        client = Client(srv.server.server_port)
        status, _, body = client.upload([("团委-2026年文明单位创建台账.xlsx", data)])
        assert status == 200, body.decode()
        (row,) = json.loads(body)["files"]
        status_now = client.json("/api/status")  # the server is still up and answers
        assert next(d for d in status_now["departments"] if d["name"] == "团委")["state"] == "unreadable"
        assert next(d for d in status_now["departments"] if d["name"] == "工会")["state"] == "submitted"
        cache = srv.bench.cache
        import hashlib
        digest = hashlib.sha256(data).hexdigest()
        assert digest in cache.crashed
        read_before = cache.pool.files_read
        (srv.bench.inbox / row["saved"]).unlink()  # removed by hand, then the same bytes under another name
        status, _, body = client.upload([("团委-台账-重新上传.xlsx", data)])
        (again,) = json.loads(body)["files"]
        assert again["saved"] and again["saved"] != row["saved"]
        status_now = client.json("/api/status")
        assert next(d for d in status_now["departments"] if d["name"] == "团委")["state"] == "unreadable"
        assert cache.pool.files_read == read_before  # known by its hash: not handed to a reader again
        assert client.get("/")[0] == 200
    # a restart of the 工作台 on the same folders remembers it too
    from pipeline.web.state import Workbench
    bench = Workbench(srv.bench.inbox, srv.bench.out, srv.bench.config_dir)
    try:
        status_now = {d["name"]: d for d in scores_dict(bench.result())["departments"]}
        assert status_now["团委"]["state"] == "unreadable" and status_now["工会"]["state"] == "submitted"
        assert digest in bench.cache.crashed and bench.cache.pool.files_read == len(
            [p for p in bench.inbox.iterdir() if p.suffix == ".xlsx"]) - 1  # every workbook but that one
    finally:
        bench.cache.close()


# ---------------------------------------------------------------- real files that make calamine panic

FOREIGN = Path(__file__).resolve().parent / "foreign"
PANICS = ["poi-Simple.xlsb", "poi-clusterfuzz-5816431116615680.xls"]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_real_files_that_make_calamine_panic_end_only_their_reading(tmp_path, method):
    """Two of Apache POI's test files make python-calamine panic (PanicException, a BaseException): before,
    report ended with a PicklingError. Now each is file-unreadable and the other departments are scored."""
    inbox = tmp_path / "inbox"
    _examples(inbox, 3)
    for name in PANICS:
        shutil.copy2(FOREIGN / name, inbox / f"反协办-{name}")
    scores, done = _report(inbox, tmp_path / "out", WENMING_START_METHOD=method)
    unreadable = {i["file"] for i in issues(scores, "file-unreadable")}
    assert unreadable == {f"反协办-{name}" for name in PANICS}
    assert _state(scores, "反协办") == "unreadable" and _state(scores, "办公室") == "submitted"
    shown = done.stdout + done.stderr
    assert not any(word in shown for word in ("panicked", "Traceback", "PicklingError", "RUST_BACKTRACE"))


def test_what_a_reader_library_prints_never_reaches_the_console(tmp_path):
    """xlrd prints `WARNING *** file size …` for this calamine test file; a worker's output goes nowhere."""
    inbox = tmp_path / "inbox"
    _examples(inbox, 2)
    shutil.copy2(FOREIGN / "calamine-OOM_alloc3.xls", inbox / "反协办-台账.xls")
    scores, done = _report(inbox, tmp_path / "out")
    assert "WARNING" not in done.stdout + done.stderr and "sector size" not in done.stdout + done.stderr
    assert [i["file"] for i in issues(scores, "file-unreadable")] == ["反协办-台账.xls"]


def test_mutated_workbooks_are_each_accounted_for_and_the_console_stays_quiet(tmp_path):
    """Sixty mutants of the example workbooks (tools/corpus_run.py --fuzz): report exits 0, every file is in
    scores.json, nothing a reader prints reaches the console."""
    sys.path.insert(0, str(ROOT / "tools"))
    import corpus_run
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = corpus_run.fuzz(inbox, 60, seed=7)
    scores, done = _report(inbox, tmp_path / "out")
    assert set(names) <= corpus_run.accounted(scores)
    assert not corpus_run.NOISE.search(done.stdout + done.stderr)


def test_collect_saves_a_crashing_attachment_once_and_goes_on(tmp_path):
    """collect reads each saved workbook (for its department) in a worker: a file that makes calamine panic is
    saved and listed, the run ends normally, and a rerun saves nothing again."""
    from mailkit import XLSX, message
    eml = tmp_path / "eml"
    eml.mkdir()
    good = (EXAMPLES / "团委-2026年文明单位创建台账.xlsx").read_bytes()
    msg = message("<crash@unit.cn>", "fxb@unit.cn", "反协办 台账",
                  [("反协办台账.xlsb", (FOREIGN / "poi-Simple.xlsb").read_bytes(), XLSX), ("团委台账.xlsx", good, XLSX)])
    (eml / "1.eml").write_bytes(bytes(msg))
    inbox = tmp_path / "inbox"
    for run in range(2):
        done = subprocess.run([sys.executable, "-m", "pipeline", "collect", "--eml", str(eml), "--inbox", str(inbox)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "panicked" not in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr
        manifest = json.loads((inbox / "manifest.json").read_text(encoding="utf-8"))
        assert sorted(f["original"] for f in manifest["files"]) == ["反协办台账.xlsb", "团委台账.xlsx"]
    by_name = {f["original"]: f for f in manifest["files"]}
    assert by_name["团委台账.xlsx"]["department"] == "团委" and by_name["反协办台账.xlsb"]["department"] == "反协办"
    assert len([p for p in inbox.iterdir() if not p.name.startswith(".") and p.name != "manifest.json"]) == 2


def test_archive_goes_on_after_a_file_that_makes_calamine_panic(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(EXAMPLES / "办公室-2026年文明单位创建台账.xlsx", inbox)
    shutil.copy2(FOREIGN / "poi-Simple.xlsb", inbox / "反协办-台账.xlsb")
    done = subprocess.run([sys.executable, "-m", "pipeline", "archive", "--inbox", str(inbox), "--out",
                           str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert list((tmp_path / "out").glob("*分类档案.zip"))
    assert "panicked" not in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr


def test_a_reader_stopped_early_leaves_no_worker_mid_file(tmp_path):
    paths = _examples(tmp_path / "inbox", 4)
    with isolate.ReaderPool() as pool:
        reading = pool.read(paths, tmp_path / "inbox", CONFIG)
        next(reading)
        reading.close()  # the caller gives up (an exception, Ctrl+C)
        assert all(not w.tasks for w in pool._workers)
        assert [r.path for r in pool.read(paths, tmp_path / "inbox", CONFIG)] == paths  # and the pool reads on
