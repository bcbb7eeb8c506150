"""Build the Word templates in config/templates/ (GB/T 9704-2012 layout, no template language).

Each template holds the styles, the page setup, the fixed prose (section headings) and paragraphs
that are one placeholder each, such as {工作成效}, shown shaded (character style 占位符) so that a
coordinator sees they are not prose. Sentences live in config/wording.yaml.
The generated .docx files are committed; run again only to reset them: python tools/build_word_templates.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pipeline.documents.docx_layout import finalize, official_styles  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "config" / "templates"

#: template -> [(style, text)]; text in braces is a placeholder
TEMPLATES = {
    "自查报告.docx": [
        ("公文标题", "{标题}"), ("Normal", ""), ("Normal", "{开头}"),
        ("一级标题", "一、工作成效"), ("Normal", "{工作成效}"),
        ("一级标题", "二、存在问题"), ("Normal", "{存在问题}"),
        ("一级标题", "三、下一步努力方向"), ("Normal", "{下一步}"),
        ("一级标题", "四、负面清单情况"), ("Normal", "{负面清单}"),
        ("Normal", "{落款}"), ("Normal", "{附件}"),
    ],
    "实施方案.docx": [
        ("公文标题", "{标题}"), ("Normal", ""), ("Normal", "{依据}"),
        ("一级标题", "一、工作目标"), ("Normal", "{工作目标}"),
        ("一级标题", "二、组织领导"), ("Normal", "{组织领导}"),
        ("一级标题", "三、主要任务"), ("Normal", "{主要任务}"),
        ("一级标题", "四、工作安排"), ("Normal", "{工作安排}"),
        ("Normal", "{落款}"), ("Normal", "{附件}"),
    ],
    "内部提示.docx": [
        ("公文标题", "{标题}"), ("Normal", ""), ("Normal", "{说明}"),
        ("一级标题", "一、台账报送情况"), ("Normal", "{报送}"),
        ("一级标题", "二、暂无法评定的测评标准"), ("Normal", "{评定}"),
        ("一级标题", "三、需要各部门整改的事项"), ("Normal", "{整改}"),
        ("一级标题", "四、待核实事项"), ("Normal", "{待核实}"),
        ("Normal", "{落款}"),
    ],
}


def build(name: str, paragraphs: list[tuple[str, str]]) -> Path:
    doc = Document()
    official_styles(doc)
    for p in list(doc.paragraphs):
        p._element.getparent().remove(p._element)
    for style_name, text in paragraphs:
        p = doc.add_paragraph(style=doc.styles[style_name])
        if text:
            run = p.add_run(text)
            if text.startswith("{"):
                run.style = doc.styles["占位符"]
    finalize(doc, title=Path(name).stem, author="")
    path = OUT / name
    doc.save(path)
    return path


def main() -> None:
    for name, paragraphs in TEMPLATES.items():
        print(build(name, paragraphs))


if __name__ == "__main__":
    main()
