"""A small streaming Word (.docx) writer for the archive's many generated pages.

The archive writes one 活动记录单 per activity and a 目录 with one row per material: tens of thousands of
documents at city scale, where python-docx costs tens of milliseconds each. These documents are plain (titles,
paragraphs, tables, photos), so their WordprocessingML is written here directly, A4 with the GB/T 9704 margins.
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path
from typing import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape

from pipeline import deflate
from pipeline.atomic import atomic_path
from pipeline.documents import official
from pipeline.documents.text import strip_controls
from pipeline.intake.values import clean_text

EMU_PER_CM = 360000
TITLE_FONT, BODY_FONT, HEAD_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体"
PAGE_W, PAGE_H = 11906, 16838            # A4 in twentieths of a point
MARGINS = (2098, 1984, 1588, 1474)       # top 37 mm, bottom 35 mm, left 28 mm, right 26 mm
TEXT_W = PAGE_W - MARGINS[2] - MARGINS[3]

_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                  '<Default Extension="xml" ContentType="application/xml"/>'
                  '<Default Extension="jpeg" ContentType="image/jpeg"/><Default Extension="png" ContentType="image/png"/>'
                  '<Default Extension="gif" ContentType="image/gif"/><Default Extension="bmp" ContentType="image/bmp"/>'
                  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                  '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
                  '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
         '</Relationships>')
_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults>'
           f'<w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="{BODY_FONT}"/>'
           '<w:sz w:val="32"/><w:szCs w:val="32"/><w:lang w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault>'
           '<w:pPrDefault><w:pPr><w:spacing w:line="560" w:lineRule="exact"/></w:pPr></w:pPrDefault></w:docDefaults>'
           '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>'
           '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
           '<w:tblPr><w:tblCellMar><w:left w:w="80" w:type="dxa"/><w:right w:w="80" w:type="dxa"/></w:tblCellMar>'
           '</w:tblPr></w:style></w:styles>')
_NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
       'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
       'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
       'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"')


def text(value) -> str:
    return escape(official.apply(strip_controls(clean_text("" if value is None else str(value)))))  # as every output


def run(value, size: int = 32, bold: bool = False, font: str | None = None, color: str | None = None) -> str:
    """One run; size in half-points (32 = 三号, 28 = 四号, 24 = 小四, 21 = 五号)."""
    fonts = f'<w:rFonts w:eastAsia="{font}"/>' if font else ""
    props = (fonts + ("<w:b/>" if bold else "") + (f'<w:color w:val="{color}"/>' if color else "")
             + f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>')
    lines = str("" if value is None else value).split("\n")
    body = '<w:br/>'.join(f'<w:t xml:space="preserve">{text(line)}</w:t>' for line in lines)
    return f"<w:r><w:rPr>{props}</w:rPr>{body}</w:r>"


def para(content: str | Sequence[str] = "", align: str | None = None, line: int | None = 560,
         before: int = 0, after: int = 0, indent: bool = False, keep: bool = False, **run_args) -> str:
    """A paragraph of one run of text (or of ready runs when content is a list)."""
    runs = "".join(content) if isinstance(content, (list, tuple)) else run(content, **run_args)
    ppr = ""
    if keep:
        ppr += "<w:keepNext/>"
    spacing = f'<w:spacing w:before="{before}" w:after="{after}"' + (
        f' w:line="{line}" w:lineRule="exact"/>' if line else ' w:line="240" w:lineRule="auto"/>')
    ppr += spacing
    if indent:
        ppr += '<w:ind w:firstLineChars="200" w:firstLine="640"/>'
    if align:
        ppr += f'<w:jc w:val="{align}"/>'
    return f"<w:p><w:pPr>{ppr}</w:pPr>{runs}</w:p>"


@functools.lru_cache(maxsize=256)
def title(value: str) -> str:
    return para(value, align="center", size=44, font=TITLE_FONT, line=700, after=200)


def table(rows: Iterable[Sequence], widths: Sequence[int], header: Sequence[str] | None = None, size: int = 24,
          label_col: bool = False) -> str:
    """A bordered table (widths in twentieths of a point); the header row repeats on every page."""
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    border = "".join(f'<w:{s} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                     for s in ("top", "left", "bottom", "right", "insideH", "insideV"))
    out = [f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>'
           f'<w:tblBorders>{border}</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>']
    if header:
        out.append(_row(header, widths, size, bold=True, head=True))
    for r in rows:
        out.append(_row(r, widths, size, label=label_col))
    out.append("</w:tbl>")
    return "".join(out)


def plain_table(rows: Iterable[Sequence], widths: Sequence[int], header: Sequence[str], size: int = 18) -> Iterator[str]:
    """table() for many rows of plain text (a 目录): each cell's XML around its text is built once per column."""
    head = table((), widths, header, size)
    yield head[: -len("</w:tbl>")]
    cells = []
    for w in widths:
        before = (f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                  f'<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
                  f'<w:r><w:rPr><w:sz w:val="{size}"/><w:szCs w:val="{size}"/></w:rPr><w:t xml:space="preserve">')
        cells.append(before)
    after = "</w:t></w:r></w:p></w:tc>"
    for r in rows:
        yield "<w:tr><w:trPr><w:cantSplit/></w:trPr>" + "".join(
            c + text(v) + after for c, v in zip(cells, r)) + "</w:tr>"
    yield "</w:tbl>"


def _row(values: Sequence, widths: Sequence[int], size: int, bold: bool = False, head: bool = False,
         label: bool = False) -> str:
    cells = []
    for c, (v, w) in enumerate(zip(values, widths)):
        is_label = bold or (label and c % 2 == 0)
        if is_label and isinstance(v, str):
            cells.append(_label_cell(v, w, size, bold))   # the same few labels on every page: built once
            continue
        content = v if isinstance(v, str) and v.startswith("<w:p>") else para(
            v, align="center" if bold else None, line=None, size=size, bold=is_label,
            font=HEAD_FONT if bold else None)
        cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>{content}</w:tc>')
    trpr = "<w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>" if head else "<w:trPr><w:cantSplit/></w:trPr>"
    return f"<w:tr>{trpr}{''.join(cells)}</w:tr>"


@functools.lru_cache(maxsize=1024)
def _label_cell(v: str, w: int, size: int, bold: bool) -> str:
    content = v if v.startswith("<w:p>") else para(v, align="center" if bold else None, line=None, size=size,
                                                   bold=True, font=HEAD_FONT if bold else None)
    return f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>{content}</w:tc>'


def image(rid: str, n: int, width_cm: float, height_cm: float, name: str = "照片") -> str:
    """An inline picture run."""
    cx, cy = int(width_cm * EMU_PER_CM), int(height_cm * EMU_PER_CM)
    return (f'<w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{cx}" cy="{cy}"/>'
            f'<wp:docPr id="{n}" name="{escape(strip_controls(name))}"/><a:graphic><a:graphicData '
            f'uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr>'
            f'<pic:cNvPr id="{n}" name="{escape(strip_controls(name))}"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill>'
            f'<a:blip r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr>'
            f'<a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect">'
            f'<a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r>')


def _section(landscape: bool) -> str:
    w, h = (PAGE_H, PAGE_W) if landscape else (PAGE_W, PAGE_H)
    top, bottom, left, right = MARGINS
    orient = ' w:orient="landscape"' if landscape else ""
    return (f'<w:sectPr><w:footerReference w:type="default" r:id="rIdFooter"/>'
            f'<w:pgSz w:w="{w}" w:h="{h}"{orient}/><w:pgMar w:top="{top}" w:right="{right}" '
            f'w:bottom="{bottom}" w:left="{left}" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr>')


_FOOTER = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:pPr><w:jc w:val="center"/>'
           '</w:pPr><w:r><w:rPr><w:sz w:val="28"/></w:rPr><w:t xml:space="preserve">— </w:t></w:r>'
           '<w:r><w:rPr><w:sz w:val="28"/></w:rPr><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:rPr><w:sz w:val="28"/></w:rPr>'
           '<w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:rPr><w:sz w:val="28"/></w:rPr>'
           '<w:fldChar w:fldCharType="separate"/></w:r><w:r><w:rPr><w:sz w:val="28"/></w:rPr><w:t>1</w:t></w:r>'
           '<w:r><w:rPr><w:sz w:val="28"/></w:rPr><w:fldChar w:fldCharType="end"/></w:r>'
           '<w:r><w:rPr><w:sz w:val="28"/></w:rPr><w:t xml:space="preserve"> —</w:t></w:r></w:p></w:ftr>')


def write_docx(target: Path, body: Iterable[str], images: Sequence[tuple[str, bytes]] = (),
               landscape: bool = False, atomic: bool = True) -> None:
    """Write a .docx (atomically unless the caller's whole folder is moved into place afterwards): body is an
    iterable of paragraph/table XML (streamed into the package), images are (extension, bytes) referenced in the
    body as rIdImg1, rIdImg2, …"""
    if not atomic:
        _write_package(target, body, images, landscape)
        return
    with atomic_path(target) as tmp:
        _write_package(tmp, body, images, landscape)


_DOS = (0, 33)   # 1980-01-01 00:00 as DOS time and date (the fixed parts never change)
_RELS_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
              'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
              '<Relationship Id="rIdFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/>')
_CONTENT_TYPES_FOOTER = _CONTENT_TYPES.replace("</Types>", '<Override PartName="/word/footer1.xml" ContentType='
                                               '"application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/></Types>')
_DOC_HEAD = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_NS}><w:body>'.encode()
_SKELETON: dict[str, tuple[bytes, int, int, int]] = {}   # fixed part -> (stored bytes, crc, size, -)


def _local(name: bytes, method: int, crc: int, csize: int, size: int) -> bytes:
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, *_DOS, crc, csize, size, len(name), 0) + name


def _central(name: bytes, method: int, crc: int, csize: int, size: int, offset: int) -> bytes:
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, *_DOS, crc, csize, size, len(name),
                       0, 0, 0, 0, 0, offset) + name


def _fixed(name: str, text: str) -> tuple[bytes, bytes, int, int]:
    """A constant part as (name, stored data, crc, size): encoded and checksummed once per process."""
    got = _SKELETON.get(text)
    if got is None:
        data = text.encode()
        got = _SKELETON[text] = (data, deflate.crc32(data), len(data), 0)
    return name.encode(), got[0], got[1], got[2]


def _write_package(tmp: Path, body: Iterable[str], images: Sequence[tuple[str, bytes]], landscape: bool) -> None:
    """The package as a ZIP written directly with one open and one write: the fixed parts stored as encoded
    once, the document deflated as it streams, photos stored (already compressed)."""
    rels = "".join(f'<Relationship Id="rIdImg{k}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                   f'relationships/image" Target="media/image{k}.{ext}"/>' for k, (ext, _) in enumerate(images, 1))
    parts = [_fixed("[Content_Types].xml", _CONTENT_TYPES_FOOTER), _fixed("_rels/.rels", _RELS),
             _fixed("word/_rels/document.xml.rels", _RELS_HEAD + rels + "</Relationships>"),
             _fixed("word/styles.xml", _STYLES), _fixed("word/footer1.xml", _FOOTER)]
    comp, crc, size, deflated = deflate.compressor(), 0, 0, []
    tail = (_section(landscape) + "</w:body></w:document>").encode()
    for chunk in _chunks(body, tail):   # the document deflated as it streams (held compressed: a few MB at most)
        crc = deflate.crc32(chunk, crc)
        size += len(chunk)
        deflated.append(comp.compress(chunk))
    deflated.append(comp.flush())
    csize = sum(map(len, deflated))
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, data, crc_, size_ in parts:
        head = _local(name, 0, crc_, size_, size_)
        out += (head, data)
        central.append(_central(name, 0, crc_, size_, size_, offset))
        offset += len(head) + size_
    name = b"word/document.xml"
    head = _local(name, 8, crc, csize, size)
    out.append(head)
    out += deflated
    central.append(_central(name, 8, crc, csize, size, offset))
    offset += len(head) + csize
    for k, (ext, data) in enumerate(images, 1):
        name = f"word/media/image{k}.{ext}".encode()
        crc_ = deflate.crc32(data)
        head = _local(name, 0, crc_, len(data), len(data))
        out += (head, data)
        central.append(_central(name, 0, crc_, len(data), len(data), offset))
        offset += len(head) + len(data)
    directory = b"".join(central)
    out.append(directory)
    out.append(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0))
    with open(tmp, "wb", buffering=0) as f:   # one write: one system call for the whole package
        f.write(b"".join(out))


def _chunks(body: Iterable[str], tail: bytes) -> Iterator[bytes]:
    """The document's bytes in pieces of at least 64 KB (few compressor calls), its head first, tail last."""
    buf: list[str] = []
    n = 0
    first = _DOC_HEAD
    for part in body:
        buf.append(part)
        n += len(part)
        if n >= 65536:
            yield first + "".join(buf).encode()
            first, buf, n = b"", [], 0
    yield first + "".join(buf).encode() + tail
