"""Look inside a workbook's container before calamine reads it: how far each sheet really reaches, which date
system it uses, its merged ranges (ODS), and the cells calamine would read as blank although they hold a formula
or an error value.

calamine builds a dense grid from the first to the last cell of a sheet: a 5 KB file with one value in XFD1048576
asks for hundreds of gigabytes and aborts the whole process, so every sheet calamine will parse is measured here
first, from the cells that hold something. What is measured is decided as calamine decides what to read: the
package relationships, the workbook's sheets and their relationships are parsed with a real XML parser (expat:
entities, character references, any namespace prefix, `>` inside attribute values, names matched by local name
as calamine matches them; no DTD, so no entity can expand) and a sheet is measured by expat too whenever the
one-search fast test cannot vouch for it. Before any of that, plain_sheets tries to vouch for all the sheets of
a workbook in one numpy pass (the usual case: then nothing else reads them). Every scan is linear in the file's
size and the formula scan gives up after SCAN_SECONDS."""

from __future__ import annotations

import io
import re
import struct
import threading
import time
import xml.parsers.expat as xml_expat
import zipfile
from dataclasses import dataclass, field
from typing import Callable

from pipeline import deflate

MAX_ROWS = 100_000
MAX_CELLS = 5_000_000          # rows x columns of the grid calamine would allocate for one sheet
SCAN_SECONDS = 10.0            # per file, for the formula scan (the extent scans are needed whole)
TOGETHER_BYTES = 8 * 1024 * 1024   # a workbook's sheets up to this size are vouched for in one pass (plain_sheets)


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
    lean: bytes | None = None  # the same workbook for calamine without the empty rows below the data (see _lean)


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


def inspect(data: bytes, wanted: Callable[[str], bool], members: list[zipfile.ZipInfo] | None = None) -> Layout:
    """The layout of a workbook held in memory; `wanted(sheet name)` says which sheets will be read;
    `members`: the zip's directory when the caller has read it already."""
    layout = Layout()
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        layout.date1904 = _ole_date1904(data)
        return layout  # BIFF sheets are at most 65,536 x 256 cells: calamine's grid stays bounded
    if data[:2] != b"PK":
        return layout
    if members is None:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = zf.infolist()
    table = _Members(members)
    # every format the container could be read as is inspected (calamine tries them in turn)
    if table.get(_office_folder(data, table) + "workbook.xml") or table.get("xl/workbook.xml"):
        _inspect_xlsx(data, table, wanted, layout)
    if table.get("xl/workbook.bin"):
        _inspect_xlsb(data, table, wanted, layout)
    content = table.get("content.xml")
    if content is not None and not layout.oversized:
        _inspect_ods(member(data, content), layout)
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


# ---------------------------------------------------------------- xlsx

# a cell with content (not self-closing), and a row; every repetition stops at the next < or >
_VALUE_CELL = re.compile(rb'<(?:\w+:)?c\b[^<>]*?\br\s*=\s*["\']([A-Za-z]{1,4})([0-9]{1,9})["\'][^<>]*(?<!/)>')
_ANY_CELL = re.compile(rb"<(?:\w+:)?c[\s/>]")
_REF_CELL = re.compile(rb"<(?:\w+:)?c\b[^<>]*?\br\s*=")
_ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^<>]*?\br\s*=\s*["\']([0-9]{1,9})["\']')
_ANY_ROW = re.compile(rb"<(?:\w+:)?row[\s/>]")
# the common spelling, found at C speed (a literal prefix): every writer we know puts r first, unprefixed, and
# writes plain attributes. Anything else is unusual: a cell or row not referenced inside the box of 50 columns x
# 99,999 rows (under MAX_CELLS and MAX_ROWS); a cell with any attribute but s and t or a value that is not a
# plain word (calamine takes a cell's last r: `<c r="A1" r="XFD1048576">` is XFD1048576); a row with a second r
# or a value holding < > & or the other quote; a prefixed element. One search each, nothing built: in the usual
# sheet there is none, and the parser measures the rest
_PLAIN_ATTRS = rb'(?:[ \t\r\n]+(?!r[ \t\r\n]*=)[A-Za-z_][\w.:-]*="[^"<>&\']*")*[ \t\r\n]*/?>'
_UNUSUAL = (re.compile(rb'<c(?=[\s>/])(?! r="(?:[A-Z]|A[A-X])[0-9]{1,5}+"(?: [st]="\w*+")*+/?>)'),  # literal
            re.compile(rb'<row(?=[\s>/])(?! r="[0-9]{1,5}"' + _PLAIN_ATTRS + rb')'),  # prefixes: sre skips to
            re.compile(rb":(?:c|row)[\s>/]"))                                         # them at C speed
# the whole pre-scan of a sheet in two searches (both C speed: the first stops only at tags, the second at a
# colon followed by a cell, row or formula name): a sheet in which neither finds anything needs no stripping
# (no comment, CDATA or processing instruction after the XML declaration), is within the limits (the fast test
# above vouches for it: every cell and row plain and in the box, nothing prefixed) and has no formula and no
# error value (no `<f`, no cell typed e). Anything found sends the sheet through the full scans below
_PLAIN_CELL = rb' r="(?:[A-Z]|A[A-X])[0-9]{1,5}+"(?: s="\w*+"| t="(?!e")\w*+")*+/?>'
_PLAIN_ROW = rb'row\b(?! r="[0-9]{1,5}"' + _PLAIN_ATTRS + rb')'
_NOT_PLAIN = (re.compile(rb'<(?:c\b(?!' + _PLAIN_CELL + rb')|' + _PLAIN_ROW + rb'|[!?]|f[\s>/])'),
              re.compile(rb":(?:c\b|row[\s>/]|f[\s>/])"))
# after a formula: the rest of the sheet still plain in shape (any t, as the fast test of sheet_extent allows)
_NOT_PLAIN_SHAPE = re.compile(rb'<(?:c\b(?! r="(?:[A-Z]|A[A-X])[0-9]{1,5}+"(?: [st]="\w*+")*+/?>)|' + _PLAIN_ROW +
                              rb'|[!?])')
# the formula scan
_FORMULA_PRESENT = re.compile(rb"<(?:\w+:)?f[\s>/]|t(?<!\wt)\s*=\s*[\"']e[\"']")  # \bt, its first bytes a set
_FORMULA_CELL = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_START = re.compile(rb"<(?:\w+:)?c\b")
_CELL = re.compile(rb"<(?:\w+:)?c\b([^<>]*?)(?:/>|>((?:[^<]|<(?!/?(?:\w+:)?c\b))*)</(?:\w+:)?c>)")
_REF = re.compile(rb'\br\s*=\s*["\']([A-Za-z]+[0-9]+)["\']')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>|<(?:\w+:)?v/>")
_ERROR_TYPE = re.compile(rb'\bt\s*=\s*["\']e["\']')
_STR_TYPE = re.compile(rb'\bt\s*=\s*["\']str["\']')


class UnsafeXML(ValueError):
    """A part declares a DTD or an entity (no spreadsheet writer does; it could expand without bound)."""


def _elements(xml: bytes) -> list[tuple[str, dict[str, str]]]:
    """Every start tag of a small XML part (workbook, relationships) as (local name, attributes by their raw
    names), parsed by expat as calamine's XML reader reads it: character references and entities resolved,
    any namespace prefix (calamine matches elements by local name), `>` inside attribute values. A DTD or an
    entity declaration is refused; a part that stops being well-formed ends the list there."""
    found: list[tuple[str, dict[str, str]]] = []
    parser = _parser()
    parser.StartElementHandler = lambda name, attrs: found.append((name.rpartition(":")[2], attrs))
    try:
        parser.Parse(xml, True)
    except xml_expat.ExpatError:
        pass  # calamine reads what came before the fault (or refuses the file): what was found is measured
    return found


def _refuse_dtd(*_args) -> None:
    raise UnsafeXML("DTD")


def _parser():
    parser = xml_expat.ParserCreate()
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = _refuse_dtd
    return parser


class _Members:
    """Zip members looked up as calamine looks them up: exactly, else by the lower-case name with / for \\;
    of several members with one name the last (as calamine's zip reader takes it), and `every` gives them all."""

    def __init__(self, infos: list) -> None:
        self.infos = infos
        self.members = {info.filename: info for info in infos}
        self.folded: dict[str, list] = {}
        for info in infos:
            self.folded.setdefault(info.filename.replace("\\", "/").lower(), []).append(info)

    def get(self, name: str):
        found = self.members.get(name)
        if found is None:
            folded = self.folded.get(name.replace("\\", "/").lower())
            found = folded[-1] if folded else None
        return found

    def every(self, name: str) -> list:
        return self.folded.get(name.replace("\\", "/").lower(), [])


def _office_folder(data: bytes, members: _Members) -> str:
    """The folder of the workbook part, from the package relationships (`xl/` in every file we know)."""
    info = members.get("_rels/.rels")
    if info is not None:
        for local, attrs in _elements(member(data, info)):
            if local == "Relationship" and attrs.get("Type", "").endswith("/relationships/officeDocument"):
                target = attrs.get("Target", "")
                return target[:target.rfind("/") + 1].lstrip("/") if "/" in target else ""
    return "xl/"


def _sheet_parts(data: bytes, table: _Members, folder: str, rels_name: str,
                 names: list[tuple[str, list[str]]] | None = None) -> list[tuple[str, list]]:
    """(sheet name, its candidate parts) for every sheet of the workbook, as calamine resolves them: the sheet's
    relationship id is any attribute whose local name is `id`, looked up in the workbook's relationships by
    `Id`; the target is taken from the package root when it starts with `/`, else from the workbook's folder;
    every member of that name is a candidate."""
    rels_info = table.get(folder + rels_name)
    targets: dict[str, str] = {}
    if rels_info is not None:
        for local, attrs in _elements(member(data, rels_info)):
            if local == "Relationship" and "Id" in attrs:
                targets[attrs["Id"]] = attrs.get("Target", "")
    out = []
    for name, ids in names or []:
        parts = []
        for rid in ids:
            target = targets.get(rid)
            if target is None:
                continue
            for info in table.every(target[1:] if target.startswith("/") else folder + target):
                if info not in parts:
                    parts.append(info)
        out.append((name, parts))
    return out


def _inspect_xlsx(data: bytes, table: _Members, wanted: Callable[[str], bool], layout: Layout) -> None:
    folder = _office_folder(data, table)
    book_info = table.get(folder + "workbook.xml") or table.get("xl/workbook.xml")
    if book_info is None:
        return
    sheets: list[tuple[str, list[str]]] = []
    for local, attrs in _elements(member(data, book_info)):
        if local == "sheet":
            ids = [v for k, v in attrs.items() if k.rpartition(":")[2] == "id"]
            sheets.append((attrs.get("name", ""), ids))
        elif local == "workbookPr":
            layout.date1904 = layout.date1904 or attrs.get("date1904") in ("1", "true")
    deadline = time.monotonic() + SCAN_SECONDS
    chosen = [(name, parts) for name, parts in _sheet_parts(data, table, folder, "_rels/workbook.xml.rels", sheets)
              if wanted(name)]
    # every sheet inflated first when they are small enough together: one pass vouches for all of them at once
    inflated: dict[int, bytes] = {}
    vouched = False
    if sum(info.file_size for _, parts in chosen for info in parts) <= TOGETHER_BYTES:
        inflated = {id(info): member(data, info) for _, parts in chosen for info in parts}
        vouched = plain_sheets(list(inflated.values()))
    for name, parts in chosen:
        rows = cols = 0
        xml = b""
        for info in parts:  # more than one only when a sheet carries several ids: every candidate is measured
            xml = inflated[id(info)] if inflated else member(data, info)
            kind = "plain" if vouched else prescan(xml)
            if kind == "plain":
                xml = b""  # in the limits, without formulas or error values: nothing more to look at
                continue
            if kind == "formulas":
                continue   # in the limits, nothing to strip: only the formula scan reads it
            xml = strip_markup(xml)
            r, c = sheet_extent(xml)
            rows, cols = max(rows, r), max(cols, c)
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
    if vouched and not layout.oversized:
        layout.lean = _lean(data, table, {info.filename: inflated[id(info)] for _, parts in chosen for info in parts})


# ---------------------------------------------------------------- the lean copy calamine reads

LEAN_MIN_SAVING = 64 * 1024   # bytes of empty rows worth a copy of the workbook without them


def _lean(data: bytes, table: _Members, sheets: dict[str, bytes]) -> bytes | None:
    """The workbook again, its vouched-for sheets stored without the empty rows after their last value.

    Templates are formatted 500 rows down, and Excel, WPS and openpyxl write each formatted empty cell
    (`<c r="A300" s="12" t="n"></c>`): in the bench's workbooks three cells in five. calamine parses every one
    of them and keeps none (a cell without a value is not in its grid), so it reads this copy in about half the
    time and gives the same cells, merged ranges and sheet names. Only sheets plain_sheets vouched for are cut
    (rows and cells written the usual way, nothing prefixed, no comments), and only after the row holding the
    last value; every other member is copied as it was, compressed. None when there is little to gain or the
    container is anything but a plain zip (duplicate names, encryption, data descriptors are all left alone)."""
    names = [info.filename for info in table.infos]
    if len(set(names)) != len(names) or any(info.flag_bits & 1 for info in table.infos):
        return None
    cut = {name: short for name, xml in sheets.items() if len(short := _without_trailing_rows(xml)) < len(xml)}
    if sum(len(sheets[n]) - len(x) for n, x in cut.items()) < LEAN_MIN_SAVING:
        return None
    out, central = [], []
    at = 0
    for info in table.infos:
        name = info.filename.encode("utf-8")
        flags = 0x800 if not info.filename.isascii() else 0
        if info.filename in cut:   # stored: calamine need not inflate it either
            body = cut[info.filename]
            method, crc, size, stored = zipfile.ZIP_STORED, deflate.crc32(body), len(body), len(body)
        else:
            start = info.header_offset
            if data[start:start + 4] != b"PK\x03\x04":
                return None
            name_len, extra_len = struct.unpack("<HH", data[start + 26:start + 30])
            begin = start + 30 + name_len + extra_len
            body = data[begin:begin + info.compress_size]
            method, crc, size, stored = info.compress_type, info.CRC, info.file_size, info.compress_size
        if size >= 0xFFFFFFFF or stored >= 0xFFFFFFFF or len(body) != stored:
            return None
        out.append(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, crc, stored, size,
                               len(name), 0) + name)
        out.append(body)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x21, crc, stored,
                                   size, len(name), 0, 0, 0, 0, 0, at) + name)
        at += 30 + len(name) + stored
    directory = b"".join(central)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), at, 0)
    return b"".join(out) + directory + end


def _without_trailing_rows(xml: bytes) -> bytes:
    """A plain sheet without the rows after the last row holding a value (<v>, <is> or <f>)."""
    end = xml.rfind(b"</sheetData>")
    if end < 0:
        return xml
    last = max(_last_tag(xml, b"<v", end), _last_tag(xml, b"<is", end), _last_tag(xml, b"<f", end))
    if last >= 0:
        cut = xml.find(b"</row>", last, end)
        if cut < 0:
            return xml
        cut += len(b"</row>")
    else:  # no value at all: every row goes
        opening = xml.find(b"<sheetData")
        cut = xml.find(b">", opening) + 1 if opening >= 0 else -1
        if cut <= 0 or cut > end:
            return xml
    return xml[:cut] + xml[end:] if end > cut else xml


def _last_tag(xml: bytes, tag: bytes, end: int) -> int:
    """xml.rfind(tag, 0, end) for a tag `<x…`, found through its first letter: a one-byte reverse search runs at
    memory speed (memrchr), CPython's search for more bytes at a fifth of it, and the empty rows below the
    data hold none of these letters as written by the usual writers. After a few letters that begin no such
    tag, the plain search from there."""
    letter, size = tag[1:2], len(tag)
    at = end - size + 2  # the letter of a tag that ends by `end` lies before this
    for _ in range(_LETTER_TRIES):
        at = xml.rfind(letter, 0, at) if at > 0 else -1
        if at <= 0:
            return -1
        if xml.startswith(tag, at - 1):
            return at - 1
    return xml.rfind(tag, 0, at - 2 + size)


_LETTER_TRIES = 16


def prescan(xml: bytes) -> str:
    """"plain" when the sheet is written exactly as the usual writers write it (see _NOT_PLAIN): then
    sheet_extent(strip_markup(xml)) is (0, 0) and formula_cells finds nothing, and neither need run;
    "formulas" when it is so written but for formula elements (and error values after the first formula): then
    strip_markup(xml) is xml and sheet_extent is (0, 0), and only formula_cells(xml) must run; "" otherwise."""
    if _NOT_PLAIN[1].search(xml) is not None:
        return ""
    found = _NOT_PLAIN[0].search(xml, 1 if xml.startswith(b"<?") else 0)  # after the XML declaration
    if found is None:
        return "plain"
    if xml[found.start() + 1] != ord("f") or _NOT_PLAIN_SHAPE.search(xml, found.start()) is not None:
        return ""
    return "formulas"


def plain_sheet(xml: bytes) -> bool:
    return prescan(xml) == "plain"


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
    """The extent as calamine reads the sheet, parsed by expat: a `c` element (any prefix) holding an element is a
    cell with content, placed at its `r` or, without one, after the previous cell in its row; a `row` moves to
    its `r` or the next row. When the XML stops being well-formed (calamine's reader is lenient and may read
    on), the counting measure below is taken too and the larger extent wins."""
    state = {"row": 0, "col": 0, "cell": None, "valued": False, "rows": 0, "cols": 0}

    def start(name: str, attrs: dict) -> None:
        local = name.rpartition(":")[2]
        if state["cell"] is not None:
            state["valued"] = True
        elif local == "row":
            ref = attrs.get("r")
            if ref is not None and ref.isdigit() and 0 < int(ref):
                state["row"] = int(ref) - 1
            state["col"] = 0
            state["rows"] = max(state["rows"], state["row"] + 1)
        elif local == "c":
            pos = _cell_position(attrs.get("r"))
            if pos is None:
                pos = (state["row"], state["col"])
            else:
                state["col"] = pos[1]
            state["cell"], state["valued"] = pos, False

    def end(name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "c" and state["cell"] is not None:
            row, col = state["cell"]
            if state["valued"]:
                state["rows"], state["cols"] = max(state["rows"], row + 1), max(state["cols"], col + 1)
            state["cell"] = None
            state["col"] = col + 1
        elif local == "row" and state["cell"] is None:
            state["row"] += 1

    parser = _parser()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        parser.Parse(xml, True)
    except xml_expat.ExpatError:
        rows, cols = _counted_extent(xml)
        refs = _ANY_REF.findall(xml)  # and every r= of any tag (a second r, an attribute the fault hid)
        rows = max([rows, state["rows"], *(int(r) for c, r in refs)])
        cols = max([cols, state["cols"], *(_column_number(c) for c, r in refs if c)])
        return rows, cols
    return state["rows"], state["cols"]


def _cell_position(ref: str | None) -> tuple[int, int] | None:
    """A1 -> (0, 0); None for anything else."""
    if not ref:
        return None
    m = _A1.fullmatch(ref.strip())
    if m is None:
        return None
    return int(m.group(2)) - 1, _column_number(m.group(1).encode()) - 1


_ANY_REF = re.compile(rb'\br\s*=\s*["\']\$?([A-Za-z]{0,4})\$?([0-9]{1,9})["\']')
_A1 = re.compile(r"\$?([A-Za-z]{1,4})\$?([0-9]{1,9})")


def _counted_extent(xml: bytes) -> tuple[int, int]:
    """Cells with content only, any attribute order, quotes or namespace prefix; rows and cells written without
    an `r` are placed after the previous ones, so they can only add to the extent (for XML expat cannot read)."""
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
    uncached, errors = [], []
    for attrs, body in _marked_cells(xml):
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


def _marked_cells(xml: bytes):
    """(attributes, body) of every cell (a _CELL match) holding a formula element or typed e, in order, read
    only where such a marker is: no _CELL match holds the start of another cell, so a cell holding a marker
    begins at the last cell start before the marker, and every _CELL match begins at a cell start. The search
    back from each marker stops at the one before it, so the whole is linear in the sheet's size."""
    start, floor, done = -1, 0, -1
    for marker in _FORMULA_PRESENT.finditer(xml):   # most sheets have none: one search, nothing else
        at = marker.start()
        pos = at
        while (pos := xml.rfind(b"<", floor, pos)) != -1:
            if _CELL_START.match(xml, pos):
                start = pos
                break
        floor = at
        if start > done:
            done = start
            cell = _CELL.match(xml, start)
            if cell is not None:
                yield cell.group(1), cell.group(2) or b""


def _uncached(attrs: bytes, body: bytes) -> bool:
    """A formula cell without a value: no <v>, or an empty one that is not a cached empty text
    (openpyxl and other scripts write `<f>…</f><v></v>`; Excel writes `t="str"` for a formula giving "")."""
    value = _VALUE.search(body)
    return value is None or (not value.group(1) and _STR_TYPE.search(attrs) is None)


# ---------------------------------------------------------------- plain_sheets: every sheet of a workbook at once

def plain_sheets(sheets: list[bytes]) -> bool:
    """True only when, for every sheet, the full scans (strip_markup, sheet_extent, formula_cells) would find it
    within the limits with no formula and no error value: then none of them need run. Written for the bench's
    cost (prescan's regexes try a match at every tag, ~1 ms a 260 KB sheet): a handful of byte searches at C
    speed per sheet, then one numpy pass over all the sheets together, each test a whole-array comparison.
    It vouches by what the full scans act on, not by spelling: the sheet has no `!` (comment, CDATA, DTD), no `?`
    but in its XML declaration, no `'`, no whitespace but spaces (then `\\s`, quotes and `<!`/`<?` need no more
    thought); no prefixed cell, row or formula element; no `<f` element; no `"e"` (an error type, whatever the
    attribute); every cell element is written `<c r="` and every row `<row r="`, and every attribute r (an `r`
    not ending a longer name, followed by `=` or a space) is one of those, its value a reference inside the box
    of 50 columns x 99,999 rows (rows: 1 to 5 digits). Anything else returns False and the sheets take the
    usual path (prescan, then the full scans)."""
    many_colons = False
    for xml in sheets:
        fit = _plain_frame(xml)
        if fit is None:
            return False
        many_colons = many_colons or fit
    import numpy as np  # here, not with the module: a reading worker starts without numpy
    # the sheets one after another in a reused buffer, 16 NUL bytes around each: no test reaches across a
    # sheet's end (every pattern holds a byte other than NUL), and memory already touched costs no page faults
    size = sum(len(xml) for xml in sheets) + 16 * (len(sheets) + 1)
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.size < size:
        buf = _scratch.buf = np.empty(size + size // 4, np.uint8)
        _scratch.masks = np.empty((5, _CHUNK + 16), bool)
    buf[:16] = 0
    at = 16
    for xml in sheets:
        buf[at:at + len(xml)] = np.frombuffer(xml, np.uint8)
        buf[at + len(xml):at + len(xml) + 16] = 0
        at += len(xml) + 16
    return _plain_bytes(buf[:size], many_colons)


_PREFIXED = (b"c ", b"c>", b"c/", b"f ", b"f>", b"f/", b"row ", b"row>", b"row/")


def _plain_frame(xml: bytes) -> bool | None:
    """The per-sheet byte searches (memchr): None when the sheet cannot be vouched for; else whether it holds so
    many colons that the prefixed-element test is left to the numpy pass."""
    end = start = 0
    if xml[:1] != b"<":
        return None  # a byte-order mark: expat would read another encoding
    if xml.startswith(b"<?"):  # the XML declaration: whitespace may follow it, before the root element
        end = xml.find(b"?>") + 2
        if end == 1 or xml.find(b"<", 1, end) != -1:
            return None
        declared = xml[:end].lower()  # another encoding would make these bytes other characters to expat
        if b"encoding" in declared and b'encoding="utf-8"' not in declared:
            return None
        start = end
        while xml[start:start + 1] in (b" ", b"\t", b"\r", b"\n"):
            start += 1
    if xml.find(b"!") != -1 or xml.find(b"'") != -1 or xml.find(b"?", end) != -1 or xml.find(b"\0") != -1:
        return None
    for blank in (b"\t", b"\n", b"\r", b"\x0b", b"\x0c"):
        if xml.find(blank, 0, end) != -1 or xml.find(blank, start) != -1:
            return None
    at, seen = xml.find(b":"), 0
    while at != -1:
        if xml.startswith(_PREFIXED, at + 1):
            return None
        seen += 1
        if seen == 64:
            return True  # Excel writes a prefixed attribute on every row: numpy tests them all at once
        at = xml.find(b":", at + 1)
    return False


_scratch = threading.local()
_CHUNK = 128 * 1024  # bytes tested at once: the chunk and its five masks stay in the core's cache


def _plain_bytes(buf, colons: bool) -> bool:
    """The numpy pass over the sheets (buf begins and ends with 16 NUL bytes), a chunk at a time; each test
    starts in its chunk and looks at most 16 bytes on."""
    import numpy as np
    n = buf.size
    masks = _scratch.masks
    words = np.ndarray((n - 7,), "<u8", buf, 0, (1,))  # the 8 bytes from each position
    count = [0, 0]  # `<c` and `<row` tags less the cells and rows written with r first
    tags = []
    for s in range(0, n - 16, _CHUNK):
        k = min(_CHUNK, n - 16 - s)
        a = buf[s:s + k + 16]
        lt, ends, r, t, u = (mask[:k + 16] for mask in masks)
        tk, uk = t[:k], u[:k]
        np.equal(a, 34, out=t)  # "e": an error type or value, whatever the attribute
        np.equal(a[1:k + 1], 101, out=uk)
        uk &= tk
        uk &= t[2:k + 2]
        if uk.any():
            return False
        np.equal(a, 60, out=lt)
        np.bitwise_and(a, 0xE0, out=t.view(np.uint8))
        np.equal(t.view(np.uint8), 0x20, out=ends)  # 0x20-0x3F: space, / and > end a name (and more: stricter)
        np.logical_and(lt[:k], ends[2:k + 2], out=uk)  # `<x` then the end of a one-letter name
        np.equal(a[1:k + 1], 102, out=tk)
        tk &= uk
        if tk.any():  # <f
            return False
        np.equal(a[1:k + 1], 99, out=tk)
        tk &= uk
        count[0] += np.count_nonzero(tk)  # <c
        np.equal(a, 114, out=r)
        np.logical_and(lt[:k], r[1:k + 1], out=uk)
        tags.append(np.flatnonzero(uk) + s)  # `<r`: few (rows, and rowBreaks, r, rPr in rich text)
        if colons:
            np.equal(a[:k], 58, out=uk)
            uk &= r[1:k + 1]
            tags.append(np.flatnonzero(uk) + s)  # `:r`: a row with a prefix is refused below
            np.equal(a[1:k + 1], 99, out=tk)
            np.equal(a[1:k + 1], 102, out=uk)
            tk |= uk
            tk &= ends[2:k + 2]
            np.equal(a[:k], 58, out=uk)
            tk &= uk
            if tk.any():  # :c, :f
                return False
        np.equal(a[1:k + 1], 61, out=tk)
        np.equal(a[1:k + 1], 32, out=uk)
        tk |= uk
        tk &= r[:k]
        pos = np.flatnonzero(tk)  # every `r=` and `r `: an attribute r, or a longer name ending in r
        pos += s
        if not _attributes(words, buf.data, pos, count):
            return False
    if tags:
        head = words[np.concatenate(tags)]
        named = (head >> 32) & 0xE0 == 0x20  # `<r` or `:r`: a row when `row` ends the name
        count[1] += np.count_nonzero(named & ((head & 0xFFFFFFFF) == _ROW))
        if colons and (named & ((head & 0xFFFFFFFF) == _COLON_ROW)).any():
            return False  # a prefixed row
    return count == [0, 0]  # every cell and row has its r first (else it is placed after the one before)


def _attributes(words, text, pos, count: list[int]) -> bool:
    """The `r=` (or `r `) at pos: each the first attribute of a cell or a row, its value a reference in the box;
    or the end of a longer name; or no reference to any scan. Counts the cells and rows written with r first."""
    import numpy as np
    for at in range(0, pos.size, _PIECE):
        some = pos[at:at + _PIECE]
        head = words[some - 5]  # the 8 bytes ending with the quote after `r=`
        is_row = head == _ROW_R
        named = is_row | ((head >> 16) == _CELL_R)
        rows = np.count_nonzero(is_row)
        count[0] -= np.count_nonzero(named) - rows
        count[1] -= rows
        if not named.all():  # the rest ends a longer name (operator=, <sheetPr ), or is no reference
            prev = ((head[~named] >> 32) & 0xFF).astype(np.uint8)
            lone = some[~named][~((((prev | 32) - 97) < 26) | ((prev - 48) < 10) | (prev == 95))]
            if lone.size > 64 or any(_ANY_REF.match(text, p) for p in lone.tolist()):
                return False  # (xmlns:r="http://…" is read as no reference by every scan)
            some, is_row = some[named], is_row[named]
        if not _references(words[some + 3], is_row):
            return False
    return True


_PIECE = 8192


def _references(v, is_row) -> bool:
    """Eight bytes after each `r="` of a cell or row, all at once (SWAR: each byte tested in the high bit of its
    lane): ASCII letters then digits up to the first quote; cells one letter, or A then A to X, and 1 to 5
    digits (A1 to AX99999); rows 1 to 5 digits. In place, in buffers kept from call to call: fresh temporaries
    cost page faults each time (the allocator hands their pages back)."""
    import numpy as np
    work = getattr(_scratch, "lanes", None)
    if work is None:
        work = _scratch.lanes = (np.empty((5, _PIECE), np.uint64), np.empty((3, _PIECE), bool))
    k = v.size
    quote, marks, low, upper, t = (row[:k] for row in work[0])
    ok, yes, no = (row[:k] for row in work[1])
    np.bitwise_xor(v, _QUOTES, out=t)
    np.bitwise_and(t, _LOW7, out=quote)
    quote += _LOW7
    quote |= t
    np.invert(quote, out=quote)
    quote &= _HIGH                         # the quote lanes
    np.invert(quote, out=marks)
    marks += 1
    marks &= quote                         # the first of them
    marks >>= 7
    marks -= 1
    marks &= _HIGH                         # the lanes before it (all lanes when there is none)
    np.bitwise_and(v, _LOW7, out=low)
    np.add(low, _GE_A, out=upper)
    np.add(low, _GT_Z, out=t)
    np.invert(t, out=t)
    upper &= t
    upper &= marks                         # letters
    np.add(low, _GE_0, out=quote)
    np.add(low, _GT_9, out=t)
    np.invert(t, out=t)
    quote &= t
    quote &= marks
    quote |= upper                         # letters and digits
    np.equal(quote, marks, out=ok)
    np.bitwise_and(v, marks, out=t)
    np.equal(t, 0, out=yes)                # ASCII
    ok &= yes
    # letters first: none (rows), the first lane, or the first two (A, then A to X); then 1 to 5 digit lanes
    np.left_shift(upper, 8, out=t)
    t |= _L1
    np.greater_equal(marks, t, out=yes)
    ok &= yes
    np.left_shift(upper, 40, out=t)
    t |= _FIVE_LANES
    np.less_equal(marks, t, out=yes)
    ok &= yes
    np.bitwise_and(v, _AX_MASK, out=t)
    np.less_equal(t, _AX, out=no)          # A then at most X (the first letter is tested next)
    np.bitwise_and(v, 0xFF, out=t)
    np.equal(t, 65, out=yes)
    no &= yes
    np.equal(upper, _L2, out=yes)
    no &= yes
    np.equal(upper, _L1, out=yes)
    yes |= no                              # a cell's letters
    np.equal(upper, 0, out=no)             # a row's: none
    np.copyto(yes, no, where=is_row)
    ok &= yes
    return bool(ok.all())


def _lanes(byte: int) -> int:
    return byte * 0x0101010101010101


# plain ints, not numpy scalars: numpy is imported only when a workbook is read (a worker starts without it)
_ROW_R = int.from_bytes(b'<row r="', "little")
_CELL_R = int.from_bytes(b'<c r="', "little")
_ROW, _COLON_ROW = int.from_bytes(b"<row", "little"), int.from_bytes(b":row", "little")
_LOW7, _HIGH, _QUOTES = _lanes(0x7F), _lanes(0x80), _lanes(0x22)
_GE_0, _GT_9, _GE_A, _GT_Z = _lanes(0x80 - 0x30), _lanes(0x80 - 0x3A), _lanes(0x80 - 0x41), _lanes(0x80 - 0x5B)
_L1, _L2, _FIVE_LANES = 0x80, 0x8080, 0x8080808080
_AX_MASK, _AX = 0xFFFF, 0x5841  # A then X: the second letter at most X


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


def _inspect_xlsb(data: bytes, table: _Members, wanted: Callable[[str], bool], layout: Layout) -> None:
    book = member(data, table.get("xl/workbook.bin"))
    sheets = []
    for rtype, start, end in _records(book):
        if rtype == 153 and end > start:      # BrtWbProp: bit 0 of its flags is the 1904 date system
            layout.date1904 = bool(book[start] & 1)
        elif rtype == 156:                    # BrtBundleSh: state, tab id, relationship id, name
            rid, at = _wide(book, start + 8)
            name, _ = _wide(book, at)
            sheets.append((name, rid))
    for name, parts in _sheet_parts(data, table, "xl/", "_rels/workbook.bin.rels",
                                    [(name, [rid]) for name, rid in sheets]):
        if not parts or not wanted(name):
            continue
        rows = cols = 0
        for info in parts:
            blob = member(data, info)
            row = 0
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

    parser = xml_expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = _refuse_dtd
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
