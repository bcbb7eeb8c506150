"""GB/T 9704-2012 layout for any python-docx (or docxtpl) document, and the block writer the Word outputs use.

API (all take a ``docx.Document`` or its parts; each is idempotent)
---------------------------------------------------------------------
``page_setup(doc)``            A4, margins 37/35/28/26 mm (type area 156 × 225 mm), a ``docGrid`` of
                               22 lines × 28 characters (``linesAndChars``, linePitch 579, charSpace).
``official_styles(doc)``       the styles 公文标题 (2号方正小标宋), 一级标题 (3号黑体), 二级标题 (3号楷体),
                               三级标题 / Normal (3号仿宋), 落款, 附件标识, 附件说明, 表格文字, 表头文字, 页码,
                               占位符 (a shaded character style for template placeholders); headings keep
                               with the next paragraph; fonts set by ``set_fonts``.
``set_fonts(element, east_asia, latin="Times New Roman")``  rFonts ascii/hAnsi/cs + eastAsia, ``w:hint="eastAsia"``
                               (so “” ‘’ take the Chinese font) and ``w:lang w:eastAsia="zh-CN"``.
``theme_fonts(doc)``           theme major/minor fonts and docDefaults set to the Chinese fonts; the foreign
                               script fonts of the default theme removed (no 缺失字体 prompt in WPS).
``page_numbers(doc)``          footer ``— n —`` in 4号宋体, odd pages right, even pages left, one character in.
``properties(doc, title, author)``  core properties from the unit, python-docx defaults cleared; the blank
                               thumbnail of python-docx's default template removed.
``title_lines(title, words=(), keep=(), max_width=18)``  a title broken at word boundaries into lines of a
                               trapezoid/diamond shape (never a line of one or two characters).
``cant_split(table)`` / ``table_widths(table, widths_mm)`` / ``repeat_header(row)``  table rows never split,
                               fixed widths inside the type area (156 mm).
``text_width(text)``           printed width in characters (ASCII counts a half).
``BlockWriter(doc)``           composes a document into a template: ``.at(anchor)`` then ``.para(text, style,
                               keep_next=…)``, ``.table(...)``, ``.blank()``; used by the 自查报告, 实施方案 and
                               内部提示 writers (and open to others).
``finalize(doc, title, author)``  everything above that a finished document needs, in one call.
"""

from __future__ import annotations

import re
from copy import deepcopy
from typing import Iterable, Sequence

from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from pipeline.documents.text import finish, strip_controls

FANGSONG, HEITI, KAITI, XBS, SONG = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
LATIN = "Times New Roman"
LINE = Pt(28.95)      # 22 lines in the 225 mm type area
LINE_PITCH = 579      # twips, = 28.95 pt
BODY = Pt(16)         # 3号
TITLE = Pt(22)        # 2号
PAGE_NO = Pt(14)      # 4号
TABLE = Pt(12)        # 小4号
TYPE_WIDTH_MM = 156
CHARS_PER_LINE = 28
GRID_BASE = Pt(15.5)  # docDefaults size: the grid's base character width
CONDENSE = -5         # twentieths of a point: 16 pt characters advance 15.75 pt, 28 to the 156 mm line

HEADING_STYLES = ("公文标题", "一级标题", "二级标题", "附件标识")


# ---------------------------------------------------------------- schema order
_ORDER = {
    "rPr": ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
            "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w",
            "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign",
            "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath"],
    "pPr": ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
            "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
            "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
            "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
            "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"],
    "tblPr": ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
              "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook"],
    "tcPr": ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
             "textDirection", "tcFitText", "vAlign", "hideMark"],
    "trPr": ["cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit", "trHeight",
             "tblHeader", "tblCellSpacing", "jc", "hidden", "ins", "del", "trPrChange"],
}


def child(parent, tag: str):
    """The w:<tag> child of a property element, created in its schema position if missing."""
    el = parent.find(qn(f"w:{tag}"))
    if el is not None:
        return el
    el = OxmlElement(f"w:{tag}")
    order = _ORDER[parent.tag.split("}")[1]]
    later = order[order.index(tag) + 1:]
    for c in parent:
        if c.tag.split("}")[1] in later:
            c.addprevious(el)
            return el
    parent.append(el)
    return el


# ---------------------------------------------------------------- page
def page_setup(doc) -> None:
    for sec in doc.sections:
        sec.page_width, sec.page_height = Mm(210), Mm(297)
        sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
        sec.left_margin, sec.right_margin = Mm(28), Mm(26)
        sec.header_distance, sec.footer_distance = Mm(15), Mm(25)
        sect = sec._sectPr
        grid = sect.find(qn("w:docGrid"))
        if grid is None:
            grid = OxmlElement("w:docGrid")
            sect.append(grid)
        pitch_pt = TYPE_WIDTH_MM / 25.4 * 72 / CHARS_PER_LINE
        grid.set(qn("w:type"), "linesAndChars")
        grid.set(qn("w:linePitch"), str(LINE_PITCH))
        # the pitch is reckoned from the default font size (GRID_BASE): 15.5 pt + charSpace/4096 = 15.8 pt
        # (a pitch below the font size makes LibreOffice give every character two cells, 14 to a line)
        grid.set(qn("w:charSpace"), str(round((pitch_pt - GRID_BASE.pt) * 4096)))


# ---------------------------------------------------------------- fonts
def set_fonts(owner, east_asia: str, latin: str = LATIN) -> None:
    """Fonts on a style or run element (anything with get_or_add_rPr)."""
    _name_fonts(owner.get_or_add_rPr(), east_asia, latin, lambda attr: "Theme" in attr)


def _name_fonts(rpr, east_asia: str, latin: str, drop) -> None:
    """rFonts naming the Chinese and Latin fonts (the attributes `drop` picks removed first), and the languages."""
    fonts = child(rpr, "rFonts")
    for attr in list(fonts.attrib):
        if drop(attr):
            del fonts.attrib[attr]
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:hint"), "eastAsia")
    _lang(rpr)


def _lang(rpr) -> None:
    lang = child(rpr, "lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def theme_fonts(doc) -> None:
    """Theme and document defaults name the Chinese fonts only."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None:
            rpr = rpr_default.find(qn("w:rPr"))
            if rpr is not None:
                _name_fonts(rpr, FANGSONG, LATIN, lambda attr: True)
                _size(rpr, GRID_BASE)  # the grid's character pitch is reckoned from the default size
        ppr_default = defaults.find(qn("w:pPrDefault"))
        if ppr_default is not None:
            ppr = ppr_default.find(qn("w:pPr"))
            spacing = ppr.find(qn("w:spacing")) if ppr is not None else None
            if spacing is not None:
                ppr.remove(spacing)
    for part in doc.part.package.iter_parts():
        if str(part.partname).startswith("/word/theme/"):
            xml = part.blob.decode("utf-8")
            xml = re.sub(r"\s*<a:font script=\"[^\"]*\" typeface=\"[^\"]*\"/>", "", xml)
            for block, ea in (("majorFont", HEITI), ("minorFont", SONG)):
                def fix(m, ea=ea):
                    body = m.group(2)
                    body = re.sub(r'<a:latin typeface="[^"]*"', f'<a:latin typeface="{LATIN}"', body)
                    body = re.sub(r'<a:ea typeface="[^"]*"', f'<a:ea typeface="{ea}"', body)
                    body = re.sub(r'<a:cs typeface="[^"]*"', f'<a:cs typeface="{LATIN}"', body)
                    return f"{m.group(1)}{body}<a:font script=\"Hans\" typeface=\"{ea}\"/>{m.group(3)}"
                xml = re.sub(rf"(<a:{block}>)(.*?)(</a:{block}>)", fix, xml, flags=re.S)
            part._blob = xml.encode("utf-8")


def _size(rpr, size) -> None:
    for tag in ("sz", "szCs"):
        child(rpr, tag).set(qn("w:val"), str(int(size.pt * 2)))


def style(doc, name: str, font: str, size, *, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True,
          exact: bool = True, bold: bool = False, keep_next: bool = False, grid: bool = False):
    """A paragraph style of the official layout (created if missing)."""
    try:
        st = doc.styles[name]
    except KeyError:
        st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = doc.styles["Normal"]
        st.quick_style = True
    st.font.size, st.font.bold = size, bold
    set_fonts(st.element, font)
    pf = st.paragraph_format
    pf.alignment = align
    pf.space_before = pf.space_after = Pt(0)
    pf.keep_with_next = keep_next or None
    pf.widow_control = True
    if exact:
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.EXACTLY, LINE
    else:
        pf.line_spacing_rule, pf.line_spacing = WD_LINE_SPACING.SINGLE, 1.0
    ppr = st.element.get_or_add_pPr()
    ind = child(ppr, "ind")
    child(ppr, "snapToGrid").set(qn("w:val"), "1" if grid else "0")
    chars = "200" if indent else "0"
    ind.set(qn("w:firstLineChars"), chars)
    ind.set(qn("w:firstLine"), str(int(size.pt * 2 * 20)) if indent else "0")
    return st


def official_styles(doc) -> None:
    # text is not snapped to the grid's cells (LibreOffice would widen every run of digits to whole
    # cells); condensed characters give the grid's 28 to a line in Word, WPS and LibreOffice alike
    normal = style(doc, "Normal", FANGSONG, BODY, grid=False)
    child(normal.element.get_or_add_rPr(), "spacing").set(qn("w:val"), str(CONDENSE))
    style(doc, "公文标题", XBS, TITLE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, keep_next=True, grid=False)
    style(doc, "一级标题", HEITI, BODY, keep_next=True)
    style(doc, "二级标题", KAITI, BODY, keep_next=True)
    style(doc, "三级标题", FANGSONG, BODY)
    style(doc, "落款", FANGSONG, BODY, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    style(doc, "附件说明", FANGSONG, BODY, keep_next=True)
    style(doc, "附件标识", HEITI, BODY, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, keep_next=True)
    style(doc, "表格文字", FANGSONG, TABLE, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, exact=False, grid=False)
    style(doc, "表头文字", HEITI, TABLE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=False, grid=False)
    style(doc, "页码", SONG, PAGE_NO, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, exact=False, grid=False)
    try:
        ph = doc.styles["占位符"]
    except KeyError:
        ph = doc.styles.add_style("占位符", WD_STYLE_TYPE.CHARACTER)
    ph.font.color.rgb = None
    shd = child(ph.element.get_or_add_rPr(), "shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), "D9E2F3")


# ---------------------------------------------------------------- footer, properties
def page_numbers(doc) -> None:
    """`— n —` in 4号宋体: odd pages on the right, even pages on the left (GB/T 9704 7.5)."""
    doc.settings.odd_and_even_pages_header_footer = True
    for sec in doc.sections:
        for footer, align in ((sec.footer, WD_ALIGN_PARAGRAPH.RIGHT), (sec.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            for extra in footer.paragraphs[1:]:
                extra._p.getparent().remove(extra._p)
            for r in list(p._p):
                if r.tag != qn("w:pPr"):
                    p._p.remove(r)
            p.style = doc.styles["页码"]
            p.alignment = align
            p.paragraph_format.left_indent = PAGE_NO if align == WD_ALIGN_PARAGRAPH.LEFT else None
            p.paragraph_format.right_indent = PAGE_NO if align == WD_ALIGN_PARAGRAPH.RIGHT else None
            _song(p.add_run("— "))
            _field(p, "PAGE")
            _song(p.add_run(" —"))


def _song(run):
    set_fonts(run._r, SONG, SONG)
    return run


def _field(paragraph, code: str) -> None:
    begin = _song(paragraph.add_run())
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), "begin")
    begin._r.append(el)
    instr = _song(paragraph.add_run())
    it = OxmlElement("w:instrText")
    it.set(qn("xml:space"), "preserve")
    it.text = f" {code} "
    instr._r.append(it)
    sep = _song(paragraph.add_run())
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), "separate")
    sep._r.append(el)
    _song(paragraph.add_run("1"))
    end = _song(paragraph.add_run())
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), "end")
    end._r.append(el)


def properties(doc, title: str, author: str) -> None:
    cp = doc.core_properties
    title, author = strip_controls(title), strip_controls(author)
    cp.title, cp.author, cp.last_modified_by = title, author, author
    cp.subject, cp.keywords, cp.comments, cp.category = "", "", "", ""
    cp.revision = 1
    pkg = doc.part.package
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            pkg.rels.pop(rid)


# ---------------------------------------------------------------- tables
def cant_split(table) -> None:
    for row in table.rows:
        child(row._tr.get_or_add_trPr(), "cantSplit")


def repeat_header(row) -> None:
    child(row._tr.get_or_add_trPr(), "tblHeader")


def table_widths(table, widths_mm: Sequence[float], grid=None) -> None:
    """Fixed column widths (their sum kept within the type area) and a fixed layout."""
    total = sum(widths_mm)
    if total > TYPE_WIDTH_MM:
        widths_mm = [w * TYPE_WIDTH_MM / total for w in widths_mm]
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    tbl_pr = table._tbl.tblPr
    tbl_w = child(tbl_pr, "tblW")
    tbl_w.set(qn("w:w"), str(int(Mm(sum(widths_mm)).twips)))
    tbl_w.set(qn("w:type"), "dxa")
    child(tbl_pr, "tblLayout").set(qn("w:type"), "fixed")
    lengths = [Mm(w) for w in widths_mm]
    for col, w in zip(table._tbl.tblGrid.gridCol_lst, lengths):
        col.w = w
    for tr in table._tbl.tr_lst:
        for tc, w in zip(tr.tc_lst, lengths):
            tc.width = w


# ---------------------------------------------------------------- titles
def text_width(text: str) -> float:
    return sum(0.5 if ord(ch) < 0x2000 else 1 for ch in text)


def _segments(title: str, words: Iterable[str], keep: Iterable[str]) -> list[str]:
    """Longest-match segmentation by the given words (``keep`` are never cut); digits+年 stay together."""
    vocab = sorted({w for w in (*keep, *words) if w}, key=len, reverse=True)
    out, i, pending = [], 0, ""
    while i < len(title):
        m = re.match(r"\d+年(度)?|[A-Za-z0-9]+", title[i:])
        word = m.group(0) if m else next((w for w in vocab if title.startswith(w, i)), None)
        if word:
            if pending:
                out.append(pending)
                pending = ""
            out.append(word)
            i += len(word)
        else:
            pending += title[i]
            i += 1
    if pending:
        out.append(pending)
    # single unknown characters are glued to their neighbour (所以 never one character alone)
    merged: list[str] = []
    for seg in out:
        if merged and (len(seg) == 1 or len(merged[-1]) == 1) and not re.match(r"\d", seg):
            merged[-1] += seg
        else:
            merged.append(seg)
    return merged


def title_lines(title: str, words: Iterable[str] = (), keep: Iterable[str] = (), max_width: float = 18) -> list[str]:
    """Lines at word boundaries, fewest lines, in a trapezoid (2 lines) or diamond (3 lines) shape."""
    if text_width(title) <= max_width:
        return [title]
    segs = _segments(title, words, keep)
    n = len(segs)
    best: tuple | None = None
    for lines in (2, 3, 4):
        for cuts in _combinations(range(1, n), lines - 1):
            bounds = (0, *cuts, n)
            parts = ["".join(segs[a:b]) for a, b in zip(bounds, bounds[1:])]
            widths = [text_width(p) for p in parts]
            if max(widths) > max_width or min(widths) < 3:
                continue
            shape_ok = lines == 2 or (lines == 3 and widths[1] >= max(widths[0], widths[2]) - 1) or lines > 3
            # a line that ends with the unit's name (a `keep` word) reads best: 单位名 / 事由
            after_keep = all(any(p.endswith(k) or p.endswith(k + y) for k in keep if k
                                 for y in ("", *re.findall(r"\d+年", title))) for p in parts[:1])
            score = (0 if shape_ok else 1, 0 if after_keep else 1, max(widths) - min(widths))
            if best is None or score < best[0]:
                best = (score, parts)
        if best is not None:
            return best[1]
    return [title]


def _combinations(pool, k):
    from itertools import combinations
    return combinations(pool, k)


# ---------------------------------------------------------------- composing
class BlockWriter:
    """Writes generated paragraphs and tables where a template's placeholder paragraph stands."""

    def __init__(self, doc, styles: dict | None = None):
        self.doc = doc
        self.styles = {} if styles is None else styles   # style name -> (id, size); share it across blocks
        self.anchor = None
        self.keep_before = False  # keep_previous asked with nothing before the anchor here
        self.looks: dict[tuple, object] = {}  # a paragraph's options -> the w:pPr they gave (copied for the next)

    def at(self, anchor) -> "BlockWriter":
        self.anchor = anchor
        return self

    def para(self, text: str = "", style: str = "Normal", *, keep_next: bool = False, page_break: bool = False,
             align=None, right_indent_chars: float | None = None, left_indent_chars: float | None = None,
             first_indent_chars: float | None = None):
        style_id, size = self._style(style)
        look = (style_id, keep_next, page_break, align, right_indent_chars, left_indent_chars, first_indent_chars)
        known = self.looks.get(look)
        if known is not None:  # properties as an earlier paragraph's: copied (python-docx sets each in turn)
            p_el = OxmlElement("w:p")
            self.anchor._p.addprevious(p_el)
            p_el.append(deepcopy(known))
            p = Paragraph(p_el, self.anchor._parent)
        else:
            p = self.anchor.insert_paragraph_before()
            p._p.style = style_id   # None for the default style, as python-docx's own setter does
        self._runs(p, text)
        if known is not None:
            return p
        pf = p.paragraph_format
        if keep_next:
            pf.keep_with_next = True
        if page_break:
            pf.page_break_before = True
        if align is not None:
            pf.alignment = align
        if right_indent_chars is not None:
            pf.right_indent = Pt(size.pt * right_indent_chars)
        if left_indent_chars is not None:
            pf.left_indent = Pt(size.pt * left_indent_chars)
        if first_indent_chars is not None:
            ind = p._p.get_or_add_pPr().get_or_add_ind()
            ind.set(qn("w:firstLineChars"), str(int(first_indent_chars * 100)))
            ind.set(qn("w:firstLine"), str(int(size.pt * first_indent_chars * 20)))
        if p._p.pPr is not None:
            self.looks[look] = deepcopy(p._p.pPr)
        return p

    @staticmethod
    def _runs(p, text: str) -> None:
        for i, line in enumerate(finish(text).split("\n")):
            if i:
                p.add_run().add_break()
            if line:
                if "\t" in line or "\r" in line:
                    r = p.add_run(line)._r
                else:  # what add_run writes for plain text (one w:t), without its character-by-character pass
                    r = p._p.add_r()
                    r.add_t(line)
                child(r.get_or_add_rPr(), "rFonts").set(qn("w:hint"), "eastAsia")

    def _style(self, name: str):
        """(style id or None for the default paragraph style, font size) of a style, looked up once: python-docx
        scans every style for the default on each lookup (milliseconds a paragraph in a long document)."""
        if name not in self.styles:
            st = self.doc.styles[name]
            self.styles[name] = (self.doc.part.get_style_id(st, WD_STYLE_TYPE.PARAGRAPH), st.font.size or BODY)
        return self.styles[name]

    def keep_previous(self) -> None:
        """Keep the paragraph before the anchor with what follows (no signature alone on a page)."""
        prev = self.anchor._p.getprevious()
        while prev is not None and prev.tag != qn("w:p"):
            prev = prev.getprevious()
        if prev is not None:
            child(prev.get_or_add_pPr(), "keepNext")
        else:
            self.keep_before = True  # a subdocument's first block: the template's paragraph, see compose

    def blank(self, n: int = 1, keep_next: bool = False) -> None:
        for _ in range(n):
            self.para("", keep_next=keep_next)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], widths_mm: Sequence[float],
              merge_columns: Sequence[int] = (), center_columns: Sequence[int] = ()):
        """A bordered table before the anchor: header repeated on every page, rows never split, equal
        values of the ``merge_columns`` merged vertically (a new run of column 0 restarts column 1…).
        Cells are reached through the XML once (python-docx's cell() walks the whole grid per call)."""
        t = self.doc.add_table(rows=1 + len(rows), cols=len(headers))
        try:
            t.style = self.doc.styles["Table Grid"]
        except KeyError:
            pass
        head_id, body_id = self.doc.styles["表头文字"].style_id, self.doc.styles["表格文字"].style_id
        grid = [[_Cell(tc, t) for tc in tr.tc_lst] for tr in t._tbl.tr_lst]
        for cell, h in zip(grid[0], headers):
            p = cell.paragraphs[0]
            p._p.style = head_id
            p.add_run(finish(h))
        repeat_header(t.rows[0])
        for cells, values in zip(grid[1:], rows):
            for c, (cell, v) in enumerate(zip(cells, values)):
                p = cell.paragraphs[0]
                p._p.style = body_id
                if c in center_columns:
                    child(p._p.get_or_add_pPr(), "jc").set(qn("w:val"), "center")
                for i, line in enumerate(finish(v).split("\n")):
                    if i:
                        p.add_run().add_break()
                    p.add_run(line)
        for c in merge_columns:  # a run of column c restarts when an earlier merged column changes
            key_cols = [m for m in merge_columns if m <= c]
            _merge_runs(grid, c, [[rows[i][m] for m in key_cols] for i in range(len(rows))])
        table_widths(t, widths_mm, grid)
        cant_split(t)
        for cells in grid[-3:-1] if len(grid) > 4 else []:  # no last row alone on a page
            for cell in cells:
                for p in cell._tc.p_lst:
                    child(p.get_or_add_pPr(), "keepNext")
        _borders(t)
        self.anchor._p.addprevious(t._tbl)
        return t

    def remove_anchor(self) -> None:
        self.anchor._p.getparent().remove(self.anchor._p)
        self.anchor = None


def _merge_runs(grid, col: int, keys: list) -> None:
    """Vertical merge (w:vMerge) of consecutive body rows with the same key; continued cells emptied."""
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            if i - start > 1:
                child(grid[start + 1][col]._tc.get_or_add_tcPr(), "vMerge").set(qn("w:val"), "restart")
                for j in range(start + 2, i + 1):
                    tc = grid[j][col]._tc
                    child(tc.get_or_add_tcPr(), "vMerge")
                    for p in tc.p_lst:
                        for r in p.r_lst:
                            p.remove(r)
            start = i


def _borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    if tbl_pr.find(qn("w:tblBorders")) is not None:
        return
    borders = child(tbl_pr, "tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)


def finalize(doc, title: str, author: str) -> None:
    """Page, fonts, theme, page numbers and properties: what every finished document needs."""
    page_setup(doc)
    official_styles(doc)
    theme_fonts(doc)
    page_numbers(doc)
    properties(doc, title, author)


def signature_indents(name: str, date: str, right_chars: float = 4) -> tuple[float, float]:
    """Right indents (in characters) that centre the signature over a date set 4 characters from the right."""
    offset = (text_width(date) - text_width(name)) / 2
    return max(0.0, right_chars + offset), right_chars


__all__ = ["page_setup", "official_styles", "set_fonts", "theme_fonts", "page_numbers", "properties",
           "title_lines", "cant_split", "repeat_header", "table_widths", "text_width", "BlockWriter", "finalize",
           "signature_indents"]
