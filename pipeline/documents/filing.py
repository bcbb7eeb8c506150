"""说明报告: one short filing text per 测评指标 (or 测评项目) for the online platforms (issue 16).

Each section is at most `filing.limit` characters (default 500) by the count Word and WPS show as 字数
(Word's 字数统计: 字数 = 中文字符和朝鲜语单词 + 非中文单词):

    字数 = every Chinese character and every East Asian punctuation mark or full-width character counts 1
           (，。、；：？！（）《》【】「」… : the CJK Symbols and Punctuation and the Fullwidth Forms blocks),
           every run of other non-blank characters between blanks and Chinese characters counts 1
           (2026, 97.8%, 90/92, 3.2.2, Open, e-mail; also “ ” ‘ ’ — …, General Punctuation to Word: “Open” is 1),
           blanks (spaces, U+3000, line breaks) count 0.

Checked against LibreOffice Writer's own 字数 (`doc.WordCount`, tests/test_yeardocs.py) on test texts and on
every section the sample and a large inbox produce: equal, but where LibreOffice (ICU word break) differs from
Word by design: “——” is a separator to it (0 words; 1 here); it splits e-mail at the hyphen and a number
whose integer part is one digit at each . or / (0.0% and 1.5% are 2 words to it, 3.2.2 is 3; 97.8%, 100.0%
and 90/92 are 1, as here). Word counts a blank-delimited token once.

A section is built from sentences with a priority; over the limit, whole sentences are dropped in this order
(never a sentence cut in the middle): activity examples (first fewer examples, then none), highlights and
honours beyond the first, figures, and last the framing sentence. The console names each shortened section with
its length before and after. Only public facts are used: no file names, validation findings, department lists or
reporting status (those are in the internal notice). Sentences: `config/wording.yaml`, section 说明报告.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.catalog import format_percent
from pipeline.documents.editor import FrameBudget, LedgerRows, coverage, coverage_marker_subject, edited, listing
from pipeline.documents.text import book, clean, quote, strip_marks
from pipeline.documents.wording import load_wording
from pipeline.score import MISSING

if TYPE_CHECKING:
    from pipeline.result import Result

FILING_TEMPLATE = "说明报告.docx"
EXAMPLE_MAX = 6  # activity titles named in a section at most
DEFAULT_LIMIT = 500
# Word's 中文字符 (each counts 1): Han characters and the East Asian punctuation and symbol blocks (CJK Symbols
# and Punctuation: 。、《》【】「」…; Halfwidth and Fullwidth Forms: ，：；（）！？％ and full-width letters
# and digits; kana, Bopomofo, radicals, CJK compatibility forms). The ideographic space U+3000 is blank.
_ASIAN = ("\u2e80-\u2fff\u3001-\u303f\u3040-\u31ff\u3200-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
          "\ufe10-\ufe1f\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f")
_CJK_CHAR = re.compile(f"[{_ASIAN}]")
# Word's 非中文单词 (each counts 1): a run of other characters between blanks and Chinese characters: 2026,
# 97.8%, 90/92, Open, 3.2.2, e-mail; also a run of General Punctuation (“ ” ‘ ’ — …, which are not East Asian
# characters to Word), standing alone or glued to a Latin word: “Open” is 1, “理论” is 2 + 2.
_OTHER_WORD = re.compile(f"[^\\s{_ASIAN}]+")


def word_count(text: str) -> int:
    """字数 as Word and WPS count it (see the module docstring)."""
    return len(_CJK_CHAR.findall(text)) + len(_OTHER_WORD.findall(text))


@dataclass
class Sentence:
    text: str
    rank: int  # dropped first: the lowest rank
    shorter: list[str] = field(default_factory=list)  # complete shorter forms (fewer examples), tried first


@dataclass
class Section:
    title: str
    text: str
    count: int
    before: int  # 字数 before shortening
    dropped: list[str] = field(default_factory=list)

    @property
    def shortened(self) -> bool:
        return self.before != self.count


# ranks: the order in which sentences go when a section is too long
EXAMPLES, ACHIEVEMENTS, FIGURES, FRAMING = 1, 2, 3, 4


def settings(config) -> tuple[str, int]:
    s = config.settings.get("filing") or {}
    level = str(s.get("level") or "测评指标")
    if level not in ("测评指标", "测评项目"):
        from pipeline.errors import ConfigError
        raise ConfigError(f"unit.yaml 中 filing.level 应为“测评指标”或“测评项目”，现为“{level}”")
    return level, int(s.get("limit") or DEFAULT_LIMIT)


def shorten(sentences: list[Sentence], limit: int) -> tuple[str, list[str]]:
    """Join the sentences; while over the limit drop the lowest-ranked one (the last of its rank first)."""
    kept = [Sentence(s.text, s.rank, list(s.shorter)) for s in sentences if s.text]
    dropped: list[str] = []
    while kept and word_count("".join(s.text for s in kept)) > limit:
        low = min(s.rank for s in kept)
        victim = max(i for i, s in enumerate(kept) if s.rank == low)
        if kept[victim].shorter:
            dropped.append(kept[victim].text)
            kept[victim].text = kept[victim].shorter.pop(0)
        else:
            dropped.append(kept.pop(victim).text)
    return "".join(s.text for s in kept), dropped


class Filing(LedgerRows):
    """Builds the sections of the 说明报告 from a Result."""

    def __init__(self, result: "Result"):
        self.r = result
        self.cfg = result.config
        self.w = load_wording(self.cfg.dir)
        self.level, self.limit = settings(self.cfg)
        merged = result.merged
        self.highlights = merged.used("highlights")
        self.honours = merged.used("honours")
        self.by_code = {s.standard.code: s for s in result.standards}
        self.ed = edited(result)  # the same edited facts as the 自查报告 (pipeline/documents/editor.py)
        names = [n for ind in self.cfg.indicators for n in (ind.name, *(i.name for i in ind.items))]
        labels = [m.label for m in self.cfg.metrics.values()]
        self.frames = FrameBudget(sorted({*self.ed.phrases(), *names, *labels}, key=len, reverse=True))
        self.coverage_subject = coverage_marker_subject(result, self.w)
        self.coverage_said = False

    def units(self) -> list[tuple[str, list]]:
        """(title, standards) per section at the configured level."""
        if self.level == "测评项目":
            return [(item.name, list(item.standards)) for ind in self.cfg.indicators for item in ind.items]
        return [(ind.name, [s for item in ind.items for s in item.standards]) for ind in self.cfg.indicators]

    WAYS = ("写法一", "写法二", "写法三", "写法四", "写法五", "写法六")

    def varied(self, key: str, facts: dict, k: int) -> str:
        """One of a frame's variants (写法一…六), chosen so that no sentence frame is used more than twice."""
        ways = self.WAYS[k % 6:] + self.WAYS[:k % 6]
        return self.frames.choose([self.w.fill(key, {**facts, **{x: x == way for x in self.WAYS}}) for way in ways])

    def sentences(self, title: str, standards: list, first: bool, k: int = 0) -> list[Sentence]:
        w, short, ed = self.w, self.cfg.short_name, self.ed
        codes = {s.code for s in standards}
        count, people = ed.totals(codes)
        doc_titles = ed.documents(codes)
        items = list(dict.fromkeys(s.item for s in standards))
        facts: dict[str, Any] = {"简称": short, "单位": self.cfg.unit, "年度": str(self.r.year), "名称": title,
                                 "方面": items if self.level == "测评指标" else [], "活动数": count,
                                 "人次": people or 0, "文件数": len(doc_titles)}
        metrics = []
        for s in standards:
            for m in self.by_code[s.code].metrics:
                if m.value is not None:
                    key = "说明报告.指标达到" if m.passed else "说明报告.指标实际"
                    text = w.fill(key, {"指标": m.metric.label, "实际": format_percent(m.value)}, required=True)
                    if self.coverage_subject and not metrics:  # what the rates cover, once per section
                        text = w.fill("编辑.覆盖前缀", {"部门数": str(len(coverage(self.r)[0]))}, required=True) + text
                    metrics.append(Sentence(text, FIGURES))
        if len(metrics) > 1:  # the section's rates in one sentence: "A达到x%，B为y%。"
            metrics = [Sentence("，".join(m.text.rstrip("。") for m in metrics) + "。", FIGURES)]
        if metrics and self.coverage_subject and not self.coverage_said:
            metrics.append(Sentence(w.fill("通用.待核实", {"事项": self.coverage_subject}, required=True), FRAMING))
            self.coverage_said = True
        unreported = [s.short for s in standards if self.by_code[s.code].status == MISSING]
        marks = [Sentence(self.frames.choose([w.fill("编辑.说明未报", {"标准": "".join(quote(x) for x in unreported),
                                                                   **{x: x == way for x in self.WAYS}})
                                              for way in self.WAYS[:3]]), FRAMING)] if unreported else []
        if not count and not doc_titles:  # no framing that claims work the data does not show: the marker, figures
            return [Sentence(w.fill("说明报告.无记录", {"名称": title}, required=True), FRAMING), *metrics, *marks]
        out = [Sentence(self.varied("编辑.说明开头", facts, k), FRAMING)]
        out.append(Sentence(self.varied("编辑.说明数字", facts, k), FIGURES))
        out += metrics
        # one sentence per 测评项目: its activities grouped, ordered by weight, with the verb that fits
        units = [(item.name, [x.code for x in item.standards]) for ind in self.cfg.indicators for item in ind.items
                 if any(x.code in codes for x in item.standards)] if self.level == "测评指标" else [(title, codes)]
        for j, (name, item_codes) in enumerate(units):
            groups = ed.groups(item_codes)
            if not groups:
                continue
            n_events, people = ed.totals(item_codes)
            top = min(len(groups), EXAMPLE_MAX)
            way = self.WAYS[(k + j) % 3]
            total = w.fill("编辑.说明项目合计", {"活动数": n_events, "人次": people or 0,
                                           **{x: x == way for x in self.WAYS}}) \
                if n_events > 1 and len(units) > 1 else ""  # the item's own count, when the section has several
            forms = ([self.varied("编辑.说明项目", {"项目": name, "列举": listing(groups, top) + total}, k + j)]
                     if total else [])
            forms += [self.varied("编辑.说明项目", {"项目": name, "列举": listing(groups, n)}, k + j)
                      for n in range(top, 0, -1)]
            out.append(Sentence(forms[0], EXAMPLES, forms[1:]))
        if doc_titles:
            out.append(Sentence(self.varied("编辑.说明文件", {"示例文件": "".join(book(t) for t in doc_titles[:3]),
                                                          "多个文件": len(doc_titles) > 3}, k), EXAMPLES))
        for text in ed.highlights(codes):
            out.append(Sentence(_sentence(text), ACHIEVEMENTS))
        if first and len(self.honours):
            names = [strip_marks(clean(t)) for t in dict.fromkeys(self.honours["title"]) if clean(t)]
            if names:
                out.append(Sentence(w.fill("说明报告.荣誉", {"荣誉": names[:3]}, required=True),
                                    ACHIEVEMENTS))
        return out + marks

    def sections(self) -> list[Section]:
        out = []
        for k, (title, standards) in enumerate(self.units()):
            sents = self.sentences(title, standards, first=(k == 0), k=k)
            full = "".join(s.text for s in sents if s.text)
            text, dropped = shorten(sents, self.limit)
            out.append(Section(title, text, word_count(text), word_count(full), dropped))
        return out


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "！", "？", "”", "】")) else text.rstrip("，,;；.") + "。"


def filing_name(config, year: int) -> str:
    return f"{year}年{config.unit}创建文明单位工作说明报告.docx"


def txt_name(k: int, title: str) -> str:
    safe = re.sub(r'[\\/:*?"<>|\s]', "", title)
    return f"{k:02d}-{safe}.txt"


def write_filing(result: "Result", out: Path) -> tuple[Path, Path, list[Section]]:
    """The docx (each section with its title and 字数) and a folder 说明报告/ of one UTF-8 .txt per section."""
    from pipeline.atomic import atomic_write_text
    from pipeline.documents.compose import render_template

    filing = Filing(result)
    sections = filing.sections()
    w, cfg = filing.w, result.config
    folder = out / "说明报告"
    folder.mkdir(exist_ok=True)
    for k, s in enumerate(sections, 1):
        atomic_write_text(folder / txt_name(k, s.title), s.text + "\n")
    title = w.fill("说明报告.标题", {"单位": cfg.unit, "年度": str(result.year)}, required=True)

    def head(bw):
        bw.para(title_text(w, cfg, title), "公文标题", keep_next=True)

    def intro(bw):
        bw.para(w.fill("说明报告.说明", {"字数": str(filing.limit), "层级": filing.level}, required=True))

    def body(bw):
        for k, s in enumerate(sections, 1):
            bw.para(w.fill("说明报告.小标题", {"序号": _chinese_number(k), "名称": s.title}, required=True),
                    "一级标题", keep_next=True)
            bw.para(s.text)
            bw.para(w.fill("说明报告.字数", {"字数": str(s.count), "上限": str(filing.limit)}, required=True),
                    "落款")

    path = out / filing_name(cfg, result.year)
    render_template(cfg.template_file(FILING_TEMPLATE), {"标题": head, "说明": intro, "正文": body}, path,
                    title=title, author=cfg.unit)
    return path, folder, sections


TITLE_WORDS = ["说明报告", "工作总结", "工作计划", "上半年", "下半年", "进度通报", "创建文明单位"]


def title_text(w, cfg, title: str) -> str:
    """A document title broken at word boundaries (GB/T 9704: trapezoid lines, the unit's name kept whole)."""
    from pipeline.documents.docx_layout import title_lines
    return "\n".join(title_lines(title, [*w.items("通用.标题词"), *TITLE_WORDS], keep=[cfg.unit, cfg.short_name]))


_DIGITS = "零一二三四五六七八九十"


def _chinese_number(n: int) -> str:
    if n <= 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + _DIGITS[n - 10]
    return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
