"""Word templates with paragraph-level placeholders, filled through docxtpl by block writers.

A template in ``config/templates/*.docx`` holds fixed prose, styles and page setup, and paragraphs
whose whole text is one placeholder in braces, ``{工作成效}``, set in the shaded character style
占位符 so a coordinator sees it is not prose. The coordinator never sees a template language: deleting
a visible phrase cannot break a sentence, and a damaged placeholder is reported by its paragraph.

Filling is docxtpl's: each placeholder paragraph becomes a ``{{p blockN}}`` paragraph tag in memory,
its block is written by a ``docx_layout.BlockWriter`` into a docxtpl subdocument (which shares the
template's styles part, so the template's styles apply), and ``DocxTemplate.render`` puts every
subdocument in place of its paragraph. Text written into a block is data, never template source: a
department's ``{{`` or ``{%`` is printed as it is.

API
---
``placeholders(path) -> list[(index, text, name|None)]``  every paragraph that contains a brace;
    ``name`` is None when the paragraph is not exactly one well-formed placeholder.
``render_template(path, blocks, target, *, title, author)``  fills each placeholder paragraph by
    calling ``blocks[name](writer)`` with a ``docx_layout.BlockWriter`` writing the block's
    subdocument, renders the template with docxtpl, applies ``docx_layout.finalize`` and saves
    atomically. A block that asks ``keep_previous`` keeps the paragraph before its placeholder (the
    template's prose, or the last paragraph of the block before) with it.
    A placeholder that is malformed or unknown raises ``TemplateError``: one Chinese line naming the
    template file, the paragraph's text and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Mapping

from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.text.paragraph import Paragraph
from lxml import etree
from docxtpl import DocxTemplate

from pipeline.atomic import atomic_path
from pipeline.documents.docx_layout import BlockWriter, child, finalize, official_styles
from pipeline.errors import PipelineError

_WHOLE = re.compile(r"^\s*\{([^{}\s]+)\}\s*$")


class TemplateError(PipelineError):
    """A Word template paragraph that cannot be filled: file, paragraph text and the fix, in one line."""


def _short(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def placeholders(doc_or_path) -> list[tuple[int, str, str | None]]:
    doc = Document(doc_or_path) if isinstance(doc_or_path, (str, Path)) else doc_or_path
    out = []
    for i, p in enumerate(doc.paragraphs):
        text = p.text
        if "{" in text or "}" in text:
            m = _WHOLE.match(text)
            out.append((i, text, m.group(1) if m else None))
    return out


def check_template(path: Path, names) -> None:
    """TemplateError for the first placeholder paragraph that is malformed or not one of ``names``."""
    for i, text, name in placeholders(path):
        if name is None:
            raise TemplateError(f"模板 {path.name} 第{i + 1}段“{_short(text)}”中的占位符不完整或与文字混在一起："
                                f"占位符须单独成段、写成一对花括号，如 {{{_first(names)}}}；"
                                f"可用的有 {'、'.join(f'{{{n}}}' for n in names)}")
        if name not in names:
            raise TemplateError(f"模板 {path.name} 第{i + 1}段“{_short(text)}”不是可用的占位符："
                                f"可用的有 {'、'.join(f'{{{n}}}' for n in names)}，请改正或删去此段")


def _first(names) -> str:
    return next(iter(names), "块名")


def render_template(path: Path, blocks: Mapping[str, Callable[[BlockWriter], None]], target: Path, *,
                    title: str, author: str) -> None:
    check_template(path, blocks)
    tpl = DocxTemplate(path)
    doc = tpl.get_docx()
    official_styles(doc)
    sub = tpl.new_subdoc()  # its part is the template's: styles, pictures and links resolve there
    styles: dict = {}
    bodies: dict[str, object] = {}
    last_of: dict[object, object] = {}  # placeholder <w:p> -> last <w:p> its block wrote
    for k, p in enumerate([p for p in doc.paragraphs if _WHOLE.match(p.text)]):
        name = _WHOLE.match(p.text).group(1)
        body = parse_xml(f"<w:body {nsdecls('w')}><w:p/></w:body>")  # this block's subdocument body
        writer = BlockWriter(sub.subdocx, styles).at(Paragraph(body[0], sub.subdocx._body))
        blocks[name](writer)
        if writer.keep_before:
            before = _printed_before(p._p, last_of)
            if before is not None:
                child(before.get_or_add_pPr(), "keepNext")
        writer.remove_anchor()
        written = body.findall(qn("w:p"))
        last_of[p._p] = written[-1] if written else _printed_before(p._p, last_of)
        _as_tag(p, f"block{k}")
        bodies[f"block{k}"] = body
    # serialised once every block is written: a later block's keep_previous may mark an earlier block
    tpl.render({var: _subdoc_xml(body) for var, body in bodies.items()})
    finalize(tpl.docx, title, author)
    with atomic_path(target) as tmp:
        tpl.save(tmp)


def _subdoc_xml(body) -> str:
    """A block's paragraphs and tables as docxtpl inserts a subdocument (its Subdoc._get_xml: the body's
    children without the body element)."""
    return re.sub(r"</?w:body[^>]*>", "", etree.tostring(body, encoding="unicode"))


def _as_tag(paragraph, var: str) -> None:
    """The placeholder paragraph becomes docxtpl's paragraph tag ``{{p var}}`` (one run, no style)."""
    for r in list(paragraph._p.r_lst):
        paragraph._p.remove(r)
    paragraph.add_run("{{p %s}}" % var)


def _printed_before(p_el, last_of):
    """The paragraph that will print just before a placeholder: the template's own paragraph, or the last
    one written by the block of the placeholder before (looking further back past a block that wrote
    nothing)."""
    prev = p_el.getprevious()
    while prev is not None and prev.tag != qn("w:p"):
        prev = prev.getprevious()
    if prev is None:
        return None
    return last_of.get(prev, prev)
