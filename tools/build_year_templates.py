"""Build the Word templates of the year's other documents (说明报告, 半年总结, 进度通报) in config/templates/,
with the same styles and layout as tools/build_word_templates.py. Run again only to reset them."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_word_templates import build  # noqa: E402

TEMPLATES = {
    "说明报告.docx": [("公文标题", "{标题}"), ("Normal", ""), ("Normal", "{说明}"), ("Normal", "{正文}")],
    "半年总结.docx": [
        ("公文标题", "{标题}"), ("Normal", ""), ("Normal", "{开头}"),
        ("一级标题", "一、上半年工作开展情况"), ("Normal", "{工作情况}"),
        ("一级标题", "二、存在的不足"), ("Normal", "{不足}"),
        ("一级标题", "三、下半年工作计划"), ("Normal", "{计划}"),
        ("Normal", "{落款}"),
    ],
    "进度通报.docx": [
        ("Normal", "{报头}"),
        ("一级标题", "一、报送情况"), ("Normal", "{报送}"),
        ("一级标题", "二、工作进展"), ("Normal", "{进展}"),
        ("一级标题", "三、下一步工作"), ("Normal", "{下一步}"),
        ("Normal", "{落款}"),
    ],
}

if __name__ == "__main__":
    for name, paragraphs in TEMPLATES.items():
        print(build(name, paragraphs))
