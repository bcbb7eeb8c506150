"""Weak 工作亮点 found at the source: issues that flow into the 校验报告, so departments improve the text.

A highlight is weak when it only restates an activity title of its department, when it is very short
(fewer than ``MIN_CHARS`` characters), or when most of it is the same sentence frame other departments
used ("X扎实推进Y，形成常态化机制"). ``highlight_issues(merged, config) -> list[Issue]`` (warnings,
codes highlight-title-only / highlight-too-short / highlight-same-frame in pipeline/issues.py).
"""

from __future__ import annotations

import re
from collections import defaultdict

from pipeline.catalog import Config
from pipeline.documents.text import NamePrefixes, clean
from pipeline.issues import Issue, make_issue

MIN_CHARS = 15
SHINGLE = 4
SAME_FRAME_SHARE = 0.5  # share of a text's 4-character pieces found in two or more other departments' highlights


def _norm(text: str) -> str:
    return re.sub(r"[\W_]", "", clean(text))


def _strip_department(text: str, names: NamePrefixes) -> str:
    return text[len(names.longest(text)):]


def highlight_issues(merged, config: Config) -> list[Issue]:
    highlights = merged.used("highlights")
    if highlights.empty:
        return []
    acts = merged.used("activities")
    titles: dict[str, set[str]] = defaultdict(set)
    for dept, title in zip(acts["department"], acts["title"]):
        if title:
            titles[dept].add(_norm(title))
    names = NamePrefixes(n for d in config.departments for n in (d.name, *d.aliases))
    rows = [(f, s, r, d, _norm(_strip_department(_norm(str(t)), names)), str(t))
            for f, s, r, d, t in zip(highlights["file"], highlights["sheet"], highlights["row"],
                                     highlights["department"], highlights["text"])]
    owners: dict[str, set[str]] = defaultdict(set)  # 4-character piece -> departments using it
    for _, _, _, dept, norm, _ in rows:
        for i in range(len(norm) - SHINGLE + 1):
            owners[norm[i:i + SHINGLE]].add(dept)
    out = []
    for file, sheet, row, dept, norm, raw in rows:
        if not norm:
            continue
        code, extra = None, {}
        if any(norm == t or (norm in t) or (t and t in norm and len(norm) <= len(t) + 4) for t in titles[dept]):
            code = "highlight-title-only"
        elif len(norm) < MIN_CHARS:
            code, extra = "highlight-too-short", {"min": MIN_CHARS}
        else:
            pieces = [norm[i:i + SHINGLE] for i in range(len(norm) - SHINGLE + 1)]
            shared = sum(len(owners[p] - {dept}) >= 2 for p in pieces)
            if pieces and shared / len(pieces) >= SAME_FRAME_SHARE:
                code = "highlight-same-frame"
        if code:
            out.append(make_issue(code, file=file, sheet=sheet, row=int(row), column="亮点", value=raw.strip(),
                                  department=dept, **extra))
    return out
