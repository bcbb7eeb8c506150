"""The 示例数据 marker: every document written from the bundled demo inbox says so on its first page.

Applied after rendering to whatever a run wrote (so it does not depend on the Word templates): a red paragraph at
the top of each .docx and a header on its pages; in each .xlsx 【示例数据，仅供演示】 before the title in A1 of
every sheet and a page header on every sheet (edited in the package's XML, so charts stay); a first line in each
.txt. The demo can then never be taken for, or sent as, a unit's real data.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from pipeline.atomic import atomic_path, atomic_write_text

SAMPLE_TEXT = "【示例数据】本文件由项目自带的示例收件箱生成，仅供演示，不是本单位各部门报送的真实数据，请勿上报或打印使用。"
SAMPLE_SHORT = "示例数据 仅供演示"
SAMPLE_BANNER = "【示例数据，仅供演示】"


def mark_docx(path: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = Document(str(path))
    body = doc.element.body
    first = next((el for el in body.iterchildren() if el.tag in (qn("w:p"), qn("w:tbl"))), None)
    para = doc.add_paragraph()  # appended at the end, then moved to the top
    run = para.add_run(SAMPLE_TEXT)
    run.bold = True
    run.font.size = Pt(14)
    run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    run.font.name = "黑体"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "黑体")
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if first is not None:
        first.addprevious(para._p)
    for section in doc.sections:  # and in the header of every page
        header = section.header
        if header.is_linked_to_previous:
            header.is_linked_to_previous = False
        hp = header.add_paragraph()
        hr = hp.add_run(SAMPLE_SHORT)
        hr.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
        hr.font.size = Pt(10)
        hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    with atomic_path(path) as tmp:
        doc.save(str(tmp))


_BEFORE_HF = re.compile(r"<(?:rowBreaks|colBreaks|customProperties|cellWatches|ignoredErrors|smartTags|drawing|"
                        r"legacyDrawing|legacyDrawingHF|picture|oleObjects|controls|webPublishItems|tableParts|extLst)"
                        r"\b|</worksheet>")
_A1 = re.compile(r'<c r="A1"(?P<attrs>[^>]*)>(?P<body>.*?)</c>', re.S)
_FIRST_T = re.compile(r"<t(?:\s[^>]*)?>")
_SI = re.compile(r"<si>.*?</si>|<si/>", re.S)


def _header(xml: str) -> str:
    """示例数据 at the left of the page header on every printed page of the sheet (beside any header it has)."""
    mark = f"{SAMPLE_SHORT}  "
    m = re.search(r"<oddHeader>(.*?)</oddHeader>", xml, re.S)
    if m:
        body = m.group(1)
        body = body.replace("&amp;L", "&amp;L" + mark, 1) if "&amp;L" in body else "&amp;L" + mark + body
        return xml[:m.start(1)] + body + xml[m.end(1):]
    odd = f"<oddHeader>&amp;L{mark}</oddHeader>"
    m = re.search(r"<headerFooter(?:\s[^>]*)?>", xml)
    if m:
        return xml[:m.end()] + odd + xml[m.end():]
    m = re.search(r"<headerFooter[^>]*/>", xml)
    if m:
        return xml[:m.start()] + f"<headerFooter>{odd}</headerFooter>" + xml[m.end():]
    m = _BEFORE_HF.search(xml)
    return xml[:m.start()] + f"<headerFooter>{odd}</headerFooter>" + xml[m.start():] if m else xml


def _prefix_first_t(xml: str) -> str:
    m = _FIRST_T.search(xml)
    return xml[:m.end()] + SAMPLE_BANNER + xml[m.end():] if m else xml


def mark_xlsx(path: Path) -> None:
    """Header on every sheet, and 【示例数据】 before the title in A1 of every sheet. Done on the package's XML,
    so charts, print titles and styles stay exactly as written."""
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    shared_prefix: set[int] = set()
    texts = {}
    for info, data in members:
        name = info.filename
        if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
            xml = _header(data.decode("utf-8"))
            m = _A1.search(xml)
            if m and 't="inlineStr"' in m.group("attrs"):
                body = _prefix_first_t(m.group("body"))
                xml = xml[:m.start("body")] + body + xml[m.end("body"):]
            elif m and 't="s"' in m.group("attrs"):
                v = re.search(r"<v>(\d+)</v>", m.group("body"))
                if v:
                    shared_prefix.add(int(v.group(1)))
            texts[name] = xml
    if shared_prefix:
        for info, data in members:
            if info.filename == "xl/sharedStrings.xml":
                xml = data.decode("utf-8")
                items = list(_SI.finditer(xml))
                for idx in sorted(shared_prefix, reverse=True):
                    if idx < len(items):
                        si = items[idx]
                        xml = xml[:si.start()] + _prefix_first_t(si.group()) + xml[si.end():]
                texts[info.filename] = xml
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as out:
            for info, data in members:
                if info.filename in texts:
                    data = texts[info.filename].encode("utf-8")
                out.writestr(info, data, compress_type=info.compress_type)


def mark_text(path: Path) -> None:
    atomic_write_text(path, SAMPLE_TEXT + "\n\n" + path.read_text(encoding="utf-8"))


def mark_sample(folder: Path) -> list[Path]:
    """Mark every document under `folder` (docx, xlsx, txt); returns the marked files."""
    marked = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name.startswith((".", "~$")):
            continue
        suffix = path.suffix.lower()
        if suffix == ".docx":
            mark_docx(path)
        elif suffix == ".xlsx":
            mark_xlsx(path)
        elif suffix == ".txt":
            mark_text(path)
        else:
            continue
        marked.append(path)
    return marked
