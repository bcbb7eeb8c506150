"""Word templates with paragraph-level placeholders, filled by block writers.

A template in ``config/templates/*.docx`` holds fixed prose, styles and page setup, and paragraphs
whose whole text is one placeholder in braces, ``{工作成效}``, set in the shaded character style
占位符 so a coordinator sees it is not prose. There is no template language: deleting a visible
phrase cannot break a sentence, and a damaged placeholder is reported by its paragraph.

API
---
``placeholders(path) -> list[(index, text, name|None)]``  every paragraph that contains a brace;
    ``name`` is None when the paragraph is not exactly one well-formed placeholder.
``render_template(path, blocks, target, *, title, author)``  fills each placeholder paragraph by
    calling ``blocks[name](writer)`` with a ``docx_layout.BlockWriter`` positioned at it (the
    placeholder paragraph is then removed), applies ``docx_layout.finalize`` and saves atomically.
    A placeholder that is malformed or unknown raises ``TemplateError``: one Chinese line naming the
    template file, the paragraph's text and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Mapping

from docx import Document

from pipeline.atomic import atomic_path
from pipeline.documents.docx_layout import BlockWriter, finalize, official_styles
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
    doc = Document(path)
    official_styles(doc)
    writer = BlockWriter(doc)
    body = doc.element.body
    anchors = [p for p in doc.paragraphs if _WHOLE.match(p.text)]
    for p in anchors:
        name = _WHOLE.match(p.text).group(1)
        writer.at(p)
        blocks[name](writer)
        writer.remove_anchor()
    # a template may end with the empty paragraph Word keeps before sectPr; nothing else to do
    del body
    finalize(doc, title, author)
    with atomic_path(target) as tmp:
        doc.save(tmp)
