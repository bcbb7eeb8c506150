"""plain_sheets (scan.py) vouches for all the sheets of a workbook in one numpy pass, so that neither prescan nor
the full scans (strip_markup, sheet_extent, formula_cells) run on them. It may refuse what it likes (the sheets
then take the usual path), but it must never vouch for a sheet the full scans would find too large, or find a
formula or an error value in."""

from __future__ import annotations

import dataclasses
import random
import zipfile
from pathlib import Path

import pytest

from pipeline.intake import scan
from pipeline.intake.ingest import _sheet_kind

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "inbox"


def _every_cell_formulas(xml: bytes) -> list:
    """The formula scan as it was first written: every cell looked at."""
    uncached, errors = [], []
    for attrs, body in scan._CELL.findall(xml):
        ref = scan._REF.search(attrs)
        if ref is None:
            continue
        if scan._ERROR_TYPE.search(attrs):
            errors.append(ref)
        elif body and scan._FORMULA_CELL.search(body) and scan._uncached(attrs, body):
            uncached.append(ref)
    return uncached + errors


def _full_scans_pass(xml: bytes) -> bool:
    """What the usual path decides: within the limits, no formula cell, no error value."""
    full = scan.strip_markup(xml)
    return not scan._too_large(*scan.sheet_extent(full)) and not scan._too_large(*scan._exact_extent(full)) \
        and scan.formula_cells(full) == [] and _every_cell_formulas(full) == []


def _rows(count: int, excel: bool = False) -> bytes:
    out = []
    for r in range(1, count + 1):
        attrs = f' spans="1:4" x14ac:dyDescent="0.25"' if excel else (' ht="24" customHeight="1"' if r % 3 else "")
        out.append(f'<row r="{r}"{attrs}><c r="A{r}" s="12" t="n"><v>{r}</v></c><c r="B{r}" s="4" t="inlineStr">'
                   f'<is><t>&#21150;&#20844; {r}</t></is></c><c r="C{r}" s="12" t="n"></c><c r="AX{r}" s="2"/></row>')
    return "".join(out).encode()


#: as the bench's generator writes a sheet (no declaration), and as Excel and openpyxl write one
USUAL = [
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr><outlinePr '
    b'summaryBelow="1" summaryRight="1"/><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:AX9"/>'
    b'<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/><cols><col width="12" min="1" max="1"/></cols>'
    b'<sheetData>' + _rows(8) + b'<row r="99999"><c r="AX99999" t="n"><v>1</v></c></row></sheetData>'
    b'<mergeCells count="1"><mergeCell ref="A1:L1"/></mergeCells><dataValidations count="1"><dataValidation '
    b'sqref="E3:E502" type="decimal" operator="greaterThanOrEqual"><formula1>0</formula1></dataValidation>'
    b'</dataValidations><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
    b'</worksheet>',
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet xmlns="urn:m" xmlns:r="urn:r" '
    b'xmlns:mc="urn:mc" mc:Ignorable="x14ac" xmlns:x14ac="urn:x"><sheetViews><sheetView workbookViewId="0"/>'
    b'</sheetViews><sheetData>' + _rows(70, excel=True) + b'</sheetData><pageMargins left="0.7" right="0.7" '
    b'top="0.75" bottom="0.75" header="0.3" footer="0.3"/><legacyDrawing r:id="rId1"/></worksheet>',
]

_PIECES = [
    b'<c r="XFD1048576"><v>1</v></c>', b'<c r="A1" t="e"><v>#N/A</v></c>', b'<f>', b'<f/>', b'</f>', b'<x:f>',
    b't="e"', b"t='e'", b' t = "e"', b'"e"', b'<!--', b'-->', b'<?p?>', b'<![CDATA[', b']]>', b'<row r="1048576">',
    b'</row>', b'<c>', b'</c>', b'<c r="A5">', b'<v>', b'</v>', b'<x:c r="B9">', b'<row>', b'<c r="AY1"><v>2</v></c>',
    b'"', b"'", b'<c r="C3" t="e"/>', b' r="XFD9"', b'<', b'>', b'<c s="1" r="ZZ1"><v>1</v></c>', b'<cols>',
    b'<c.x r="A1" t="e">', b'<f t="shared"/>', b'<c r="A3"><f>1</f></c>', b"\0", b"\t", b"\n", b"\r", b"?", b"!",
    b' r ="XFD1"', b' r= "XFD1"', b'"r="XFD1"', b':r="XFD1048576"', b'x:r="XFD1048576"', b'<c r="A100000">',
    b'<c r="BA1">', b'<c r="$A$1">', b'<c r="a1">', b'<c r="A1 ">', b'<c r="A">', b'<c r="1">', b'<c r="AAA1">',
    b'<c r="A0">', b'<row r="100000">', b'<row r="A1">', b'<row r="">', b'<row r="1"/>', b'<c/>', b'<c r="B2"/>',
    b'<c\tr="A1">', b'<x:row>', b'<C r="XFD1">', b'xmlns:r="http://x"', b'r', b'=', b' ', b'<row r="99999">',
    b'<c r="AX99999"><v>1</v></c>', b'&#x58;', b'<c r="A1" r="XFD1">', b'<row r="1" r="1048576">', b'<c r="A1"',
    b'<?xml version="1.0" encoding="UTF-16"?>', b'\xef\xbb\xbf', b'<c r="A1" x:r="XFD1048576">', b'<c r=A1>',
]
_BYTES = b'<>="/ :!?\'\0\t\nrcfowe0159AXYZ$&#;'


def _mangled(rng: random.Random, usual: bytes) -> bytes:
    xml = bytearray(usual)
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(xml))
        if rng.random() < 0.6:
            xml[at:at] = rng.choice(_PIECES)
        elif at < len(xml):
            xml[at] = rng.choice(_BYTES)  # one byte changed, most often inside a tag
    return bytes(xml)


def test_the_usual_sheets_are_vouched_for_and_pass_the_full_scans():
    for usual in USUAL:
        assert scan.plain_sheets([usual]) and _full_scans_pass(usual)
    assert scan.plain_sheets(USUAL) and scan.plain_sheets([])


@pytest.mark.parametrize("usual", range(len(USUAL)))
def test_what_plain_sheets_vouches_for_passes_the_full_scans_on_mangled_sheets(usual):
    """Hostile pieces dropped into a usual sheet, or one byte changed: whenever plain_sheets vouches (for the
    sheet alone, or together with a usual one before or after it), the full scans find nothing."""
    rng, vouched, refused = random.Random(26 + usual), 0, 0
    for _ in range(2500):
        xml = _mangled(rng, USUAL[usual])
        alone = scan.plain_sheets([xml])
        together = scan.plain_sheets([USUAL[0], xml]) or scan.plain_sheets([xml, USUAL[1]])
        if alone or together:
            assert _full_scans_pass(xml), xml
            vouched += 1
        else:
            refused += 1
    assert vouched > 200 and refused > 1000  # both sides were exercised


@pytest.mark.parametrize("old, new", [
    (b'<c r="A3" s="12" t="n">', b'<c r="A3" s="12" t="e">'),                  # an error value
    (b'<c r="A3" s="12" t="n">', b'<c r="A3" s="12" t = "e">'),
    (b'<v>3</v></c>', b'<f>1/0</f><v>3</v></c>'),                              # a formula
    (b'<v>3</v></c>', b'<f t="shared" si="0"/></c>'),
    (b'<v>3</v></c>', b'<x:f xmlns:x="urn:x">A1</x:f></c>'),
    (b'<sheetData>', b'<!-- --><sheetData>'),                                  # markup the scans strip
    (b'<sheetData>', b'<![CDATA[ ]]><sheetData>'),
    (b'<sheetData>', b'<?pi ?><sheetData>'),
    (b'<c r="A3" s="12"', b'<c r="A100000" s="12"'),                          # out of the box
    (b'<c r="A3" s="12"', b'<c r="AY3" s="12"'),
    (b'<c r="A3" s="12"', b'<c r="BA3" s="12"'),
    (b'<c r="A3" s="12"', b'<c r="AAA3" s="12"'),
    (b'<c r="A3" s="12"', b'<c s="12" r="XFD3"'),                             # another attribute order
    (b'<c r="A3" s="12"', b'<c r="A3" r="XFD1048576" s="12"'),                # r twice
    (b'<c r="A3" s="12"', b'<c r="A3" s="12"r="XFD1048576"'),
    (b'<c r="A3" s="12"', b'<c r="A3" x:r="XFD1048576" s="12"'),
    (b'<c r="A3" s="12"', b'<c r="A3" r ="XFD1048576" s="12"'),
    (b'<c r="A3" s="12"', b"<c r='XFD3' s=\"12\""),
    (b'<c r="A3" s="12"', b'<c r="&#x58;FD1048576" s="12"'),
    (b'<c r="A3" s="12"', b'<c r="$A$3" s="12"'),
    (b'<c r="A3" s="12"', b'<c s="12"'),                                      # no r: placed after the last
    (b'<c r="A3" s="12"', b'<c\tr="A3" s="12"'),
    (b'<c r="A3" s="12"', b'<c\nr="A3" s="12"'),
    (b'<c r="A3" s="12" t="n"><v>3</v></c>', b'<x:c r="XFD1048576"><v>1</v></x:c>'),  # a prefix
    (b'<row r="4" ht="24" customHeight="1">', b'<row r="100000" ht="24">'),
    (b'<row r="4" ht="24" customHeight="1">', b'<row r="4" r="1048576">'),
    (b'<row r="4" ht="24" customHeight="1">', b'<row ht="24">'),
    (b'<row r="4" ht="24" customHeight="1">', b'<x:row r="4">'),
    (b'<worksheet ', b'\xff\xfe<worksheet '),                                  # another encoding
    (b'<worksheet ', b'<?xml version="1.0" encoding="ISO-8859-1"?><worksheet '),
    (b'<worksheet ', b'<?xml version="1.0"?><?x?><worksheet '),
    (b'<worksheet ', b'\0<worksheet '),
])
def test_every_spelling_the_full_scans_act_on_is_refused(old, new):
    usual = USUAL[0]
    assert usual.count(old) == 1
    xml = usual.replace(old, new)
    assert not scan.plain_sheets([xml])
    assert not scan.plain_sheets([USUAL[1], xml]) and not scan.plain_sheets([xml, USUAL[1]])


def test_a_far_cell_in_one_sheet_is_found_though_the_others_are_plain(tmp_path):
    from handmade import handmade_xlsx
    data = handmade_xlsx(tmp_path / "工会.xlsx", "工会", far=True).read_bytes()
    layout = scan.inspect(data, lambda name: _sheet_kind(name) is not None)
    assert layout.oversized is not None and layout.oversized.ref == "XFD1048576"


def test_inspect_gives_what_the_usual_path_gives_on_the_corpus_and_examples(tmp_path, monkeypatch):
    """The layout of every workbook is the same whether plain_sheets vouches or every sheet is scanned."""
    from corpus import build
    build(tmp_path, big=False)
    wanted = lambda name: _sheet_kind(name) is not None  # noqa: E731
    paths = [p for p in sorted([*tmp_path.rglob("*.xlsx"), *EXAMPLES.glob("*.xlsx")]) if zipfile.is_zipfile(p)]
    fast, vouched = [], 0
    for path in paths:
        try:
            fast.append(scan.inspect(path.read_bytes(), wanted))
        except Exception as exc:  # noqa: BLE001 - the corpus's broken files: the same error either way
            fast.append(type(exc))
    original = scan.plain_sheets

    def counted(sheets):
        nonlocal vouched
        vouched += original(sheets)
        return original(sheets)

    monkeypatch.setattr(scan, "plain_sheets", counted)
    for path in paths:
        try:
            scan.inspect(path.read_bytes(), wanted)
        except Exception:  # noqa: BLE001
            pass
    monkeypatch.setattr(scan, "plain_sheets", lambda sheets: False)
    for path, layout in zip(paths, fast):
        try:
            usual = scan.inspect(path.read_bytes(), wanted)
        except Exception as exc:  # noqa: BLE001
            usual = type(exc)
        if isinstance(layout, scan.Layout):   # the lean copy is made only for vouched workbooks: compared below
            layout = dataclasses.replace(layout, lean=None)
        assert layout == usual, path.name
    assert vouched >= 3  # the fast path was taken


def test_a_lean_copy_reads_as_the_workbook_itself(tmp_path, monkeypatch):
    """Every record read through the lean copy (the empty rows below the data cut) equals the record read from
    the file itself: the corpus, the examples, the messy inbox, and files LibreOffice and openpyxl wrote."""
    import pickle

    from corpus import build
    from messy import messy_inbox
    from pipeline.catalog import load_config
    from pipeline.intake.ingest import read_workbook
    build(tmp_path / "corpus", big=False)
    messy_inbox(tmp_path / "messy")
    config = load_config()
    paths = sorted(p for p in [*tmp_path.rglob("*.xls*"), *EXAMPLES.glob("*.xls*")] if p.is_file())

    def records():
        out = []
        for path in paths:
            rec = read_workbook(path, path.parent, config)
            out.append(pickle.dumps((rec.readable, rec.info, rec.department, rec.date1904,
                                     [(i.code, i.sheet, i.row, i.column, i.value) for i in rec.issues],
                                     {k: [(s.kind, s.name, s.columns, s.values, s.numbers) for s in v]
                                      for k, v in rec.sheets.items()})))
        return out
    made = []
    original = scan._lean

    def counted(*args):
        made.append(original(*args))
        return made[-1]
    monkeypatch.setattr(scan, "_lean", counted)
    lean = records()
    assert sum(m is not None for m in made) >= 5  # the lean copy was read
    monkeypatch.setattr(scan, "_lean", lambda *args: None)
    assert records() == lean


def test_only_the_rows_after_the_last_value_are_cut():
    head, tail = b'<worksheet><sheetData>', b'</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>'
    value = b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    empty = b'<row r="%d"><c r="A%d" s="1" t="n"></c></row>'
    gap = empty % (2, 2)
    number = b'<row r="3"><c r="B3"><v>7</v></c><c r="C3" s="1"></c></row>'
    after = b"".join(empty % (n, n) for n in range(4, 9))
    assert scan._without_trailing_rows(head + value + gap + number + after + tail) == head + value + gap + number + tail
    assert scan._without_trailing_rows(head + after + tail) == head + tail             # no value: no row
    assert scan._without_trailing_rows(head + value + tail) == head + value + tail
    assert scan._without_trailing_rows(b"<worksheet><sheetData/></worksheet>") == b"<worksheet><sheetData/></worksheet>"

@pytest.mark.parametrize("tries", [1, 2, 16])
def test_the_last_tag_found_through_its_letter_is_where_rfind_finds_it(tries, monkeypatch):
    """_last_tag against bytes.rfind on strings dense in the tags' letters and near-misses (the letter without
    its `<`, `<` before another letter, tags cut by the end), every end; with few tries the plain search
    takes over early."""
    monkeypatch.setattr(scan, "_LETTER_TRIES", tries)
    rnd = random.Random(7)
    pieces = [b"<v", b"v", b"<is", b"<i", b"i", b"s", b"<f", b"f", b"<", b">", b"x", b"</v>", b"<c r=\"V5\"/>"]
    for _ in range(400):
        text = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40)))
        for tag in (b"<v", b"<is", b"<f"):
            for end in range(len(text) + 1):
                assert scan._last_tag(text, tag, end) == text.rfind(tag, 0, end), (text, tag, end)


@pytest.mark.needs("soffice")
def test_a_workbook_saved_by_libreoffice_reads_the_same_through_its_lean_copy(tmp_path, monkeypatch):
    """A filled template saved again by LibreOffice Calc (its own way of writing rows and empty cells)."""
    import pickle

    from pipeline.catalog import load_config
    from pipeline.documents.pdf import run_soffice
    from pipeline.intake.ingest import read_workbook
    source = tmp_path / "src" / "工会-台账.xlsx"
    source.parent.mkdir()
    source.write_bytes((EXAMPLES / "工会-2026年文明单位创建台账.xlsx").read_bytes())
    out = tmp_path / "calc"
    assert run_soffice(["--convert-to", "xlsx:Calc Office Open XML", "--outdir", str(out), str(source)], 180)
    saved = out / source.name
    assert scan.inspect(saved.read_bytes(), lambda name: _sheet_kind(name) is not None).lean is not None
    config = load_config()

    def record():
        rec = read_workbook(saved, out, config)
        return pickle.dumps((rec.info, [(i.code, i.row, i.column) for i in rec.issues],
                             {k: [(s.columns, s.values, s.numbers) for s in v] for k, v in rec.sheets.items()}))
    lean = record()
    monkeypatch.setattr(scan, "_lean", lambda *args: None)
    assert record() == lean and b"roster" in lean
