"""Look inside a workbook's container before calamine reads it: how far each sheet really reaches, which date
system it uses, its merged ranges (ODS), and the cells calamine would read as blank although they hold a formula
or an error value.

calamine builds a dense grid from the first to the last cell of a sheet: a 5 KB file with one value in XFD1048576
asks for hundreds of gigabytes and aborts the whole process, so every sheet calamine will parse is measured here
first, from the cells that hold something. Every scan is linear in the file's size (regular expressions whose
every repetition is bounded by the next `<` or `>`, or expat) and gives up after SCAN_SECONDS."""

from __future__ import annotations

import io
import re
import struct
import time
import xml.parsers.expat
import zipfile
from dataclasses import dataclass, field
from typing import Callable

from pipeline import deflate

MAX_ROWS = 100_000
MAX_CELLS = 5_000_000          # rows x columns of the grid calamine would allocate for one sheet
SCAN_SECONDS = 10.0            # per file, for the formula scan (the extent scans are needed whole)


@dataclass
class Oversized:
    sheet: str
    ref: str                   # the farthest cell, as Excel names it (XFD1048576)
    rows: int
    columns: int


@dataclass
class Layout:
    """What the container says, before any cell is read."""

    date1904: bool = False
    oversized: Oversized | None = None
    safe: set[str] = field(default_factory=set)  # sheets measured within the limits (xlsx, xlsb)
    merges: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)  # 0-based, inclusive
    formulas: list[tuple[str, str, list[str]]] = field(default_factory=list)           # (code, sheet, cells)
    incomplete: bool = False   # the formula scan ran out of time


def column_letters(n: int) -> str:
    """1 -> A, 16384 -> XFD."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _too_large(rows: int, cols: int) -> bool:
    return rows > MAX_ROWS or rows * cols > MAX_CELLS


def inspect(data: bytes, wanted: Callable[[str], bool]) -> Layout:
    """The layout of a workbook held in memory; `wanted(sheet name)` says which sheets will be read."""
    layout = Layout()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        layout.date1904 = _ole_date1904(data)
        return layout  # BIFF sheets are at most 65,536 x 256 cells: calamine's grid stays bounded
    if data[:2] != b"PK":
        return layout
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: i for i in zf.infolist()}
    if "xl/workbook.xml" in members:
        _inspect_xlsx(data, members, wanted, layout)
    elif "xl/workbook.bin" in members:
        _inspect_xlsb(data, members, wanted, layout)
    elif "content.xml" in members:
        _inspect_ods(member(data, members["content.xml"]), layout)
    return layout


def member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes straight from the archive in memory (sizes were checked against the limits)."""
    if info.flag_bits & 1:
        raise ValueError("encrypted member")
    at = info.header_offset
    if data[at:at + 4] != b"PK\x03\x04":
        raise ValueError("bad local header")
    name_len, extra_len = struct.unpack("<HH", data[at + 26:at + 30])
    start = at + 30 + name_len + extra_len
    raw = data[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return raw[:info.file_size]
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ValueError("unsupported compression")
    return deflate.inflate(raw, info.file_size)


def unescape_xml(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


# ---------------------------------------------------------------- xlsx

_SHEET = re.compile(r'<(?:\w+:)?sheet\b([^<>]*)>')
_ATTR = {name: re.compile(rf'\b{name}\s*=\s*(?:"([^"]*)"|\'([^\']*)\')') for name in ("name", "r:id", "Id", "Target")}
_REL = re.compile(r"<(?:\w+:)?Relationship\b([^<>]*)>")
_DATE1904 = re.compile(rb'<(?:\w+:)?workbookPr\b[^<>]*?\bdate1904\s*=\s*["\'](?:1|true)["\']')
# a cell with content (not self-closing), and a row; every repetition stops at the next < or >
_VALUE_CELL = re.compile(rb'<(?:\w+:)?c\b[^<>]*?\br\s*=\s*["\']([A-Za-z]{1,4})([0-9]{1,9})["\'][^<>]*(?<!/)>')
_ANY_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")
_REF_CELL = re.compile(rb"<(?:\w+:)?c\b[^<>]*?\br\s*=")
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^<>]*?\br\s*=\s*["\']([0-9]{1,9})["\']')
_ANY_ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
# the common spelling, found at C speed (a literal prefix): every writer we know puts r first, unprefixed
# and anything else: a cell or row not referenced inside the box of 50 columns x 99,999 rows (under MAX_CELLS
# and MAX_ROWS), or a prefixed one; one search, nothing built: in the usual sheet there is none
_UNUSUAL = (re.compile(rb'<c(?=[\s>/])(?! r="(?:[A-Z]|A[A-X])[0-9]{1,5}")'),  # literal prefixes: sre skips
            re.compile(rb'<row(?=[\s>/])(?! r="[0-9]{1,5}")'),                 # to them at C speed
            re.compile(rb":(?:c|row)[\s>/]"))
# the formula scan
_FORMULA_CELL = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL = re.compile(rb"<(?:\w+:)?c\b([^<>]*?)(?:/>|>((?:[^<]|<(?!/?(?:\w+:)?c\b))*)</(?:\w+:)?c>)")
_REF = re.compile(rb'\br\s*=\s*["\']([A-Za-z]+[0-9]+)["\']')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>|<(?:\w+:)?v/>")
_ERROR_TYPE = re.compile(rb'\bt\s*=\s*["\']e["\']')
_STR_TYPE = re.compile(rb'\bt\s*=\s*["\']str["\']')


def _attr(attrs: str, name: str) -> str | None:
    m = _ATTR[name].search(attrs)
    return None if m is None else (m.group(1) if m.group(1) is not None else m.group(2))


def _inspect_xlsx(data: bytes, members: dict, wanted: Callable[[str], bool], layout: Layout) -> None:
    book = member(data, members["xl/workbook.xml"])
    layout.date1904 = _DATE1904.search(book) is not None
    rels_info = members.get("xl/_rels/workbook.xml.rels")
    rels = member(data, rels_info).decode("utf-8", "replace") if rels_info else ""
    targets = {}
    for m in _REL.finditer(rels):
        rid, target = _attr(m.group(1), "Id"), _attr(m.group(1), "Target")
        if rid and target:
            targets[rid] = target
    deadline = time.monotonic() + SCAN_SECONDS
    for m in _SHEET.finditer(book.decode("utf-8", "replace")):
        name, rid = _attr(m.group(1), "name"), _attr(m.group(1), "r:id")
        if name is None or rid is None:
            continue
        name = unescape_xml(name)
        target = targets.get(rid, "").lstrip("/")
        info = members.get(target if target.startswith("xl/") else f"xl/{target}")
        if info is None or not wanted(name):
            continue
        xml = strip_markup(member(data, info))
        rows, cols = sheet_extent(xml)
        if _too_large(rows, cols):
            layout.oversized = layout.oversized or Oversized(name, f"{column_letters(cols)}{rows}", rows, cols)
            continue
        layout.safe.add(name)
        if layout.oversized:
            continue  # the file is refused: only its extents matter now
        if time.monotonic() > deadline:
            layout.incomplete = True
            continue
        layout.formulas.extend((code, name, cells) for code, cells in formula_cells(xml))


def strip_markup(xml: bytes) -> bytes:
    """The sheet without comments, CDATA sections and processing instructions (text there is not cells).
    Linear: each opener is matched with str.find, and an unclosed one ends the document."""
    if xml.find(b"<!") == -1 and xml.find(b"<?", 100) == -1:
        return xml
    out, pos = [], 0
    while True:
        starts = [(i, o, c) for o, c in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>"))
                  if (i := xml.find(o, pos)) != -1]
        if not starts:
            out.append(xml[pos:])
            return b"".join(out)
        at, opener, closer = min(starts)
        out.append(xml[pos:at])
        end = xml.find(closer, at + len(opener))
        if end == -1:
            return b"".join(out)
        pos = end + len(closer)


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) of the grid calamine builds for this sheet: the farthest cell holding something.

    First the fast test, one search at C speed: when every cell and row is spelled `<c r="A1"` /
    `<row r="1"` (Excel, WPS, Calc, openpyxl) and no reference leaves the box of 50 columns x 99,999 rows, the
    sheet is within the limits and (0, 0) is returned. Otherwise (another spelling, a wide sheet, a far cell)
    the exact measure below decides."""
    if not any(pattern.search(xml) for pattern in _UNUSUAL):
        return 0, 0  # every cell and row referenced, all inside the box: far within the limits
    return _exact_extent(xml)


def _exact_extent(xml: bytes) -> tuple[int, int]:
    """Cells with content only, any attribute order, quotes or namespace prefix; rows and cells written without
    an `r` are placed after the previous ones, so they can only add to the extent."""
    refs = _VALUE_CELL.findall(xml)
    rows = max((int(r) for _, r in refs), default=0)
    cols = max((_column_number(c) for c in {c for c, _ in refs}), default=0)
    row_refs = _ROW_REF.findall(xml)
    rows = max(rows, max(map(int, row_refs), default=0))
    rows += len(_ANY_ROW.findall(xml)) - len(row_refs)   # rows without a number follow the last one
    cols += len(_ANY_CELL.findall(xml)) - len(_REF_CELL.findall(xml))
    return rows, cols


def formula_cells(xml: bytes) -> list[tuple[str, list[str]]]:
    """Formulas without a cached value (formula-uncached) and Excel error values (formula-error-cells)."""
    if b"<f>" not in xml and b"<f " not in xml and b't="e"' not in xml and b"t='e'" not in xml:
        return []  # plain finds: most sheets have neither a formula nor an error value
    uncached, errors = [], []
    for attrs, body in _CELL.findall(xml):
        ref = _REF.search(attrs)
        if ref is None:
            continue
        if _ERROR_TYPE.search(attrs):
            errors.append(ref.group(1).decode())
        elif body and _FORMULA_CELL.search(body) and _uncached(attrs, body):
            uncached.append(ref.group(1).decode())
    found = []
    if uncached:
        found.append(("formula-uncached", uncached))
    if errors:
        found.append(("formula-error-cells", errors))
    return found


def _uncached(attrs: bytes, body: bytes) -> bool:
    """A formula cell without a value: no <v>, or an empty one that is not a cached empty text
    (openpyxl and other scripts write `<f>…</f><v></v>`; Excel writes `t="str"` for a formula giving "")."""
    value = _VALUE.search(body)
    return value is None or (not value.group(1) and _STR_TYPE.search(attrs) is None)


# ---------------------------------------------------------------- xlsb (BIFF12 records)

_XLSB_CELLS = frozenset({2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 62})  # cell records holding a value


def _records(blob: bytes):
    """(type, payload start, payload end) of each BIFF12 record."""
    pos, end = 0, len(blob)
    while pos < end:
        rtype = blob[pos]
        pos += 1
        if rtype & 0x80:
            rtype = (rtype & 0x7F) | (blob[pos] & 0x7F) << 7
            pos += 1
        size, shift = 0, 0
        for _ in range(4):
            byte = blob[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield rtype, pos, pos + size
        pos += size


def _wide(blob: bytes, at: int) -> tuple[str, int]:
    n = struct.unpack_from("<I", blob, at)[0]
    return blob[at + 4:at + 4 + 2 * n].decode("utf-16-le", "replace"), at + 4 + 2 * n


def _inspect_xlsb(data: bytes, members: dict, wanted: Callable[[str], bool], layout: Layout) -> None:
    book = member(data, members["xl/workbook.bin"])
    sheets = []
    for rtype, start, end in _records(book):
        if rtype == 153 and end > start:      # BrtWbProp: bit 0 of its flags is the 1904 date system
            layout.date1904 = bool(book[start] & 1)
        elif rtype == 156:                    # BrtBundleSh: state, tab id, relationship id, name
            rid, at = _wide(book, start + 8)
            name, _ = _wide(book, at)
            sheets.append((name, rid))
    rels_info = members.get("xl/_rels/workbook.bin.rels")
    rels = member(data, rels_info).decode("utf-8", "replace") if rels_info else ""
    targets = {_attr(m.group(1), "Id"): _attr(m.group(1), "Target") or "" for m in _REL.finditer(rels)}
    for name, rid in sheets:
        target = targets.get(rid, "").lstrip("/")
        info = members.get(target if target.startswith("xl/") else f"xl/{target}")
        if info is None or not wanted(name):
            continue
        blob = member(data, info)
        row, rows, cols = 0, 0, 0
        for rtype, start, end in _records(blob):
            if rtype == 0 and end - start >= 4:                     # BrtRowHdr
                row = struct.unpack_from("<I", blob, start)[0]
            elif rtype in _XLSB_CELLS and end - start >= 4:
                col = struct.unpack_from("<I", blob, start)[0]
                rows, cols = max(rows, row + 1), max(cols, col + 1)
        if _too_large(rows, cols):
            layout.oversized = layout.oversized or Oversized(name, f"{column_letters(cols)}{rows}", rows, cols)
        else:
            layout.safe.add(name)


# ---------------------------------------------------------------- ods (content.xml, streamed through expat)

_T = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_O = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_X = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


class _Stop(Exception):
    pass


def _inspect_ods(content: bytes, layout: Layout) -> None:
    """Rows and cells repeat (`number-rows-repeated`, `number-columns-repeated`): calamine expands repeated
    cells that hold a value, so their repeats count; merged ranges are not given by calamine for ODS."""
    state = {"sheet": "", "row": 0, "rrep": 1, "col": 0, "cell": None, "rows": 0, "cols": 0}
    merges: dict[str, list] = {}

    def start(tag: str, attrs: dict) -> None:
        if tag == f"{_T} table":
            state.update(sheet=attrs.get(f"{_T} name", ""), row=0, rows=0, cols=0)
        elif tag == f"{_T} table-row":
            state["rrep"] = max(1, int(attrs.get(f"{_T} number-rows-repeated", "1") or 1))
            state["col"] = 0
        elif tag in (f"{_T} table-cell", f"{_T} covered-table-cell"):
            rep = max(1, int(attrs.get(f"{_T} number-columns-repeated", "1") or 1))
            valued = f"{_O} value-type" in attrs
            state["cell"] = [state["col"], rep, valued, attrs.get(f"{_T} number-rows-spanned"),
                             attrs.get(f"{_T} number-columns-spanned")]
            state["col"] += rep
        elif tag == f"{_X} p" and state["cell"] is not None:
            state["cell"][2] = True
        elif tag == f"{_T} null-date":
            layout.date1904 = attrs.get(f"{_T} date-value", "").startswith("1904-01-01")

    def end(tag: str) -> None:
        if tag in (f"{_T} table-cell", f"{_T} covered-table-cell"):
            col, rep, valued, rspan, cspan = state["cell"]
            state["cell"] = None
            if valued:
                rows, cols = state["row"] + state["rrep"], col + rep
                state["rows"], state["cols"] = max(state["rows"], rows), max(state["cols"], cols)
                if _too_large(state["rows"], state["cols"]):
                    layout.oversized = Oversized(state["sheet"], f"{column_letters(state['cols'])}{state['rows']}",
                                                 state["rows"], state["cols"])
                    raise _Stop
                rs, cs = int(rspan or 1), int(cspan or 1)
                if rs > 1 or cs > 1:
                    merges.setdefault(state["sheet"], []).append((state["row"], col, state["row"] + rs - 1, col + cs - 1))
        elif tag == f"{_T} table-row":
            state["row"] += state["rrep"]

    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(content, True)
    except _Stop:
        pass
    layout.merges = merges


# ---------------------------------------------------------------- xls

def _ole_date1904(data: bytes) -> bool:
    """The DATEMODE record of an .xls (or a WPS .et saved in that format)."""
    try:
        import xlrd
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
        try:
            return book.datemode == 1
        finally:
            book.release_resources()
    except Exception:  # noqa: BLE001 - calamine reads the file or reports it; the default is the 1900 system
        return False
